"""Registration closed: record demand against plan per school (workflow task)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.registration.season import close
from functions.events import SeasonEvent, task


class CloseOutput(BaseModel):
    registrations: int
    over_plan: list[str]
    near_plan: list[str]


@task(SeasonEvent)
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    result = CloseOutput.model_validate(close(w.config, request.season, store=w.store))
    logger.info(
        "registration closed", extra={"registrations": result.registrations, "over": len(result.over_plan)}
    )
    return result.model_dump(mode="json")
