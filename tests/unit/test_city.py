"""The synthetic Jilin City season (enrollment.synth.city) and the committed seasons/jilin-2023.yaml."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from enrollment.core.config import GRADES, SeasonConfig
from enrollment.synth import city

SEASON_FILE = Path(__file__).resolve().parents[2] / "seasons" / "jilin-2023.yaml"


@pytest.fixture(scope="module")
def config(season: SeasonConfig) -> SeasonConfig:
    return season  # tests/conftest.py loads seasons/jilin-2023.yaml once per session


def test_the_committed_file_is_what_the_generator_prints() -> None:
    # Given the generator, run twice
    first, second = city.render(), city.render()
    # Then it is deterministic and the committed file is up to date
    assert first == second
    assert SEASON_FILE.read_text(encoding="utf-8") == first, f"regenerate: {city.COMMAND}"
    assert first.startswith("# ")
    assert city.COMMAND in first.splitlines()[1]
    assert "SYNTHETIC" in first.splitlines()[0]


def test_season_identity_and_calendar(config: SeasonConfig) -> None:
    assert (config.name, config.season, config.year) == ("jilin-2023", "2023", 2023)
    assert config.city == "吉林市"
    assert config.timezone == "Asia/Shanghai"
    cal = config.calendar
    d = date
    assert cal.notice_issued == d(2023, 5, 11)
    assert cal.plans_published == d(2023, 5, 12)
    assert (cal.grade7_registration.start, cal.grade7_registration.end) == (d(2023, 5, 13), d(2023, 5, 19))
    assert (cal.grade1_registration.start, cal.grade1_registration.end) == (d(2023, 5, 20), d(2023, 5, 29))
    assert (cal.verification.start, cal.verification.end) == (d(2023, 5, 30), d(2023, 6, 9))
    assert (cal.home_visits.start, cal.home_visits.end) == (d(2023, 6, 10), d(2023, 6, 15))
    assert cal.private_counts_due == d(2023, 6, 16)
    assert cal.lottery_day == d(2023, 6, 17)
    assert (cal.coordination.start, cal.coordination.end) == (d(2023, 6, 19), d(2023, 6, 26))
    assert (cal.spot_check.start, cal.spot_check.end) == (d(2023, 6, 27), d(2023, 7, 5))
    assert cal.admission_notices == d(2023, 7, 6)
    assert cal.reporting_day == d(2023, 7, 8)
    assert cal.term_start == d(2023, 9, 1)


def test_districts_of_the_notice(config: SeasonConfig) -> None:
    by_name = {d.name: d for d in config.districts}
    assert {n: (d.kind, d.area_code) for n, d in by_name.items() if d.kind == "urban-district"} == {
        "船营区": ("urban-district", "220204"),
        "昌邑区": ("urban-district", "220202"),
        "龙潭区": ("urban-district", "220203"),
        "丰满区": ("urban-district", "220211"),
    }
    zones = [d for d in config.districts if d.kind == "development-zone"]
    assert sorted(d.name for d in zones) == ["经开区", "高新区"]
    assert all(d.area_code.startswith("2202") for d in zones)
    assert len({d.area_code for d in config.districts}) == 6


def test_every_district_has_schools_and_published_tiers(config: SeasonConfig) -> None:
    for d in config.districts:
        public = [s for s in config.schools if s.district == d.code and s.kind == "public"]
        for grade in GRADES:
            assert any(s.plan(grade) > 0 for s in public), (d.code, grade)
        # R-PUB-2: an ordered list of 3-4 tiers, verified policy claims first (R-PRIO-1)
        assert 3 <= len(d.priority_tiers) <= 4
        assert d.priority_tiers[0].requires == ["policy-priority"]
        assert any("residence-permit-in-zone" in t.requires for t in d.priority_tiers), "R-MIG-1"
    rules = Counter(d.multi_school_assignment for d in config.districts)
    assert rules["first-choice-first"] >= 1
    assert rules["deferred-acceptance"] >= 1


def test_schools_of_every_kind(config: SeasonConfig) -> None:
    kinds = Counter(s.kind for s in config.schools)
    assert kinds["public"] >= 80
    assert kinds["private"] >= 12
    for grade in GRADES:
        assert any(s.kind == "ethnic" and s.plan(grade) for s in config.schools), grade
        assert any(s.kind == "private" and s.plan(grade) for s in config.schools), grade
        assert any(s.kind == "public" and s.plans.keys() == {1, 7} for s in config.schools)  # 九年一贯制
    special = [s for s in config.schools if s.kind == "special-education"]
    assert special
    assert all(s.plans.keys() == {1, 7} for s in special)
    specialised = [s for s in config.schools if s.kind == "specialised"]
    assert specialised
    assert all(s.plans.keys() == {7} for s in specialised)
    private = [s for s in config.schools if s.kind == "private"]
    assert all(8 <= p <= 120 for s in private for p in s.plans.values())
    approved = [s for s in private if s.cross_district_approved]  # R-LOT-4
    assert 0 < len(approved) < len(private)
    assert not any(s.cross_district_approved for s in config.schools if s.kind != "private")
    assert len({s.name for s in config.schools}) == len(config.schools)


def test_public_seats_exceed_the_largest_season(config: SeasonConfig) -> None:
    # R-COORD-1 must always find a seat: even if all 20,000 applicants needed a public seat
    # (60% grade 1, 40% grade 7), in every district in proportion to its seats.
    public = [s for s in config.schools if s.kind == "public"]
    for grade in GRADES:
        seats = sum(s.plan(grade) for s in public)
        assert seats >= 1.3 * city.DESIGN_APPLICANTS * city.GRADE_SHARE[grade], grade
        assert all(90 <= s.plan(grade) <= 500 for s in public if s.plan(grade))
    header = city.render().split("\nname:")[0]
    assert f"grade 1 {sum(s.plan(1) for s in public)}" in header


def test_roads_and_locations_are_in_jilin_city(config: SeasonConfig) -> None:
    for d in config.districts:
        roads = [r for r in config.roads if r.district == d.code]
        assert 10 <= len(roads) <= 20
    for r in config.roads:
        assert 100 <= r.max_number <= 400
        for p in (r.start, r.end):
            assert 43.80 <= p.lat <= 43.92
            assert 126.45 <= p.lon <= 126.65
    for s in config.schools:
        district = config.district_index[s.district]
        assert s.address.startswith(f"吉林市{district.name}")
        road = next(r for r in config.roads if r.district == s.district and r.name in s.address)
        number = int(s.address.removeprefix(f"吉林市{district.name}{road.name}").removesuffix("号"))
        assert road.locate(number) == s.location


def test_zones_single_and_multi_school(config: SeasonConfig) -> None:
    # R-PUB-1: every public school is in exactly one zone per grade it takes
    for s in config.schools:
        for grade in GRADES:
            zones = [z for z in config.zones if z.grade == grade and s.id in z.schools]
            assert len(zones) == (1 if s.kind == "public" and s.plan(grade) else 0), (s.id, grade)
    for grade in GRADES:
        sizes = Counter(len(z.schools) for z in config.zones if z.grade == grade)
        assert sizes[1] > sum(n for k, n in sizes.items() if k > 1)  # mostly 单校划片
        assert sum(n for k, n in sizes.items() if k > 1) >= 3  # several 多校划片
        assert max(sizes) <= 3
    assert any(seg.parity != "all" for z in config.zones for seg in z.segments)
    for z in config.zones:
        assert all(config.school_index[sid].district == z.district for sid in z.schools)


def test_zones_cover_most_but_not_all_addresses(config: SeasonConfig) -> None:
    for grade in GRADES:
        total = covered = 0
        for r in config.roads:
            for n in range(1, r.max_number + 1):
                total += 1
                covered += config.zone_for(grade, r.name, n) is not None
        assert 0.85 < covered / total < 0.99, grade
