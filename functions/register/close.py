"""Registration closed: record demand against plan per school (workflow task)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.registration import demand


class CloseInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str


class CloseOutput(BaseModel):
    registrations: int
    over_plan: list[str]
    near_plan: list[str]


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CloseInput.model_validate(event)
    w = wiring()
    registrations = list(w.store.registrations(request.season))
    rows = demand.demand(w.config, registrations)
    w.store.put_season_items(row.as_item(request.season) for row in rows)
    result = CloseOutput.model_validate(demand.summary(rows, len(registrations)))
    logger.info(
        "registration closed", extra={"registrations": result.registrations, "over": len(result.over_plan)}
    )
    return result.model_dump(mode="json")
