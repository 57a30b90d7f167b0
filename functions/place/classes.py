"""Sunshine classes (R-CLASS-1): each school's arrived children, balanced and random, sealed as an addition.

The class lists go to `additions/{season}/classes/` in the archive bucket with their own manifest,
signature and public key (LOTTERY.md's files and statement), so the season's sealed archive under
`seasons/{season}/` is never rewritten. A rerun finds the addition sealed and changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.signing import KmsSigner
from enrollment.adapters.wiring import wiring
from enrollment.archive import contract
from enrollment.core import clock
from enrollment.term import classes, reporting
from functions.events import SeasonEvent


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SeasonEvent.model_validate(event)
    w = wiring()
    season, prefix = request.season, f"additions/{request.season}/classes/"
    if w.archive.get(prefix + contract.MANIFEST) is not None:
        return {"sealed": "already"}
    body = w.archive.get(f"seasons/{season}/placements.jsonl") or b""
    groups: dict[tuple[str, int], list[str]] = {}
    for line in map(json.loads, body.decode().splitlines()):
        if line["school_id"]:
            groups.setdefault((line["school_id"], int(line["grade"])), []).append(line["registration_id"])
    files: dict[str, bytes] = {}
    for (school_id, grade), ids in sorted(groups.items()):
        came = w.placements.arrivals(season, school_id)
        students = [reporting.student(w.store.get_registration(rid)) for rid in ids if rid in came]
        rec = reporting.assign_school(season, school_id, grade, students, classes.new_seed())
        if rec is not None:
            files[f"classes/{school_id}-g{grade}.json"] = contract.canonical_json(rec)
    sealed = contract.seal(
        season, files, KmsSigner(w.settings.signing_key_id), clock.now().astimezone(w.config.tz)
    )
    for key, data in sealed.items():
        w.archive.put_once(prefix + key, data)
    out = {"sealed": "now", "schools": len(files), "students": sum(len(v) for v in groups.values())}
    logger.info("sunshine classes sealed", extra=out)
    return out
