"""The deadline schedules, computed from what is stored: a deploy never moves a deadline back.

One one-time EventBridge schedule per gate resumes it at its deadline. Staff may extend a
registration window (enrollment/registration/windows.py), which stores the new last day and moves
the gate's schedule. Were the schedules CloudFormation resources, every deploy would put the
config's original time back and the schedule would fire before the extended end. So a deploy-time
step (the `deadlines` function, a CloudFormation custom resource: infra/schedules.py) owns them and
puts each gate's schedule at `deadline_in(config, state, gate)`: the config's deadline, or the
stored extension's when later (extensions only ever move a deadline later).

A gate already advanced has nothing left to resume: its schedule is removed (were it left, a
firing would answer `already-advanced` and change nothing, but the group then lists a deadline
that no longer means anything; the season's status describes only the next gate's schedule).

Each schedule's target, role, dead-letter queue and retry policy are the stack's (`Target`); the
expression is the deadline's wall-clock time with the season's timezone set beside it (`at(...)`,
enrollment/core/phases.py), exactly as the calendar publishes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.gates import deadline_in
from enrollment.core.phases import at_expression, phases, schedule_input, schedule_name
from enrollment.core.ports import SeasonState

# Each schedule's retry policy (the stack's, infra/schedules.py; the local runtime's): the Scheduler
# retries an invocation it could not deliver for up to 12 hours, then drops it into the DLQ.
RETRY_ATTEMPTS = 48
MAX_EVENT_AGE_S = 12 * 3600


@dataclass(frozen=True)
class Target:
    """What every deadline schedule invokes, and how: from the stack (the custom resource's properties)."""

    arn: str  # gate-advance (its alias, once functions are published behind one)
    role_arn: str  # the scheduler's invoke role
    dead_letter_arn: str
    retry_attempts: int
    max_event_age_s: int


@dataclass(frozen=True)
class DeadlineSchedule:
    """One gate's schedule as EventBridge Scheduler keeps it (CreateSchedule's fields)."""

    name: str
    phase: str
    deadline: datetime
    expression: str
    timezone: str
    description: str
    target: Target
    input: dict[str, str]

    def request(self, group: str) -> dict[str, Any]:
        """CreateSchedule / UpdateSchedule's arguments for this schedule in `group`."""
        return {
            "Name": self.name,
            "GroupName": group,
            "Description": self.description,
            "ScheduleExpression": self.expression,
            "ScheduleExpressionTimezone": self.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": {
                "Arn": self.target.arn,
                "RoleArn": self.target.role_arn,
                "Input": json.dumps(self.input, separators=(",", ":")),
                "DeadLetterConfig": {"Arn": self.target.dead_letter_arn},
                "RetryPolicy": {
                    "MaximumRetryAttempts": self.target.retry_attempts,
                    "MaximumEventAgeInSeconds": self.target.max_event_age_s,
                },
            },
        }


class ScheduleWriter(Protocol):
    """The season's schedule group, written (enrollment/adapters/scheduler.py)."""

    def put(self, schedule: DeadlineSchedule) -> Literal["created", "updated", "unchanged"]:
        """Create the schedule, or update it to exactly this; nothing when it already is."""
        ...

    def remove(self, name: str) -> bool:
        """Delete the schedule; False if there was none."""
        ...


def planned(config: SeasonConfig, state: SeasonState, target: Target) -> list[DeadlineSchedule]:
    """The schedule of every gate not yet advanced, at its stored deadline, in phase order."""
    return [
        DeadlineSchedule(
            name=schedule_name(p),
            phase=p.name,
            deadline=(deadline := deadline_in(config, state, p.name)),
            expression=at_expression(deadline.astimezone(config.tz)),
            timezone=config.timezone,
            description=f"{p.title_zh}: deadline, resume the {p.name} gate",
            target=target,
            input=schedule_input(config.season, p),
        )
        for p in phases(config)
        if p.name not in state.advanced_gates
    ]


def sync(
    config: SeasonConfig, state: SeasonState, target: Target, schedules: ScheduleWriter
) -> dict[str, Any]:
    """Put every gate's schedule at its stored deadline and remove the advanced gates' (see the
    module's docstring). Idempotent: a second run changes nothing. Returns what it did, by phase."""
    done: dict[str, Any] = {}
    for schedule in planned(config, state, target):
        done[schedule.phase] = {
            "action": schedules.put(schedule),
            "expression": schedule.expression,
            "deadline": schedule.deadline.isoformat(),
        }
    for p in phases(config):
        if p.name in state.advanced_gates:
            done[p.name] = {"action": "removed" if schedules.remove(schedule_name(p)) else "absent"}
    return done
