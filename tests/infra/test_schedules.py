"""Phase deadlines: one one-time schedule per gate, in the season's local time and timezone."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from enrollment.core.config import load_season
from enrollment.core.phases import phases
from enrollment.core.resources import schedule_group_name
from infra.nag import ref
from tests.infra.helpers import Template as Tpl
from tests.infra.helpers import (
    allowed_actions,
    denies_insecure_transport,
    getatt,
    live_alias,
    only,
    resources,
    resources_for,
    role_statements,
)

pytestmark = pytest.mark.xdist_group("infra")

# The fixture calendar: grade 7 registers 13-19 May 2031, grade 1 20-29 May, home visits end 15 Jun,
# private counts are due 16 Jun (review), the spot-check ends 5 Jul; each gate resumes at the local
# midnight after its last whole day.
FIXTURE_DEADLINES = {
    "grade7-registration": date(2031, 5, 20),
    "grade1-registration": date(2031, 5, 30),
    "home-visits": date(2031, 6, 16),
    "review": date(2031, 6, 17),
    "coordination": date(2031, 6, 27),
    "spot-check": date(2031, 7, 6),
    "reporting": date(2031, 7, 9),
    "classes": date(2031, 8, 25),  # a week before term (1 Sep): at local midnight starting 25 Aug
}


def _schedules(raw: Tpl) -> dict[str, dict[str, Any]]:
    """Schedules by the phase they close (schedule names are `deadline-<phase>`)."""
    return {
        s["Properties"]["Name"].removeprefix("deadline-"): s["Properties"]
        for s in resources(raw, "AWS::Scheduler::Schedule").values()
    }


def test_one_schedule_per_phase_at_local_midnight_after_the_window(raw, config):
    schedules = _schedules(raw)
    assert len(resources(raw, "AWS::Scheduler::Schedule")) == len(schedules) == 8
    assert set(schedules) == {p.name for p in phases(config)} == set(FIXTURE_DEADLINES)
    for name, day in FIXTURE_DEADLINES.items():
        # local wall-clock time with the timezone beside it, not the UTC instant (16:00 the day before)
        assert schedules[name]["ScheduleExpression"] == f"at({day.isoformat()}T00:00:00)"
        assert schedules[name]["ScheduleExpressionTimezone"] == "Asia/Shanghai"
        assert schedules[name]["GroupName"] == schedule_group_name(config.name)
        assert schedules[name]["FlexibleTimeWindow"] == {"Mode": "OFF"}


def test_schedule_target_resumes_the_gate_with_retries_and_a_dlq(synth, raw, config):
    gate_advance = live_alias(raw, ref(synth.stack.functions["gate-advance"]))
    dlq = ref(synth.stack.schedules.dead_letters)
    role = ref(synth.stack.schedules.role)
    for name, props in _schedules(raw).items():
        target = props["Target"]
        assert target["Arn"] == {"Ref": gate_advance}  # the `live` alias (an alias's Ref is its ARN)
        assert json.loads(target["Input"]) == {"source": "schedule", "season": config.season, "phase": name}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 3600
        assert target["DeadLetterConfig"] == {"Arn": getatt(dlq)}
        assert target["RoleArn"] == getatt(role)


def test_scheduler_role_may_only_invoke_gate_advance(synth, raw):
    role_id = ref(synth.stack.schedules.role)
    role = raw["Resources"][role_id]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert set(trust["Condition"]["StringEquals"]) == {"aws:SourceAccount", "aws:SourceArn"}
    statements = role_statements(raw, role_id)
    # sqs:SendMessage is how the Scheduler delivers to the DLQ with the schedule's role
    assert allowed_actions(statements) == {"lambda:InvokeFunction", "sqs:SendMessage"}
    alias = live_alias(raw, ref(synth.stack.functions["gate-advance"]))
    assert resources_for(statements, "lambda:InvokeFunction") == [{"Ref": alias}]  # no other version
    assert resources_for(statements, "sqs:SendMessage") == [getatt(ref(synth.stack.schedules.dead_letters))]


def test_dead_letter_queue_is_encrypted_and_tls_only(synth, raw):
    queue = raw["Resources"][ref(synth.stack.schedules.dead_letters)]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    _, policy = only(raw, "AWS::SQS::QueuePolicy")
    assert denies_insecure_transport(policy["Properties"]["PolicyDocument"])


def test_group_name(raw, config):
    _, group = only(raw, "AWS::Scheduler::ScheduleGroup")
    assert group["Properties"]["Name"] == schedule_group_name(config.name)


def test_jilin_2023_schedules_follow_its_calendar(app_synth):
    assert app_synth.returncode == 0, app_synth.output[-3000:]
    config = load_season("jilin-2023")
    schedules = _schedules(app_synth.template())
    assert {
        name: (s["ScheduleExpression"], s["ScheduleExpressionTimezone"]) for name, s in schedules.items()
    } == {
        p.name: (f"at({p.deadline.astimezone(config.tz):%Y-%m-%dT%H:%M:%S})", "Asia/Shanghai")
        for p in phases(config)
    }
