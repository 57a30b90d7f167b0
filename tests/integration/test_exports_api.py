"""The exports over the embedded backend (issue 15, docs/EXPORTS.md): the routes' files, read back
from the work bucket, open in openpyxl with the expected columns and the placements' rows; a
district's files hold only the children placed at its schools (checked against the stored
registrations); the public lists are masked; `enroll export` reads a stack's outputs (moto).

A small season is driven through reporting day and the sunshine classes on the real workflow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from enrollment.cli import main
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.phases import phases
from enrollment.exports import lists
from enrollment.exports.sheets import read_csv, read_xlsx
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.local.serve import load
from enrollment.synth.population import generate
from tests.integration.conftest import small_season, table_items

pytestmark = pytest.mark.xdist_group("exports")
A, B = "CH", "CY"


@dataclass(frozen=True)
class Season:
    rt: EmbeddedSeason
    config: SeasonConfig
    path: str
    placed: dict[str, dict[str, Any]]  # registration id -> its placements.jsonl line
    regs: dict[str, dict[str, Any]]  # registration id -> the stored registration
    arrived: set[str]


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("exports"))
    population = generate(config, 90, 143)
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
        body = boto3.client("s3").get_object(
            Bucket=rt.bucket, Key=f"seasons/{config.season}/placements.jsonl"
        )
        placed = {p["registration_id"]: p for p in map(json.loads, body["Body"].read().decode().splitlines())}
        items = table_items(rt)
        regs = {str(i["registration_id"]): i for i in items if i["sk"] == "REG"}
        arrived = {str(i["registration_id"]) for i in items if i["sk"] == "ARRIVAL"}
        yield Season(rt, config, path, placed, regs, arrived)


def fetch(s: Season, answer: dict[str, Any]) -> bytes:
    """The file behind the answer's link, read from the work bucket (encrypted by the bucket's own key
    in AWS: tests/infra/test_data_safety.py)."""
    parts = urlsplit(answer["url"])
    bucket, key = parts.netloc.split(".")[0], unquote(parts.path.lstrip("/"))
    if bucket == "s3":  # path-style: /bucket/key
        bucket, key = key.split("/", 1)
    s3 = boto3.client("s3")
    assert bucket == s.rt.work_bucket
    assert key.startswith(f"exports/{s.config.season}/")
    data: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(data) == answer["bytes"]
    return data


def get(s: Season, path: str, who: str, query: dict[str, str] | None = None) -> tuple[int, Any]:
    return drive.call(s.rt, "GET", f"/admin/exports/{s.config.season}{path}", None, who, query)


def at_school(s: Season, school: str) -> set[str]:
    return {rid for rid, p in s.placed.items() if p["school_id"] == school}


def in_district(s: Season, district: str) -> set[str]:
    schools = {x.id for x in s.config.schools if x.district == district}
    return {rid for rid, p in s.placed.items() if p["school_id"] in schools}


def by_number(s: Season) -> dict[str, str]:
    return {str(r["request"]["child"]["id_number"]): rid for rid, r in s.regs.items()}


def busiest(s: Season, district: str) -> str:
    schools = [x.id for x in s.config.schools if x.district == district and x.kind == "public"]
    return max(schools, key=lambda x: len(at_school(s, x)))


def test_a_schools_admitted_list_in_both_formats(season: Season) -> None:
    a = drive.member(season.rt, "district", A).principal
    school = busiest(season, A)
    status, answer = get(season, f"/schools/{school}/admitted", a)
    assert status == 200, answer
    assert answer["expires_in"] == 300 and answer["file_name"].endswith("录取名单.xlsx")
    ((title, rows),) = read_xlsx(fetch(season, answer)).items()
    assert title.startswith(school) and rows[0] == lists.ADMITTED_HEADERS
    assert {r[0] for r in rows[1:]} == at_school(season, school) and len(rows) - 1 == answer["rows"] > 0
    for r in rows[1:]:
        child = season.regs[r[0]]["request"]["child"]
        assert (r[1], r[5]) == (child["name"], child["id_number"])
        assert r[10] == ("已报到" if r[0] in season.arrived else "未报到")
    status, answer = get(season, f"/schools/{school}/admitted", a, {"format": "csv"})
    assert status == 200 and answer["file_name"].endswith(".csv")
    rows = read_csv(fetch(season, answer))
    assert rows[0] == lists.ADMITTED_HEADERS and {r[0] for r in rows[1:]} == at_school(season, school)
    status, refused = get(season, f"/schools/{school}/admitted", a, {"format": "pdf"})
    assert status == 422 and refused["errors"][0]["field"] == "format"


def test_a_districts_files_hold_its_own_children_only(season: Season) -> None:
    a = drive.member(season.rt, "district", A).principal
    numbers = by_number(season)
    status, answer = get(season, f"/districts/{A}/student-status", a)
    assert status == 200, answer
    book = read_xlsx(fetch(season, answer))
    mine = sorted(x.id for x in season.config.schools if x.district == A)
    assert [t.split(" ")[0] for t in book] == mine  # one sheet per school
    listed = set()
    for title, rows in book.items():
        assert rows[0] == lists.STUDENT_STATUS_HEADERS
        school = title.split(" ")[0]
        ids = {numbers[r[5]] for r in rows[1:]}  # every row is a stored registration's child
        assert ids == at_school(season, school) & season.arrived
        listed |= ids
    assert listed == in_district(season, A) & season.arrived and listed
    status, answer = get(season, f"/districts/{A}/reporting", a)
    assert status == 200
    book = read_xlsx(fetch(season, answer))
    rows = [r for t, sheet in book.items() if t != "汇总" for r in sheet[1:]]
    assert {r[0] for r in rows} == in_district(season, A) and len(rows) == answer["rows"] - len(
        book["汇总"]
    ) + 1
    assert any(r[8].endswith("班") for r in rows)  # the sunshine classes are in
    assert not {r[0] for r in rows} & in_district(season, B)


def test_the_public_lists_show_masked_names_and_the_last_four_only(season: Season) -> None:
    auditor = drive.member(season.rt, "auditor").principal
    private = next(
        x.id
        for x in season.config.schools
        if x.kind == "private" and at_school(season, x.id) and x.district == A
    )
    status, answer = get(season, f"/schools/{private}/public-results", auditor)
    assert status == 200, answer
    book = read_xlsx(fetch(season, answer))
    assert len(book["录取名单"]) - 1 == len(at_school(season, private))
    assert any(t.startswith("派位名单") for t in book)
    text = json.dumps(book, ensure_ascii=False)
    for r in season.regs.values():
        child, guardians = r["request"]["child"], r["request"]["guardians"]
        assert child["id_number"] not in text and all(g["phone"] not in text for g in guardians)
        if len(child["name"]) > 1:
            assert child["name"] not in text
    for row in book["录取名单"][1:]:
        assert row[1][1] == "*" and row[2].startswith("*" * 14) and len(row[2]) == 18


def test_a_private_schools_applicants_to_the_city(season: Season) -> None:
    city = drive.member(season.rt, "city").principal
    private = next(x.id for x in season.config.schools if x.kind == "private" and x.district == A)
    status, answer = get(season, f"/private/{private}/applicants", city)
    assert status == 200, answer
    book = read_xlsx(fetch(season, answer))
    assert book["报名人数"][0] == lists.COUNT_HEADERS and book["报名名单"][0] == lists.APPLICANT_HEADERS
    listed = {r[1] for r in book["报名名单"][1:]}
    counted = sum(int(r[4]) for r in book["报名人数"][1:])
    assert counted == len(listed)
    assert all(season.regs[rid]["category"] == "private" for rid in listed)
    status, refused = get(season, f"/private/{busiest(season, A)}/applicants", city)
    assert status == 404, refused


def test_enroll_export_reads_a_stacks_outputs(season: Season, tmp_path: Path) -> None:
    rt = season.rt
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"TableName": {"Value": rt.table_name}, "ArchiveBucketName": {"Value": rt.bucket}},
    }
    boto3.client("cloudformation").create_stack(
        StackName="enrollment-test", TemplateBody=json.dumps(template)
    )
    school = busiest(season, A)
    out = tmp_path / "out"
    argv = ["export", "admitted", "--stack", "enrollment-test", "--config", season.path, "--out", str(out)]
    assert main([*argv, "--school", school]) == 0
    ((_, rows),) = read_xlsx((out / A / f"{school}-admitted.xlsx").read_bytes()).items()
    assert {r[0] for r in rows[1:]} == at_school(season, school)
    summary = json.loads((out / "exports.json").read_text(encoding="utf-8"))
    assert summary["by"].startswith("arn:aws") and summary["files"][0]["rows"] == len(rows) - 1
    recorded = [i for i in table_items(rt) if i.get("type") == "export-download" and i["by"] == summary["by"]]
    assert recorded and recorded[-1]["role"] == "operator"
    assert (
        main(
            [
                "export",
                "reporting",
                "--stack",
                "enrollment-test",
                "--config",
                season.path,
                "--district",
                A,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert (out / A / f"{A}-reporting.xlsx").exists()
    with pytest.raises(SystemExit):
        main(argv)  # admitted needs --school
    assert (
        main(["export", "all", "--stack", "no-such-stack", "--config", season.path, "--out", str(out)]) == 2
    )
