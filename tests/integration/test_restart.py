"""A restart is idempotent: a second execution of the season's workflow, started after gates were
advanced (the first stopped, or redriven), skips those gates, not a Conflict, and waits at the next.
And a deadline schedule never advances a gate before its current deadline (extensions included)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import LOCAL_TASK_TIMEOUT_FACTOR, EmbeddedSeason, _polls

pytestmark = pytest.mark.xdist_group("restart")


def test_a_restarted_execution_skips_the_gates_already_advanced(season: SeasonConfig) -> None:
    start = datetime.fromisoformat(f"{season.calendar.grade7_registration.start} 08:00").replace(
        tzinfo=season.tz
    )
    with EmbeddedSeason(season, SimulatedClock(start)) as rt:
        rt.start()
        rt.wait_for_gate("grade7-registration")
        rt.advance_clock(season.day_end(season.calendar.grade7_registration.end))
        rt.wait_for_gate("grade1-registration")
        sfn = rt._sfn
        sfn.stop_execution(executionArn=rt.execution_arn, error="Restart", cause="operator restart (test)")
        first = rt.execution_arn
        # the operator starts the season's workflow again
        rt.execution_arn = sfn.start_execution(
            stateMachineArn=rt.state_machine_arn,
            name=f"season-{season.season}-restart",
            input=sfn.describe_execution(executionArn=first)["input"],
        )["executionArn"]
        # the new execution passes the advanced grade-7 gate and stores its token at the grade-1 gate
        store = DynamoStore(rt.table_name)
        for _ in _polls(60):
            gate = store.get_gate(season.season, "grade1-registration") or {}
            if gate.get("execution_id") == rt.execution_arn:
                break
        assert gate["execution_id"] == rt.execution_arn != first and gate["status"] == "open"
        skipped = rt.state_output("Grade7RegistrationGate")["gates"]["grade7_registration"]
        assert skipped["skipped"] is True and skipped["source"] == "schedule"
        assert rt.describe()["status"] == "RUNNING"
        assert not [e for e in rt.history() if e["type"] == "ExecutionFailed"]
        # locally a Lambda task's state waits 20 times its AWS timeout (the handler runs in-process,
        # never stopped); the gates' 90 days as in AWS
        local = json.loads(rt.definition())["States"]
        assert local["CloseRegistration"]["TimeoutSeconds"] == (30 + 60) * LOCAL_TASK_TIMEOUT_FACTOR
        assert local["Grade7RegistrationGate"]["TimeoutSeconds"] == 90 * 24 * 3600


def test_a_schedule_put_back_by_a_deploy_does_not_close_an_extended_window(season: SeasonConfig) -> None:
    """City staff extend grade 7's registration by two days; a deploy puts back the original deadline
    schedule, which fires at the original end: gate-advance re-checks the gate's current deadline and
    leaves it open; at the extended end it advances it."""
    window = season.calendar.grade7_registration
    start = datetime.fromisoformat(f"{window.start} 08:00").replace(tzinfo=season.tz)
    with EmbeddedSeason(season, SimulatedClock(start)) as rt:
        rt.start()
        rt.wait_for_gate("grade7-registration")
        until = window.end + timedelta(days=2)
        path = f"/admin/seasons/{season.season}/windows/7/extend"
        city = drive.member(rt, "city").principal
        status, answer = drive.call(
            rt, "POST", path, {"until": until.isoformat(), "reason": "系统故障顺延"}, city
        )
        assert status == 200, answer

        def scheduled() -> dict[str, Any]:
            payload = {"source": "schedule", "season": season.season, "phase": "grade7-registration"}
            out = rt._lambda.invoke(
                FunctionName=rt.function_arns["gate-advance"], Payload=json.dumps(payload).encode()
            )
            assert "FunctionError" not in out, out
            answer: dict[str, Any] = json.loads(out["Payload"].read())
            return answer

        rt.clock.set(season.day_end(window.end))  # the original deadline, as the put-back schedule fires
        early = scheduled()
        assert early["result"] == "before-deadline" and early["deadline"] == season.day_end(until).isoformat()
        assert DynamoStore(rt.table_name).get_gate(season.season, "grade7-registration")["status"] == "open"  # type: ignore[index]
        rt.clock.set(season.day_end(until))
        assert scheduled()["result"] == "advanced"
        rt.wait_for_gate("grade1-registration")
