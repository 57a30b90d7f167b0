"""A Map item that fails for good is a dead letter its district sees, and the season still ends.

A small season runs on the embedded backend (the real ASL on moto's engine) while one child's notice
cannot be drawn: its batch of `SendNotices` fails on every attempt, is caught in the Map's item
processor and recorded for the child's district; the archive is sealed and the season reaches its end.
The season report cannot be written either (WriteSeasonReport fails on every attempt): it is the
city's dead letter, and the season goes on to reporting day and its end all the same.
"""

from __future__ import annotations

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
from enrollment.local.runtime import EmbeddedSeason
from enrollment.notices.notice import render_each
from enrollment.synth.population import generate
from functions.archive import report as report_task
from functions.notify import batch as notify_batch
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


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedSeason, SeasonConfig, str]]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("dl"))
    population = generate(config, 40, 7)
    start = datetime.fromisoformat(f"{config.calendar.plans_published} 09:00").replace(tzinfo=config.tz)
    broken: list[str] = []
    with (
        EmbeddedSeason(
            config, SimulatedClock(start), registries=population.registries, config_path=path
        ) as rt,
        mock.patch.object(notify_batch, "renderer", _failing_renderer(broken)),
        mock.patch.object(report_task, "write_season_report", _failing_report),
    ):
        rt.start()
        rt.wait_for_gate("grade7-registration")
        bodies = drive.register_valid(rt, population)
        broken.append(sorted(bodies)[0])  # the first child's notice cannot be drawn
        drive.run_verification(rt, config)
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
    (letter,) = answer["dead_letters"]
    assert letter["phase"] == "notices" and letter["district"] == district
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
        assert status == 200 and len(answer["dead_letters"]) == 1
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
