"""Home-visit deadline (close outstanding visits, judge every case) and the final verification record."""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.verification.phase import close_visits, summary


class CloseInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str
    step: Literal["home-visits", "final"]


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CloseInput.model_validate(event)
    w = wiring()
    if request.step == "home-visits":
        result = close_visits(w.config, request.season, store=w.store, vstore=w.verification, now=clock.now())
    else:
        result = summary(w.config, w.verification, request.season)
    logger.info("verification step", extra={"step": request.step, "verdicts": result["verdicts"]})
    return result
