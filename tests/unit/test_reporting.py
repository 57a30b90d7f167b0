"""Reporting day and the sunshine-classes addition (R-NOTE-1, R-CLASS-1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from enrollment.archive.audit import audit_classes
from enrollment.archive.contract import LocalSigner, canonical_json, seal
from enrollment.core.config import SeasonConfig
from enrollment.core.staff import Forbidden, StaffDirectory, StaffMember
from enrollment.term import reporting
from enrollment.term.classes import Student


class FakeArrivals:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}

    def mark_arrival(self, season: str, school_id: str, registration_id: str, item: dict[str, Any]) -> bool:
        if (school_id, registration_id) in self.items:
            return False
        self.items[(school_id, registration_id)] = item
        return True

    def arrivals(self, season: str, school_id: str) -> set[str]:
        return {rid for s, rid in self.items if s == school_id}


@pytest.fixture(scope="module")
def directory() -> StaffDirectory:
    return StaffDirectory.load("jilin-2023")


def staff_of(directory: StaffDirectory, role: str, district: str | None = None) -> StaffMember:
    return next(m for m in directory if m.role == role and m.district == district)


PLACED = {"R-1": "S-CY-01", "R-2": "S-CY-01", "R-3": "S-CY-01", "R-4": "S-CY-02", "R-5": None}


def test_a_school_records_its_arrivals_once_and_lists_its_no_shows(
    season: SeasonConfig, directory: StaffDirectory
) -> None:
    store, cy = FakeArrivals(), staff_of(directory, "district", "CY")
    out = reporting.mark_arrivals(
        season, "2023", "S-CY-01", ["R-1", "R-2"], PLACED, staff=cy, store=store, at="t"
    )
    assert out == {"school_id": "S-CY-01", "marked": 2, "already": 0}
    again = reporting.mark_arrivals(
        season, "2023", "S-CY-01", ["R-2"], PLACED, staff=cy, store=store, at="t2"
    )
    assert again["already"] == 1 and store.items[("S-CY-01", "R-2")]["at"] == "t"  # never replaced
    at_school = [rid for rid, school in PLACED.items() if school == "S-CY-01"]
    assert reporting.no_shows(at_school, store.arrivals("2023", "S-CY-01")) == ["R-3"]


def test_arrivals_are_the_schools_own_district_and_its_own_children(
    season: SeasonConfig, directory: StaffDirectory
) -> None:
    store = FakeArrivals()
    cy, ch = staff_of(directory, "district", "CY"), staff_of(directory, "district", "CH")
    with pytest.raises(reporting.ArrivalRefused, match="R-4"):
        reporting.mark_arrivals(season, "2023", "S-CY-01", ["R-4"], PLACED, staff=cy, store=store, at="t")
    for who in (ch, staff_of(directory, "city"), staff_of(directory, "auditor")):
        with pytest.raises(Forbidden):
            reporting.mark_arrivals(
                season, "2023", "S-CY-01", ["R-1"], PLACED, staff=who, store=store, at="t"
            )
    assert store.items == {}


def students(n: int) -> list[Student]:
    return [Student(f"R-{i:03d}", "男" if i % 2 else "女", 1 + i % 12) for i in range(n)]


def test_classes_are_sized_by_the_standard_and_balanced() -> None:
    rec = reporting.assign_school("2023", "S-CY-01", 1, students(100), "seed")
    assert rec is not None and rec["class_count"] == 3  # 45 a class in grade 1 (R-CLASS-1)
    sizes = sorted(len(c) for c in rec["classes"])  # type: ignore[union-attr]
    assert sizes == [33, 33, 34]
    assert reporting.assign_school("2023", "S-CY-01", 1, [], "seed") is None


def addition(n: int = 60) -> dict[str, bytes]:
    rec = reporting.assign_school("2023", "S-CY-01", 1, students(n), "seed")
    files = {"classes/S-CY-01-g1.json": canonical_json(rec)}
    return seal("2023", files, LocalSigner(), datetime(2023, 8, 25, tzinfo=UTC))


def test_the_classes_addition_audits_and_a_changed_list_fails() -> None:
    files = addition()
    assert audit_classes(files).ok
    # one byte changed: the hash fails
    bad = dict(files)
    bad["classes/S-CY-01-g1.json"] = files["classes/S-CY-01-g1.json"].replace(b"R-001", b"R-002", 1)
    report = audit_classes(bad)
    assert not report.ok and any("classes/S-CY-01-g1.json" in p for p in report.problems)
    # a list whose class sizes differ by two, re-sealed: the sizes check names it
    rec = json.loads(files["classes/S-CY-01-g1.json"])
    rec["classes"][0].append(rec["classes"][1].pop())
    resealed = seal(
        "2023",
        {"classes/S-CY-01-g1.json": canonical_json(rec)},
        LocalSigner(),
        datetime(2023, 8, 25, tzinfo=UTC),
    )
    report = audit_classes(resealed)
    assert not report.ok and any("differ by more than one" in p for p in report.problems)
