"""The workflow waits for a school's ceremony (task token), and flags it overdue after the deadline."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.lottery.season import wait
from functions.events import SchoolEvent, task


class WaitInput(SchoolEvent):
    mode: Literal["await", "overdue"]
    timeout_seconds: int = Field(default=0, ge=0)
    task_token: str = ""


@task(WaitInput)
def handler(request: WaitInput, w: Wiring) -> dict[str, Any]:
    out = wait(
        w.config,
        request.season,
        request.school_id,
        request.grade,
        request.mode,
        token=request.task_token,
        timeout_s=request.timeout_seconds,
        lotteries=w.lotteries,
        tokens=w.tokens,
        now=clock.now(),
    )
    if request.mode == "overdue":
        logger.warning(
            "lottery ceremony overdue", extra={"school_id": request.school_id, "grade": request.grade}
        )
    return out
