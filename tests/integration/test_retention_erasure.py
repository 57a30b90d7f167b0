"""The end of personal data on the embedded backend (docs/RETENTION.md): a small season runs to its
end on the real workflow, the erase function refuses before the retention date, then erases, and
nothing personal is left in the table or the work bucket while the signed archive still audits.

The test reads the whole table and bucket (a Scan, a listing) to look for what must be gone; the
erasure itself reads a shard, a registration or an index key at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from enrollment.adapters.erasure_store import DynamoErasureStore, WorkFileErasure
from enrollment.adapters.s3 import WorkBucket
from enrollment.cli import main
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.phases import phases
from enrollment.core.resources import function_name
from enrollment.core.retention import ERASED_AT, erase_season
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.local.serve import load
from enrollment.synth.population import generate
from tests.integration.conftest import small_season, table_items

pytestmark = pytest.mark.xdist_group("retention")


def erase(rt: EmbeddedSeason, config: SeasonConfig) -> dict[str, Any]:
    """The erase function, invoked as its daily schedule invokes it."""
    answer = boto3.client("lambda").invoke(
        FunctionName=function_name(config.name, "erase"),
        Payload=json.dumps({"season": config.season}).encode(),
    )
    payload: dict[str, Any] = json.loads(answer["Payload"].read())
    assert not answer.get("FunctionError"), payload
    return payload


def work_files(rt: EmbeddedSeason) -> dict[str, bytes]:
    s3 = boto3.client("s3")
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=rt.work_bucket)
        for o in page.get("Contents", [])
    ]
    return {k: s3.get_object(Bucket=rt.work_bucket, Key=k)["Body"].read() for k in keys}


def personal_values(regs: list[dict[str, Any]]) -> set[str]:
    """What identifies a family in its stored forms: names, ID, phone, deed and permit numbers, the
    address details (the catchment's road names are public and stay in the config)."""
    found: set[str] = set()
    for reg in regs:
        req = reg["request"]
        found |= {req["child"]["name"], req["child"]["id_number"]}
        found |= {g["name"] for g in req["guardians"]} | {g["phone"] for g in req["guardians"]}
        found |= {g["id_number"] for g in req["guardians"]}
        residence = req["residence"]
        for value in (
            req["home_address"].get("detail"),
            (residence.get("property") or {}).get("deed_number"),
            residence.get("residence_permit_number"),
            (residence.get("hukou_address") or {}).get("detail"),
        ):
            if value:
                found.add(str(value))
    return found


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(value, list | set | tuple):
        for v in value:
            yield from strings(v)


def leaks(values: set[str], texts: list[str]) -> set[str]:
    return {v for v in values if any(v in t for t in texts)}


@pytest.fixture(scope="module")
def ended(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedSeason, SeasonConfig]]:
    """A small season run to its end: registered, verified, drawn, placed, notified, sealed, reported,
    its classes drawn; a district exported a list (a file under exports/)."""
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("retention"))
    # a seed whose first five pages end inside a shard (161 did until the guardians got ID numbers)
    population = generate(config, 60, 162)
    start = datetime.fromisoformat(f"{config.calendar.plans_published} 09:00").replace(tzinfo=config.tz)
    with EmbeddedSeason(
        config, SimulatedClock(start), registries=population.registries, config_path=path
    ) as rt:
        load(rt, population, "reporting", lambda _: None)
        drive.report_arrivals(rt, config)
        rt.advance_clock(config.day_end(config.calendar.reporting_day))
        rt.wait_for_gate("classes", timeout=600)
        rt.advance_clock(next(p for p in phases(config) if p.name == "classes").deadline)
        rt.wait_for_end(timeout=600)
        staff = drive.member(rt, "district", "CY").principal
        school = next(x.id for x in config.schools if x.district == "CY" and x.kind == "public")
        status, answer = drive.call(
            rt, "GET", f"/admin/exports/{config.season}/schools/{school}/admitted", None, staff
        )
        assert status == 200, answer
        yield rt, config


