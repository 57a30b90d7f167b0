"""A late child (补录) verified through the season's agency path and placed by its verdict (moto; issue 18).

The season's S-CY-01 (grade 1) is full. Late children registered by district CY are coordinated at
once; their checks are then asked by verify-batch's late task (`functions.verify.batch._late`, as the
place API has it invoked) through verification's own use case: the agencies answer from their
registries, the community office answers the home visit, a files agency's check waits on its
worklist for the next outbox round. When a child's verdict is in: eligible with a free catchment seat,
it moves there by a correction of `agency-verification` that follows its late registration; eligible
with the catchment full, it waits in catchment order (and the next seat freed there is its); not
eligible, it keeps the coordination seat. The self-check holds after every step, and the corrections
sealed as a chain pass `enroll audit`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import pytest
import yaml

from enrollment.adapters.agency_files_store import DynamoFileRequestStore
from enrollment.adapters.correction_store import DynamoCorrectionStore
from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.archive import corrections as chain_format
from enrollment.archive.audit import audit
from enrollment.archive.contract import MANIFEST, LocalSigner, sha256_hex
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.staff import StaffMember
from enrollment.corrections.late import settle_late
from enrollment.corrections.model import AGENCY_VERIFICATION, Correction
from enrollment.corrections.season import (
    CorrectionRequest,
    correct_all,
    current_lines,
    eligible_of,
    load_view,
    season_problems,
)
from enrollment.local.runtime import LOCAL_ENV, create_season_table
from enrollment.lottery import ceremony
from enrollment.placement import place as placing
from enrollment.placement import tiebreak
from enrollment.placement.season import cases_of
from enrollment.registration import registrar
from enrollment.registration.form import parse_request
from enrollment.verification import agency_files
from enrollment.verification.checks import Agencies, LocalRegistries
from enrollment.verification.registries import (
    DeedRecord,
    HukouRecord,
    PlanningRecord,
    RecordAddress,
    Registries,
)
from enrollment.verification.season import PlacementFacts, record_visit
from functions.verify import batch as verify_batch_task
from functions.verify.batch import BatchInput, _late
from tests.memory_lottery import MemoryArchive, sealed_archive
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("late-verification")

TABLE = "late-season"
SEED = "5eed-release"  # the tie-break `sealed_archive` records
CY = StaffMember(principal="cy-staff-01", role="district", district="CY")
REASON = "家长搬入片区后补录，经区教育局核实"
FACTS = {"hukou-in-zone": True, "deed-in-zone": True, "hukou-deed-match": True, "actual-residence": True}
SEATS = 7  # S-CY-01's grade 1 plan: the season's seven children fill it


class Keyer:
    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        return hashlib.sha256(f"{season}|{id_type}|{id_number}".encode()).hexdigest()


class NoLottery:
    def outcomes_of(self, ids: Any) -> dict[str, dict[str, Any]]:
        return {}

    def schools(self, season: str) -> list[dict[str, Any]]:
        return []


class TieBreaks:
    def tie_break(self, season: str) -> dict[str, Any]:
        return {"seed": SEED}


class Outbox:
    """The work bucket as the file exchange writes a round to it."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.files[key] = body

    def get_bytes(self, key: str) -> bytes:
        return self.files[key]

    def download_url(self, key: str, seconds: int = 300) -> str:
        return f"https://work.example/{key}"


def config_of(base: SeasonConfig, folder: Path, files_agency: bool) -> SeasonConfig:
    raw: dict[str, Any] = base.model_dump(mode="json")
    # no private school: no draw, so the sealed archive has no private record to hold
    raw["schools"] = [s for s in raw["schools"] if s["kind"] != "private"]
    for school in raw["schools"]:
        if school["id"] == "S-CY-01":
            school["plans"] = {1: SEATS}
    if files_agency:  # housing exchanges files (docs/AGENCY-FILES.md)
        raw["verification"]["agencies"] = {"housing": {"kind": "files"}}
    path = folder / "late.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_season(path)


