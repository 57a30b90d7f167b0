"""Workflow events shared by several task functions, and the shape every task handler has.

A task handler parses its event, calls one use case of the domain with what `wiring()` built, and
returns the use case's answer. `task(Model)` does the parsing and the wiring under Powertools'
decorators (`observed`: the Lambda context in every log line, the metrics flushed, an X-Ray segment
without the response, which may hold personal data); `log=` logs the answer under that message:

    @task(SeasonEvent, log="use case done")
    def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
        return use_case(w.config, request.season, store=w.store, now=clock.now())
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, model_validator

from enrollment.adapters.clients import throttled
from enrollment.adapters.dynamodb import SHARDS
from enrollment.adapters.observability import Handler, logger, observed
from enrollment.adapters.wiring import Wiring, wiring
from enrollment.core.ports import StoreUnavailable

Event = TypeVar("Event", bound=BaseModel)


class SeasonEvent(BaseModel):
    """A task that acts on the whole season: `{"season": "2023"}` (the ASL passes `${Season}`)."""

    model_config = ConfigDict(extra="forbid")
    season: str


Part = TypeVar("Part", bound=BaseModel)


class ShardStep(SeasonEvent, Generic[Part]):
    """A season-wide task the workflow runs in two steps: a Map iteration per registration shard,
    `{"season", "shard"}`, then `{"season", "shards": [...the Map's results...]}` to gather them."""

    shard: int | None = Field(default=None, ge=0, lt=SHARDS)
    shards: list[Part] | None = Field(default=None, min_length=SHARDS, max_length=SHARDS)

    @model_validator(mode="after")
    def _one_step(self) -> ShardStep[Part]:
        if (self.shard is None) == (self.shards is None):
            raise ValueError("give either shard (one shard's step) or shards (every shard's results)")
        return self


class SchoolEvent(SeasonEvent):
    """A task about one school and grade of the season (the lottery Map's items)."""

    school_id: str
    grade: int


def task(
    model: type[Event], *, log: str | None = None
) -> Callable[[Callable[[Event, Wiring], dict[str, Any]]], Handler]:
    """Lambda's `(event, context)` as `(request, wiring)`: the event validated as `model` (a
    ValidationError, naming the field, fails the task) and the adapters of this cold start. With
    `log`, the answer is logged (its fields as the log line's) under that message. An AWS call
    throttled beyond boto3's own retries fails the task as StoreUnavailable, which the ASL retries
    with backoff (every task handler is safe to run again)."""

    def decorate(call: Callable[[Event, Wiring], dict[str, Any]]) -> Handler:
        @wraps(call, assigned=("__module__", "__name__", "__qualname__", "__doc__"), updated=())
        @observed
        def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            try:
                out = call(model.model_validate(event), wiring())
            except Exception as e:
                if throttled(e):
                    raise StoreUnavailable(str(e)) from e
                raise
            if log is not None:
                logger.info(log, extra=out)
            return out

        return handler

    return decorate
