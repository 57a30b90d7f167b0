"""One batch of the verification Distributed Map: ask the agencies, store answers, judge what is complete."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.season import verify_batch
from functions.events import SeasonEvent, task


class BatchInput(SeasonEvent):
    registration_ids: list[str] = Field(min_length=1)
    mode: Literal["ask", "mark-unanswered"] = "ask"


@task(BatchInput)
def handler(request: BatchInput, w: Wiring) -> dict[str, Any]:
    done = verify_batch(
        w.config,
        request.registration_ids,
        request.mode,
        store=w.store,
        vstore=w.verification,
        agencies=w.agencies,
        now=clock.now(),
    )
    logger.info("verification batch", extra={"mode": request.mode, **done})
    return {"checked": done}
