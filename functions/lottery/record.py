"""A private school and grade's admission, archived as LOTTERY.md's `private/{school_id}-g{grade}.json`."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.lottery import ceremony


class RecordInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str
    school_id: str
    grade: int


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = RecordInput.model_validate(event)
    w = wiring()
    out = ceremony.record_admissions(
        w.config,
        request.season,
        request.school_id,
        request.grade,
        store=w.lotteries,
        archive=w.archive,
        now=clock.now(),
    )
    logger.info("private admission archived", extra=out)
    metrics.add_metric(name="PrivateAdmissionsArchived", unit="Count", value=1)
    return out
