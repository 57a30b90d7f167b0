"""Placement in moto's engine: a broken invariant stops the workflow, naming the cases (R-DIS-1, R-COORD-1)."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest

from enrollment.adapters.archive import read_s3
from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.archive.audit import audit
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
    pause = rt.wait_for_gate("pause-place-children-1", timeout=600)
    # Then placement stops loudly, naming the child: the season pauses there (city staff resume it
    # once the committee has decided, docs/RUNBOOK.md); nothing is archived as placed
    assert rt.describe()["status"] == "RUNNING"
    assert pause["error"] == "PlacementBlocked"
    assert disabled["registration_id"] in pause["cause"]
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


def test_a_deferral_over_a_private_admittee_wins_and_its_seat_is_released(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    # The demo's failure (admitted by a private school's record, then deferred by the district):
    # R-DEFER-1 wins over R-LOT-1, the seat is released (no waitlist: it stays free), the audit passes
    rt = grade1_window_open(embedded, season)
    private = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    body = valid_body(
        season, category="private", private_school_id=private.id, special_claims=["defer-health"]
    )
    status, deferred = post(rt, body)
    assert status == 201
    kept = post(rt, valid_body(season, category="private", private_school_id=private.id))[1]
    rt.advance_clock(season.day_end(season.calendar.private_counts_due))
    rt.wait_for_gate("coordination", timeout=600)
    rid = deferred["registration_id"]
    assert status_of(rt, rid)["lottery"]["outcome"] == "admitted-without-draw"
    staff = drive.member(rt, "district", body["home_address"]["district"]).principal
    reason = "监护人因儿童身体原因申请缓学，经区教育局审核同意"
    path = f"/admin/placement/{season.season}/registrations/{rid}/decisions"
    assert drive.call(rt, "POST", path, {"kind": "defer", "reason": reason}, staff)[0] == 201
    rt.advance_clock(season.day_end(season.calendar.coordination.end))
    rt.wait_for_gate("spot-check", timeout=600)
    raw = (
        boto3.client("s3")
        .get_object(Bucket=rt.bucket, Key=f"seasons/{season.season}/placements.jsonl")["Body"]
        .read()
    )
    placed = {line["registration_id"]: line for line in map(json.loads, raw.decode().splitlines())}
    assert (placed[rid]["route"], placed[rid]["school_id"], placed[rid]["status"]) == (
        "deferred",
        None,
        "deferred",
    )
    assert (placed[kept["registration_id"]]["route"], placed[kept["registration_id"]]["school_id"]) == (
        "private-no-draw",
        private.id,
    )
    released = DynamoLotteryStore(rt.table_name).outcome(rid) or {}
    assert (released["outcome"], released["released_by"], released["release_reason"]) == (
        "released",
        staff,
        reason,
    )
    rt.advance_clock(season.day_end(season.calendar.spot_check.end))
    rt.wait_for_gate("reporting", timeout=600)
    report = audit(read_s3(f"s3://{rt.bucket}/seasons/{season.season}/"))
    assert report.ok, report.render()
