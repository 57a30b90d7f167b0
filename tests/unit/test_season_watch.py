"""The season watch (enrollment/core/watch.py): a season not started by its notice date, and gates
still open an hour past their deadline (extensions included), over in-memory ports."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.launch import Execution
from enrollment.core.phases import phases
from enrollment.core.ports import SeasonState
from enrollment.core.watch import OVERDUE_AFTER, start_by, watch


class Workflow:
    state_machine_arn = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:enrollment-x-season"

    def __init__(self, status: str | None = None) -> None:
        self.status = status

    def execution(self, name: str) -> Execution | None:
        if self.status is None:
            return None
        arn = f"arn:aws-cn:states:cn-north-1:123456789012:execution:enrollment-x-season:{name}"
        return Execution(arn, name, self.status, datetime(2023, 5, 10, 9), None, {})


class Store:
    def __init__(self, gates: dict[str, dict[str, Any]], extended_to: dict[int, date] | None = None) -> None:
        self.gates = gates
        self.extended_to = extended_to or {}

    def get_gate(self, season: str, phase: str) -> dict[str, Any] | None:
        return self.gates.get(phase)

    def season_state(self, season: str) -> SeasonState:
        return SeasonState(frozenset(), dict(self.extended_to))


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("jilin-2023")


def test_a_season_not_started_alarms_from_the_start_of_its_notice_date(config: SeasonConfig) -> None:
    begins = start_by(config)
    assert begins == datetime.fromisoformat("2023-05-11T00:00:00+08:00")
    quiet = watch(config, workflow=Workflow(), store=Store({}), now=begins - timedelta(minutes=1))
    assert quiet["season_not_started"] is False and quiet["execution_status"] == "not-started"
    late = watch(config, workflow=Workflow(), store=Store({}), now=begins)
    assert late["season_not_started"] is True and late["overdue_gates"] == []
    started = watch(config, workflow=Workflow("RUNNING"), store=Store({}), now=begins + timedelta(days=3))
    assert started["season_not_started"] is False and started["execution_status"] == "RUNNING"


def test_an_open_gate_is_overdue_one_hour_after_its_deadline(config: SeasonConfig) -> None:
    first, second = phases(config)[:2]
    store = Store({first.name: {"status": "advanced"}, second.name: {"status": "open"}})
    running = Workflow("RUNNING")
    just_before = second.deadline + OVERDUE_AFTER - timedelta(seconds=1)
    assert watch(config, workflow=running, store=store, now=just_before)["overdue_gates"] == []
    late = watch(config, workflow=running, store=store, now=second.deadline + OVERDUE_AFTER)
    assert late["overdue_gates"] == [{"phase": second.name, "deadline": second.deadline.isoformat()}]
    # the first gate's deadline passed long ago, but it was advanced: not overdue
    assert all(g["phase"] != first.name for g in late["overdue_gates"])


def test_an_extended_window_moves_the_overdue_time(config: SeasonConfig) -> None:
    first = phases(config)[0]  # grade 7 registration, extended by three days
    extended = config.calendar.grade7_registration.end + timedelta(days=3)
    store = Store({first.name: {"status": "open"}}, extended_to={7: extended})
    now = first.deadline + OVERDUE_AFTER + timedelta(hours=5)
    assert watch(config, workflow=Workflow("RUNNING"), store=store, now=now)["overdue_gates"] == []
    after = config.day_end(extended) + OVERDUE_AFTER
    (gate,) = watch(config, workflow=Workflow("RUNNING"), store=store, now=after)["overdue_gates"]
    assert gate == {"phase": first.name, "deadline": config.day_end(extended).isoformat()}


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"])
def test_a_stopped_execution_has_no_overdue_gates_its_own_alarm_speaks(
    config: SeasonConfig, status: str
) -> None:
    last = phases(config)[-1]
    store = Store({last.name: {"status": "open"}})
    out = watch(config, workflow=Workflow(status), store=store, now=last.deadline + timedelta(days=2))
    assert out == {
        "season": config.season,
        "execution_status": status,
        "season_not_started": False,
        "start_by": start_by(config).isoformat(),
        "overdue_gates": [],
    }
