"""The city's spot-check sample (R-VER-5): one reproducible draw per district, seed and sample recorded."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.core.staff import StaffMember
from enrollment.verification import spotcheck
from functions.events import SeasonEvent

# The workflow draws on the city bureau's behalf at the review deadline.
CITY_SYSTEM = StaffMember(principal="system:season-workflow", role="city", district=None)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SeasonEvent.model_validate(event)
    w = wiring()
    settings = w.config.verification
    drawn: dict[str, dict[str, Any]] = {}
    for d in w.config.districts:
        existing = w.verification.spot_check_sample(request.season, d.code)
        sample = existing or spotcheck.draw(
            w.verification,
            CITY_SYSTEM,
            request.season,
            d.code,
            settings.spot_check_rate,
            spotcheck.new_seed(),
            clock.now(),
            minimum=settings.spot_check_minimum,
        )
        drawn[d.code] = {"population": sample.population, "sampled": len(sample.sample), "seed": sample.seed}
    logger.info("spot-check drawn", extra={"districts": drawn})
    return {"districts": drawn}
