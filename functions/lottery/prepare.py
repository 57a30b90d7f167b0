"""The lottery phase starts: private applicants per school and grade, pools frozen (R-LOT-1, R-LOT-2)."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.lottery.season import prepare
from functions.events import SeasonEvent, task


@task(SeasonEvent)
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    out = prepare(
        w.config,
        request.season,
        store=w.store,
        vstore=w.verification,
        lotteries=w.lotteries,
        now=clock.now(),
    )
    logger.info(
        "lotteries prepared",
        extra={"schools": len(out["schools"]), "ceremonies": out["ceremonies"], "deadline": out["deadline"]},
    )
    return out
