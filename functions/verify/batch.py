"""One batch of the verification Distributed Map: ask the agencies, store answers, judge what is complete."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.verification.phase import verify_batch


class BatchInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str
    registration_ids: list[str] = Field(min_length=1)
    mode: Literal["ask", "mark-unanswered"] = "ask"


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = BatchInput.model_validate(event)
    w = wiring()
    done = verify_batch(
        w.config,
        request.registration_ids,
        request.mode,
        store=w.store,
        vstore=w.verification,
        agencies=w.agencies,
        now=clock.now(),
    )
    logger.info("verification batch", extra={"mode": request.mode, **done})
    return {"checked": done}
