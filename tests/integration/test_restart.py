"""A restart is idempotent: a second execution of the season's workflow, started after gates were
advanced (the first stopped, or redriven), skips those gates, not a Conflict, and waits at the next."""

from __future__ import annotations

from datetime import datetime

import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason, _polls

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
