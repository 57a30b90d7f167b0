"""A Map item of the workflow that failed for good, recorded for its district; the season goes on."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.observability import logger, metrics
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock, deadletters
from functions.events import SeasonEvent, task


class Failure(BaseModel):
    """What a Catch puts at its ResultPath: the error's name and, mostly, its cause."""

    model_config = ConfigDict(populate_by_name=True)
    error: str = Field(default="", alias="Error")
    cause: str = Field(default="", alias="Cause")


class DeadLetterInput(SeasonEvent):
    """What the ASL's Catch hands over: the phase, the item and the workflow's `Error` and `Cause`."""

    phase: deadletters.Phase
    failure: Failure = Failure()
    registration_ids: list[str] | None = Field(default=None, min_length=1)
    school_id: str | None = None
    grade: int | None = None
    district: str | None = None  # a district's own step (its spot-check draw)


@task(DeadLetterInput)
def handler(request: DeadLetterInput, w: Wiring) -> dict[str, Any]:
    out = deadletters.record(
        w.config,
        request.season,
        request.phase,
        error=request.failure.error,
        cause=request.failure.cause,
        now=clock.now(),
        store=w.store,
        registration_ids=request.registration_ids,
        school_id=request.school_id,
        grade=request.grade,
        district=request.district,
    )
    logger.error("workflow item dead-lettered", extra=out)
    metrics.add_metric(name="DeadLetters", unit="Count", value=1)
    return out
