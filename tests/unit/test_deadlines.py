"""The deadline schedules a deploy puts (enrollment/core/deadlines.py): at the stored deadlines,
extensions included, never earlier than the config's; none for an advanced gate."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Literal

from enrollment.core.config import SeasonConfig
from enrollment.core.deadlines import DeadlineSchedule, Target, planned, sync
from enrollment.core.phases import phase, phases, schedule_expression, schedule_name
from enrollment.core.ports import SeasonState

TARGET = Target(
    arn="arn:aws-cn:lambda:cn-north-1:111122223333:function:enrollment-x-gate-advance",
    role_arn="arn:aws-cn:iam::111122223333:role/scheduler",
    dead_letter_arn="arn:aws-cn:sqs:cn-north-1:111122223333:dlq",
    retry_attempts=48,
    max_event_age_s=43200,
)


class FakeGroup:
    def __init__(self) -> None:
        self.schedules: dict[str, DeadlineSchedule] = {}

    def put(self, schedule: DeadlineSchedule) -> Literal["created", "updated", "unchanged"]:
        before = self.schedules.get(schedule.name)
        self.schedules[schedule.name] = schedule
        return "created" if before is None else "unchanged" if before == schedule else "updated"

    def remove(self, name: str) -> bool:
        return self.schedules.pop(name, None) is not None


def test_no_extension_means_the_configured_deadlines(season: SeasonConfig) -> None:
    plan = planned(season, SeasonState(frozenset(), {}), TARGET)
    assert [s.phase for s in plan] == [p.name for p in phases(season)]
    for s, p in zip(plan, phases(season), strict=True):
        assert s.expression == schedule_expression(p) and s.timezone == season.timezone
        request = s.request("enrollment-jilin-2023")
        assert json.loads(request["Target"]["Input"]) == {
            "source": "schedule",
            "season": season.season,
            "phase": p.name,
        }
        assert request["Target"]["RetryPolicy"] == {
            "MaximumRetryAttempts": 48,
            "MaximumEventAgeInSeconds": 43200,
        }
        assert request["FlexibleTimeWindow"] == {"Mode": "OFF"}


def test_a_stored_extension_moves_only_its_gate_and_only_later(season: SeasonConfig) -> None:
    end = season.calendar.grade1_registration.end
    later = {
        s.phase: s for s in planned(season, SeasonState(frozenset(), {1: end + timedelta(days=2)}), TARGET)
    }
    assert later["grade1-registration"].expression == f"at({end + timedelta(days=3)}T00:00:00)"
    assert later["grade7-registration"].expression == schedule_expression(
        phase(season, "grade7-registration")
    )
    # an extension recorded before the config moved the window later: the later deadline wins
    earlier = planned(season, SeasonState(frozenset(), {1: end - timedelta(days=1)}), TARGET)
    assert earlier[1].expression == schedule_expression(phase(season, "grade1-registration"))


def test_sync_puts_the_open_gates_and_removes_the_advanced(season: SeasonConfig) -> None:
    group = FakeGroup()
    first = sync(season, SeasonState(frozenset(), {}), TARGET, group)
    assert {v["action"] for v in first.values()} == {"created"}
    assert set(group.schedules) == {schedule_name(p) for p in phases(season)}
    state = SeasonState(
        frozenset({"grade7-registration"}), {1: season.calendar.grade1_registration.end + timedelta(days=1)}
    )
    second = sync(season, state, TARGET, group)
    assert second["grade7-registration"] == {"action": "removed"}
    assert second["grade1-registration"]["action"] == "updated"
    assert {second[p.name]["action"] for p in phases(season)[2:]} == {"unchanged"}
    assert schedule_name(phase(season, "grade7-registration")) not in group.schedules
    assert sync(season, state, TARGET, group)["grade7-registration"] == {"action": "absent"}
