"""A Map item that fails for good is a dead letter its district sees, and the season still ends.

A small season runs on the embedded backend (the real ASL on moto's engine) while one child's notice
cannot be drawn: its batch of `SendNotices` fails on every attempt, is caught in the Map's item
processor and recorded for the child's district; the archive is sealed and the season reaches its end.
The season report cannot be written either (WriteSeasonReport fails on every attempt): it is the
city's dead letter, and the season goes on to reporting day and its end all the same.

Where the items are independent, one that fails does not stop the others (issue 16): one district's
spot-check draw fails, is that district's dead letter, and the other districts are sampled and the
season goes on; one school's sunshine classes cannot be drawn, are its district's dead letter, every
other school is drawn, and, the class addition being sealed whole, the season pauses naming the
school (`ClassesNotDrawn`) until city staff fix the cause and resume: every school is drawn again and
the addition sealed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest import mock

import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.deadletters import batch_id
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason, _polls
from enrollment.notices.notice import render_each
from enrollment.synth.population import generate
from functions.archive import report as report_task
from functions.notify import batch as notify_batch
from functions.place import classes as classes_task
from functions.verify import spotcheck as spotcheck_task
from tests.integration.conftest import small_season

pytestmark = pytest.mark.xdist_group("dead-letters")


def _failing_renderer(broken: list[str]) -> Any:
    """notify-batch's renderer, drawing in this process; a batch with the broken child fails."""

    def render_many(batch: list[Any]) -> Any:
        if any(n.registration_id == (broken[0] if broken else None) for n in batch):
            raise ValueError("no glyph for this name (simulated)")
        return render_each(batch)

    return lambda: render_many


def _failing_report(*args: Any, **kwargs: Any) -> dict[str, Any]:
    raise RuntimeError("the report cannot be drawn (simulated)")


CLASSES_PAUSE = "pause-draw-classes-1"


def _failing_spot_check(district: str) -> Any:
    """spotcheck-draw's draw, failing for one district on every attempt."""
    real = spotcheck_task.draw_spot_check

    def draw(config: SeasonConfig, season: str, which: str, **kwargs: Any) -> dict[str, Any]:
        if which == district:
            raise RuntimeError(f"the verdicts of {which} cannot be read (simulated)")
        return real(config, season, which, **kwargs)

    return draw


def _failing_classes(broken: dict[str, Any]) -> Any:
    """classes-school's draw, failing for the first school it is asked for while `broken` says so."""
    real = classes_task.draw_school_classes

    def draw(season: str, school_id: str, grade: int, **kwargs: Any) -> dict[str, Any]:
        with broken["lock"]:
            school = broken.setdefault("school", (school_id, grade))
        if broken["on"] and school == (school_id, grade):
            raise RuntimeError(f"the arrivals of {school_id} cannot be read (simulated)")
        return real(season, school_id, grade, **kwargs)

    return draw


@pytest.fixture(scope="module")
def faults() -> dict[str, Any]:
    """What the season below broke and saw (the class draws' school is the first one drawn)."""
    return {"lock": threading.Lock(), "on": True}


