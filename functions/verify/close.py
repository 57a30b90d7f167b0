"""Verification deadline (agency checks still open closed as unanswered), home-visit deadline (close
outstanding visits, judge every case) and the final verification record."""

from __future__ import annotations

from typing import Any, Literal

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.season import close
from functions.events import SeasonEvent, task


class CloseInput(SeasonEvent):
    step: Literal["agencies", "home-visits", "final"]


@task(CloseInput)
def handler(request: CloseInput, w: Wiring) -> dict[str, Any]:
    result = close(
        w.config, request.season, request.step, store=w.store, vstore=w.verification, now=clock.now()
    )
    counts = {k: v for k, v in result.items() if isinstance(v, int)}
    logger.info("verification step", extra={"step": request.step, **counts})
    return result