def records(body: dict[str, Any], *, eligible: bool) -> Registries:
    """What the agencies know of a late child: its hukou and its guardian's deed at its address;
    the deed's planned use residential (eligible) or commercial (not eligible)."""
    a = body["home_address"]
    address = RecordAddress(district=a["district"], road=a["road"], number=a["number"])
    deed = body["residence"]["property"]["deed_number"]
    return Registries(
        public_security=[
            HukouRecord(
                id_number=body["child"]["id_number"], kind="hukou", address=address, since=date(2018, 3, 1)
            )
        ],
        housing=[
            DeedRecord(
                deed_number=deed,
                owner_id_numbers=[body["guardians"][0]["id_number"]],
                address=address,
                registered_on=date(2018, 1, 1),
            )
        ],
        planning=[PlanningRecord(deed_number=deed, planned_use="residential" if eligible else "commercial")],
    )


@dataclass
class World:
    config: SeasonConfig
    store: DynamoStore
    vstore: DynamoVerificationStore
    corrections: DynamoCorrectionStore
    archive: MemoryArchive
    sealed: list[dict[str, Any]]
    ids: list[str]
    now: datetime
    registries: Registries = field(default_factory=Registries)

    def stores(self) -> dict[str, Any]:
        return {
            "archive": self.archive,
            "corrections": self.corrections,
            "registrations": self.store,
            "verdicts": self.vstore,
            "lotteries": NoLottery(),
            "tie_breaks": TieBreaks(),
        }

    def tick(self) -> datetime:
        self.now += timedelta(minutes=5)
        return self.now

    def correct(self, **request: Any) -> tuple[Correction, ...]:
        return correct_all(
            self.config,
            CY,
            CorrectionRequest(**{"reason": REASON, **request}),
            keyer=Keyer(),
            now=self.tick(),
            verified=self.vstore,
            **self.stores(),
        )

    def agencies(self) -> Agencies:
        local = LocalRegistries(self.registries)
        housing: Any = local
        if self.config.verification.agency_files():
            housing = agency_files.FileRequests(self.config.season, DynamoFileRequestStore(TABLE))
        return Agencies(public_security=local, housing=housing, planning=local, community=local)

    def register_late(self, body: dict[str, Any], *, eligible: bool) -> str:
        """The clerk's late registration, then verify-batch's late task, as the place API invokes it."""
        made = self.correct(kind="late-registration", registration=body)
        rid = made[0].changes[0].registration_id
        known = self.registries
        more = records(body, eligible=eligible)
        self.registries = Registries(
            public_security=known.public_security + more.public_security,
            housing=known.housing + more.housing,
            planning=known.planning + more.planning,
        )
        out = self.late_task(rid)
        assert out["checked"]["asked"] == 4 and out["refused"] == [], out  # every agency and the visit
        return rid

    def late_task(self, rid: str) -> dict[str, Any]:
        wiring = SimpleNamespace(
            config=self.config,
            store=self.store,
            verification=self.vstore,
            agencies=self.agencies(),
            archive=self.archive,
            corrections=self.corrections,
            lotteries=NoLottery(),
            placements=TieBreaks(),
        )
        with mock.patch.object(verify_batch_task.clock, "now", return_value=self.tick()):
            return _late(BatchInput(season=self.config.season, registration_ids=[rid], late=True), wiring)  # type: ignore[arg-type]

    def visit(self, rid: str) -> list[Correction]:
        """The community office confirms the child lives there; then the late children are settled."""
        record_visit(
            self.config, rid, True, "社区网格员", store=self.store, vstore=self.vstore, now=self.tick()
        )
        settled = settle_late(self.config, self.config.season, now=self.tick(), **self.stores())
        assert settled.refused == {}
        return settled.corrections

    def lines(self) -> dict[str, Any]:
        return current_lines(self.sealed, self.corrections.corrections(self.config.season))

    def problems(self) -> list[str]:
        """The whole season's self-check, every child's case read (the late ones' verdicts as stored)."""
        lines = self.lines()
        view, _ = load_view(self.config, self.config.season, subjects=list(lines), **self.stores())
        eligible = eligible_of(self.config, view.cases.values())
        return [p.detail for p in season_problems(self.config, set(lines), view.lines, [], eligible)]


