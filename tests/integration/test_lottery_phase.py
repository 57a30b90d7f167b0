"""The lottery phase in moto's engine: the Map over private schools, ceremonies, records, waitlist (R-LOT-*)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from enrollment.adapters.archive import read_s3
from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.archive.audit import audit
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.lottery import ceremony
from enrollment.lottery.pools import check_record, record_key
from enrollment.synth.population import generate
from tests.integration.conftest import registered_season, small_season
from tests.integration.parent_session import family_call, notice_sms, status_of, token_for

pytestmark = pytest.mark.xdist_group("moto-lottery-phase")


class Season:
    def __init__(self, rt: EmbeddedSeason, bodies: dict[str, dict[str, Any]], config: SeasonConfig) -> None:
        self.rt = rt
        self.bodies = bodies
        self.config = config
        self.store = DynamoLotteryStore(rt.table_name)

    def archived(self, key: str) -> dict[str, Any]:
        obj = boto3.client("s3").get_object(Bucket=self.rt.bucket, Key=f"seasons/{self.config.season}/{key}")
        parsed: dict[str, Any] = json.loads(obj["Body"].read())
        return parsed

    def district_staff(self, district: str) -> str:
        return drive.member(self.rt, "district", district).principal


@pytest.fixture(scope="module")
def lottery_day(season: SeasonConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    """Registration and verification done; the workflow waits on every oversubscribed school at once."""
    config, path = small_season(season, tmp_path_factory.mktemp("season"))
    # a seed whose first drawn school has two children on its waitlist (11 did until the guardians
    # got ID numbers, which changed the synthetic draws)
    population = generate(config, 100, seed=12)
    with registered_season(config, population, path) as (rt, bodies):
        rt.wait_for_gate("home-visits", timeout=600)
        drive.run_home_visits(rt)
        rt.advance_clock(config.day_end(config.calendar.home_visits.end))
        rt.wait_for_gate("review", timeout=600)
        rt.advance_clock(config.day_end(config.calendar.private_counts_due))
        drive.wait_for_lotteries(rt)
        yield Season(rt, bodies, config)


def test_the_workflow_waits_on_every_oversubscribed_school_at_once(lottery_day: Season) -> None:
    s = lottery_day
    prepared = s.rt.state_output("PrepareLotteries")["lotteries"]
    items = {(i["school_id"], i["grade"]): i for i in prepared["schools"]}
    # every private school and grade of the season is an item of the Map, with or without a draw
    expected = {(x.id, g) for x in s.config.schools if x.kind == "private" for g in x.plans}
    assert set(items) == expected
    drawn = [k for k, i in items.items() if i["needs_draw"]]
    assert len(drawn) >= 3, "the small plans oversubscribe several schools"
    # R-LOT-3: the workflow holds a task token for each of them at the same time (concurrent Map)
    waiting = [i for i in s.store.schools(s.config.season) if i.get("task_token")]
    assert {(i["school_id"], int(i["grade"])) for i in waiting} == set(drawn)
    assert len({i["task_token"] for i in waiting}) == len(drawn)
    assert s.rt.describe()["status"] == "RUNNING"


def test_ceremonies_records_family_results_and_the_waitlist(lottery_day: Season) -> None:
    s, rt, season = lottery_day, lottery_day.rt, lottery_day.config.season
    prepared = rt.state_output("PrepareLotteries")["lotteries"]
    first = next(i for i in prepared["schools"] if i["needs_draw"])
    school = s.config.school_index[first["school_id"]]
    base = f"/admin/lottery/{season}/ceremonies/{school.id}/{first['grade']}"
    other = next(d.code for d in s.config.districts if d.code != school.district)

    # Only the school's own district bureau runs it (R-LOT-3); others may not type an input
    status, body = drive.call(rt, "POST", f"{base}/steps/import", {"value": ""}, s.district_staff(other))
    assert status == 403
    city = drive.member(rt, "city").principal
    assert drive.call(rt, "POST", f"{base}/steps/import", {"value": ""}, city)[0] == 403
    staff = s.district_staff(school.district)
    # Steps go in annex 3's order
    status, body = drive.call(rt, "POST", f"{base}/steps/shuffle-1", {"value": "0417"}, staff)
    assert status == 409 and "导入报名名单" in body["message"]

    # When every ceremony is held through the API (the first one with a wrong seat count once)
    status, view = drive.call(rt, "POST", f"{base}/steps/import", {"value": ""}, staff)
    assert (
        status == 201
        and len(view["order0"]) > view["seats"]
        and view["steps"][0]["value"] == str(len(view["order0"]))
    )
    for k, typed in ((1, "0417"), (2, "9023"), (3, " 55 61")):
        status, view = drive.call(rt, "POST", f"{base}/steps/shuffle-{k}", {"value": typed}, staff)
        assert status == 201 and len(view["orders"]) == k
        previous = view["orders"][-2] if k > 1 else view["order0"]
        assert sorted(view["orders"][-1]) == sorted(previous)  # the new order beside the previous one
    # an input, once recorded, cannot be replaced
    status, body = drive.call(rt, "POST", f"{base}/steps/shuffle-3", {"value": "1"}, staff)
    assert status == 409 and "不可替换" in body["message"]
    status, body = drive.call(rt, "POST", f"{base}/steps/seats", {"value": str(view["seats"] + 1)}, staff)
    assert status == 422 and body["errors"][0]["field"] == "value" and body["errors"][0]["rule"] == "R-LOT-2"
    view = drive.run_ceremony(
        rt,
        school.id,
        first["grade"],
        staff,
        {"draw-1": "3390", "draw-2": "7704", "draw-3": "1286", "slip": "2"},
    )
    assert view["chosen_draw"] == 2 and view["ranking"] == view["draws"][1]
    held = [view]
    for item in prepared["schools"]:
        if item["needs_draw"] and (item["school_id"], item["grade"]) != (school.id, first["grade"]):
            district = s.config.school_index[item["school_id"]].district
            held.append(
                drive.run_ceremony(
                    rt, item["school_id"], item["grade"], s.district_staff(district), drive.typed_inputs()
                )
            )
    rt.wait_for_gate("coordination", timeout=600)

    # Then every private school and grade has its record, exactly as LOTTERY.md, and it replays
    for item in prepared["schools"]:
        rec = s.archived(record_key(item["school_id"], item["grade"]))
        assert check_record(rec) == [], item
        assert (rec["draw"] is not None) == item["needs_draw"]
        assert rec["format"] == "enrollment-private-admission/1" and rec["season"] == season
    rec = s.archived(record_key(school.id, first["grade"]))
    assert rec["draw"]["shuffle_inputs"] == ["0417", "9023", " 55 61"]  # kept exactly as typed
    assert rec["draw"]["chosen_draw"] == 2

    # A second ceremony for the same school and grade is refused with a clear error
    status, body = drive.call(rt, "POST", f"{base}/steps/import", {"value": ""}, staff)
    assert status == 409 and "不能再次派位" in body["message"]
    # Rerunning the record Lambda reproduces the identical record (and writes no new version)
    payload = {"season": season, "school_id": school.id, "grade": first["grade"]}
    out = json.loads(
        boto3.client("lambda")
        .invoke(FunctionName=rt.function_arns["lottery-record"], Payload=json.dumps(payload).encode())[
            "Payload"
        ]
        .read()
    )
    assert out["archive"] == "identical"
    key = f"seasons/{season}/{record_key(school.id, first['grade'])}"
    versions = boto3.client("s3").list_object_versions(Bucket=rt.bucket, Prefix=key)["Versions"]
    assert len(versions) == 1

    # Families see their own result: rank and waitlist position (R-LOT-5)
    d = rec["draw"]
    winner, first_wait, second_wait = d["ranking"][0], d["ranking"][d["seats"]], d["ranking"][d["seats"] + 1]
    mine = status_of(rt, first_wait)["lottery"]
    assert (
        mine["outcome"] == "waitlisted" and mine["rank"] == d["seats"] + 1 and mine["waitlist_position"] == 1
    )
    assert status_of(rt, second_wait)["lottery"]["waitlist_position"] == 2
    assert status_of(rt, winner)["lottery"]["outcome"] == "admitted"

    # Another child's session cannot decline the winner's seat, nor can the winner's own ID number
    # (it proves nothing after registration): both refused like any bad session, nothing changes
    decline_path = f"/api/registrations/{winner}/decline"
    id_number = s.bodies[winner]["child"]["id_number"]
    assert family_call(rt, "POST", decline_path, {}, token=token_for(rt, first_wait))[0] == 401
    assert family_call(rt, "POST", decline_path, {"id_number": id_number})[0] == 401
    assert status_of(rt, winner)["lottery"]["outcome"] == "admitted"
    # When the admitted child's family declines, signed in, the seat goes to the first on the waitlist
    status, body, _ = family_call(
        rt, "POST", decline_path, {"reason": "家庭搬迁"}, token=token_for(rt, winner)
    )
    assert status == 200 and body["seat_went_to"] == first_wait
    promoted = status_of(rt, first_wait)["lottery"]
    assert promoted["outcome"] == "admitted-from-waitlist" and promoted["promoted_at"]
    assert status_of(rt, second_wait)["lottery"]["waitlist_position"] == 1
    assert status_of(rt, winner)["lottery"]["outcome"] == "declined"
    # declining twice is refused; the events record time and actor
    assert family_call(rt, "POST", decline_path, {}, token=token_for(rt, winner))[0] == 409
    events = s.store.events(season, school.id, first["grade"])
    assert [(e["event"], e["actor"]) for e in events] == [("decline", "guardian"), ("promote", "system")]
    assert all(e["at"] for e in events)

    # Placement (issue 5) then places every registered child exactly once, from these records
    drive.enter_placement_decisions(rt, s.config)
    rt.advance_clock(s.config.day_end(s.config.calendar.coordination.end))
    rt.wait_for_gate("spot-check", timeout=600)
    body = (
        boto3.client("s3")
        .get_object(Bucket=rt.bucket, Key=f"seasons/{season}/placements.jsonl")["Body"]
        .read()
    )
    placed = {line["registration_id"]: line for line in map(json.loads, body.decode().splitlines())}
    registered = rt.state_output("PrepareVerification")["verification"]["registrations"]
    assert len(placed) == registered == len(s.bodies)
    assert placed[first_wait]["route"] == "private-draw" and placed[first_wait]["school_id"] == school.id
    assert placed[winner]["route"] == "coordination" and placed[winner]["reason"] == "private-declined"
    assert (
        placed[second_wait]["route"] == "coordination"
        and placed[second_wait]["reason"] == "private-not-admitted"
    )
    mine = status_of(rt, second_wait)["placement"]
    assert mine["route"] == "coordination" and mine["school_name"] and mine["reason_zh"]

    # At the season's end the workflow seals the archive; an auditor verifies it offline (issue 6)
    rt.advance_clock(s.config.day_end(s.config.calendar.spot_check.end))
    rt.wait_for_gate("reporting", timeout=600)
    files = read_s3(f"s3://{rt.bucket}/seasons/{season}/")
    assert {"season.json", "manifest.json", "manifest.sig.json", "public-key.pem"} <= set(files)
    report = audit(files)
    assert report.ok, report.render()
    # sealing twice changes nothing (Object Lock: nothing is ever rewritten)
    again = json.loads(
        boto3.client("lambda")
        .invoke(FunctionName=rt.function_arns["seal"], Payload=json.dumps({"season": season}).encode())[
            "Payload"
        ]
        .read()
    )
    assert again["sealed"] == "already" and read_s3(f"s3://{rt.bucket}/seasons/{season}/") == files

    # Admission notices (R-NOTE-1): one PDF and one SMS per placed child, nothing sent twice
    outbox = notice_sms(rt)  # the families' sign-in codes above went through the same outbox
    seated = [rid for rid, line in placed.items() if line["school_id"]]
    assert len(outbox) == len(seated) and all("****" in json.loads(m)["to"] for m in outbox)
    batch = {"season": season, "registration_ids": seated[:5]}
    out = json.loads(
        boto3.client("lambda")
        .invoke(FunctionName=rt.function_arns["notify-batch"], Payload=json.dumps(batch).encode())["Payload"]
        .read()
    )
    assert out == {"issued": 0, "skipped": 5, "manual": 0, "sms_failed": 0}
    assert len(notice_sms(rt)) == len(outbox)
    assert status_of(rt, first_wait)["notice"]["sms_sent"] is True
    own_id = s.bodies[first_wait]["child"]["id_number"]
    notice_path = f"/api/registrations/{first_wait}/notice"
    status, link, _ = family_call(rt, "POST", notice_path, {}, token=token_for(rt, first_wait))
    assert status == 200 and link["school_id"] == school.id and link["download_url"].startswith("https://")
    pdf = boto3.client("s3").get_object(
        Bucket=rt.work_bucket, Key=f"seasons/{season}/notices/{first_wait}.pdf"
    )
    assert pdf["Body"].read().startswith(b"%PDF")
    # the child's own ID number fetches no notice link: refused like any bad session
    by_id = family_call(rt, "POST", notice_path, {"id_number": own_id})
    assert by_id[:2] == family_call(rt, "POST", notice_path, {}, token="not-a-session")[:2]
    assert by_id[0] == 401 and "download_url" not in by_id[1]


def test_steps_cover_annex_3() -> None:
    # #2 imports, #1-#3 shuffle, #3 enters the seats, #4-#6 draw, #5 draws the slip (R-LOT-3)
    assert [(s.name, s.representative) for s in ceremony.STEPS] == [
        ("import", 2),
        ("shuffle-1", 1),
        ("shuffle-2", 2),
        ("shuffle-3", 3),
        ("seats", 3),
        ("draw-1", 4),
        ("draw-2", 5),
        ("draw-3", 6),
        ("slip", 5),
    ]
