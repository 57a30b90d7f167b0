"""A deploy never moves a deadline back (issue 16, safe redeploys): the deadline schedules are put by
the `deadlines` function, as the stack's custom resource does at each deploy (Create, then Update),
at the stored deadlines, extensions included; an advanced gate's schedule is removed; Delete leaves
them to their group. And a schedule that still fires early (put back by hand, or by an older stack)
is put again at the gate's current deadline by gate-advance."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.scheduler import SchedulerSchedules
from enrollment.core.config import SeasonConfig
from enrollment.core.deadlines import MAX_EVENT_AGE_S, RETRY_ATTEMPTS, Target, sync
from enrollment.core.phases import at_expression, phase, phases, schedule_expression, schedule_name
from enrollment.core.resources import SEAL_CORRECTIONS_SCHEDULE
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason

pytestmark = pytest.mark.xdist_group("moto-workflow")
GRADE7 = "grade7-registration"


def _schedules(rt: EmbeddedSeason) -> dict[str, dict[str, Any]]:
    """The deadline schedules of the season's group (not the stack's daily one beside them)."""
    scheduler = boto3.client("scheduler")
    names = [
        s["Name"]
        for s in scheduler.list_schedules(GroupName=rt.schedule_group)["Schedules"]
        if s["Name"] != SEAL_CORRECTIONS_SCHEDULE
    ]
    got = {n: dict(scheduler.get_schedule(GroupName=rt.schedule_group, Name=n)) for n in names}
    return {n: {k: v for k, v in s.items() if k != "ResponseMetadata"} for n, s in got.items()}


def _extend_grade7(rt: EmbeddedSeason, days: int) -> str:
    """City staff extend grade 7's registration window by `days`; its new deadline (ISO)."""
    until = rt.config.calendar.grade7_registration.end + timedelta(days=days)
    status, answer = drive.call(
        rt,
        "POST",
        f"/admin/seasons/{rt.config.season}/windows/7/extend",
        {"until": until.isoformat(), "reason": "系统故障顺延"},
        drive.member(rt, "city").principal,
    )
    assert status == 200, answer
    return str(answer["deadline"])


def _deadline_expression(season: SeasonConfig, iso: str) -> str:
    return at_expression(datetime.fromisoformat(iso).astimezone(season.tz))


def test_a_deploy_puts_the_schedules_at_the_stored_deadlines_not_the_configs(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    rt = embedded
    # Create (the first deploy, when the runtime started): every gate at its configured deadline
    created = _schedules(rt)
    assert set(created) == {schedule_name(p) for p in phases(season)}
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=rt.schedule_dead_letters, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    for p in phases(season):
        s = created[schedule_name(p)]
        assert s["ScheduleExpression"] == schedule_expression(p)  # local wall-clock time
        assert s["ScheduleExpressionTimezone"] == season.timezone
        assert s["FlexibleTimeWindow"] == {"Mode": "OFF"}
        target = s["Target"]
        assert target["Arn"] == rt.function_arns["gate-advance"]
        assert json.loads(target["Input"]) == {"source": "schedule", "season": season.season, "phase": p.name}
        assert target["DeadLetterConfig"] == {"Arn": queue_arn}
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": RETRY_ATTEMPTS,
            "MaximumEventAgeInSeconds": MAX_EVENT_AGE_S,
        }

    # City staff extend grade 7 by three days: the schedule moves, the extension is stored
    rt.start()
    rt.wait_for_gate(GRADE7)
    extended = _deadline_expression(season, _extend_grade7(rt, 3))
    assert extended != schedule_expression(phase(season, GRADE7))
    assert _schedules(rt)[schedule_name(phase(season, GRADE7))]["ScheduleExpression"] == extended

    # A later deploy (Update) leaves it at the extended deadline, not the config's; so does a Create
    # (the custom resource replaced); the other gates keep their configured deadlines
    for request in ("Update", "Create"):
        answer = rt.deploy(request)  # type: ignore[arg-type]
        assert answer["PhysicalResourceId"] == rt.schedule_group
        after = _schedules(rt)
        assert after[schedule_name(phase(season, GRADE7))]["ScheduleExpression"] == extended, request
        for p in phases(season)[1:]:
            assert after[schedule_name(p)]["ScheduleExpression"] == schedule_expression(p)

    # Written once: a second sync finds every schedule as it should be
    store = DynamoStore(rt.table_name)
    target = Target(
        arn=rt.function_arns["gate-advance"],
        role_arn=rt.schedule_role,
        dead_letter_arn=queue_arn,
        retry_attempts=RETRY_ATTEMPTS,
        max_event_age_s=MAX_EVENT_AGE_S,
    )
    again = sync(season, store.season_state(season.season), target, SchedulerSchedules(rt.schedule_group))
    assert {v["action"] for v in again.values()} == {"unchanged"}

    # The gate closes at the extended deadline; a deploy then removes its spent schedule
    rt.clock.set(season.day_end(season.calendar.grade7_registration.end))
    assert rt.fire_due_schedules() == []
    fired = rt.advance_clock(season.day_end(season.calendar.grade7_registration.end + timedelta(days=3)))
    assert [f["result"]["result"] for f in fired] == ["advanced"]
    rt.deploy("Update")
    left = _schedules(rt)
    assert schedule_name(phase(season, GRADE7)) not in left
    assert set(left) == {schedule_name(p) for p in phases(season)[1:]}

    # Delete writes nothing: the schedules go with their group when the stack is deleted
    assert rt.deploy("Delete")["PhysicalResourceId"] == rt.schedule_group
    assert set(_schedules(rt)) == set(left)