@pytest.fixture
def aws() -> Iterator[None]:
    from moto import mock_aws

    with mock.patch.dict(os.environ, LOCAL_ENV), mock_aws():
        create_season_table(boto3.client("dynamodb"), TABLE)
        yield


def make_world(config: SeasonConfig) -> World:
    """Seven children of S-CY-01's zone registered, verified eligible and placed: the school is full."""
    store, vstore = DynamoStore(TABLE), DynamoVerificationStore(TABLE)
    opened = config.day_start(config.calendar.grade1_registration.start) + timedelta(hours=2)
    ids = [
        str(
            registrar.register(
                parse_request(valid_body(config)), config=config, now=opened, store=store, keyer=Keyer()
            )["registration_id"]
        )
        for _ in range(SEATS)
    ]
    items = list(store.registrations(config.season))
    verdicts = {
        str(i["registration_id"]): PlacementFacts(str(i["registration_id"]), "eligible", i["zone_id"], FACTS)
        for i in items
    }
    cases = list(cases_of(config, items, verdicts, NoLottery()))
    result = placing.place(
        config,
        cases,
        tiebreak.draw(config.season, ids, SEED).numbers(),
        {},
        cap_km=config.placement.coordination_cap_km,
    )
    sealed = sorted(placing.lines(result), key=lambda line: line["registration_id"])
    assert {(line["school_id"], line["route"]) for line in sealed} == {("S-CY-01", "catchment")}
    archive = MemoryArchive()
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in sealed).encode()
    archive.put_once(ceremony.archive_key(config.season, "placements.jsonl"), body)
    july = config.day_start(config.calendar.admission_notices) + timedelta(days=10)
    return World(
        config, store, vstore, DynamoCorrectionStore(TABLE), archive, sealed, ids, july.astimezone(UTC)
    )


def late_body(config: SeasonConfig, n: int) -> dict[str, Any]:
    body = valid_body(config)
    body["residence"]["property"]["deed_number"] = f"JL-2018-{n:06d}"
    body["guardians"][0]["phone"] = f"170000{n:05d}"
    return body


