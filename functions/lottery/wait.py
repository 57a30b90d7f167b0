"""The workflow waits for a school's ceremony (task token), and flags it overdue after the deadline."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.lottery import ceremony


class WaitInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["await", "overdue"]
    season: str
    school_id: str
    grade: int
    timeout_seconds: int = Field(default=0, ge=0)
    task_token: str = ""


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = WaitInput.model_validate(event)
    w = wiring()
    if request.mode == "overdue":
        out = ceremony.overdue(
            w.config, request.season, request.school_id, request.grade, store=w.lotteries, now=clock.now()
        )
        logger.warning(
            "lottery ceremony overdue", extra={"school_id": request.school_id, "grade": request.grade}
        )
        return out
    if not request.task_token:
        raise ValueError("task_token: the await mode needs the workflow's task token")
    return ceremony.open_wait(
        w.config,
        request.season,
        request.school_id,
        request.grade,
        token=request.task_token,
        timeout_s=request.timeout_seconds,
        store=w.lotteries,
        tokens=w.tokens,
        now=clock.now(),
    )