def test_a_deploy_for_another_season_is_refused_and_changes_nothing(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    before = _schedules(embedded)
    event = {
        "RequestType": "Update",
        "PhysicalResourceId": embedded.schedule_group,
        "ResourceProperties": {
            "Season": "1999",
            "GroupName": embedded.schedule_group,
            "TargetArn": embedded.function_arns["gate-advance"],
            "RoleArn": embedded.schedule_role,
            "DeadLetterArn": "arn:aws-cn:sqs:cn-north-1:123456789012:elsewhere",
            "MaximumRetryAttempts": "48",
            "MaximumEventAgeInSeconds": "43200",
        },
    }
    out = embedded._lambda.invoke(
        FunctionName=embedded.function_arns["deadlines"], Payload=json.dumps(event).encode()
    )
    assert out.get("FunctionError")
    assert "1999" in out["Payload"].read().decode()
    assert _schedules(embedded) == before


def test_a_schedule_firing_before_an_extended_deadline_is_put_again_at_it(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    """An older stack (whose deploy put the configured time back) or a hand edit leaves the schedule
    early: gate-advance advances nothing and puts the schedule at the gate's current deadline, where
    it fires again and closes the gate."""
    rt = embedded
    rt.start()
    rt.wait_for_gate(GRADE7)
    deadline = _extend_grade7(rt, 2)
    name = schedule_name(phase(season, GRADE7))
    SchedulerSchedules(rt.schedule_group).move(name, schedule_expression(phase(season, GRADE7)))  # put back

    early = rt.advance_clock(season.day_end(season.calendar.grade7_registration.end))
    assert [f["result"] for f in early] == [
        {"phase": GRADE7, "result": "before-deadline", "deadline": deadline, "rescheduled": True}
    ]
    assert DynamoStore(rt.table_name).get_gate(season.season, GRADE7)["status"] == "open"  # type: ignore[index]
    assert _schedules(rt)[name]["ScheduleExpression"] == _deadline_expression(season, deadline)

    on_time = rt.advance_clock(season.day_end(season.calendar.grade7_registration.end + timedelta(days=2)))
    assert [f["result"]["result"] for f in on_time] == ["advanced"]


def test_the_corrections_daily_seal_fires_at_three_each_season_day_on_the_simulated_clock(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    """The stack's daily schedule beside the deadlines' (infra/schedules.py): the seal function's
    `seal-corrections` task at 03:00 season time, fired once a day as the clock passes it, and once
    (for the latest day) when the clock jumps over several; nothing pending seals nothing."""
    rt = embedded
    s = boto3.client("scheduler").get_schedule(GroupName=rt.schedule_group, Name=SEAL_CORRECTIONS_SCHEDULE)
    assert s["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert s["ScheduleExpressionTimezone"] == season.timezone
    assert s["Target"]["Arn"] == rt.function_arns["seal"]
    assert json.loads(s["Target"]["Input"]) == {"season": season.season, "task": "seal-corrections"}

    day = rt.clock.now().astimezone(season.tz).date() + timedelta(days=1)
    assert rt.advance_clock(season.day_start(day) + timedelta(hours=2, minutes=59)) == []
    assert rt.daily_runs == []  # not yet 03:00
    rt.advance_clock(season.day_start(day) + timedelta(hours=3))
    [run] = rt.daily_runs
    assert run["at"] == (season.day_start(day) + timedelta(hours=3)).isoformat() and run["error"] is None
    assert run["result"] == {
        "season": season.season,
        "sealed": "nothing",
        "batches": [],
        "corrections": 0,
        "head": None,  # no batch sealed yet: no chain to publish
        "classes": {"season": season.season, "amended": "no-classes"},
        "late_settled": [],
        "late_asked": [],
    }
    rt.advance_clock(season.day_start(day) + timedelta(hours=23))
    assert len(rt.daily_runs) == 1  # once a day
    rt.advance_clock(season.day_start(day + timedelta(days=5)) + timedelta(hours=4))
    assert [r["at"] for r in rt.daily_runs[1:]] == [
        (season.day_start(day + timedelta(days=5)) + timedelta(hours=3)).isoformat()
    ]
