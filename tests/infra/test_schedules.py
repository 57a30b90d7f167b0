"""Phase deadlines: one one-time schedule per gate, in the season's local time and timezone, put at
each deploy by a custom resource from the stored deadlines (a deploy never moves one back)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from enrollment.core.config import load_season
from enrollment.core.deadlines import MAX_EVENT_AGE_S, RETRY_ATTEMPTS
from enrollment.core.launch import config_digest
from enrollment.core.phases import phases, schedule_name
from enrollment.core.resources import schedule_group_name
from infra.nag import ref
from tests.infra.helpers import (
    DDB_READ,
    KMS_TABLE_READ,
    LOGS,
    XRAY,
    allowed_actions,
    denies_insecure_transport,
    function_role,
    getatt,
    live_alias,
    only,
    resources,
    resources_for,
    role_statements,
)
from tests.infra.helpers import Template as Tpl

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


def _deadlines(raw: Tpl) -> tuple[str, dict[str, Any]]:
    """The deadline schedules' custom resource: its logical id and its resource."""
    [(logical_id, resource)] = resources(raw, "Custom::DeadlineSchedules").items()
    return logical_id, resource


def test_no_gate_schedule_is_a_cloudformation_resource_a_custom_resource_puts_them(synth, raw, config):
    # a deploy would put a CloudFormation schedule back at the config's time, undoing an extension
    # (other schedules, e.g. a maintenance one, may stay CloudFormation resources)
    gates = {f"deadline-{p.name}" for p in phases(config)}
    assert not [
        s for s in resources(raw, "AWS::Scheduler::Schedule").values() if s["Properties"]["Name"] in gates
    ]
    _, resource = _deadlines(raw)
    props = resource["Properties"]
    framework = ref(synth.stack.schedules.provider.node.find_child("framework-onEvent"))
    assert props["ServiceToken"] == getatt(framework)
    assert props["Season"] == config.season
    assert props["GroupName"] == schedule_group_name(config.name)
    assert props["Timezone"] == "Asia/Shanghai"
    assert props["ConfigDigest"] == config_digest(config)  # a new config is a new Update
    # the configured deadlines, in the local wall-clock time (not the UTC instant, 16:00 the day
    # before); the function puts a stored extension's later deadline instead (tests/integration)
    assert props["ConfiguredDeadlines"] == {
        name: f"at({day.isoformat()}T00:00:00)" for name, day in FIXTURE_DEADLINES.items()
    }
    assert set(props["ConfiguredDeadlines"]) == {p.name for p in phases(config)}
    # put once the group and the role (with its policy) exist
    assert {ref(synth.stack.schedules.group), ref(synth.stack.schedules.role)} <= set(resource["DependsOn"])
    # the framework hands the request to the deadlines function
    env = raw["Resources"][framework]["Properties"]["Environment"]["Variables"]
    assert env["USER_ON_EVENT_FUNCTION_ARN"] == {
        "Ref": live_alias(raw, ref(synth.stack.functions["deadlines"]))
    }


def test_schedule_target_resumes_the_gate_with_retries_and_a_dlq(synth, raw, config):
    props = _deadlines(raw)[1]["Properties"]
    # the target is a parameter: gate-advance's `live` alias (an alias's Ref is its ARN)
    assert props["TargetArn"] == {"Ref": live_alias(raw, ref(synth.stack.functions["gate-advance"]))}
    assert props["RoleArn"] == getatt(ref(synth.stack.schedules.role))
    assert props["DeadLetterArn"] == getatt(ref(synth.stack.schedules.dead_letters))
    assert props["MaximumRetryAttempts"] == RETRY_ATTEMPTS > 0
    assert props["MaximumEventAgeInSeconds"] == MAX_EVENT_AGE_S >= 3600


def test_the_deadlines_function_may_only_write_this_groups_schedules_read_the_table_and_pass_their_role(
    synth, raw, config
):
    statements = role_statements(raw, function_role(raw, ref(synth.stack.functions["deadlines"])))
    scheduler = {
        "scheduler:GetSchedule",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
    }
    assert allowed_actions(statements) == DDB_READ | KMS_TABLE_READ | LOGS | XRAY | scheduler | {
        "iam:PassRole"
    }
    for action in scheduler:  # one ARN per gate's schedule, in this season's group
        arns = resources_for(statements, action)
        assert sorted(a["Fn::Join"][1][-1] for a in arns) == sorted(
            f":schedule/{schedule_group_name(config.name)}/{schedule_name(p)}" for p in phases(config)
        )
    assert resources_for(statements, "iam:PassRole") == [getatt(ref(synth.stack.schedules.role))]
    table = getatt(ref(synth.stack.storage.table))
    for action in DDB_READ:
        assert resources_for(statements, action) == [table, {"Fn::Join": ["", [table, "/index/*"]]}]
    assert not [s for s in statements if s.get("Effect") != "Allow"]


def test_the_provider_framework_only_writes_its_logs_and_invokes_the_deadlines_function(synth, raw):
    framework = raw["Resources"][ref(synth.stack.schedules.provider.node.find_child("framework-onEvent"))]
    role_id = framework["Properties"]["Role"]["Fn::GetAtt"][0]
    assert "ManagedPolicyArns" not in raw["Resources"][role_id]["Properties"]
    statements = role_statements(raw, role_id)
    assert allowed_actions(statements) == LOGS | {"lambda:InvokeFunction", "lambda:GetFunction"}
    live = {"Ref": live_alias(raw, ref(synth.stack.functions["deadlines"]))}  # the `live` alias only
    assert resources_for(statements, "lambda:InvokeFunction") == [live]
    assert resources_for(statements, "lambda:GetFunction") == [live]
    logs = framework["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources_for(statements, "logs:PutLogEvents") == [getatt(logs)]
    assert raw["Resources"][logs]["Properties"]["RetentionInDays"] > 0


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
    props = _deadlines(app_synth.template())[1]["Properties"]
    assert props["Timezone"] == "Asia/Shanghai"
    assert props["ConfiguredDeadlines"] == {
        p.name: f"at({p.deadline.astimezone(config.tz):%Y-%m-%dT%H:%M:%S})" for p in phases(config)
    }


def test_a_resync_token_is_a_short_plain_word():
    import aws_cdk as cdk

    from infra.context import AppOptions

    alarms = {"alarm_email": "ops@example.org"}
    assert AppOptions.from_node(cdk.App(context=alarms).node, environ={}).deadlines_resync == ""
    token = "202605301200"
    given = AppOptions.from_node(cdk.App(context={**alarms, "deadlines_resync": token}).node, environ={})
    assert given.deadlines_resync == token
    with pytest.raises(ValueError, match="deadlines_resync"):
        AppOptions.from_node(cdk.App(context={**alarms, "deadlines_resync": "a b;c"}).node, environ={})
