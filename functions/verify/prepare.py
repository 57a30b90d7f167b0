"""Verification starts: the season's registrations, in batches, as the Distributed Map's items.

Two calls, as the ASL makes them: a Map iteration per shard, `{"season", "shard"}`, writes that
shard's registration ids to the work bucket and returns how many; then `{"season", "shards":
[…the Map's results…]}` gathers them into the batches file the Distributed Map reads.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from enrollment.adapters.dynamodb import SHARDS
from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.verification.season import prepare, prepare_shard
from functions.events import ShardStep, task


class ShardWritten(BaseModel):
    """One shard's ids written, as the Map iteration returned it."""

    model_config = ConfigDict(extra="forbid")
    shard: int = Field(ge=0, lt=SHARDS)
    key: str
    registrations: NonNegativeInt


class PrepareEvent(ShardStep[ShardWritten]):
    """`{"season", "shard"}`: write one shard's ids; `{"season", "shards"}`: gather them in batches."""


class PrepareOutput(BaseModel):
    bucket: str
    key: str
    batches: int
    registrations: int
    max_concurrency: int


@task(PrepareEvent)
def handler(request: PrepareEvent, w: Wiring) -> dict[str, Any]:
    if request.shard is not None:
        written = ShardWritten.model_validate(
            prepare_shard(w.config, request.season, request.shard, store=w.store, work=w.work)
        )
        logger.info("shard written", extra=written.model_dump())
        return written.model_dump(mode="json")
    assert request.shards is not None  # one_step
    parts = [s.model_dump() for s in request.shards]
    out = PrepareOutput.model_validate(prepare(w.config, request.season, parts, store=w.store, work=w.work))
    logger.info("verification prepared", extra=out.model_dump())
    return out.model_dump(mode="json")
