"""Search, filters and sorting on the console's lists (issue 19) and reporting day by the notices
themselves (R-NOTE-1), over plain data: the review queue sorted with its own search, a district's
registrations searched, filtered and sorted through their pages, bad parameters named, and the arrivals
recorded by notice and code row by row, nothing recorded for a refused one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.staff import Forbidden, StaffDirectory, StaffMember
from enrollment.notices import corrected
from enrollment.people import console, lists
from enrollment.term import reporting
from enrollment.verification import queue_search, search
from enrollment.verification.search import BadSearch, Sort
from enrollment.verification.verdicts import Verdict
from tests.unit.test_queue_search import KEYER, SCHOOLS, _case, _filter
from tests.unit.test_review import SEASON, T0, FakeVerificationStore


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("seasons/jilin-2023.yaml")


@pytest.fixture(scope="module")
def cy() -> StaffMember:
    return StaffDirectory.load("jilin-2023").lookup("cy-staff-01")


# The parameters ------------------------------------------------------------------------------------


def test_an_unknown_sort_column_or_order_is_refused_naming_it() -> None:
    with pytest.raises(BadSearch) as e:
        search.sort_request("phone", None, lists.REGISTRATION_SORTS)
    assert e.value.field == "sort" and "created_at" in e.value.message_zh and e.value.status == 422
    with pytest.raises(BadSearch) as e:
        search.sort_request("created_at", "down", lists.REGISTRATION_SORTS)
    assert e.value.field == "order"
    with pytest.raises(BadSearch) as e:
        search.sort_request(None, "desc", lists.REGISTRATION_SORTS)
    assert e.value.field == "sort"
    assert search.sort_request("created_at", "desc", lists.REGISTRATION_SORTS) == Sort("created_at", True)
    assert search.sort_request(None, None, lists.REGISTRATION_SORTS) is None


def test_a_cursor_that_is_not_a_sorted_lists_is_refused_naming_it() -> None:
    for bad in ("1:R-AAAA-AAAA-AAAA-AAAA", "Sxyz", "S" + "e30"):
        with pytest.raises(BadSearch) as e:
            search.sorted_page([], lambda r: ("", ""), Sort("grade", False), bad, 10)
        assert e.value.field == "cursor", bad


def test_the_lists_filters_are_checked_naming_each(config: SeasonConfig) -> None:
    for name, bad in (("status", "lost"), ("reason", "nope"), ("category", "x"), ("school", "S-XX-99")):
        with pytest.raises(BadSearch) as e:
            lists.registration_filter({name: bad}, season=SEASON, schools=config.school_index, keyer=KEYER)
        assert e.value.field == name
    with pytest.raises(BadSearch) as e:
        lists.placement_filter({"status": "review"}, season=SEASON, schools=config.school_index, keyer=KEYER)
    assert e.value.field == "status"  # a placement's status is its route
    with pytest.raises(BadSearch) as e:
        lists.registration_filter({"q": "abc"}, season=SEASON, schools=config.school_index, keyer=KEYER)
    assert e.value.field == "q"


# The review queue, sorted ----------------------------------------------------------------------------


def test_the_queue_sorted_pages_through_every_matching_case_once_in_order(cy: StaffMember) -> None:
    store, items = FakeVerificationStore(), {}
    for n in range(12):
        verdict, item = _case(n)
        store.put_verdict(verdict.model_copy(update={"decided_at": T0 + timedelta(minutes=n * 7 % 12)}))
        items[verdict.registration_id] = item
    by = Sort("decided_at", True)
    seen: list[Verdict] = []
    cursor = None
    while True:
        found, cursor = queue_search.sorted_queue(
            store, cy, SEASON, "CY", _filter(status="not-eligible"), _lookup(items), by, cursor, 4
        )
        seen += [c for c, _ in found]
        if cursor is None:
            break
    wanted = [v for v in store.verdict_items.values() if v.status == "not-eligible"]
    assert len(seen) == len(wanted) == len({c.registration_id for c in seen})
    assert [c.decided_at for c in seen] == sorted((c.decided_at for c in wanted), reverse=True)


def _lookup(items: Mapping[str, Mapping[str, Any]]) -> Any:
    def registrations(ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        return {i: items[i] for i in ids if i in items}

    return registrations


# A district's registrations --------------------------------------------------------------------------


def _district(n: int) -> tuple[list[dict[str, Any]], dict[str, Verdict]]:
    """n registrations of CY (grades 1 and 7), half of them checked."""
    items, verdicts = [], {}
    for i in range(n):
        verdict, item = _case(i % 12)
        rid = f"R-{'ABCDEFGHJKMNPQRS'[i % 16]}AAA-AAAA-AAAA-{'ABCDEFGHJK'[i // 16]}AAA"
        items.append(
            item
            | {
                "registration_id": rid,
                "grade": 1 if i % 3 else 7,
                "category": "public",
                "created_at": f"2023-05-{1 + i % 9:02d}T09:00:00+08:00",
            }
        )
        if i % 2:
            verdicts[rid] = verdict.model_copy(update={"registration_id": rid})
    return items, verdicts


def _query(items: list[dict[str, Any]]) -> console.DistrictQuery:
    def query(grade: int, after: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        mine = sorted((i for i in items if i["grade"] == grade), key=lambda i: str(i["registration_id"]))
        mine = [i for i in mine if after is None or str(i["registration_id"]) > after]
        return mine[:limit], len(mine) > limit

    return query


def _pages(
    config: SeasonConfig, cy: StaffMember, items: list[dict[str, Any]], verdicts: dict[str, Verdict], **p: str
) -> list[dict[str, Any]]:
    sort = search.sort_request(p.pop("sort", None), p.pop("order", None), lists.REGISTRATION_SORTS)
    flt = lists.registration_filter(p, season=SEASON, schools=config.school_index, keyer=KEYER)
    take = lists.registration_rows(config, flt, lambda ids: {i: verdicts[i] for i in ids if i in verdicts})
    rows: list[dict[str, Any]] = []
    page, cursor = console.page_request(None, None, "5"), None
    while True:
        found, cursor = lists.district_rows(_query(items), page, cy, "CY", take, sort, cursor)
        rows += found
        if cursor is None:
            return rows
        if sort is None:
            page = console.page_request(None, cursor, "5")


def test_registrations_filtered_keep_their_pages_and_find_each_match_once(
    config: SeasonConfig, cy: StaffMember
) -> None:
    items, verdicts = _district(40)
    pending = _pages(config, cy, items, verdicts, status="pending")
    assert [r["registration_id"] for r in pending] == [
        str(i["registration_id"])
        for i in sorted(items, key=lambda i: (i["grade"], str(i["registration_id"])))
        if str(i["registration_id"]) not in verdicts
    ]
    assert all(r["verification"] is None for r in pending)
    at_school = _pages(config, cy, items, verdicts, school=SCHOOLS[1])
    assert at_school and all(r["target_school"]["id"] == SCHOOLS[1] for r in at_school)
    assert len(at_school) == sum(i["target_school"] == SCHOOLS[1] for i in items)
    named = _pages(config, cy, items, verdicts, q="李华")
    assert named and all(r["child"]["name"].startswith("李") for r in named)
    tail = str(items[5]["masked_id"])[-4:]
    by_tail = _pages(config, cy, items, verdicts, q=tail)
    assert items[5]["registration_id"] in {r["registration_id"] for r in by_tail}
    reason = _pages(config, cy, items, verdicts, reason="deed-after-cutoff")
    assert reason and all(verdicts[r["registration_id"]].reasons == ["deed-after-cutoff"] for r in reason)


def test_registrations_sorted_page_through_every_row_once_in_order(
    config: SeasonConfig, cy: StaffMember
) -> None:
    items, verdicts = _district(40)
    rows = _pages(config, cy, items, verdicts, sort="created_at", order="desc")
    assert len(rows) == 40 == len({r["registration_id"] for r in rows})
    keys = [(r["created_at"], r["registration_id"]) for r in rows]
    assert keys == sorted(keys, reverse=True)
    by_status = _pages(config, cy, items, verdicts, sort="status", grade="", category="public")
    assert [r["verification"] or "pending" for r in by_status] == sorted(
        r["verification"] or "pending" for r in by_status
    )


def test_too_many_rows_to_sort_is_refused_naming_sort(
    config: SeasonConfig, cy: StaffMember, monkeypatch: pytest.MonkeyPatch
) -> None:
    items, verdicts = _district(20)
    monkeypatch.setattr(search, "SORT_MAX", 10)
    with pytest.raises(BadSearch) as e:
        _pages(config, cy, items, verdicts, sort="created_at")
    assert e.value.field == "sort" and "缩小范围" in e.value.message_zh


def test_a_row_of_another_district_is_refused_not_hidden(config: SeasonConfig, cy: StaffMember) -> None:
    items, verdicts = _district(8)
    items[3] = items[3] | {"district": "CH"}
    with pytest.raises(Forbidden):
        _pages(config, cy, items, verdicts, q="李华")
    with pytest.raises(Forbidden):
        _pages(config, cy, items, verdicts, sort="grade")


# Reporting day by notice and code -------------------------------------------------------------------


class Notices:
    """The notice store's two reads a check makes (DynamoNoticeStore's), as plain dicts."""

    def __init__(self) -> None:
        self.current: dict[str, dict[str, Any]] = {}
        self.revoked: dict[tuple[str, str], dict[str, Any]] = {}

    def notice(self, rid: str) -> dict[str, Any] | None:
        return self.current.get(rid)

    def revoked_notice(self, rid: str, code: str) -> dict[str, Any] | None:
        return self.revoked.get((rid, code))


class Arrivals:
    def __init__(self) -> None:
        self.marked: dict[tuple[str, str], dict[str, Any]] = {}

    def mark_arrival(self, season: str, school_id: str, registration_id: str, item: dict[str, Any]) -> bool:
        if (school_id, registration_id) in self.marked:
            return False
        self.marked[(school_id, registration_id)] = item
        return True

    def arrivals(self, season: str, school_id: str) -> set[str]:
        return {rid for s, rid in self.marked if s == school_id}


RID = ("R-AAAA-AAAA-AAAA-AAAA", "R-BBBB-BBBB-BBBB-BBBB", "R-CCCC-CCCC-CCCC-CCCC", "R-DDDD-DDDD-DDDD-DDDD")


def _desk(config: SeasonConfig) -> tuple[Notices, dict[str, str | None], dict[str, dict[str, Any]]]:
    notices = Notices()
    placed: dict[str, str | None] = {}
    for n, rid in enumerate(RID):
        school = "S-CY-01" if n != 2 else "S-CY-02"
        notices.current[rid] = {
            "registration_id": rid,
            "school_id": school,
            "verification_code": f"ABCDE{n}FGHJ",
            "issued_on": "2023-07-20",
        }
        placed[rid] = school
    notices.current[RID[3]] |= {"status": "revoked", "revoked_on": "2023-07-25"}
    notices.revoked[(RID[3], "ABCDE3FGHJ")] = {
        "registration_id": RID[3],
        "school_id": "S-CY-01",
        "verification_code": "ABCDE3FGHJ",
        "revoked_on": "2023-07-25",
    }
    children = {rid: {"request": {"child": {"name": "王小明"}}} for rid in RID}
    return notices, placed, children


def _mark(
    config: SeasonConfig, staff: StaffMember, rows: list[tuple[str, str]], store: Arrivals, notices: Notices
) -> dict[str, Any]:
    _, placed, children = _desk(config)

    def check(rid: str, code: str) -> dict[str, Any]:
        return corrected.check(config, "CY", rid, code, store=notices)

    return reporting.mark_notices(
        config,
        SEASON,
        "S-CY-01",
        rows,
        check,
        placed,
        children,
        staff=staff,
        store=store,
        at="2023-08-30T09:00",
    )


def test_a_notice_and_its_code_record_the_arrival_and_the_rest_are_refused_row_by_row(
    config: SeasonConfig, cy: StaffMember
) -> None:
    notices, store = _desk(config)[0], Arrivals()
    school = config.school_index["S-CY-01"].name
    # typed as the desk types it: any case, the code with or without its hyphen
    out = _mark(
        config,
        cy,
        [(RID[0], "abcde-0fghj"), (RID[1], "ABCDE0FGHJ"), (RID[2], "ABCDE2FGHJ"), (RID[3], "ABCDE3FGHJ")],
        store,
        notices,
    )
    assert (out["arrived"], out["already"], out["refused"]) == (1, 0, 3)
    first, wrong, elsewhere, revoked = out["results"]
    assert first["status"] == "arrived" and first["child_name"] == "王*明" and first["school_name"] == school
    assert wrong["status"] == "refused" and wrong["message"].startswith("核验码不符")
    assert elsewhere["status"] == "refused" and "不是本校录取的学生" in elsewhere["message"]
    assert revoked["status"] == "refused" and revoked["reason"] == "revoked"
    assert revoked["message"].startswith("该通知书") and "作废" in revoked["message"]
    assert set(store.marked) == {("S-CY-01", RID[0])}  # nothing recorded for the refused rows
    again = _mark(config, cy, [(RID[0], "ABCDE0FGHJ")], store, notices)
    assert again["already"] == 1 and again["results"][0]["message"].startswith("已登记过报到")
    assert set(store.marked) == {("S-CY-01", RID[0])}


def test_another_districts_staff_record_nothing(config: SeasonConfig) -> None:
    ch = StaffDirectory.load("jilin-2023").lookup("ch-staff-01")
    notices, store = _desk(config)[0], Arrivals()
    with pytest.raises(Forbidden) as e:
        _mark(config, ch, [(RID[0], "ABCDE0FGHJ")], store, notices)
    assert "CY" not in e.value.message_zh and store.marked == {}