def test_the_erasure_leaves_nothing_personal_and_the_archive_still_audits(
    ended: tuple[EmbeddedSeason, SeasonConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    rt, config = ended
    season = config.season
    before = table_items(rt)
    regs = [i for i in before if i["sk"] == "REG"]
    values = personal_values(regs)
    assert len(regs) >= 40 and len(values) > 4 * len(regs)
    # Given the season's data as it ends: the forms, the agencies' answers, the notices' PDFs, an export
    assert leaks(values, list(strings(before))) == values
    files = work_files(rt)
    assert any(k.startswith(f"seasons/{season}/notices/") and k.endswith(".pdf") for k in files)
    assert any(k.startswith(f"exports/{season}/") for k in files)
    assert any(i["sk"].startswith("CHECK#") and i.get("facts") for i in before)

    # When the schedule fires the day before the retention date: refused, nothing touched
    rt.clock.set(config.erase_from - timedelta(hours=1))
    refused = erase(rt, config)
    assert refused["erased"] is False and config.erase_from.date().isoformat() in refused["refused"]
    assert table_items(rt) == before and set(work_files(rt)) == set(files)

    # When a first run after the retention date is cut short by its time budget, two registrations
    # a page, five pages (in-process, on the same table: the adapters the function uses)
    store = DynamoErasureStore(rt.table_name)
    budget = iter([True] * 5)
    first = erase_season(
        config,
        store=store,
        files=WorkFileErasure(WorkBucket(rt.work_bucket)),
        now=config.erase_from + timedelta(hours=2, minutes=30),
        sealed=lambda: True,
        keep_going=lambda: next(budget, False),
        page=2,
    )
    assert first["done"] is False and 5 <= first["registrations"] <= 10 and first["files"] == 0
    cursors = store.progress(season)["shards"]
    assert any(c != "done" for c in cursors.values())  # a shard stopped halfway, at its cursor

    # Then the next day's scheduled run goes on from the recorded cursors and finishes
    rt.clock.set(config.erase_from + timedelta(days=1, hours=2, minutes=30))
    run = erase(rt, config)
    assert run["done"] is True and first["registrations"] + run["registrations"] == len(regs)
    assert run["files"] == len(files) and sorted(first["shards_done"] + run["shards_done"]) == list(range(16))

    # Then no name, ID number, phone, deed or address detail is left in the table or the bucket
    after = table_items(rt)
    assert leaks(values, list(strings(after))) == set()
    assert work_files(rt) == {}
    assert not [i for i in after if str(i["pk"]).startswith("PARENT#")]
    assert all(i.get("facts") == {} for i in after if i["sk"].startswith("CHECK#"))
    # the pseudonymised record stays, listed and counted: each registration, its verdict and place
    erased_regs = [i for i in after if i["sk"] == "REG"]
    assert len(erased_regs) == len(regs)
    assert all(
        ERASED_AT in i and "request" not in i and i["statistics"]["sex"] in ("男", "女") for i in erased_regs
    )
    assert {i["registration_id"] for i in erased_regs} == {i["registration_id"] for i in regs}
    assert len([i for i in after if i["sk"] == "PLACEMENT"]) == len(
        [i for i in before if i["sk"] == "PLACEMENT"]
    )
    # the run is recorded where the city's auditors read it
    runs = store.runs(season)
    assert [r["registrations"] for r in runs] == [first["registrations"], run["registrations"]]
    assert [r["at"] for r in runs] == [first["at"], run["at"]]

    # And a run the day after finds everything done and changes nothing
    rt.clock.set(config.erase_from + timedelta(days=2, hours=2, minutes=30))
    assert erase(rt, config)["already"] is True
    assert table_items(rt) == after and len(store.runs(season)) == 2

    # And the signed archive (ids only, Object Lock) audits as before: `enroll audit`
    capsys.readouterr()
    assert main(["audit", f"s3://{rt.bucket}/seasons/{season}/"]) == 0
    assert "AUDIT PASSED" in capsys.readouterr().out
    assert main(["audit", f"s3://{rt.bucket}/additions/{season}/classes/"]) == 0
