"""The console's read models (enrollment/people/console.py): paging, the district check on the data, masking."""

from __future__ import annotations

import json
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.staff import Forbidden, StaffMember
from enrollment.people import console

CY = StaffMember(principal="cy-staff-01", role="district", district="CY")
CITY = StaffMember(principal="city-staff-01", role="city")


def rid(n: int) -> str:
    return f"R-AAAA-AAAA-AAAA-{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[n]}AAA"


class FakeDistrict:
    """`ConsoleReads.district_registrations` over lists of ids per grade."""

    def __init__(self, ids: dict[int, list[str]]) -> None:
        self.ids = ids

    def __call__(self, grade: int, after: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        rest = [r for r in sorted(self.ids.get(grade, [])) if after is None or r > after]
        return [{"registration_id": r, "grade": grade, "district": "CY"} for r in rest[:limit]], len(
            rest
        ) > limit


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 6, 50])
def test_pages_go_through_grade_1_then_grade_7_each_id_once(limit: int) -> None:
    query = FakeDistrict({1: [rid(3), rid(1), rid(2)], 7: [rid(5), rid(4)]})
    seen: list[tuple[int, str]] = []
    cursor: str | None = None
    for _ in range(10):
        items, cursor = console.district_page(query, console.page_request(None, cursor, str(limit)))
        assert len(items) <= limit
        seen += [(i["grade"], i["registration_id"]) for i in items]
        if cursor is None:
            break
    assert seen == [(1, rid(1)), (1, rid(2)), (1, rid(3)), (7, rid(4)), (7, rid(5))]


def test_one_grade_only() -> None:
    query = FakeDistrict({1: [rid(1)], 7: [rid(4), rid(5)]})
    items, cursor = console.district_page(query, console.page_request("7", None, None))
    assert [i["registration_id"] for i in items] == [rid(4), rid(5)] and cursor is None


@pytest.mark.parametrize(
    ("grade", "cursor", "limit", "named"),
    [
        ("2", None, None, "grade"),
        (None, None, "0", "limit"),
        (None, None, "501", "limit"),
        (None, None, "ten", "limit"),
        (None, "1:R-XYZ", None, "cursor"),
        ("7", f"1:{rid(1)}", None, "cursor"),  # a grade-1 cursor for grade 7 only
    ],
)
def test_a_bad_query_parameter_is_named(
    grade: str | None, cursor: str | None, limit: str | None, named: str
) -> None:
    with pytest.raises(console.BadQuery) as refused:
        console.page_request(grade, cursor, limit)
    assert refused.value.status == 422 and named in refused.value.message_zh


def test_an_item_of_another_district_is_refused_not_hidden() -> None:
    mine = {"registration_id": rid(1), "district": "CY"}
    theirs = {"registration_id": rid(2), "district": "CH"}
    assert console.own_items([mine], CY, "CY") == [mine]
    # whatever the path said, the stored district decides (R-DATA-2)
    with pytest.raises(Forbidden):
        console.own_items([mine, theirs], CY, "CY")
    with pytest.raises(Forbidden):
        console.own_items([theirs], CY, "CH")
    assert console.own_items([theirs], CITY, "CH") == [theirs]
    with pytest.raises(Forbidden):  # the city asked for CY: a CH item does not belong in that list
        console.own_items([theirs], CITY, "CY")


def test_names_and_ids_are_masked_in_rows(season: SeasonConfig) -> None:
    assert (
        console.mask_name("张三丰") == "张**"
        and console.mask_name("李") == "李"
        and console.mask_name("") == ""
    )
    item = {
        "registration_id": rid(1),
        "grade": 1,
        "category": "public",
        "district": "CY",
        "masked_id": "220202********123X",  # as stored before the mask kept the last four only
        "request": {"child": {"name": "王小明", "id_number": "220202201703041234"}},
    }
    row = console.registration_row(season, item, None)
    assert row["child"] == {"name": "王**", "id_number": "**************123X"}
    assert "220202201703041234" not in json.dumps(row)
    assert row["verification"] is None and row["verification_zh"] == "待核查"
    # a registration its family withdrew in the window (issue 19) says so, not that it awaits checks
    withdrawn = console.registration_row(season, {**item, "status": "withdrawn"}, None)
    assert withdrawn["verification_zh"] == "家长已撤回报名"


def test_the_archive_listing_needs_a_sealed_manifest() -> None:
    with pytest.raises(console.NotYet) as early:
        console.archive_listing("seasons/2023/", None, lambda k: k, 300)
    assert early.value.status == 409
    manifest = {
        "created_at": "2023-07-08T00:00:00+08:00",
        "files": [{"key": "a.json", "sha256": "00", "bytes": 3}],
    }
    out = console.archive_listing(
        "seasons/2023/", json.dumps(manifest).encode(), lambda k: f"https://x/{k}", 300
    )
    assert out["files"] == [
        {"key": "a.json", "sha256": "00", "bytes": 3, "url": "https://x/seasons/2023/a.json"}
    ]
    assert [s["key"] for s in out["signed"]] == ["manifest.json", "manifest.sig.json", "public-key.pem"]


def test_the_placement_summary_counts_each_child_once(season: SeasonConfig) -> None:
    school = next(s for s in season.schools if s.kind == "public")
    lines = [
        {"registration_id": rid(1), "grade": 1, "school_id": school.id, "route": "catchment"},
        {
            "registration_id": rid(2),
            "grade": 1,
            "school_id": school.id,
            "route": "coordination",
            "reason": "x",
        },
        {"registration_id": rid(3), "grade": 1, "school_id": None, "route": "deferred", "status": "deferred"},
    ]
    body = "".join(json.dumps(x) + "\n" for x in lines).encode()
    out = console.placement_summary(season, body)
    assert out is not None
    assert (out["total"], out["placed"], out["deferred"]) == (3, 2, 1)
    assert {k: v["count"] for k, v in out["by_route"].items()} == {
        "catchment": 1,
        "coordination": 1,
        "deferred": 1,
    }
    assert {d["code"]: d["placed"] for d in out["by_district"]}[school.district] == 2
    assert console.placement_summary(season, None) is None
