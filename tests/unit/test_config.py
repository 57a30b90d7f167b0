"""Season config validation: a broken config names the file, the field and what is wrong."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from enrollment.core.config import ConfigError, SeasonConfig, load_season

SEASON_FILE = Path(__file__).resolve().parents[2] / "seasons" / "jilin-2023.yaml"


@pytest.fixture
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SEASON_FILE.read_text(encoding="utf-8"))
    return data


def _write(tmp_path: Path, data: Any, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _refused(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_season(path)
    assert str(path) in str(caught.value)
    assert caught.value.path == str(path)
    return caught.value


def test_the_season_loads_by_name_and_by_path() -> None:
    by_name = load_season("jilin-2023")
    assert isinstance(by_name, SeasonConfig)
    assert load_season(SEASON_FILE) == by_name


def test_cutoffs_come_from_the_season_year() -> None:
    config = load_season("jilin-2023")
    assert config.age_cutoff == date(2017, 8, 31)  # R-AGE-1
    assert config.property_cutoff == date(2020, 8, 31)  # R-VER-1


def test_a_roundtrip_of_the_committed_file_still_loads(tmp_path: Path, raw: dict[str, Any]) -> None:
    # the helper below must not itself break a config
    assert load_season(_write(tmp_path, raw, "same.yaml")) == load_season("jilin-2023")


def test_school_with_unknown_district(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["schools"][0]["district"] = "XX"
    err = _refused(_write(tmp_path, raw))
    assert ("schools[0].district", "unknown district 'XX'") in err.problems
    assert f"{err.path}: schools[0].district: unknown district 'XX'" in str(err)


def test_calendar_out_of_order(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["calendar"]["lottery_day"] = date(2023, 6, 1)
    err = _refused(_write(tmp_path, raw))
    fields = [f for f, _ in err.problems]
    assert fields == ["calendar"]
    assert "lottery_day (2023-06-01) comes before private_counts_due (2023-06-16)" in str(err)


def test_calendar_range_ending_before_it_starts(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["calendar"]["home_visits"] = {"start": date(2023, 6, 15), "end": date(2023, 6, 10)}
    err = _refused(_write(tmp_path, raw))
    assert "calendar.home_visits" in [f for f, _ in err.problems]
    assert "end 2023-06-10 is before start 2023-06-15" in str(err)


def test_unknown_field_is_named_with_its_place(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["schools"][3]["colour"] = "red"
    err = _refused(_write(tmp_path, raw))
    assert err.problems == [("schools[3].colour", "Extra inputs are not permitted")]
    assert f"{tmp_path / 'broken.yaml'}: schools[3].colour: Extra inputs are not permitted" in str(err)


def test_wrong_type_is_named_with_its_place(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["roads"][2]["max_number"] = "many"
    err = _refused(_write(tmp_path, raw))
    assert [f for f, _ in err.problems] == ["roads[2].max_number"]
    assert "integer" in str(err)


def test_overlapping_zones(tmp_path: Path, raw: dict[str, Any]) -> None:
    first, second = [z for z in raw["zones"] if z["grade"] == 1 and z["district"] == "CY"][:2]
    second["segments"].append(dict(first["segments"][0]))
    err = _refused(_write(tmp_path, raw))
    index = raw["zones"].index(second)
    at = f"zones[{index}].segments[{len(second['segments']) - 1}]"
    assert any(f == at and f"overlaps zone {first['id']}" in m for f, m in err.problems), err.problems


def test_zone_naming_a_private_school(tmp_path: Path, raw: dict[str, Any]) -> None:
    private = next(s for s in raw["schools"] if s["kind"] == "private")
    raw["zones"][0]["schools"].append(private["id"])
    err = _refused(_write(tmp_path, raw))
    at = f"zones[0].schools[{len(raw['zones'][0]['schools']) - 1}]"
    assert any(
        f == at and f"{private['id']} is not a public school taking grade" in m for f, m in err.problems
    )


def test_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: jilin-2023\ncalendar: [unclosed\n", encoding="utf-8")
    err = _refused(path)
    assert err.problems[0][0] == "(syntax)"


def test_not_a_mapping(tmp_path: Path) -> None:
    err = _refused(_write(tmp_path, ["a", "list"]))
    assert err.problems == [("(top level)", "must be a mapping of fields")]


def test_missing_file(tmp_path: Path) -> None:
    err = _refused(tmp_path / "nowhere.yaml")
    assert err.problems == [("(file)", "no such file")]