@pytest.fixture(scope="module")
def ended(
    tmp_path_factory: pytest.TempPathFactory, faults: dict[str, Any]
) -> Iterator[tuple[EmbeddedSeason, SeasonConfig, str]]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("dl"))
    population = generate(config, 40, 7)
    start = datetime.fromisoformat(f"{config.calendar.plans_published} 09:00").replace(tzinfo=config.tz)
    broken: list[str] = []
    faults["district"] = config.districts[-1].code  # its spot-check sample cannot be drawn
    with (
        EmbeddedSeason(
            config, SimulatedClock(start), registries=population.registries, config_path=path
        ) as rt,
        mock.patch.object(notify_batch, "renderer", _failing_renderer(broken)),
        mock.patch.object(report_task, "write_season_report", _failing_report),
        mock.patch.object(spotcheck_task, "draw_spot_check", _failing_spot_check(faults["district"])),
        mock.patch.object(classes_task, "draw_school_classes", _failing_classes(faults)),
    ):
        rt.start()
        rt.wait_for_gate("grade7-registration")
        bodies = drive.register_valid(rt, population)
        broken.append(sorted(bodies)[0])  # the first child's notice cannot be drawn
        drive.run_verification(rt, config)
        store = DynamoStore(rt.table_name)
        for _ in _polls(600):  # the season runs to the class draws and pauses at the seal
            pause = store.get_gate(config.season, CLASSES_PAUSE)
            if pause and pause.get("status") == "open":
                break
            assert rt.describe()["status"] == "RUNNING", rt.describe()
        else:
            raise TimeoutError("the season did not pause at the class draws")
        faults["pause"] = pause
        faults["drawn"] = rt.state_output("DrawClasses")["classes"]["drawn"]
        faults["seal"] = rt.state_output("SealClasses")["phases"]["classes"]["classes"]
        faults["spot_checks"] = rt.state_output("DrawDistrictSpotChecks")["phases"]["spot_check"]["districts"]
        faults["status_while_paused"] = rt.describe()["status"]
        faults["on"] = False  # the operator fixed the cause
        resume = f"/admin/seasons/{config.season}/pauses/{CLASSES_PAUSE}/resume"
        city = drive.member(rt, "city").principal
        faults["resume"] = drive.call(rt, "POST", resume, {"reason": "分班数据已修复"}, city)
        rt.wait_for_end(timeout=600)
        yield rt, config, broken[0]


def test_the_season_ends_and_the_failed_batch_is_a_dead_letter_of_its_district(
    ended: tuple[EmbeddedSeason, SeasonConfig, str],
) -> None:
    rt, config, rid = ended
    assert rt.describe()["status"] == "SUCCEEDED"
    # the archive was sealed after the notices, and every other child got their notice
    assert rt.state_output("SealArchive")["phases"]["archive"]
    district = str(DynamoStore(rt.table_name).get_registration(rid)["district"])
    path = f"/admin/seasons/{config.season}/districts/{district}/dead-letters"
    status, answer = drive.call(rt, "GET", path, None, drive.member(rt, "district", district).principal)
    assert status == 200, answer
    (letter,) = [x for x in answer["dead_letters"] if x["phase"] == "notices"]
    assert letter["district"] == district
    assert rid in letter["item"]["registration_ids"]
    assert letter["item_id"] == batch_id(_batch_of(rt, rid))
    assert letter["error"] == "ValueError" and "no glyph" in letter["cause"]
    assert letter["recorded_at"].startswith(str(config.year))


def test_other_districts_do_not_see_it_and_the_city_does(
    ended: tuple[EmbeddedSeason, SeasonConfig, str],
) -> None:
    rt, config, rid = ended
    district = str(DynamoStore(rt.table_name).get_registration(rid)["district"])
    other = next(d.code for d in config.districts if d.code != district)
    path = f"/admin/seasons/{config.season}/districts/{district}/dead-letters"
    status, _ = drive.call(rt, "GET", path, None, drive.member(rt, "district", other).principal)
    assert status == 403
    for who in (drive.member(rt, "city").principal, drive.member(rt, "auditor").principal):
        status, answer = drive.call(rt, "GET", path, None, who)
        assert status == 200 and len([x for x in answer["dead_letters"] if x["phase"] == "notices"]) == 1
    own = f"/admin/seasons/{config.season}/districts/{other}/dead-letters"
    status, answer = drive.call(rt, "GET", own, None, drive.member(rt, "district", other).principal)
    assert status == 200 and all(rid not in str(x) for x in answer["dead_letters"])


def test_a_report_that_fails_for_good_is_the_citys_dead_letter_and_the_season_goes_on(
    ended: tuple[EmbeddedSeason, SeasonConfig, str],
) -> None:
    rt, config, _ = ended
    assert rt.describe()["status"] == "SUCCEEDED"  # reporting day, the classes: the season ended
    assert rt.state_output("SealClasses")
    assert rt.state_output("RecordReportDeadLetter")["phases"]["report_dead_letter"] == {
        "dead_letter": "report"
    }
    path = f"/admin/seasons/{config.season}/districts/city/dead-letters"
    status, answer = drive.call(rt, "GET", path, None, drive.member(rt, "city").principal)
    assert status == 200, answer
    (letter,) = answer["dead_letters"]
    assert letter["phase"] == "report" and letter["item"] == {"task": "report"}
    assert letter["error"] == "RuntimeError" and "cannot be drawn" in letter["cause"]
    # no district's staff read the city's dead letters
    district = config.districts[0].code
    who = drive.member(rt, "district", district).principal
    assert drive.call(rt, "GET", path, None, who)[0] == 403


