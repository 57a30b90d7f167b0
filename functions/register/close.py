"""Registration closed: record demand against plan per school (workflow tasks).

Two calls, as the ASL makes them: a Map iteration per shard, `{"season", "shard"}`, counts that
shard's registrations and returns its counts (small: a list of ints); then `{"season", "shards":
[…the Map's results…]}` adds them up, stores the demand rows and returns the summary.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from enrollment.adapters.dynamodb import SHARDS
from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.registration.season import close, count_shard
from functions.events import ShardStep, task


class ShardCount(BaseModel):
    """One shard's counts, as the Map iteration returned them."""

    model_config = ConfigDict(extra="forbid")
    shard: int = Field(ge=0, lt=SHARDS)
    registrations: NonNegativeInt
    applicants: list[NonNegativeInt]


class CloseEvent(ShardStep[ShardCount]):
    """`{"season", "shard"}`: count one shard; `{"season", "shards"}`: add every shard's counts up."""


class CloseOutput(BaseModel):
    registrations: int
    over_plan: list[str]
    near_plan: list[str]


@task(CloseEvent)
def handler(request: CloseEvent, w: Wiring) -> dict[str, Any]:
    if request.shard is not None:
        counted = ShardCount.model_validate(
            count_shard(w.config, request.season, request.shard, store=w.store)
        )
        logger.info("shard counted", extra={"shard": counted.shard, "registrations": counted.registrations})
        return counted.model_dump(mode="json")
    assert request.shards is not None  # one_step
    parts = [s.model_dump() for s in request.shards]
    result = CloseOutput.model_validate(close(w.config, request.season, parts, store=w.store))
    logger.info(
        "registration closed", extra={"registrations": result.registrations, "over": len(result.over_plan)}
    )
    return result.model_dump(mode="json")
