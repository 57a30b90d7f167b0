"""The real statemachines/season.asl.json, executed by moto's Step Functions engine, through both gates."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.phases import phases
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from tests.integration.conftest import at, post
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-workflow")
STAFF = "city-staff-01"  # seeded city staff (seasons/jilin-2023.staff.yaml), signed in with a token


def staff_advance(
    rt: EmbeddedSeason, phase: str, caller: str | None = STAFF, reason: str = "报名工作提前完成"
) -> Any:
    path = f"/admin/seasons/{rt.config.season}/phases/{phase}/advance"
    return drive.call(rt, "POST", path, {"reason": reason}, caller)


def task_successes(rt: EmbeddedSeason) -> list[str]:
    """Which gates' waits ended, by their resumed output."""
    out = []
    for e in rt.history():
        if e["type"] == "TaskSucceeded" and "waitForTaskToken" in e["taskSucceededEventDetails"]["resource"]:
            out.append(json.loads(e["taskSucceededEventDetails"]["output"])["phase"])
    return out


def test_season_runs_through_both_gates_schedule_then_staff(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    # Given the season's workflow started before registration opens
    embedded.start()
    gate7 = embedded.wait_for_gate("grade7-registration")
    assert gate7["deadline"] == "2023-05-20T00:00:00+08:00"  # the day after 19 May, Asia/Shanghai
    embedded.clock.set(at(season, f"{season.calendar.grade7_registration.start} 08:00"))
    assert post(embedded, valid_body(season, grade=7))[0] == 201

    # When the grade-7 deadline passes, the schedule resumes the first gate
    fired = embedded.advance_clock(phases(season)[0].deadline)
    assert [f["schedule"] for f in fired] == ["deadline-grade7-registration"]
    assert fired[0]["result"]["result"] == "advanced"
    embedded.wait_for_gate("grade1-registration")
    assert post(embedded, valid_body(season, grade=1))[0] == 201

    # And staff close grade 1 early, with a reason
    status, result = staff_advance(embedded, "grade1-registration")
    assert status == 200
    assert result["result"] == "advanced" and result["advanced_by"] == STAFF and result["source"] == "staff"

    # Then the workflow records demand and goes on to verification
    embedded.wait_for_gate("home-visits")
    output = embedded.state_output("CloseRegistration")
    assert output["gates"]["grade7_registration"]["source"] == "schedule"
    assert output["gates"]["grade1_registration"]["actor"] == STAFF
    assert output["phases"]["registration"]["demand"]["registrations"] == 2
    assert task_successes(embedded) == ["grade7-registration", "grade1-registration"]

    # And the demand per school is stored against its plan
    items = boto3.resource("dynamodb").Table(embedded.table_name).scan()["Items"]
    demand = {i["sk"]: i for i in items if str(i["sk"]).startswith("DEMAND#")}
    asked = [i for i in demand.values() if int(i["applicants"]) > 0]
    assert len(asked) == 2
    assert all(int(i["plan"]) == season.school_index[str(i["id"])].plan(int(i["grade"])) for i in asked)


def test_a_second_resume_changes_nothing(embedded: EmbeddedSeason, season: SeasonConfig) -> None:
    embedded.start()
    embedded.wait_for_gate("grade7-registration")
    first = staff_advance(embedded, "grade7-registration")
    embedded.wait_for_gate("grade1-registration")
    table = boto3.resource("dynamodb").Table(embedded.table_name)
    key = {"pk": f"SEASON#{season.season}", "sk": "GATE#grade7-registration"}
    before = table.get_item(Key=key)["Item"]

    # When staff press again, and the deadline schedule fires too
    again = staff_advance(embedded, "grade7-registration")
    fired = embedded.advance_clock(phases(season)[0].deadline)

    # Then both say it was already advanced, by whom, and nothing changed
    assert first[1]["result"] == "advanced"
    assert again == (200, {**first[1], "result": "already-advanced"})
    assert fired[0]["result"]["result"] == "already-advanced"
    assert table.get_item(Key=key)["Item"] == before
    assert task_successes(embedded) == ["grade7-registration"]
    assert embedded.describe()["status"] == "RUNNING"


def test_staff_advance_closes_the_registration_window(embedded: EmbeddedSeason, season: SeasonConfig) -> None:
    embedded.start()
    embedded.wait_for_gate("grade7-registration")
    embedded.clock.set(at(season, f"{season.calendar.grade7_registration.start} 09:00"))
    staff_advance(embedded, "grade7-registration")
    status, answer = post(embedded, valid_body(season, grade=7))
    assert status == 422
    assert answer["errors"][0]["rule"] == "R-REG-1" and "已截止" in answer["message"]


def test_only_signed_in_city_staff_advance_a_phase(embedded: EmbeddedSeason) -> None:
    embedded.start()
    embedded.wait_for_gate("grade7-registration")
    # nobody signed in: the authorizer refuses before any handler runs
    assert staff_advance(embedded, "grade7-registration", caller=None) == (401, {"message": "Unauthorized"})
    # district staff and auditors are signed in but the season's phases are the city's
    for who in ("cy-staff-01", "auditor-01"):
        status, body = staff_advance(embedded, "grade7-registration", caller=who)
        assert status == 403
        assert body["message"] == "招生阶段和报名时间由市教育局统一推进和调整"
    assert embedded.wait_for_gate("grade7-registration")["status"] == "open"


@pytest.mark.parametrize(
    ("phase", "status"),
    [("grade1-registration", 409), ("lottery", 404)],
)
def test_advance_refuses_a_gate_not_reached_or_unknown(
    embedded: EmbeddedSeason, phase: str, status: int
) -> None:
    embedded.start()
    embedded.wait_for_gate("grade7-registration")
    code, body = staff_advance(embedded, phase)
    assert code == status
    assert body["message"] and body["message_en"]


def test_a_gate_reached_after_its_deadline_goes_on_at_once(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    # Given the workflow is started late, after both registration deadlines
    embedded.advance_clock(phases(season)[1].deadline)
    embedded.start()
    # Then no gate waits forever: both pass at once and the season goes on to verification
    embedded.wait_for_gate("home-visits")
    assert (
        embedded.state_output("CloseRegistration")["gates"]["grade7_registration"]["source"]
        == "deadline-passed"
    )
