"""A district's own step that fails for good (its spot-check draw) is that district's dead letter; a
school's sunshine classes the school's district's (enrollment/core/deadletters.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from enrollment.core import deadletters
from enrollment.core.config import SeasonConfig

NOW = datetime(2023, 6, 27, 1, tzinfo=UTC)


class Letters:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str, str], dict[str, Any]] = {}

    def get_registration(self, registration_id: str) -> dict[str, Any]:
        raise AssertionError("no registration is read for a district's or a school's item")

    def put_dead_letter(self, record: dict[str, Any]) -> bool:
        key = (record["season"], record["district"], record["phase"], record["item_id"])
        if key in self.records:
            return False
        self.records[key] = record
        return True

    def dead_letters(self, season: str, district: str) -> Iterator[dict[str, Any]]:
        return iter([r for (s, d, _, _), r in self.records.items() if (s, d) == (season, district)])


def test_a_districts_spot_check_draw_is_its_own_dead_letter_once(season: SeasonConfig) -> None:
    store = Letters()
    district = season.districts[1].code
    failure = {"error": "RuntimeError", "cause": "verdicts unreadable (simulated)"}
    out = deadletters.record(season, "2023", "spot-check", **failure, now=NOW, store=store, district=district)
    assert out["item_id"] == district and out["district"] == district
    assert out["districts"] == [{"district": district, "new": True}]
    again = deadletters.record(
        season, "2023", "spot-check", **failure, now=NOW, store=store, district=district
    )
    assert again["districts"] == [{"district": district, "new": False}]
    [letter] = deadletters.listed(store, "2023", district)
    assert letter["item"] == {"district": district} and letter["error"] == "RuntimeError"
    assert deadletters.listed(store, "2023", season.districts[0].code) == []


def test_a_district_the_season_does_not_know_is_kept_for_the_city_and_auditors(season: SeasonConfig) -> None:
    store = Letters()
    out = deadletters.record(
        season, "2023", "spot-check", error="E", cause="", now=NOW, store=store, district="nowhere"
    )
    assert out["districts"] == [{"district": deadletters.UNKNOWN_DISTRICT, "new": True}]


def test_a_schools_classes_go_to_the_schools_district(season: SeasonConfig) -> None:
    store = Letters()
    school = season.schools[0]
    out = deadletters.record(
        season, "2023", "classes", error="E", cause="c", now=NOW, store=store, school_id=school.id, grade=1
    )
    assert out["item_id"] == f"{school.id}-g1" and "district" not in out
    assert out["districts"] == [{"district": school.district, "new": True}]
