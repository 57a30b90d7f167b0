"""Admission notices start (R-NOTE-1): the placed children of the archived placements, in batches."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.lottery import ceremony
from enrollment.notices import phase
from functions.events import SeasonEvent


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SeasonEvent.model_validate(event)
    w = wiring()
    body = w.archive.get(ceremony.archive_key(request.season, "placements.jsonl"))
    if body is None:
        raise ValueError("placements.jsonl is not archived: placement has not run")
    placed = [json.loads(line) for line in body.decode().splitlines()]
    items = phase.batches(placed, w.config.verification.batch_size)
    key = f"seasons/{request.season}/notices/batches.json"
    w.work.put_json(key, items)
    out = {
        "bucket": w.work.bucket,
        "key": key,
        "batches": len(items),
        "children": sum(len(b["registration_ids"]) for b in items),
        "max_concurrency": w.config.verification.max_concurrency,
    }
    logger.info("notices prepared", extra=out)
    return out
