"""Search and filters on the review queue (issue 19) with an in-memory store: the queue's order and
cursors kept, each filter and each kind of search matched on what the stores hold, a full ID number
matched only by its keyed form, bad parameters named.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from enrollment.core.staff import Forbidden, StaffDirectory, StaffMember
from enrollment.registration.registrar import registration_id
from enrollment.verification import queue_search
from enrollment.verification.queue_search import BadSearch, QueueFilter
from enrollment.verification.review import QueuePage
from enrollment.verification.verdicts import Verdict
from tests.unit.test_review import SEASON, T0, FakeVerificationStore

SCHOOLS = ("S-CY-01", "S-CY-02")


class FakeKeyer:
    """A keyed hash like KMS's (not the same key): what matters is that the form and the search agree."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        self.asked.append(id_type)
        return hashlib.sha256(f"test-key|{season}|{id_type}|{id_number.upper()}".encode()).hexdigest()


KEYER = FakeKeyer()
ID_NUMBERS = [f"22020220170101{n:03d}{'X' if n % 5 == 0 else n % 10}" for n in range(12)]


def _case(n: int) -> tuple[Verdict, dict[str, Any]]:
    rid = registration_id(KEYER.child_key(SEASON, "resident-id", ID_NUMBERS[n]))
    verdict = Verdict(
        registration_id=rid,
        season=SEASON,
        grade=1 if n % 2 else 7,
        district="CY",
        category="public" if n % 3 else "private",
        status="review" if n % 4 == 0 else "not-eligible",
        zone_id=None,
        facts={},
        reasons=["deed-after-cutoff"] if n % 3 == 0 else ["deed-address-mismatch"],
        decided_at=T0,
        decided_by="system",
    )
    item = {
        "registration_id": rid,
        "district": "CY",
        "target_school": SCHOOLS[n % 2],
        "masked_id": "*" * 14 + ID_NUMBERS[n][-4:],
        "request": {
            "child": {"name": ["王小明", "李华", "张伟", "王芳"][n % 4] + "一二三"[n % 3]},
            "guardians": [{"name": "监护人", "phone": f"1380000{n:04d}"}],
        },
    }
    return verdict, item


@pytest.fixture(scope="module")
def cy() -> StaffMember:
    return StaffDirectory.load("jilin-2023").lookup("cy-staff-01")


@pytest.fixture
def world() -> tuple[FakeVerificationStore, dict[str, dict[str, Any]]]:
    store, items = FakeVerificationStore(), {}
    for n in range(len(ID_NUMBERS)):
        verdict, item = _case(n)
        store.put_verdict(verdict)
        items[verdict.registration_id] = item
    return store, items


def _filter(**params: str) -> QueueFilter:
    return queue_search.queue_filter(params, season=SEASON, schools=SCHOOLS, keyer=KEYER)


def _all(
    store: FakeVerificationStore,
    items: Mapping[str, Mapping[str, Any]],
    staff: StaffMember,
    flt: QueueFilter,
    limit: int,
) -> list[str]:
    """Every page's cases, following the cursors."""

    def registrations(ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        return {i: items[i] for i in ids if i in items}

    seen: list[str] = []
    after = None
    for _ in range(100):
        found, after = queue_search.search_page(
            store, staff, SEASON, "CY", QueuePage(after, limit), flt, registrations
        )
        assert len(found) <= limit
        seen += [case.registration_id for case, _ in found]
        if after is None:
            return seen
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"status": "review"}, lambda v, i: v.status == "review"),
        ({"reason": "deed-after-cutoff"}, lambda v, i: "deed-after-cutoff" in v.reasons),
        ({"grade": "7"}, lambda v, i: v.grade == 7),
        ({"category": "private"}, lambda v, i: v.category == "private"),
        ({"school": "S-CY-02"}, lambda v, i: i["target_school"] == "S-CY-02"),
        ({"q": "王"}, lambda v, i: "王" in i["request"]["child"]["name"]),
        ({"q": "13800000007"}, lambda v, i: i["request"]["guardians"][0]["phone"] == "13800000007"),
        ({"q": ID_NUMBERS[5][-4:].lower()}, lambda v, i: i["masked_id"].endswith(ID_NUMBERS[5][-4:])),
        ({"status": "not-eligible", "grade": "1", "q": "李"}, None),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 100])
