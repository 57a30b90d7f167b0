"""The season watch: what must reach an operator even when nothing raised an error.

Two silences would otherwise go unnoticed until a parent or a school calls:
- a season nobody started: its execution does not exist once the notice date has begun (the
  notice announces registration; the workflow must be running by then, `enroll season start`);
- a deadline nobody delivered: a gate still open one hour after its deadline (after any recorded
  extension) while the season's execution runs, e.g. the deadline schedule or gate-advance failed.

`watch` answers both from the season's execution and its gates; the watch function runs it every
15 minutes and publishes the answer as metrics that alarms watch (infra/observability.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.gates import deadline_of
from enrollment.core.launch import Workflow, execution_name
from enrollment.core.phases import phases
from enrollment.core.ports import Store

OVERDUE_AFTER = timedelta(hours=1)  # a gate still open this long after its deadline is overdue


def start_by(config: SeasonConfig) -> datetime:
    """When the season's execution must exist: the start of the notice date (season timezone)."""
    return config.day_start(config.calendar.notice_issued)


def watch(config: SeasonConfig, *, workflow: Workflow, store: Store, now: datetime) -> dict[str, Any]:
    """Whether the season should have started and has not, and which gates are overdue."""
    season = config.season
    execution = workflow.execution(execution_name(season))
    not_started = execution is None and now >= start_by(config)
    overdue: list[dict[str, str]] = []
    if execution is not None and execution.status == "RUNNING":
        for p in phases(config):
            gate = store.get_gate(season, p.name)
            if gate is None or gate.get("status") != "open":
                continue
            deadline = deadline_of(config, store, season, p.name)
            if now >= deadline + OVERDUE_AFTER:
                overdue.append({"phase": p.name, "deadline": deadline.astimezone(config.tz).isoformat()})
    return {
        "season": season,
        "execution_status": "not-started" if execution is None else execution.status,
        "season_not_started": not_started,
        "start_by": start_by(config).isoformat(),
        "overdue_gates": overdue,
    }


# What the watch function publishes (namespace Enrollment, dimensions service and season: every
# custom metric carries them, enrollment/adapters/observability.py)
# and the alarms watch (infra/observability.py).
METRIC_NOT_STARTED = "SeasonNotStarted"  # 1 while the season should be running and is not
METRIC_OVERDUE = "GatesOverdue"  # how many gates are open an hour or more past their deadline
