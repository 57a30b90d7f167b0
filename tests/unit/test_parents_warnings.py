"""Seat warnings (R-WARN-1): live counters and the close-time record build the same rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import DuplicateChild
from enrollment.registration import demand


def registration(grade: int, school: str | None, zone: str | None) -> dict[str, Any]:
    return {"grade": grade, "target_school": school, "zone_id": zone}


def test_a_registration_counts_at_its_school_and_its_zone() -> None:
    assert demand.counter_keys(registration(1, "S-CY-01", "Z-CY-1-01")) == [
        ("school", "S-CY-01", 1),
        ("zone", "Z-CY-1-01", 1),
    ]
    assert demand.counter_keys(registration(7, "P-CH-02", None)) == [("school", "P-CH-02", 7)]
    assert demand.counter_keys(registration(1, None, None)) == []  # outside every zone: no counter


def test_live_counters_give_the_rows_of_the_close_time_record(season: SeasonConfig) -> None:
    # Given registrations spread over schools and a multi-school zone
    multi = next(z for z in season.zones if z.multi_school)
    single = next(z for z in season.zones if not z.multi_school and z.grade == 1)
    regs = [registration(1, single.schools[0], single.id)] * 3 + [
        registration(multi.grade, multi.schools[0], multi.id)
    ] * 2
    # When counted one by one, as the store's counters do
    counters: Counter[demand.CounterKey] = Counter()
    for r in regs:
        counters.update(demand.counter_keys(r))
    # Then the rows equal those demand() records at close
    assert demand.rows(season, counters) == demand.demand(season, regs)
    by_id = {(d.scope, d.id, d.grade): d.applicants for d in demand.rows(season, counters)}
    assert by_id[("school", single.schools[0], 1)] == 3
    assert by_id[("zone", multi.id, multi.grade)] == 2


def test_near_and_over_plan() -> None:
    def warn(plan: int, applicants: int) -> str | None:
        return demand.Demand("school", "S", "S", 1, "CY", "public", plan, applicants).warning

    assert [warn(100, n) for n in (0, 89, 90, 100, 101)] == [None, None, "near", "near", "over"]
    assert warn(0, 0) is None and warn(0, 1) == "over"


def test_the_warning_page_lists_each_grade_warned_rows_first(season: SeasonConfig) -> None:
    school = next(s for s in season.schools if s.kind == "public" and s.plan(1) >= 10)
    near = int(school.plan(1) * demand.NEAR_FULL)
    over = next(s for s in season.schools if s.kind == "private" and s.plan(1) and s.id != school.id)
    counts = {("school", school.id, 1): near, ("school", over.id, 1): over.plan(1) + 1}
    view = demand.warnings_view(season, counts, "2023-05-21T10:00:00+08:00")
    assert [g["grade"] for g in view["grades"]] == [1, 7]
    rows = view["grades"][0]["rows"]
    assert [(r["id"], r["warning"], r["warning_zh"]) for r in rows[:2]] == [
        (over.id, "over", "超出计划"),
        (school.id, "near", "接近计划"),
    ]
    assert rows[1]["applicants"] == near and rows[1]["plan"] == school.plan(1)
    assert rows[1]["district_name"] == season.district_index[school.district].name
    assert view["grades"][0]["warned"] == 2 and all(r["warning"] is None for r in rows[2:])
    zone_rows = [r for g in view["grades"] for r in g["rows"] if r["scope"] == "zone"]
    assert zone_rows and all(r["kind_zh"] == "多校划片" for r in zone_rows)


class _Table:
    """A DynamoDB table stand-in: puts succeed (or find the child already there), counters throttle."""

    def __init__(self, *, duplicate: bool = False, throttle: bool = True) -> None:
        self.duplicate, self.throttle = duplicate, throttle
        self.puts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []

    def put_item(self, **kwargs: Any) -> None:
        if self.duplicate:
            raise ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "PutItem")
        self.puts.append(kwargs)

    def update_item(self, **kwargs: Any) -> None:
        self.updates.append(kwargs)
        if self.throttle:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "UpdateItem")


def _store(table: _Table) -> DynamoStore:
    store = DynamoStore("t")
    store.__dict__["table"] = table  # the cached boto3 Table, replaced
    return store


ITEM = {
    "registration_id": "R-AAAA-BBBB-CCCC-DDDD",
    "season": "2023",
    "district": "CY",
    **registration(1, "S-CY-01", "Z-CY-1-01"),
}


def test_a_throttled_counter_never_refuses_a_stored_registration() -> None:
    # Given the counters are throttled
    table = _Table(throttle=True)
    # When a registration is stored, it stands: its counts are short until the close-time recount
    _store(table).create_registration(dict(ITEM))
    assert len(table.puts) == 1 and len(table.updates) == 2


def test_a_refused_registration_touches_no_counter() -> None:
    table = _Table(duplicate=True, throttle=False)
    with pytest.raises(DuplicateChild):
        _store(table).create_registration(dict(ITEM))
    assert table.updates == []
