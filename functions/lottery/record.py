"""A private school and grade's admission, archived as LOTTERY.md's `private/{school_id}-g{grade}.json`."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.observability import metrics
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.lottery import ceremony
from functions.events import SchoolEvent, task


@task(SchoolEvent, log="private admission archived")
def handler(request: SchoolEvent, w: Wiring) -> dict[str, Any]:
    out = ceremony.record_admissions(
        w.config,
        request.season,
        request.school_id,
        request.grade,
        store=w.lotteries,
        archive=w.archive,
        now=clock.now(),
    )
    metrics.add_metric(name="PrivateAdmissionsArchived", unit="Count", value=1)
    return out
