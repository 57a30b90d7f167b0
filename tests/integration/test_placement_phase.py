"""Placement in moto's engine: a broken invariant stops the workflow, naming the cases (R-DIS-1, R-COORD-1)."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from tests.integration.conftest import at, post
from tests.integration.parent_session import status_of
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-placement-phase")


def grade1_window_open(rt: EmbeddedSeason, season: SeasonConfig) -> EmbeddedSeason:
    rt.start()
    rt.wait_for_gate("grade7-registration")
    rt.advance_clock(at(season, f"{season.calendar.grade1_registration.start} 09:00"))
    return rt


def test_placement_refuses_to_go_on_without_the_committees_decision(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    rt = grade1_window_open(embedded, season)
    status, disabled = post(rt, valid_body(season, special_claims=["disability"]))
    assert status == 201
    status, other = post(rt, valid_body(season))  # another child (valid_body makes a new ID number)
    assert status == 201
    # Given every gate's deadline passes with nobody entering the expert committee's decision
    rt.advance_clock(season.day_end(season.calendar.coordination.end) + timedelta(hours=1))
    done = rt.wait_for_end(timeout=600)
    # Then placement stops the season loudly, naming the child; nothing is archived as placed
    assert done["status"] == "FAILED"
    assert done["error"] == "PlacementBlocked"
    assert disabled["registration_id"] in json.loads(done["cause"])["errorMessage"]
    keys = boto3.client("s3").list_objects_v2(Bucket=rt.bucket, Prefix=f"seasons/{season.season}/")
    assert "placements.jsonl" not in {o["Key"].rsplit("/", 1)[-1] for o in keys.get("Contents", [])}
    assert status_of(rt, other["registration_id"])["placement"] is None


def test_placement_decisions_are_the_childs_districts_and_follow_the_rules(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    rt = grade1_window_open(embedded, season)
    body = valid_body(season, special_claims=["disability"])
    rid = post(rt, body)[1]["registration_id"]
    plain = post(rt, valid_body(season))[1]["registration_id"]
    home = body["home_address"]["district"]
    other = next(d.code for d in season.districts if d.code != home)
    path = f"/admin/placement/{season.season}/registrations/{rid}/decisions"
    committee = {
        "kind": "committee",
        "plan": "special-education",
        "school_id": "SE-LT-01",
        "reason": "专家委员会评估意见",
    }
    # another district cannot sign for this child; the city and auditors do not sign district decisions
    for caller in (
        drive.member(rt, "district", other),
        drive.member(rt, "city"),
        drive.member(rt, "auditor"),
    ):
        assert drive.call(rt, "POST", path, committee, caller.principal)[0] == 403
    own = drive.member(rt, "district", home).principal
    # the committee's plan must fit the school, and only for a child who claimed a disability
    wrong = {**committee, "school_id": "S-CY-01"}
    status, answer = drive.call(rt, "POST", path, wrong, own)
    assert status == 422 and "R-DIS-1" in answer["message_en"]
    plain_path = f"/admin/placement/{season.season}/registrations/{plain}/decisions"
    assert drive.call(rt, "POST", plain_path, committee, own)[0] == 422
    # an override never puts a child into a private school (those admit by the lottery only)
    private = {"kind": "override", "school_id": "P-CY-01", "reason": "家长要求"}
    assert drive.call(rt, "POST", plain_path, private, own)[0] == 422
    status, made = drive.call(rt, "POST", path, committee, own)
    assert status == 201 and made["actor"] == own and made["plan"] == "special-education"
    status, listed = drive.call(
        rt, "GET", f"/admin/placement/{season.season}/districts/{home}/decisions", None, own
    )
    assert status == 200 and [d["registration_id"] for d in listed["decisions"]] == [rid]
    assert (
        drive.call(
            rt,
            "GET",
            f"/admin/placement/{season.season}/districts/{home}/decisions",
            None,
            drive.member(rt, "district", other).principal,
        )[0]
        == 403
    )
