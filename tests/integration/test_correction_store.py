"""Corrections through the season table (moto, and the embedded SQLite engine): a correction and the
seats it passes on are written as one batch, in order; a refused one writes nothing; two computed
from the same season cannot both be written; the sealer reads the pending ones and marks them sealed."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import pytest

from enrollment.adapters import table as table_module
from enrollment.adapters.correction_store import DynamoCorrectionStore
from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.config import SeasonConfig
from enrollment.core.staff import Forbidden, StaffMember
from enrollment.corrections.season import (
    CorrectionConflict,
    CorrectionRefused,
    CorrectionRequest,
    correct,
    load_view,
    plan_correction,
)
from enrollment.local.runtime import LOCAL_ENV, create_season_table
from enrollment.local.sqlite_dynamo import SqliteDynamo
from enrollment.lottery import ceremony
from enrollment.placement import place as placing
from enrollment.placement import tiebreak
from enrollment.placement.season import cases_of
from enrollment.registration import changes, registrar
from enrollment.registration.form import RegistrationRefused, parse_request
from enrollment.verification.season import PlacementFacts
from tests.memory_lottery import MemoryArchive, small_season
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("correction-store")

TABLE = "corrections-season"
SEED = "5eed-corrections"
CY = StaffMember(principal="cy-staff-01", role="district", district="CY")
LT = StaffMember(principal="lt-staff-01", role="district", district="LT")
REASON = "家长书面申请，经区教育局核实后更正"
FACTS = {"hukou-in-zone": True, "deed-in-zone": True, "hukou-deed-match": True, "actual-residence": True}


@pytest.fixture(params=["moto", "sqlite"])
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    with mock.patch.dict(os.environ, LOCAL_ENV):
        if request.param == "moto":
            from moto import mock_aws

            with mock_aws():
                create_season_table(boto3.client("dynamodb"), TABLE)
                yield "moto"
        else:
            with (
                SqliteDynamo() as sqlite,
                mock.patch.object(table_module, "ENGINE", sqlite.resource),
                mock.patch.object(table_module, "ENGINE_CLIENT", sqlite.client),
            ):
                sqlite.create_table(TABLE)
                yield "sqlite"


class Keyer:
    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        return hashlib.sha256(f"{season}|{id_type}|{id_number}".encode()).hexdigest()


class Verdicts:
    """Every registered child verified eligible in its zone (the first single-school zone)."""

    def __init__(self, store: DynamoStore, season: str) -> None:
        self.store, self.season = store, season

    def placement_facts(self, season: str) -> Iterator[PlacementFacts]:
        for item in self.store.registrations(season):
            if item.get("late_registration"):
                continue  # a late child is verified later
            yield PlacementFacts(str(item["registration_id"]), "eligible", item["zone_id"], FACTS)

    def verdicts_of(self, ids: Any) -> dict[str, PlacementFacts]:
        wanted = set(ids)
        return {
            v.registration_id: v for v in self.placement_facts(self.season) if v.registration_id in wanted
        }


class NoLottery:
    def outcomes_of(self, ids: Any) -> dict[str, dict[str, Any]]:
        return {}

    def schools(self, season: str) -> list[dict[str, Any]]:
        return []


class TieBreaks:
    def tie_break(self, season: str) -> dict[str, Any]:
        return {"seed": SEED}


@dataclass
class World:
    config: SeasonConfig
    store: DynamoStore
    corrections: DynamoCorrectionStore
    placements: DynamoPlacementStore
    archive: MemoryArchive
    ids: list[str]
    now: datetime

    def correct(self, staff: StaffMember, **request: Any) -> Any:
        self.now += timedelta(minutes=1)
        return correct(
            self.config,
            staff,
            CorrectionRequest(**{"reason": REASON, **request}),
            archive=self.archive,
            corrections=self.corrections,
            registrations=self.store,
            verdicts=Verdicts(self.store, self.config.season),
            lotteries=NoLottery(),
            tie_breaks=TieBreaks(),
            keyer=Keyer(),
            now=self.now,
            verified=DynamoVerificationStore(TABLE),
        )

    def stored(self) -> tuple[int, list[Any], dict[str, Any]]:
        """How many batches, the pending corrections and the stored places: what a refusal must not touch."""
        rec = self.corrections.recorded(self.config.season)
        places = {rid: self.placements.placed(rid) for rid in self.ids}
        return rec.batches, self.corrections.pending_corrections(self.config.season), places


@pytest.fixture
def world(engine: str, season: SeasonConfig, tmp_path: Any) -> World:
    """Seven children of one zone (5 seats) registered and placed; placements.jsonl sealed."""
    config = small_season(season, tmp_path, {"S-CY-01": {1: 5}})
    store = DynamoStore(TABLE)
    opened = config.day_start(config.calendar.grade1_registration.start) + timedelta(hours=2)
    ids = [
        registrar.register(
            parse_request(valid_body(config)), config=config, now=opened, store=store, keyer=Keyer()
        )["registration_id"]
        for _ in range(7)
    ]
    verdicts = {v.registration_id: v for v in Verdicts(store, config.season).placement_facts(config.season)}
    cases = list(cases_of(config, store.registrations(config.season), verdicts, NoLottery()))
    tb = tiebreak.draw(config.season, ids, SEED).numbers()
    result = placing.place(config, cases, tb, {}, cap_km=config.placement.coordination_cap_km)
    lines = placing.lines(result)
    archive = MemoryArchive()
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    archive.put_once(ceremony.archive_key(config.season, "placements.jsonl"), body)
    placements = DynamoPlacementStore(TABLE)
    placements.put_placements(config.season, lines)
    july = config.day_start(config.calendar.coordination.end) + timedelta(days=20)
    return World(config, store, DynamoCorrectionStore(TABLE), placements, archive, ids, july.astimezone(UTC))


def test_corrections_are_written_in_order_and_the_sealer_marks_them(world: World) -> None:
    season = world.config.season
    at_school = [rid for rid in world.ids if (world.placements.placed(rid) or {}).get("route") == "catchment"]
    waiting = [
        rid for rid in world.ids if (world.placements.placed(rid) or {}).get("route") == "coordination"
    ]
    assert len(at_school) == 5 and len(waiting) == 2
    decline = world.correct(CY, kind="decline", registration_id=at_school[0])
    pending = world.corrections.pending_corrections(season)
    assert [c.kind for c in pending] == ["decline", "catchment-promotion"]
    assert pending[0] == decline and pending[1].follows == decline.correction_id
    promoted = pending[1].changes[0].registration_id
    assert promoted in waiting
    # the status API's places follow
    assert (world.placements.placed(at_school[0]) or {})["status"] == "declined"
    assert (world.placements.placed(promoted) or {})["school_id"] == "S-CY-01"
    # a late registration: stored with the correction and in the registrations
    body = valid_body(world.config)
    late = world.correct(CY, kind="late-registration", registration=body)
    rid = late.changes[0].registration_id
    item = world.store.get_registration(rid)
    assert item["late_registration"]["by"] == "cy-staff-01" and item["late_registration"]["window_refusal"]
    assert (world.placements.placed(rid) or {})["route"] == "coordination"
    view, batches = load_view(
        world.config,
        season,
        archive=world.archive,
        corrections=world.corrections,
        registrations=world.store,
        verdicts=Verdicts(world.store, season),
        lotteries=NoLottery(),
        tie_breaks=TieBreaks(),
        subjects=[rid],
    )
    # the season's places, and the cases a correction of `rid` reads (its own, the catchment's
    # children coordinated elsewhere): not every child's
    assert batches == 2 and view.lines[rid].reason == "late-registration" and rid in view.cases
    assert view.registered == set(world.ids) | {rid} and at_school[1] not in view.cases
    # a spot-check finding: the verdict it gives is kept with the correction and read back with the season
    spot = next(r for r in at_school[1:] if view.lines[r].school_id == "S-CY-01")
    world.correct(CY, kind="re-verification", registration_id=spot, verdict={"status": "not-eligible"})
    view, batches = load_view(
        world.config,
        season,
        archive=world.archive,
        corrections=world.corrections,
        registrations=world.store,
        verdicts=Verdicts(world.store, season),
        lotteries=NoLottery(),
        tie_breaks=TieBreaks(),
        subjects=[spot],
    )
    verdict = view.cases[spot].verdict
    assert batches == 3 and verdict is not None and verdict.status == "not-eligible"
    assert view.lines[spot].reason == "verification-failed"
    assert (world.placements.placed(spot) or {})["reason"] == "verification-failed"
    stored = DynamoVerificationStore(TABLE).verdict(spot)  # as the console and the family read it
    assert stored is not None and stored.status == "not-eligible" and stored.decided_by == "cy-staff-01"
    # the sealer seals the first two, then the rest
    first = [c.correction_id for c in world.corrections.pending_corrections(season)[:2]]
    world.corrections.mark_sealed(season, first, 1)
    rest = [c.correction_id for c in world.corrections.pending_corrections(season)]
    assert rest[0] == late.correction_id and len(rest) >= 2
    with pytest.raises(ValueError, match="already sealed"):
        world.corrections.mark_sealed(season, first[:1], 2)
    with pytest.raises(ValueError, match="no such pending"):
        world.corrections.mark_sealed(season, ["C-20230801-nothing"], 2)
    world.corrections.mark_sealed(season, rest, 2)
    assert world.corrections.pending_corrections(season) == []
    assert len(world.corrections.corrections(season)) == 2 + len(rest)


def test_a_refused_correction_stores_nothing(world: World) -> None:
    before = world.stored()
    at_school = next(r for r in world.ids if (world.placements.placed(r) or {}).get("route") == "catchment")
    waiting = next(r for r in world.ids if (world.placements.placed(r) or {}).get("route") == "coordination")
    with pytest.raises(Forbidden):
        world.correct(LT, kind="decline", registration_id=at_school)
    with pytest.raises(CorrectionRefused, match="R-PUB-3"):  # S-CY-01 is full
        world.correct(CY, kind="override", registration_id=waiting, school_id="S-CY-01")
    with pytest.raises(CorrectionRefused, match="reason"):
        world.correct(CY, kind="decline", registration_id=at_school, reason="不要了")
    with pytest.raises(Forbidden):  # another district's late child: not even its registration
        world.correct(LT, kind="late-registration", registration=valid_body(world.config))
    assert world.stored() == before
    assert len(list(world.store.registrations(world.config.season))) == 7


def test_a_child_whose_family_withdrew_is_registered_late_in_the_withdrawn_ones_place(world: World) -> None:
    # Given a family that registered in the window and withdrew before it closed
    body = valid_body(world.config)
    opened = world.config.day_start(world.config.calendar.grade1_registration.start) + timedelta(hours=3)
    rid = registrar.register(
        parse_request(body), config=world.config, now=opened, store=world.store, keyer=Keyer()
    )["registration_id"]
    changes.withdraw(rid, "搬家", config=world.config, now=opened, store=world.store)
    assert rid not in {str(r["registration_id"]) for r in world.store.registrations(world.config.season)}
    # When the district registers the child late, after the results
    late = world.correct(CY, kind="late-registration", registration=body)
    # Then the late registration takes the withdrawn one's place, its history kept, and the child is placed
    assert late.changes[0].registration_id == rid
    item = world.store.get_registration(rid)
    assert item["status"] == "registered" and item["late_registration"]["by"] == "cy-staff-01"
    assert [(c["kind"], c["by"]) for c in item["changes"]] == [
        ("withdrawn", "guardian"),
        ("re-registered", "cy-staff-01"),
    ]
    assert rid in {str(r["registration_id"]) for r in world.store.registrations(world.config.season)}
    assert (world.placements.placed(rid) or {})["route"] == "coordination"
    # and a child registered (not withdrawn) is still refused as a duplicate
    with pytest.raises(RegistrationRefused, match="R-REG-2"):
        world.correct(CY, kind="late-registration", registration=body)


def test_two_corrections_computed_from_the_same_season_cannot_both_be_written(world: World) -> None:
    season = world.config.season
    at_school = [r for r in world.ids if (world.placements.placed(r) or {}).get("route") == "catchment"]
    kwargs: dict[str, Any] = {
        "archive": world.archive,
        "corrections": world.corrections,
        "registrations": world.store,
        "verdicts": Verdicts(world.store, season),
        "lotteries": NoLottery(),
        "tie_breaks": TieBreaks(),
        "subjects": at_school[:2],
    }
    view, after = load_view(world.config, season, **kwargs)
    plans = [
        plan_correction(
            world.config,
            CY,
            CorrectionRequest(kind="decline", registration_id=rid, reason=REASON),
            view,
            now=world.now,
        )
        for rid in at_school[:2]
    ]
    world.corrections.record(season, plans[0], after=after)
    with pytest.raises(CorrectionConflict):
        world.corrections.record(season, plans[1], after=after)
    assert [c.correction_id for c in world.corrections.pending_corrections(season)] == [
        c.correction_id for c in plans[0].corrections
    ]
