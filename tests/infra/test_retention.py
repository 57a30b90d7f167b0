"""Personal data has an end (docs/RETENTION.md): the erase function, its daily schedule and the least it
may do; the log groups and the work bucket keep what the season's retention settings say."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enrollment.core.resources import function_name, schedule_group_name
from infra.nag import ref
from infra.schedules import ERASE_SCHEDULE, SEAL_CORRECTIONS_SCHEDULE
from tests.infra.conftest import Synth
from tests.infra.helpers import (
    allowed_actions,
    as_list,
    function_role,
    getatt,
    live_alias,
    resources,
    resources_for,
    role_statements,
)

pytestmark = pytest.mark.xdist_group("infra")


def _erase_schedule(raw: dict[str, Any]) -> dict[str, Any]:
    [found] = [
        s["Properties"]
        for s in resources(raw, "AWS::Scheduler::Schedule").values()
        if s["Properties"]["Name"] == ERASE_SCHEDULE
    ]
    return found


def _erase_statements(s: Synth) -> list[dict[str, Any]]:
    return role_statements(s.raw, function_role(s.raw, ref(s.stack.functions["erase"])))


@pytest.mark.parametrize("partition", ["agnostic", "cn"])
def test_the_erase_function_runs_daily_in_the_seasons_timezone(synthesized, partition, config):
    s = synthesized.stacks[partition]
    fn = s.raw["Resources"][ref(s.stack.functions["erase"])]["Properties"]
    assert fn["FunctionName"] == function_name(config.name, "erase")
    assert fn["Handler"] == "functions.erase.handler.handler" and fn["Timeout"] == 900
    schedule = _erase_schedule(s.raw)
    # every day at 02:30 local time; the function refuses before the retention date (no StartDate:
    # CreateSchedule refuses one in the past, and a redeploy after that date must still work)
    assert schedule["ScheduleExpression"] == "cron(30 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == config.timezone
    assert "StartDate" not in schedule and schedule.get("State", "ENABLED") == "ENABLED"
    assert schedule["GroupName"] == schedule_group_name(config.name)
    target = schedule["Target"]
    # the function's `live` alias (infra/functions.py): a deploy moves it, a running erasure keeps its code
    assert target["Arn"] == {"Ref": live_alias(s.raw, ref(s.stack.functions["erase"]))}
    assert json.loads(target["Input"]) == {"season": config.season}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["RoleArn"] == getatt(ref(s.stack.schedules.erase_role))
    assert str(config.retention.erase_on(config.calendar)) in schedule["Description"]


@pytest.mark.parametrize("partition", ["agnostic", "cn"])
def test_the_daily_schedules_role_may_only_invoke_the_erase_and_seal_functions(synthesized, partition):
    s = synthesized.stacks[partition]
    role_id = ref(s.stack.schedules.erase_role)
    [trust] = s.raw["Resources"][role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceArn"] == getatt(ref(s.stack.schedules.group))
    statements = role_statements(s.raw, role_id)
    assert allowed_actions(statements) == {"lambda:InvokeFunction"}
    alias = {"Ref": live_alias(s.raw, ref(s.stack.functions["erase"]))}
    # the erasure, and the corrections' daily seal (issue 18); no other version, no function
    seal = {"Ref": live_alias(s.raw, ref(s.stack.functions["seal"]))}
    assert sorted(map(str, resources_for(statements, "lambda:InvokeFunction"))) == sorted(
        map(str, [alias, seal])
    )
    # and the deadlines' role may not invoke them
    deadlines = role_statements(s.raw, ref(s.stack.schedules.role))
    assert alias not in resources_for(deadlines, "lambda:InvokeFunction")
    assert seal not in resources_for(deadlines, "lambda:InvokeFunction")


@pytest.mark.parametrize("partition", ["agnostic", "cn"])
def test_the_corrections_are_sealed_daily_in_the_seal_function(synthesized, partition, config):
    """Issue 18: one schedule, at 03:00 in the season's timezone, invokes the seal function's live
    alias with the corrections' task; no function of its own."""
    s = synthesized.stacks[partition]
    [schedule] = [
        x["Properties"]
        for x in resources(s.raw, "AWS::Scheduler::Schedule").values()
        if x["Properties"]["Name"] == SEAL_CORRECTIONS_SCHEDULE
    ]
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == config.timezone
    assert schedule["GroupName"] == schedule_group_name(config.name)
    target = schedule["Target"]
    assert target["Arn"] == {"Ref": live_alias(s.raw, ref(s.stack.functions["seal"]))}
    assert json.loads(target["Input"]) == {"season": config.season, "task": "seal-corrections"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["RoleArn"] == getatt(ref(s.stack.schedules.erase_role))


@pytest.mark.parametrize("partition", ["agnostic", "cn"])
def test_the_erasure_deletes_only_the_work_buckets_season_files_and_only_reads_the_archive(
    synthesized, partition
):
    s = synthesized.stacks[partition]
    statements = _erase_statements(s)
    work = getatt(ref(s.stack.work.bucket))
    archive = getatt(ref(s.stack.archive.bucket))
    # delete: the work bucket's seasons/ and exports/ objects, nothing else (never the archive)
    assert sorted(json.dumps(r) for r in resources_for(statements, "s3:DeleteObject*")) == sorted(
        json.dumps({"Fn::Join": ["", [work, f"/{prefix}*"]]}) for prefix in ("seasons/", "exports/")
    )
    assert not any(a.startswith("s3:Put") for a in allowed_actions(statements))
    # list: the work bucket, under those two prefixes only
    [listing] = [st for st in statements if "s3:ListBucket" in as_list(st["Action"])]
    assert listing["Resource"] == work
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["seasons/*", "exports/*"]}}
    # read: the archive, to see that the season is sealed before anything is erased
    reads = [json.dumps(r) for r in resources_for(statements, "s3:GetObject*")]
    assert reads and all(ref(s.stack.archive.bucket) in r for r in reads)
    assert json.dumps(archive) in json.dumps(resources_for(statements, "s3:GetObject*"))
    # no workflow, no SMS, no signing, no other function
    assert not any(
        a.startswith(("states:", "sns:", "lambda:", "iam:", "scheduler:")) or a == "kms:Sign"
        for a in allowed_actions(statements)
    )


@pytest.mark.parametrize("partition", ["agnostic", "cn"])
def test_log_groups_keep_the_seasons_log_retention_at_most(synthesized, partition, config):
    s = synthesized.stacks[partition]
    groups = resources(s.raw, "AWS::Logs::LogGroup")
    days = {k: g["Properties"].get("RetentionInDays") for k, g in groups.items()}
    # the functions', the workflow's and the API's access logs: the season's `retention.log_days`
    named = {k: json.dumps(g["Properties"].get("LogGroupName", "")) for k, g in groups.items()}
    ours = [k for k, n in named.items() if "/aws/lambda/" in n or "/aws/vendedlogs/states/" in n]
    ours.append(ref(s.stack.api.access_logs))
    assert len(ours) > 20 and {days[k] for k in ours} == {config.retention.log_days}
    # none keeps longer (the web ACL's logs of client addresses keep less); none forever
    assert all(d is not None and d <= config.retention.log_days for d in days.values()), days
