"""`python -m enrollment.synth.city`: the default file unchanged; other cities with compounds, as workbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from enrollment.core.config import load_season
from enrollment.core.workbook import read_workbook
from enrollment.synth import city

SEASON_FILE = Path(__file__).resolve().parents[2] / "seasons" / "jilin-2023.yaml"


def test_the_default_command_still_prints_jilin_2023_byte_for_byte(
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    city.main([])
    assert capfdbinary.readouterr().out == SEASON_FILE.read_bytes()


def test_another_city_and_season_with_compounds() -> None:
    plan = city.city_plan("siping-2024", "四平市", 2024, 7)
    config = city.config(1, plan)
    assert (config.name, config.season, config.year, config.city) == ("siping-2024", "2024", 2024, "四平市")
    assert {d.name for d in config.districts} == {"铁西区", "铁东区", "红嘴开发区"}
    assert config.calendar.grade1_registration.start.year == 2024
    assert city.render(1, plan) == city.render(1, plan)  # deterministic
    for d in config.districts:
        zones = [z for z in config.zones if z.district == d.code]
        assert any(z.grade == 1 and z.compounds and not z.segments for z in zones), "a zone by compounds only"
        assert any(z.compounds and z.segments for z in zones), "a zone by ranges and compounds"
        named = {c for z in zones for c in z.compounds}
        assert any(c.name not in named for c in config.compounds if c.district == d.code), (
            "a compound left to its gate"
        )
    # a compound in a zone's list is in that zone; one in no list is where its gate is
    for c in config.compounds:
        for grade in (1, 7):
            zone = config.zone_of(grade, {"compound": c.name})
            if zone is not None and c.name not in zone.compounds:
                assert zone == config.zone_for(grade, c.road, c.number)
    assert {s.kind for s in config.schools} == {
        "public",
        "private",
        "ethnic",
        "special-education",
        "specialised",
    }
    assert city.config(1, city.city_plan("x-2025", "通化市", 2025, 3)).districts[0].name == "城东区"


def test_the_workbook_option_writes_what_imports_as_the_config(tmp_path: Path) -> None:
    out = tmp_path / "siping.xlsx"
    city.main(
        ["--name", "siping-2024", "--city", "四平市", "--year", "2024", "--seed", "7", "--workbook", str(out)]
    )
    assert read_workbook(out, "siping-2024") == city.config(
        1, city.city_plan("siping-2024", "四平市", 2024, 7)
    )
    jilin = tmp_path / "jilin.xlsx"
    city.main(["--workbook", str(jilin)])
    assert read_workbook(jilin, "jilin-2023") == load_season(SEASON_FILE)