def _batch_of(rt: EmbeddedSeason, rid: str) -> list[str]:
    import json

    import boto3

    body = boto3.client("s3").get_object(
        Bucket=rt.work_bucket, Key=f"seasons/{rt.config.season}/notices/batches.json"
    )["Body"]
    batches = json.loads(body.read())
    return next(b["registration_ids"] for b in batches if rid in b["registration_ids"])


def _dead_letters(rt: EmbeddedSeason, config: SeasonConfig, district: str) -> list[dict[str, Any]]:
    path = f"/admin/seasons/{config.season}/districts/{district}/dead-letters"
    status, answer = drive.call(rt, "GET", path, None, drive.member(rt, "district", district).principal)
    assert status == 200, answer
    found: list[dict[str, Any]] = answer["dead_letters"]
    return found


def test_a_district_whose_spot_check_fails_is_its_dead_letter_and_the_others_are_sampled(
    ended: tuple[EmbeddedSeason, SeasonConfig, str], faults: dict[str, Any]
) -> None:
    rt, config, _ = ended
    district = faults["district"]
    by_district = {d["district"]: d for d in faults["spot_checks"]}
    assert set(by_district) == {d.code for d in config.districts}
    assert (
        by_district[district]["dead_letter"] == district and by_district[district]["error"] == "RuntimeError"
    )
    others = [d for code, d in by_district.items() if code != district]
    assert others and all("sampled" in d and "dead_letter" not in d for d in others)
    [letter] = [x for x in _dead_letters(rt, config, district) if x["phase"] == "spot-check"]
    assert letter["item"] == {"district": district} and letter["item_id"] == district
    assert letter["error"] == "RuntimeError" and "cannot be read" in letter["cause"]
    assert rt.describe()["status"] == "SUCCEEDED"  # the season went on past the spot-check


def test_a_school_whose_classes_fail_is_its_dead_letter_the_others_drawn_and_the_seal_waits(
    ended: tuple[EmbeddedSeason, SeasonConfig, str], faults: dict[str, Any]
) -> None:
    rt, config, _ = ended
    school_id, grade = faults["school"]
    name = f"{school_id}-g{grade}"
    # every other school was drawn; the broken one is a dead letter of its district
    [failed] = [d for d in faults["drawn"] if "dead_letter" in d]
    assert (failed["school_id"], failed["grade"], failed["dead_letter"]) == (school_id, grade, name)
    drawn = [d for d in faults["drawn"] if "dead_letter" not in d]
    assert drawn and all("students" in d for d in drawn)
    district = config.school_index[school_id].district
    [letter] = [x for x in _dead_letters(rt, config, district) if x["phase"] == "classes"]
    assert letter["item"] == {"school_id": school_id, "grade": grade} and letter["item_id"] == name
    assert letter["error"] == "RuntimeError" and "cannot be read" in letter["cause"]
    # nothing partial sealed: the season paused at the draw, naming the school, for the city
    assert faults["seal"]["sealed"] == "incomplete" and faults["seal"]["not_drawn"] == [name]
    assert faults["status_while_paused"] == "RUNNING"
    assert faults["pause"]["error"] == "ClassesNotDrawn" and name in faults["pause"]["cause"]
    assert faults["pause"]["step"] == "draw-classes"
    # resumed once fixed: every school drawn again, the addition sealed whole, the season ended
    status, answer = faults["resume"]
    assert status == 200 and answer["result"] == "resumed", answer
    assert rt.describe()["status"] == "SUCCEEDED"
    sealed = rt.state_output("SealClasses")["phases"]["classes"]["classes"]
    assert sealed["sealed"] == "now" and sealed["schools"] >= 1
    assert not any("dead_letter" in d for d in rt.state_output("DrawClasses")["classes"]["drawn"])
