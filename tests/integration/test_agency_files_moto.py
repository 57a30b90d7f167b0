"""Agencies that exchange files (issue 17) on moto: checks wait on the agency's worklist, a round of
requests is written to the work bucket (xlsx, GB18030 csv, manifest with SHA-256) behind signed links,
and the clerk's answer file is recorded row by row through the same use case as API answers: the
cases are judged exactly as the in-process registries would judge them, bad rows are reported by row
and column while the good ones are kept, and uploading the same file again changes nothing."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import openpyxl
import pytest
import yaml

from enrollment.adapters.agency_files_store import DynamoFileRequestStore
from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.s3 import WorkBucket
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import AgencyFiles, SeasonConfig, load_season
from enrollment.local import fake_agency_files as clerk
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import Population, generate
from enrollment.verification.agency_files import (
    CSV_ENCODING,
    HEADER_ZH,
    FileAgency,
    FileRequests,
    columns,
    outbox_prefix,
    record_inbox_file,
    write_open_rounds,
    write_outbox,
)
from enrollment.verification.checks import Agencies, Answer, LocalRegistries, ask, checks_needed, verdict
from enrollment.verification.season import record_answer, record_visit, verify_batch

pytestmark = pytest.mark.xdist_group("moto-agency-files")

FILE_AGENCIES: tuple[FileAgency, ...] = ("public-security", "housing", "planning")
REGISTRATIONS = 40


@dataclass
class World:
    config: SeasonConfig
    store: DynamoStore
    vstore: DynamoVerificationStore
    requests: DynamoFileRequestStore
    files: WorkBucket
    local: LocalRegistries
    items: list[dict[str, Any]]
    now: datetime

    def outbox(self, agency: FileAgency, later: int = 0) -> dict[str, Any]:
        return write_outbox(
            self.config,
            agency,
            store=self.store,
            vstore=self.vstore,
            requests=self.requests,
            files=self.files,
            now=self.now + timedelta(minutes=later),
        )

    def inbox(self, agency: FileAgency, key: str) -> dict[str, Any]:
        return record_inbox_file(
            self.config,
            agency,
            key,
            files=self.files,
            store=self.store,
            vstore=self.vstore,
            requests=self.requests,
            now=self.now + timedelta(hours=2),
        )

    def answer(self, agency: FileAgency, round_id: str, **kwargs: Any) -> clerk.AnswerFile:
        return clerk.answer_round(
            self.local,
            self.files,
            self.config.season,
            agency,
            round_id,
            self.now + timedelta(hours=1),
            **kwargs,
        )


@pytest.fixture(scope="module")
def population(season: SeasonConfig) -> Population:
    return generate(season, 120, seed=17)


@pytest.fixture
def world(embedded: EmbeddedSeason, season: SeasonConfig, population: Population) -> World:
    """Every agency but the community exchanges files; the registrations asked about once."""
    settings = season.verification.model_copy(
        update={"agencies": {a: AgencyFiles(kind="files") for a in FILE_AGENCIES}}
    )
    config = season.model_copy(update={"verification": settings})
    store, vstore = DynamoStore(embedded.table_name), DynamoVerificationStore(embedded.table_name)
    requests = DynamoFileRequestStore(embedded.table_name)
    valid = [s.body for s in population.submissions if s.intent == "valid"][:REGISTRATIONS]
    items = [
        {
            "registration_id": f"R-FILE-{n:04d}",
            "season": config.season,
            "grade": body["grade"],
            "category": body["category"],
            "district": body["home_address"]["district"],
            "target_school": body.get("private_school_id"),
            "special_claims": body.get("special_claims", []),
            "request": body,
        }
        for n, body in enumerate(valid)
    ]
    for i in items:
        store.create_registration(i)
    local = LocalRegistries(population.registries)
    by_file = FileRequests(config.season, requests)
    agencies = Agencies(public_security=by_file, housing=by_file, planning=by_file, community=local)
    now = config.day_start(config.calendar.verification.start) + timedelta(hours=10)
    ids = [str(i["registration_id"]) for i in items]
    verify_batch(config, ids, "ask", store=store, vstore=vstore, agencies=agencies, now=now)
    return World(config, store, vstore, requests, WorkBucket(embedded.work_bucket), local, items, now)


def _needing(w: World, agency: FileAgency) -> list[str]:
    return sorted(str(i["registration_id"]) for i in w.items if agency in checks_needed(i))


def _visit_everyone(w: World) -> None:
    """The community office answers every home visit as the registries say."""
    for i in w.items:
        if "community" in checks_needed(i):
            found = w.local.visit_answer(i["request"]["child"]["id_number"], w.now.date())
            lives_there = found is not None and found[1]
            record_visit(
                w.config, str(i["registration_id"]), lives_there, "社区（模拟）",
                store=w.store, vstore=w.vstore, now=w.now + timedelta(hours=3),
            )  # fmt: skip


def test_a_files_agencys_checks_wait_on_its_worklist_and_keep_the_case_unjudged(world: World) -> None:
    w = world
    for i in w.items:
        rid = str(i["registration_id"])
        checks = {c.agency: c for c in w.vstore.checks(rid)}
        for agency in FILE_AGENCIES:
            if agency in checks_needed(i):
                assert checks[agency].status == "pending" and checks[agency].reason == "file-requested"
        if any(a in FILE_AGENCIES for a in checks_needed(i)):
            assert w.vstore.verdict(rid) is None  # a pending file answer keeps the case open
    for agency in FILE_AGENCIES:
        listed = [r.request_id for r in w.requests.file_requests(w.config.season, agency)]
        assert listed == _needing(w, agency)
    # the community's visits are not on a files agency's list, nor the other way round
    assert {
        v.registration_id for d in w.config.districts for v in w.vstore.open_visits(w.config.season, d.code)
    }


def test_a_round_is_an_xlsx_a_gb18030_csv_and_a_manifest_of_their_hashes(world: World) -> None:
    w = world
    out = w.outbox("public-security")
    prefix = outbox_prefix(w.config.season, "public-security", out["round"])
    assert out["rows"] == len(_needing(w, "public-security"))
    assert [f["key"] for f in out["files"]] == [
        prefix + n for n in ("requests.xlsx", "requests.csv", "manifest.json")
    ]
    for f in out["files"]:  # each link signed for the agency's configured lifetime
        query = parse_qs(urlparse(f["url"]).query)
        assert query["X-Amz-Expires"] == ["3600"] and urlparse(f["url"]).path.endswith(f["key"])
    manifest = json.loads(w.files.get_bytes(prefix + "manifest.json"))
    assert manifest["round"] == out["round"] and manifest["rows"] == out["rows"]
    for listed in manifest["files"]:
        body = w.files.get_bytes(prefix + listed["name"])
        assert hashlib.sha256(body).hexdigest() == listed["sha256"] and len(body) == listed["bytes"]

    # the csv is GB18030: Chinese headers, then the column keys, then one row per request
    text = w.files.get_bytes(prefix + "requests.csv").decode(CSV_ENCODING)
    rows = list(csv.reader(io.StringIO(text)))
    keys = list(columns("public-security"))
    assert rows[0] == [HEADER_ZH[k] for k in keys] and rows[1] == keys
    by_id = {str(i["registration_id"]): i for i in w.items}
    assert [r[0] for r in rows[2:]] == _needing(w, "public-security")
    for r in rows[2:]:  # only what the agency needs: the request id, the ID type and number
        child = by_id[r[0]]["request"]["child"]
        assert r[1:3] == [child.get("id_type", "resident-id"), child["id_number"]]
        assert all(v == "" for v in r[3:])  # the answer columns, left for the clerk
        assert child["name"] not in text

    # the xlsx holds the same rows
    sheet = openpyxl.load_workbook(io.BytesIO(w.files.get_bytes(prefix + "requests.xlsx"))).worksheets[0]
    cells = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == rows

    deeds = w.outbox("housing")
    deed_csv = w.files.get_bytes(outbox_prefix(w.config.season, "housing", deeds["round"]) + "requests.csv")
    deed_rows = list(csv.reader(io.StringIO(deed_csv.decode(CSV_ENCODING))))
    assert deed_rows[1][:2] == ["request_id", "deed_number"] and "id_number" not in deed_rows[1]


def test_answer_files_judge_every_case_as_the_registries_would_and_again_changes_nothing(
    world: World,
) -> None:
    w = world
    uploaded = {}
    for agency, form in zip(FILE_AGENCIES, ("xlsx", "csv", "xlsx"), strict=True):
        out = w.outbox(agency)
        uploaded[agency] = w.answer(agency, out["round"], form=form)
        report = w.inbox(agency, uploaded[agency].key)
        assert report["problems"] == [] and report["recorded"] == out["rows"] == len(_needing(w, agency))
        assert list(w.requests.file_requests(w.config.season, agency)) == []  # off the worklist
    _visit_everyone(w)

    for i in w.items:  # the verdicts are those the in-process registries give
        rid = str(i["registration_id"])
        stored = w.vstore.verdict(rid)
        assert stored is not None
        checks = w.vstore.checks(rid)
        direct = [
            ask(w.local.agencies(), c.agency, i, w.now) if c.agency != "community" else c for c in checks
        ]
        expected = verdict(w.config, i, direct, stored.decided_at)
        assert (stored.status, stored.reasons, stored.zone_id, stored.facts) == (
            expected.status,
            expected.reasons,
            expected.zone_id,
            expected.facts,
        )
        for c in checks:  # the file's answer kept with its source and time, as an API answer is
            if c.agency != "community":
                assert c.facts["source"] == clerk.SOURCE[c.agency] and c.answered_at is not None
    assert len({w.vstore.verdict(str(i["registration_id"])).status for i in w.items}) > 1  # type: ignore[union-attr]

    # Uploading the same files again records nothing and changes no verdict
    before = {str(i["registration_id"]): w.vstore.verdict(str(i["registration_id"])) for i in w.items}
    for agency in FILE_AGENCIES:
        again = w.inbox(agency, uploaded[agency].key)
        assert again["recorded"] == 0 and again["problems"] == []
        assert again["already"] == len(_needing(w, agency))
    assert before == {str(i["registration_id"]): w.vstore.verdict(str(i["registration_id"])) for i in w.items}
    # the report of each upload is written beside it, for the clerk
    report = json.loads(w.files.get_bytes(uploaded["housing"].key + ".report.json"))
    assert report["already"] == len(_needing(w, "housing"))


def test_bad_rows_are_reported_by_row_and_column_and_the_good_rows_are_kept(world: World) -> None:
    w = world
    out = w.outbox("public-security")
    answered = w.answer("public-security", out["round"], spoil=3)
    report = w.inbox("public-security", answered.key)

    assert [(p["row"], p["column"]) for p in report["problems"]] == [
        (3, "reason"),
        (4, "answered_at"),
        (5, "request_id"),
    ]
    assert all(p["problem"] and p["header"] for p in report["problems"])
    assert report["problems"][2]["problem"] == "没有这个核查请求"
    assert report["recorded"] == out["rows"] - 3
    # the three requests whose rows were bad are still open, and make up the next round
    still = [r.request_id for r in w.requests.file_requests(w.config.season, "public-security")]
    assert still == _needing(w, "public-security")[:3]
    for rid in still:
        assert {c.agency: c for c in w.vstore.checks(rid)}["public-security"].status == "pending"
    assert w.outbox("public-security", later=5)["rows"] == 3


def test_a_file_that_is_not_an_answer_file_stores_nothing(world: World) -> None:
    w = world
    key = f"seasons/{w.config.season}/inbox/housing/upload/answers.xlsx"
    w.files.put_bytes(key, b"PK\x03\x04 not really a workbook", "application/octet-stream")
    report = w.inbox("housing", key)
    assert report["refused"] == "文件不是有效的 Excel (.xlsx) 文件" and report["recorded"] == 0

    # a csv in UTF-8 with a character GB18030 reads otherwise is not GB18030: refused too... and a
    # file whose every row is bad records nothing either
    out = w.outbox("housing")
    bad = w.answer("housing", out["round"], form="csv", spoil=out["rows"])
    report = w.inbox("housing", bad.key)
    assert report["recorded"] == 0 and len({p["row"] for p in report["problems"]}) == out["rows"]
    for rid in _needing(w, "housing"):
        assert {c.agency: c for c in w.vstore.checks(rid)}["housing"].status == "pending"
    assert [r.request_id for r in w.requests.file_requests(w.config.season, "housing")] == _needing(
        w, "housing"
    )


# The city bureau's routes (functions/verify/api.py) -----------------------------------------------


@contextmanager
def files_season(
    season: SeasonConfig, population: Population, folder: Path
) -> Iterator[tuple[EmbeddedSeason, SeasonConfig, list[dict[str, Any]], datetime]]:
    """A stack whose season (its config file, as deployed) exchanges files with housing; its
    registrations asked about through the deployed wiring, at 10:00 on the first day of verification."""
    raw = season.model_dump(mode="json")
    raw["verification"]["agencies"] = {"housing": {"kind": "files", "link_expiry_s": 900}}
    path = folder / "jilin-2023.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config = load_season(path)
    start = config.day_start(config.calendar.verification.start) + timedelta(hours=10)
    with EmbeddedSeason(
        config, SimulatedClock(start), config_path=str(path), registries=population.registries
    ) as rt:
        from enrollment.adapters.wiring import wiring

        w = wiring()
        valid = [s.body for s in population.submissions if s.intent == "valid"][:REGISTRATIONS]
        items = [
            {
                "registration_id": f"R-ROUTE-{n:04d}",
                "season": config.season,
                "grade": body["grade"],
                "category": body["category"],
                "district": body["home_address"]["district"],
                "target_school": body.get("private_school_id"),
                "special_claims": body.get("special_claims", []),
                "request": body,
            }
            for n, body in enumerate(valid)
        ]
        for i in items:
            w.store.create_registration(i)
        ids = [str(i["registration_id"]) for i in items]
        verify_batch(config, ids, "ask", store=w.store, vstore=w.verification, agencies=w.agencies, now=start)
        yield rt, config, items, start


@pytest.fixture
def routed(season: SeasonConfig, population: Population, tmp_path: Path) -> Iterator[Any]:
    with files_season(season, population, tmp_path) as found:
        yield found


def test_the_city_bureau_writes_a_round_and_uploads_the_answer_file(
    routed: Any, population: Population
) -> None:
    rt, config, items, start = routed
    city, district = drive.member(rt, "city").principal, drive.member(rt, "district", "CY").principal
    base = f"/admin/verification/{config.season}/agencies"
    deeds = sorted(str(i["registration_id"]) for i in items if "housing" in checks_needed(i))

    # only the city bureau exchanges files, and only with an agency configured for them
    assert drive.call(rt, "POST", f"{base}/housing/outbox", None, district)[0] == 403
    status, refused = drive.call(rt, "POST", f"{base}/public-security/outbox", None, city)
    assert status == 404 and refused["errors"][0]["field"] == "agency"

    status, out = drive.call(rt, "POST", f"{base}/housing/outbox", None, city)
    assert status == 201 and out["rows"] == len(deeds) and out["expires_in_s"] == 900
    status, again = drive.call(rt, "GET", f"{base}/housing/outbox/{out['round']}", None, city)
    assert status == 200 and [f["key"] for f in again["files"]] == [f["key"] for f in out["files"]]
    assert drive.call(rt, "GET", f"{base}/housing/outbox/20230101T000000Z", None, city)[0] == 404

    # the clerk answers from the registries; one row spoiled; the file goes up in parts
    files = WorkBucket(rt.work_bucket)
    local = LocalRegistries(population.registries)
    answered = clerk.answer_round(local, files, config.season, "housing", out["round"], start, spoil=1)
    data = files.get_bytes(answered.key)

    def upload(data: bytes, name: str = "住建答复.xlsx", size: int = 2000, skip: int = -1) -> tuple[int, Any]:
        upload_id = uuid.uuid4().hex
        parts = [data[n : n + size] for n in range(0, len(data), size)]
        for n, part in enumerate(parts):
            if n != skip:
                body = {"upload": upload_id, "part": n, "content_base64": base64.b64encode(part).decode()}
                assert drive.call(rt, "POST", f"{base}/housing/answers/parts", body, city)[0] == 201
        sha = hashlib.sha256(data).hexdigest()
        done = {"name": name, "upload": upload_id, "parts": len(parts), "sha256": sha}
        return drive.call(rt, "POST", f"{base}/housing/answers", done, city)

    assert len(data) > 2000 * 2  # several parts
    status, report = upload(data)
    assert status == 200, report
    assert report["recorded"] == len(deeds) - 1 and [(p["row"], p["column"]) for p in report["problems"]] == [
        (3, "reason")
    ]
    status, report = upload(data)  # the same file again
    assert status == 200 and report["recorded"] == 0 and report["already"] == len(deeds) - 1

    # a file that is not a workbook, a part missing, parts that do not make the file: refused whole,
    # and nothing of them recorded or kept in the inbox but the parts themselves
    def inbox() -> set[str]:
        listed = boto3.client("s3").list_objects_v2(Bucket=rt.work_bucket)["Contents"]
        return {o["Key"] for o in listed if "/inbox/" in o["Key"] and "/parts/" not in o["Key"]}

    before = inbox()
    status, refused = upload(b"not a workbook")
    assert status == 422 and refused["errors"][0]["field"] == "file"
    assert refused["errors"][0]["message"] == "文件不是有效的 Excel (.xlsx) 文件"
    status, refused = upload(data, skip=1)
    assert status == 422 and refused["errors"][0]["message"] == "文件未完整上传，请重新上传"
    bad64 = {"upload": uuid.uuid4().hex, "part": 0, "content_base64": "****"}
    assert drive.call(rt, "POST", f"{base}/housing/answers/parts", bad64, city)[0] == 422
    too_big = {"upload": uuid.uuid4().hex, "part": 0, "content_base64": "A" * 60000}
    assert drive.call(rt, "POST", f"{base}/housing/answers/parts", too_big, city)[0] == 422
    wrong = {"name": "a.xlsx", "upload": uuid.uuid4().hex, "parts": 1, "sha256": "0" * 64}
    assert drive.call(rt, "POST", f"{base}/housing/answers", wrong, city)[0] == 422
    assert inbox() == before


def test_a_round_holds_at_most_round_rows_and_the_rest_wait_for_the_next(world: World) -> None:
    w = world
    settings = w.config.verification.model_copy(
        update={"agencies": {a: AgencyFiles(kind="files", round_rows=5) for a in FILE_AGENCIES}}
    )
    w.config = w.config.model_copy(update={"verification": settings})
    needing = _needing(w, "public-security")
    first = w.outbox("public-security")
    assert (first["rows"], first["waiting"]) == (5, len(needing) - 5)
    report = w.inbox("public-security", w.answer("public-security", first["round"]).key)
    assert report["recorded"] == 5
    second = w.outbox("public-security", later=5)
    assert (second["rows"], second["waiting"]) == (5, len(needing) - 10)
    rows = clerk.read_round(w.files, w.config.season, "public-security", second["round"])
    assert [r["request_id"] for r in rows] == needing[5:10]


def test_the_workflows_round_writes_every_open_request_once_in_parts(world: World) -> None:
    """What the workflow writes each time it looks for open checks: every open request of every
    files agency, in parts of `round_rows`, each request in exactly one part, in order."""
    w = world
    settings = w.config.verification.model_copy(
        update={"agencies": {a: AgencyFiles(kind="files", round_rows=7) for a in FILE_AGENCIES}}
    )
    w.config = w.config.model_copy(update={"verification": settings})
    written = write_open_rounds(
        w.config, store=w.store, vstore=w.vstore, requests=w.requests, files=w.files, now=w.now
    )
    for agency in FILE_AGENCIES:
        needing = _needing(w, agency)
        names = written[agency]
        assert len(names) == -(-len(needing) // 7) and all(
            n.endswith(f"-{i:02d}") for i, n in enumerate(names, 1)
        )
        rows = [r["request_id"] for n in names for r in clerk.read_round(w.files, w.config.season, agency, n)]
        assert rows == needing


def test_a_request_answered_another_way_leaves_the_worklist_when_the_next_round_is_written(
    world: World,
) -> None:
    w = world
    first, *rest = _needing(w, "planning")
    # the check answered without the worklist hearing of it (a retried batch, another path)
    outcome = record_answer(
        w.config, first, "planning", Answer("found", {"planned_use": "residential"}),
        store=w.store, vstore=w.vstore, now=w.now,
    )  # fmt: skip
    assert outcome == "recorded"
    assert first in [r.request_id for r in w.requests.file_requests(w.config.season, "planning")]
    out = w.outbox("planning")
    assert out["rows"] == len(rest) and out["waiting"] == 0
    rows = clerk.read_round(w.files, w.config.season, "planning", out["round"])
    assert [r["request_id"] for r in rows] == rest
    assert [r.request_id for r in w.requests.file_requests(w.config.season, "planning")] == rest