def test_late_children_are_verified_by_the_agencies_and_placed_by_their_verdicts(
    aws: None, season: SeasonConfig, tmp_path: Path
) -> None:
    w = make_world(config_of(season, tmp_path, files_agency=False))
    # Given two late children, one whose deed is residential (eligible) and one whose is commercial
    eligible = w.register_late(late_body(w.config, 1), eligible=True)
    refused = w.register_late(late_body(w.config, 2), eligible=False)
    lines = w.lines()
    # they are coordinated at once (S-CY-01 is full), and their checks asked: the agencies answered,
    # the home visit is pending, so no verdict yet and nobody moved
    for rid in (eligible, refused):
        assert (lines[rid].route, lines[rid].reason) == ("coordination", "late-registration")
        assert lines[rid].school_id != "S-CY-01"
        checks = {
            c.agency: c.status
            for c in w.vstore.cases({rid: ["public-security", "housing", "planning", "community"]})[
                rid
            ].checks
        }
        assert checks == {
            "public-security": "answered",
            "housing": "answered",
            "planning": "answered",
            "community": "pending",
        }
        assert w.vstore.verdict(rid) is None
    assert w.problems() == []
    # When a family of S-CY-01 declines, the seat stays free: no child waits for it yet
    first, *rest = w.correct(kind="decline", registration_id=w.ids[0])
    assert first.kind == "decline" and rest == []
    assert w.problems() == []
    # When the community confirms both children live there, their verdicts are in
    moved = w.visit(eligible)
    verdict = w.vstore.verdict(eligible)
    assert verdict is not None and verdict.status == "eligible" and verdict.zone_id == "Z-CY-1-01"
    # then the eligible child moves to the free catchment seat, by the system, following the clerk's
    # late registration
    late_of = {
        c.changes[0].registration_id: c
        for c in w.corrections.corrections(w.config.season)
        if c.kind == "late-registration"
    }
    [settled] = moved
    assert settled.kind == "re-verification" and settled.actor == AGENCY_VERIFICATION
    assert (
        settled.follows == late_of[eligible].correction_id
        and settled.role == "district"
        and settled.district == "CY"
    )
    assert (w.lines()[eligible].school_id, w.lines()[eligible].route) == ("S-CY-01", "catchment")
    assert w.problems() == []
    # and the child not eligible keeps its coordination seat
    assert w.visit(refused) == []
    verdict = w.vstore.verdict(refused)
    assert verdict is not None and verdict.status == "not-eligible"
    assert w.lines()[refused] == lines[refused]
    assert w.problems() == []
    # Given a third late child, eligible, while S-CY-01 is full again: it waits in catchment order
    waiting = w.register_late(late_body(w.config, 3), eligible=True)
    seat = w.lines()[waiting]
    [overflow] = w.visit(waiting)
    late = next(
        c for c in w.corrections.corrections(w.config.season) if c.changes[0].registration_id == waiting
    )
    assert overflow.actor == AGENCY_VERIFICATION and overflow.follows == late.correction_id
    assert w.lines()[waiting] == seat.model_copy(update={"reason": "catchment-overflow"})  # the same seat
    assert w.problems() == []
    # and the next seat freed at S-CY-01 is its, by catchment order
    decline, promotion = w.correct(kind="decline", registration_id=w.ids[1])
    assert promotion.kind == "catchment-promotion" and promotion.follows == decline.correction_id
    assert promotion.changes[0].registration_id == waiting
    assert w.lines()[waiting].school_id == "S-CY-01"
    assert w.problems() == []
    # Running the settlement again changes nothing
    again = settle_late(w.config, w.config.season, now=w.tick(), **w.stores())
    assert again.corrections == [] and again.refused == {}
    # Then the corrections sealed as a chain (two batches) pass the audit
    everything = w.corrections.corrections(w.config.season)
    signer = LocalSigner(key_id="test-release")
    sealed = sealed_archive(w.config, w.archive, w.sealed, datetime(2023, 7, 6, 9, 0, tzinfo=UTC), signer)
    additions: dict[str, bytes] = {}
    previous = sha256_hex(sealed[MANIFEST])
    half = len(everything) // 2
    for n, batch in enumerate([everything[:half], everything[half:]], start=1):
        files = chain_format.seal_corrections(w.config.season, n, batch, previous, signer=signer)
        additions |= {f"{chain_format.batch_name(n)}/{k}": v for k, v in files.items()}
        previous = sha256_hex(files[MANIFEST])
    report = audit(sealed, additions)
    assert report.ok, report.render()


def test_a_late_childs_check_by_a_files_agency_is_in_its_next_outbox_round(
    aws: None, season: SeasonConfig, tmp_path: Path
) -> None:
    w = make_world(config_of(season, tmp_path, files_agency=True))
    rid = w.register_late(late_body(w.config, 4), eligible=True)
    # housing's check waits for its answer file; the others are answered
    checks = {
        c.agency: (c.status, c.reason)
        for c in w.vstore.cases({rid: ["public-security", "housing", "planning", "community"]})[rid].checks
    }
    assert checks["housing"] == ("pending", "file-requested")
    # the next round the city writes for housing carries the child's request
    outbox = Outbox()
    written = agency_files.write_outbox(
        w.config,
        "housing",
        store=w.store,
        vstore=w.vstore,
        requests=DynamoFileRequestStore(TABLE),
        files=outbox,
        now=w.tick(),
    )
    assert written["rows"] == 1
    csv = next(v for k, v in outbox.files.items() if k.endswith("requests.csv")).decode(
        agency_files.CSV_ENCODING
    )
    assert rid in csv
    # the visit alone does not settle the child: housing has not answered
    assert w.visit(rid) == []
    assert w.lines()[rid].reason == "late-registration"
    assert w.problems() == []
