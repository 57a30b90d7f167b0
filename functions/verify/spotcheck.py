"""The city's spot-check sample (R-VER-5): one reproducible draw per district, seed and sample recorded."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.season import draw_spot_checks
from functions.events import SeasonEvent, task


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@task(SeasonEvent)
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    out = draw_spot_checks(w.config, request.season, vstore=w.verification, now=clock.now())
    logger.info("spot-check drawn", extra=out)
    return out