def test_every_filter_keeps_the_queue_order_and_each_matching_case_once(
    world: tuple[FakeVerificationStore, dict[str, dict[str, Any]]],
    cy: StaffMember,
    params: dict[str, str],
    keep: Any,
    limit: int,
) -> None:
    store, items = world
    whole = sorted(items)
    if keep is None:  # several at once: every one of them holds
        verdicts = {rid: store.verdict(rid) for rid in whole}
        expected = [
            r
            for r in whole
            if verdicts[r].status == "not-eligible"  # type: ignore[union-attr]
            and verdicts[r].grade == 1  # type: ignore[union-attr]
            and "李" in items[r]["request"]["child"]["name"]
        ]
    else:
        expected = [r for r in whole if keep(store.verdict(r), items[r])]
    assert expected, params  # each filter finds something here, and not everything
    assert len(expected) < len(whole) or params == {}
    assert _all(store, items, cy, _filter(**params), limit) == expected


def test_a_registration_id_or_a_full_id_number_finds_that_case_only(
    world: tuple[FakeVerificationStore, dict[str, dict[str, Any]]], cy: StaffMember
) -> None:
    store, items = world
    rid = registration_id(KEYER.child_key(SEASON, "resident-id", ID_NUMBERS[3]))
    assert _all(store, items, cy, _filter(q=rid.lower()), 100) == [rid]
    # the full number becomes its keyed form at once: the filter holds no ID number
    flt = _filter(q=f" {ID_NUMBERS[3][:6]} {ID_NUMBERS[3][6:]} ")
    assert flt.query == ("registration", rid) and ID_NUMBERS[3] not in repr(flt)
    assert _all(store, items, cy, flt, 100) == [rid]
    # a number nobody registered: nothing, not an error
    assert _all(store, items, cy, _filter(q="220202201701019999"), 100) == []


def test_a_signed_case_is_not_found_in_the_queue(
    world: tuple[FakeVerificationStore, dict[str, dict[str, Any]]], cy: StaffMember
) -> None:
    store, items = world
    rid = sorted(items)[0]
    verdict = store.verdict(rid)
    assert verdict is not None
    store.put_verdict(verdict.model_copy(update={"decided_by": cy.principal, "status": "eligible"}))
    assert _all(store, items, cy, _filter(q=rid), 100) == []


def test_a_page_scans_at_most_scan_max_cases_and_goes_on_from_there(
    world: tuple[FakeVerificationStore, dict[str, dict[str, Any]]],
    cy: StaffMember,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, items = world
    monkeypatch.setattr(queue_search, "SCAN_MAX", 3)
    monkeypatch.setattr(queue_search, "_CHUNK", 2)
    last = sorted(items)[-1]
    found, after = queue_search.search_page(
        store, cy, SEASON, "CY", QueuePage(None, 10), _filter(q=last), lambda ids: {i: items[i] for i in ids}
    )
    assert found == [] and after == sorted(items)[2]  # three looked at, the next page goes on
    assert _all(store, items, cy, _filter(q=last), 10) == [last]


def test_another_districts_staff_find_nothing_of_it(
    world: tuple[FakeVerificationStore, dict[str, dict[str, Any]]],
) -> None:
    store, items = world
    ch = StaffDirectory.load("jilin-2023").lookup("ch-staff-01")
    with pytest.raises(Forbidden):
        _all(store, items, ch, _filter(q="王"), 100)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "eligible"}, "status"),
        ({"reason": "R-VER-4"}, "reason"),
        ({"grade": "3"}, "grade"),
        ({"category": "nonsense"}, "category"),
        ({"school": "S-XX-99"}, "school"),
        ({"q": "abc"}, "q"),
        ({"q": "12345"}, "q"),
        ({"q": "王" * 21}, "q"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(params: dict[str, str], field: str) -> None:
    with pytest.raises(BadSearch) as err:
        _filter(**params)
    assert err.value.status == 422 and err.value.field == field and err.value.message_zh


def test_no_parameters_is_no_filter() -> None:
    assert _filter().empty and _filter(q="  ", status="").empty
