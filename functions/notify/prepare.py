"""Admission notices start (R-NOTE-1): the placed children of the archived placements, in batches."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.notices.season import prepare
from functions.events import SeasonEvent, task


@task(SeasonEvent)
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    out = prepare(w.config, request.season, archive=w.archive, work=w.work)
    logger.info("notices prepared", extra=out)
    return out
