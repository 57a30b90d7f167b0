"""Bulk signing of review cases (issue 19) with an in-memory store: each case signed by the single
decision use case, one record each with who, when and why (R-VER-3); refusals per case; a request
wrong as a whole signs nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from enrollment.core.staff import Forbidden, StaffDirectory, StaffMember
from enrollment.verification import bulk, review
from enrollment.verification.bulk import BulkRefused
from tests.unit.test_review import T0, FakeVerificationStore, make_verdict


@pytest.fixture(scope="module")
def directory() -> StaffDirectory:
    return StaffDirectory.load("jilin-2023")


@pytest.fixture
def cy(directory: StaffDirectory) -> StaffMember:
    return directory.lookup("cy-staff-01")


@pytest.fixture
def store() -> FakeVerificationStore:
    s = FakeVerificationStore()
    for v in [
        make_verdict("R-CY-01", "CY", "not-eligible"),
        make_verdict("R-CY-02", "CY", "not-eligible"),
        make_verdict("R-CY-03", "CY", "review"),
        make_verdict("R-CH-01", "CH", "not-eligible"),
    ]:
        s.put_verdict(v)
    return s


def test_each_case_is_signed_on_its_own_and_refusals_are_reported_per_case(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    # Given two not-eligible cases, one under review, another district's and an unknown id
    ids = ["R-CY-01", "R-CY-03", "R-CH-01", "R-CY-02", "R-NOPE"]
    now = T0 + timedelta(days=1)
    # When CY's clerk confirms them all with a preset reason and a note
    answer = bulk.decide_many(store, cy, "CY", ids, "confirm", None, "documents-missing", " 已告知家长 ", now)
    # Then the two not-eligible cases are signed, each with its own record: who, when and why
    reason = "未能提供有效证明材料；已告知家长"
    assert answer["reason"] == reason and (answer["signed"], answer["refused"]) == (2, 3)
    assert [r["registration_id"] for r in answer["results"]] == ids
    for rid in ("R-CY-01", "R-CY-02"):
        [d] = store.decisions(rid)
        assert (d.actor, d.at, d.reason, d.action, d.outcome) == (
            cy.principal,
            now,
            reason,
            "confirm",
            "not-eligible",
        )
        v = store.verdict(rid)
        assert v is not None and v.decided_by == cy.principal
    # and each of the others says why in Chinese, with nothing recorded for it
    refused = {r["registration_id"]: r for r in answer["results"] if not r["signed"]}
    assert refused["R-CY-03"]["status"] == 422 and "改判" in refused["R-CY-03"]["message"]
    assert refused["R-CH-01"]["status"] == 403 and "仅限本区" in refused["R-CH-01"]["message"]
    assert refused["R-NOPE"]["status"] == 404 and "R-NOPE" in refused["R-NOPE"]["message"]
    assert store.decisions("R-CY-03") == [] and store.decisions("R-CH-01") == []
    assert all("message_en" not in r for r in answer["results"])


def test_an_override_in_bulk_needs_an_outcome_per_case_as_a_single_one_does(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    answer = bulk.decide_many(
        store, cy, "CY", ["R-CY-03", "R-CY-01"], "override", "eligible", "phone-confirmed", "", T0
    )
    assert answer["signed"] == 2 and answer["reason"] == bulk.PRESET_REASONS["phone-confirmed"]
    assert {store.verdict(r).status for r in ("R-CY-03", "R-CY-01")} == {"eligible"}  # type: ignore[union-attr]
    # overriding to the outcome a case now has is refused for that case (use confirm)
    again = bulk.decide_many(
        store, cy, "CY", ["R-CY-01", "R-CY-02"], "override", "eligible", None, "再次改判", T0
    )
    assert [r["signed"] for r in again["results"]] == [False, True]


def test_a_case_changed_meanwhile_is_not_confirmed_to_an_outcome_the_clerk_did_not_see(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    # Given the clerk saw two not-eligible cases, and a colleague has meanwhile made one eligible
    review.decide(store, cy, "R-CY-02", "override", "eligible", "补交房产证原件", T0)
    # When the clerk confirms both as not eligible
    answer = bulk.decide_many(
        store, cy, "CY", ["R-CY-01", "R-CY-02"], "confirm", "not-eligible", "documents-missing", "", T0
    )
    # Then the changed one is refused, and its only record is the colleague's
    assert [r["signed"] for r in answer["results"]] == [True, False]
    assert "确认不能改变审核结论" in answer["results"][1]["message"]
    assert [d.reason for d in store.decisions("R-CY-02")] == ["补交房产证原件"]


@pytest.mark.parametrize(
    ("ids", "preset", "note", "field"),
    [
        (["R-CY-01"], "no-such-preset", "", "preset"),
        (["R-CY-01"], None, "  ", "reason"),
        (["R-CY-01"], None, "好", "reason"),
        (["R-CY-01"], "documents-missing", "字" * 500, "note"),
        ([], "documents-missing", "", "registration_ids"),
        ([f"R-CY-{i:03d}" for i in range(bulk.BULK_MAX + 1)], "documents-missing", "", "registration_ids"),
        (["R-CY-01", "R-CY-02", "R-CY-01"], "documents-missing", "", "registration_ids"),
    ],
)
def test_a_request_wrong_as_a_whole_signs_nothing_and_names_its_field(
    store: FakeVerificationStore, cy: StaffMember, ids: list[str], preset: str | None, note: str, field: str
) -> None:
    with pytest.raises(BulkRefused) as err:
        bulk.decide_many(store, cy, "CY", ids, "confirm", None, preset, note, T0)
    assert err.value.status == 422 and err.value.field == field and err.value.message_zh
    assert all(store.decisions(r) == [] for r in ("R-CY-01", "R-CY-02"))


@pytest.mark.parametrize("who", ["ch-staff-01", "city-staff-01", "auditor-01"])
def test_only_the_districts_own_staff_sign_its_cases(
    store: FakeVerificationStore, directory: StaffDirectory, who: str
) -> None:
    with pytest.raises(Forbidden):
        bulk.decide_many(
            store, directory.lookup(who), "CY", ["R-CY-01"], "confirm", None, "documents-missing", "", T0
        )
    assert store.decisions("R-CY-01") == []


def test_the_presets_are_chinese_words_without_codes() -> None:
    listed = bulk.presets()
    assert [p["id"] for p in listed] == list(bulk.PRESET_REASONS)
    for p in listed:
        assert 2 <= len(p["text_zh"]) <= 40 and not any(c.isascii() and c.isalpha() for c in p["text_zh"])
