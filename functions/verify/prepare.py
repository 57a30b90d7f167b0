"""Verification starts: the season's registrations, in batches, as the Distributed Map's items."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring


class PrepareInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str


class PrepareOutput(BaseModel):
    bucket: str
    key: str
    batches: int
    registrations: int
    max_concurrency: int


def batches(registration_ids: list[str], size: int) -> list[dict[str, list[str]]]:
    ids = sorted(registration_ids)
    return [{"registration_ids": ids[i : i + size]} for i in range(0, len(ids), size)]


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PrepareInput.model_validate(event)
    w = wiring()
    settings = w.config.verification
    ids = [str(r["registration_id"]) for r in w.store.registrations(request.season)]
    items = batches(ids, settings.batch_size)
    key = f"seasons/{request.season}/verification/batches.json"
    w.work.put_json(key, items)
    out = PrepareOutput(
        bucket=w.work.bucket,
        key=key,
        batches=len(items),
        registrations=len(ids),
        max_concurrency=settings.max_concurrency,
    )
    logger.info("verification prepared", extra=out.model_dump())
    return out.model_dump(mode="json")
