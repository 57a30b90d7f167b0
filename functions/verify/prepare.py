"""Verification starts: the season's registrations, in batches, as the Distributed Map's items."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.verification.season import prepare
from functions.events import SeasonEvent, task


class PrepareOutput(BaseModel):
    bucket: str
    key: str
    batches: int
    registrations: int
    max_concurrency: int


@task(SeasonEvent)
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    out = PrepareOutput.model_validate(prepare(w.config, request.season, store=w.store, work=w.work))
    logger.info("verification prepared", extra=out.model_dump())
    return out.model_dump(mode="json")
