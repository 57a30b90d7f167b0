"""The catchment lookup (查询片区, issue 19) answers what placement would do: for every road segment
and every compound of the synthetic city, the lookup's schools are the schools placement offers an
eligible child living there. The expectation is computed by running verification's `verdict` on an
eligible child's agency answers at that address and placement's `catchment_choices` on the verdict,
never by reading the zones again."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pytest

from enrollment.adapters.settings import Settings
from enrollment.adapters.wiring import Wiring
from enrollment.core.config import GRADES, SeasonConfig, Zone
from enrollment.local.runtime import api_event
from enrollment.placement.place import Case, catchment_choices
from enrollment.registration import catchment
from enrollment.registration.form import RegistrationRefused
from enrollment.synth import city
from enrollment.verification.checks import verdict
from enrollment.verification.verdicts import Check

NOW = datetime(2023, 6, 12, 9, tzinfo=UTC)
RID = "R-TEST-0000-0000-0001"


@cache
def compound_city() -> SeasonConfig:
    """A synthetic city with residential compounds (jilin-2023 has none): zones drawn by compounds
    only, compounds beside ranges, and one compound no zone names (the zone of its gate)."""
    return city.config(1, city.city_plan("siping-2024", "四平市", 2024, 7))


def _answer(agency: str, reason: str = "found", **facts: Any) -> Check:
    return Check(
        registration_id=RID,
        agency=agency,
        status="answered",
        asked_at=NOW,
        answered_at=NOW,
        reason=reason,
        facts=facts,
    )


def placement_schools(config: SeasonConfig, grade: int, place: dict[str, Any]) -> tuple[str, ...]:
    """The schools placement offers an eligible child of `grade` living at `place`, with no ranking
    of its own: verification judges the agencies' answers (hukou and deed at that address, before
    the cut-off, residential, lived in), placement reads the verdict."""
    address = {**place, **({"building": 3, "unit": 2} if "compound" in place else {})}
    body = {
        "grade": grade,
        "category": "public",
        "child": {"id_type": "resident-id", "id_number": "220202201703041234"},
        "guardians": [{"relationship": "母亲", "id_number": "220202199001011234"}],
        "home_address": dict(address),
        "residence": {
            "basis": "hukou",
            "hukou_address": dict(address),
            "property": {"deed_number": "JL-2019-000123", "owner": "母亲"},
        },
    }
    item = {
        "registration_id": RID,
        "season": config.season,
        "grade": grade,
        "category": "public",
        "district": place["district"],
        "target_school": None,
        "special_claims": [],
        "request": body,
    }
    before_cutoff = date(config.year - 4, 5, 1).isoformat()
    checks = [
        _answer("public-security", kind="hukou", **address),
        _answer(
            "housing", registered_on=before_cutoff, owners=1, owner_match=True, owners_matched=1, **address
        ),
        _answer("planning", planned_use="residential"),
        _answer("community", "lives-there", lives_there=True),
    ]
    v = verdict(config, item, checks, NOW)
    case = Case(RID, grade, place["district"], "public", home=config.locate(place), verdict=v)
    choices = catchment_choices(config, case)
    assert (v.status == "eligible") == bool(choices), (place, grade, v)  # outside every zone: not eligible
    return choices


def lookup_schools(config: SeasonConfig, place: dict[str, Any]) -> dict[int, tuple[str, ...]]:
    query = {k: str(v) for k, v in place.items()}
    answer = catchment.lookup(config, query)
    return {g["grade"]: tuple(s["id"] for s in g["schools"]) for g in answer["grades"]}


def segment_numbers(zone: Zone) -> list[tuple[str, int]]:
    """Each segment's first, middle and last house number of its parity."""
    out = []
    for seg in zone.segments:
        covered = [n for n in range(seg.from_number, seg.to_number + 1) if seg.covers(n)]
        for n in dict.fromkeys([covered[0], covered[len(covered) // 2], covered[-1]]):
            out.append((seg.road, n))
    return out


def addresses(config: SeasonConfig) -> list[dict[str, Any]]:
    """Every road segment of every zone (its ends and middle), every road's ends, and every compound."""
    by_road = config.road_index
    roads = {(road, n) for z in config.zones for road, n in segment_numbers(z)}
    roads |= {(r.name, n) for r in config.roads for n in (1, r.max_number)}  # ends: often in no zone
    out: list[dict[str, Any]] = [
        {"district": by_road[road].district, "road": road, "number": n} for road, n in sorted(roads)
    ]
    out += [{"district": c.district, "compound": c.name} for c in config.compounds]
    return out


@pytest.mark.parametrize("which", ["jilin-2023", "compound-city"])
def test_the_lookup_names_the_schools_placement_would_use(season: SeasonConfig, which: str) -> None:
    config = season if which == "jilin-2023" else compound_city()
    places = addresses(config)
    # Given every segment and compound (the compound city has all three kinds of compound)
    assert len(places) > len(config.zones)
    if which == "compound-city":
        assert config.compounds and any(not z.segments for z in config.zones)
    seen_outside = seen_multi = 0
    for place in places:
        # When the family looks the address up
        found = lookup_schools(config, place)
        for grade in GRADES:
            # Then it names the schools placement would offer an eligible child there, in its order
            expected = placement_schools(config, grade, place)
            assert found[grade] == expected, (place, grade)
            seen_outside += not expected
            seen_multi += len(expected) > 1
    assert seen_outside and seen_multi  # the walk met addresses outside every zone and multi-school zones


def test_the_answer_is_plain_chinese_with_the_seasons_rules(season: SeasonConfig) -> None:
    zone = next(z for z in season.zones if z.multi_school)
    road, number = segment_numbers(zone)[0]
    answer = catchment.lookup(season, {"district": zone.district, "road": road, "number": str(number)})
    district = season.district_index[zone.district]
    assert answer["address_zh"] == f"{district.name}{road}{number}号"
    multi = next(g for g in answer["grades"] if g["grade"] == zone.grade)
    assert multi["kind_zh"] == "多校划片" and multi["note_zh"]
    assert [s["name"] for s in multi["schools"]] == [season.school_index[s].name for s in multi_ids(multi)]
    assert answer["priority_zh"] == [t.name for t in district.priority_tiers]
    text = "".join(d["what_zh"] for d in answer["documents"])
    assert "2020年8月30日" in text  # the deed's last day: before the 31 Aug 2020 cut-off (R-VER-1)
    assert "户口簿" in text and "不动产权证" in text and "居住证" in text and "实际居住" in text
    # no rule ids, zone ids or district codes in anything the page shows
    shown = json.dumps(
        {k: v for k, v in answer.items() if k != "grades"}
        | {"grades": [{k: v for k, v in g.items() if k != "schools"} for g in answer["grades"]]},
        ensure_ascii=False,
    )
    assert not re.search(r"R-[A-Z]+-\d|Z-[A-Z]{2,4}-|\b" + zone.district + r"\b", shown), shown


def multi_ids(grade_answer: dict[str, Any]) -> list[str]:
    return [s["id"] for s in grade_answer["schools"]]


def _fields(config: SeasonConfig, **query: str) -> list[str]:
    with pytest.raises(RegistrationRefused) as refused:
        catchment.lookup(config, query)
    assert refused.value.status == 422
    assert all(re.search(r"[\u4e00-\u9fff]", v.message_zh) for v in refused.value.violations)
    return [v.field for v in refused.value.violations]


def test_bad_addresses_are_refused_naming_the_field(season: SeasonConfig) -> None:
    road = season.roads[0]
    other = next(d.code for d in season.districts if d.code != road.district)
    assert _fields(season) == ["district"]
    assert _fields(season, district="XX", road=road.name, number="1") == ["district"]
    assert _fields(season, district=road.district) == ["road"]
    assert _fields(season, district=other, road=road.name, number="1") == ["road"]
    assert _fields(season, district=road.district, road=road.name) == ["number"]
    for bad in ("0", "-3", "12a", "１２", "1.5"):
        assert _fields(season, district=road.district, road=road.name, number=bad) == ["number"]
    assert _fields(season, district=road.district, road=road.name, number=str(road.max_number + 1)) == [
        "number"
    ]
    assert _fields(season, district=road.district, road="路" * 41, number="1") == ["road"]
    assert _fields(season, district=road.district, compound="没有的小区") == ["compound"]


def test_a_compound_of_another_district_or_with_a_road_is_refused() -> None:
    config = compound_city()
    c = config.compounds[0]
    other = next(d.code for d in config.districts if d.code != c.district)
    assert _fields(config, district=other, compound=c.name) == ["compound"]
    assert _fields(config, district=c.district, compound=c.name, road=c.road, number="1") == ["compound"]


def call(path: str, query: dict[str, str] | None = None) -> tuple[int, dict[str, Any] | str, str]:
    from functions.register.handler import app

    event = api_event("GET", path, None, resource="/api/{proxy+}", query=query)
    r = app.resolve(event, None)  # type: ignore[arg-type]
    content_type = (r.get("headers") or {}).get("Content-Type") or r["multiValueHeaders"]["Content-Type"][0]
    body = json.loads(r["body"]) if "json" in content_type else r["body"]
    return int(r["statusCode"]), body, content_type


@pytest.fixture
def _season_wired(monkeypatch: pytest.MonkeyPatch) -> None:
    """The register function wired to jilin-2023 (the lookup reads only the config), no cache touched."""
    from functions.register import handler

    wired = Wiring(Settings.model_validate({"SEASON_CONFIG": "seasons/jilin-2023.yaml", "TABLE_NAME": "t"}))
    monkeypatch.setattr(handler, "wiring", lambda: wired)


@pytest.mark.usefixtures("_season_wired")
def test_the_public_api_answers_the_lookup_and_refuses_4xx(season: SeasonConfig) -> None:
    zone = next(z for z in season.zones if z.grade == 1 and not z.multi_school)
    road, number = segment_numbers(zone)[0]
    status, answer, _ = call(
        "/api/catchment", {"district": zone.district, "road": road, "number": str(number)}
    )
    assert status == 200 and isinstance(answer, dict)
    assert [s["id"] for s in answer["grades"][0]["schools"]] == zone.schools
    status, refused, _ = call("/api/catchment", {"district": zone.district, "road": road, "number": "abc"})
    assert status == 422 and isinstance(refused, dict)
    assert [e["field"] for e in refused["errors"]] == ["number"] and refused["message"].startswith("门牌号")
    status, script, content_type = call("/api/lookup.js")
    assert status == 200 and content_type.startswith("text/javascript") and "api/catchment" in str(script)
