"""Verification starts: the season's registrations, in batches, as the Distributed Map's items.

Two calls, as the ASL makes them: a Map iteration per shard, `{"season", "shard"}`, writes that
shard's registration ids to the work bucket and returns how many; then `{"season", "shards":
[…the Map's results…]}` gathers them into the batches file the Distributed Map reads. After each
round of asking, `{"season", "step": "reask"}` writes there the cases an agency left unanswered, to
be asked again after the workflow's wait (`find_open_checks`), and writes every agency exchanging files
its open requests as a round of files for its clerk (`write_open_rounds`, docs/AGENCY-FILES.md).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, model_validator

from enrollment.adapters.dynamodb import SHARDS
from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.agency_files import write_open_rounds
from enrollment.verification.season import find_open_checks, prepare, prepare_shard
from functions.events import ShardStep, task


class ShardWritten(BaseModel):
    """One shard's ids written, as the Map iteration returned it."""

    model_config = ConfigDict(extra="forbid")
    shard: int = Field(ge=0, lt=SHARDS)
    key: str
    registrations: NonNegativeInt


class PrepareEvent(ShardStep[ShardWritten]):
    """`{"season", "shard"}`: write one shard's ids; `{"season", "shards"}`: gather them in batches;
    `{"season", "step": "reask"}`: the cases to ask again."""

    step: Literal["reask"] | None = None

    @model_validator(mode="after")
    def _one_step(self) -> PrepareEvent:  # replaces ShardStep's: a re-ask names no shard
        given = [self.shard is not None, self.shards is not None, self.step is not None]
        if sum(given) != 1:
            raise ValueError("give one of shard, shards (every shard's results) or step (reask)")
        return self


class PrepareOutput(BaseModel):
    bucket: str
    key: str
    batches: int
    registrations: int
    max_concurrency: int


class ReaskOutput(PrepareOutput):
    open: NonNegativeInt
    awaited: NonNegativeInt
    deadline_reached: bool
    next_try: str = Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")  # as a Wait state reads it
    rounds: dict[str, list[str]] = Field(default_factory=dict)  # files agencies' rounds written now


@task(PrepareEvent)
def handler(request: PrepareEvent, w: Wiring) -> dict[str, Any]:
    if request.step == "reask":
        now = clock.now()
        found = find_open_checks(
            w.config, request.season, store=w.store, vstore=w.verification, work=w.work, now=now
        )
        if not found["deadline_reached"]:  # what files agencies still owe: a new round (if any)
            found["rounds"] = write_open_rounds(
                w.config, store=w.store, vstore=w.verification, requests=w.file_worklists, files=w.work,
                now=now,
            )  # fmt: skip
        reask = ReaskOutput.model_validate(found)
        logger.info("verification re-ask", extra=reask.model_dump())
        return reask.model_dump(mode="json")
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
