"""Every 15 minutes (an EventBridge rule): is the season started, is any gate overdue? The answer is
published as metrics the season's alarms watch (enrollment/core/watch.py, docs/RUNBOOK.md), under the
season's dimension like every metric (enrollment/adapters/observability.py)."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.observability import logger, metrics
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.core.watch import METRIC_NOT_STARTED, METRIC_OVERDUE, watch
from functions.events import SeasonEvent, task


@task(SeasonEvent)
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    if request.season != w.config.season:
        raise ValueError(f"season: {request.season!r} is not this stack's season {w.config.season!r}")
    out = watch(w.config, workflow=w.workflow, store=w.store, now=clock.now())
    metrics.add_metric(name=METRIC_NOT_STARTED, unit="Count", value=int(out["season_not_started"]))
    metrics.add_metric(name=METRIC_OVERDUE, unit="Count", value=len(out["overdue_gates"]))
    if out["season_not_started"] or out["overdue_gates"]:
        logger.warning("season needs an operator", extra=out)
    return out
