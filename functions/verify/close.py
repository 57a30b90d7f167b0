"""Home-visit deadline (close outstanding visits, judge every case) and the final verification record."""

from __future__ import annotations

from typing import Any, Literal

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.season import close
from functions.events import SeasonEvent, task


class CloseInput(SeasonEvent):
    step: Literal["home-visits", "final"]


@task(CloseInput)
def handler(request: CloseInput, w: Wiring) -> dict[str, Any]:
    result = close(
        w.config, request.season, request.step, store=w.store, vstore=w.verification, now=clock.now()
    )
    logger.info("verification step", extra={"step": request.step, "verdicts": result["verdicts"]})
    return result
