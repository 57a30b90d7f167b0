"""The season status's counts (enrollment/adapters/season_counts.py) on both table engines, from the
items the season's own adapters write: registrations per grade from the 16 shards' index partitions,
verdicts per status, placements per route from each school's partition, every district's dead letters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.adapters.season_counts import DynamoSeasonCounts
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.verification.verdicts import Verdict
from tests.contract.test_table_engines import SEASON, TABLE, _registration, engine  # noqa: F401

pytestmark = [pytest.mark.xdist_group("table-engines"), pytest.mark.usefixtures("engine")]  # each engine
T0 = datetime(2023, 6, 12, 1, 0, tzinfo=UTC)


def test_the_counts_come_from_the_seasons_own_items() -> None:
    store = DynamoStore(TABLE)
    ids = [f"R{i:04d}" for i in range(50)]
    for i, rid in enumerate(ids):
        store.create_registration(
            _registration(rid, grade=7 if i % 5 == 0 else 1, district="CY" if i % 2 else "CH")
        )
    store.create_registration(_registration("R-OTHER", grade=1) | {"season": "2024"})  # another season
    verification = DynamoVerificationStore(TABLE)
    for i, rid in enumerate(ids[:12]):
        status = "eligible" if i < 7 else "review" if i < 10 else "not-eligible"
        verification.put_verdict(
            Verdict(
                registration_id=rid,
                season=SEASON,
                grade=1,
                district="CY" if i % 2 else "CH",
                category="public",
                status=status,
                decided_at=T0,
            )
        )
    DynamoPlacementStore(TABLE).put_placements(
        SEASON,
        [
            {"registration_id": ids[0], "school_id": "S-1", "route": "catchment"},
            {"registration_id": ids[1], "school_id": "S-1", "route": "coordination"},
            {"registration_id": ids[2], "school_id": "S-2", "route": "catchment"},
            {"registration_id": ids[3], "school_id": None, "route": "deferred"},  # placed at no school
        ],
    )
    for district, item in (("CH", "b1"), ("CY", "b1"), ("CY", "b2")):
        store.put_dead_letter(
            {"season": SEASON, "phase": "notices", "district": district, "item_id": item, "error": "E"}
        )

    counts = DynamoSeasonCounts(TABLE)
    assert counts.registrations_per_grade(SEASON, (1, 7)) == {1: 40, 7: 10}
    assert counts.verdicts_per_status(SEASON) == {"eligible": 7, "not-eligible": 2, "review": 3}
    assert counts.placements_per_route(SEASON, ("S-1", "S-2", "S-3")) == {"catchment": 2, "coordination": 1}
    dead = counts.season_dead_letters(SEASON)
    assert sorted((d["district"], d["item_id"]) for d in dead) == [("CH", "b1"), ("CY", "b1"), ("CY", "b2")]
    assert counts.registrations_per_grade("2025", (1, 7)) == {1: 0, 7: 0}
    assert counts.season_dead_letters("2025") == []
