"""One batch of the verification Distributed Map: ask the agencies, store answers, judge what is complete.

Also a late registration's checks (issue 18, `late`: the place API invokes it asynchronously with the
Map's payload): asked the same way, then the children whose verdict is in are placed by it
(enrollment/corrections/late.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.checks import AgencyUnavailable
from enrollment.verification.season import verify_batch
from functions.events import SeasonEvent, task


class BatchInput(SeasonEvent):
    registration_ids: list[str] = Field(min_length=1)
    mode: Literal["ask", "mark-unanswered"] = "ask"
    # late registrations (补录), after the results: asked, then settled by their verdicts
    late: bool = False


@task(BatchInput)
def handler(request: BatchInput, w: Wiring) -> dict[str, Any]:
    if request.late:
        return _late(request, w)
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


def _late(request: BatchInput, w: Wiring) -> dict[str, Any]:
    """A late registration's checks: no workflow asks again after the verification deadline, so an
    agency that does not answer now leaves its check unanswered, and the case goes to the district's
    review, as the deadline sends every case still open (R-VER-3)."""
    from enrollment.corrections.late import settle_late  # placement's modules: the late task's alone

    now = clock.now()
    kwargs: dict[str, Any] = {"store": w.store, "vstore": w.verification, "agencies": w.agencies, "now": now}
    try:
        done = verify_batch(w.config, request.registration_ids, "ask", **kwargs)
    except AgencyUnavailable:
        done = verify_batch(w.config, request.registration_ids, "mark-unanswered", **kwargs)
    made = settle_late(
        w.config,
        request.season,
        archive=w.archive,
        corrections=w.corrections,
        registrations=w.store,
        verdicts=w.verification,
        lotteries=w.lotteries,
        tie_breaks=w.placements,
        now=now.astimezone(w.config.tz),
        registration_ids=request.registration_ids,
    )
    settled = [c.correction_id for c in made.corrections]
    if made.refused:  # the child keeps its coordination seat; the district corrects it by hand
        logger.error("late registration not settled", extra={"refused": made.refused})
    logger.info("late registrations verified", extra={**done, "corrections": settled})
    return {"checked": done, "corrections": settled, "refused": sorted(made.refused)}
