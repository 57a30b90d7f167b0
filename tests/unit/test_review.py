"""Staff review with an in-memory store: queues per district, who may sign, signatures append-only.

R-VER-3 (谁审谁签字), R-VER-4, R-DATA-2 (staff see only their own district).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Conflict, NotFound
from enrollment.core.staff import (
    Forbidden,
    StaffDirectory,
    StaffDirectoryError,
    StaffMember,
    UnknownStaff,
    can_decide,
    can_read,
)
from enrollment.verification import review
from enrollment.verification.review import CaseNotFound, InvalidDecision, check_supersedes, verdict_supersedes
from enrollment.verification.spotcheck import SpotCheckOutcome, SpotCheckSample
from enrollment.verification.verdicts import Check, CheckStatus, Decision, Verdict, VerdictStatus
from enrollment.verification.visits import OpenVisit

SEASON = "2023"
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2023, 6, 12, 9, 0, tzinfo=TZ)


class FakeVerificationStore:
    """The `VerificationStore` port in memory, following the same write rules as the DynamoDB adapter."""

    def __init__(self) -> None:
        self.check_items: dict[tuple[str, str], Check] = {}
        self.verdict_items: dict[str, Verdict] = {}
        self.decision_items: dict[str, list[Decision]] = {}
        self.samples: dict[tuple[str, str], SpotCheckSample] = {}
        self.outcomes: dict[str, SpotCheckOutcome] = {}
        self.visit_items: dict[str, OpenVisit] = {}

    def put_check(self, check: Check) -> bool:
        key = (check.registration_id, check.agency)
        if not check_supersedes(self.check_items.get(key), check):
            return False
        self.check_items[key] = check
        return True

    def checks(self, registration_id: str) -> list[Check]:
        return [c for (rid, _), c in sorted(self.check_items.items()) if rid == registration_id]

    def put_verdict(self, verdict: Verdict) -> bool:
        if not verdict_supersedes(self.verdict_items.get(verdict.registration_id), verdict):
            return False
        self.verdict_items[verdict.registration_id] = verdict
        return True

    def verdict(self, registration_id: str) -> Verdict | None:
        return self.verdict_items.get(registration_id)

    def verdicts(
        self, season: str, district: str | None = None, status: VerdictStatus | None = None
    ) -> list[Verdict]:
        return sorted(
            (
                v
                for v in self.verdict_items.values()
                if v.season == season
                and (district is None or v.district == district)
                and (status is None or v.status == status)
            ),
            key=lambda v: v.registration_id,
        )

    def queue_page(
        self, season: str, district: str, after: str | None, limit: int
    ) -> tuple[list[Verdict], bool]:
        queued = [
            v
            for v in self.verdicts(season, district)
            if v.status in review.NEEDS_REVIEW
            and v.decided_by == review.SYSTEM
            and (after is None or v.registration_id > after)
        ]
        return queued[:limit], len(queued) > limit

    def append_decision(self, decision: Decision) -> bool:
        kept = self.decision_items.setdefault(decision.registration_id, [])
        if decision in kept:
            return False
        kept.append(decision)
        return True

    def decisions(self, registration_id: str) -> list[Decision]:
        kept = self.decision_items.get(registration_id, [])
        return sorted(kept, key=lambda d: review.utc_instant(d.at))

    def put_spot_check_sample(self, sample: SpotCheckSample) -> bool:
        key = (sample.season, sample.district)
        existing = self.samples.get(key)
        if existing is None:
            self.samples[key] = sample
            return True
        if existing.same_draw(sample):
            return False
        raise Conflict("another sample")

    def spot_check_sample(self, season: str, district: str) -> SpotCheckSample | None:
        return self.samples.get((season, district))

    def put_spot_check(self, outcome: SpotCheckOutcome) -> bool:
        existing = self.outcomes.get(outcome.registration_id)
        if existing is None:
            self.outcomes[outcome.registration_id] = outcome
            return True
        if existing.same_as(outcome):
            return False
        raise Conflict("another outcome")

    def spot_checks(self, season: str, district: str) -> list[SpotCheckOutcome]:
        return sorted(
            (o for o in self.outcomes.values() if o.season == season and o.district == district),
            key=lambda o: o.registration_id,
        )

    def put_visit(self, visit: OpenVisit) -> None:
        self.visit_items[visit.registration_id] = visit

    def drop_visit(self, registration_id: str) -> None:
        self.visit_items.pop(registration_id, None)

    def visits_page(
        self, season: str, district: str, after: str | None, limit: int
    ) -> tuple[list[OpenVisit], bool]:
        listed = [v for v in self.open_visits(season, district) if after is None or v.registration_id > after]
        return listed[:limit], len(listed) > limit

    def open_visits(self, season: str, district: str) -> Iterator[OpenVisit]:
        for rid in sorted(self.visit_items):
            v = self.visit_items[rid]
            if v.season == season and v.district == district:
                yield v


def make_verdict(
    rid: str,
    district: str,
    status: VerdictStatus,
    *,
    at: datetime = T0,
    by: str = "system",
    zone_id: str | None = None,
) -> Verdict:
    return Verdict(
        registration_id=rid,
        season=SEASON,
        grade=1,
        district=district,
        category="public",
        status=status,
        zone_id=zone_id,
        facts={"hukou-in-zone": status == "eligible"},
        reasons=[] if status == "eligible" else ["deed-address-mismatch"],
        decided_at=at,
        decided_by=by,
    )


@pytest.fixture(scope="module")
def directory() -> StaffDirectory:
    return StaffDirectory.load("jilin-2023")


@pytest.fixture
def cy(directory: StaffDirectory) -> StaffMember:
    return directory.lookup("cy-staff-01")


@pytest.fixture
def ch(directory: StaffDirectory) -> StaffMember:
    return directory.lookup("ch-staff-01")


@pytest.fixture
def city(directory: StaffDirectory) -> StaffMember:
    return directory.lookup("city-staff-01")


@pytest.fixture
def auditor(directory: StaffDirectory) -> StaffMember:
    return directory.lookup("auditor-01")


@pytest.fixture
def store() -> FakeVerificationStore:
    s = FakeVerificationStore()
    for v in [
        make_verdict("R-CY-03", "CY", "review"),
        make_verdict("R-CY-01", "CY", "not-eligible"),
        make_verdict("R-CY-02", "CY", "eligible", zone_id="CY-Z1"),
        make_verdict("R-CH-01", "CH", "review"),
        make_verdict("R-CH-02", "CH", "not-eligible"),
    ]:
        s.put_verdict(v)
    return s


# The staff directory -------------------------------------------------------------------------


def test_the_seed_directory_has_reviewers_in_every_district_a_city_user_an_auditor_and_the_community(
    directory: StaffDirectory, season: SeasonConfig
) -> None:
    assert directory.districts() == {d.code for d in season.districts}
    roles = sorted(m.role for m in directory)
    assert roles.count("district") >= len(season.districts)
    assert roles.count("city") == 1 and roles.count("auditor") == 1
    # staff sign in with OIDC user names; only the community office's system is an IAM identity
    for m in directory:
        assert m.principal.startswith("arn:aws:iam::123456789012:") == (m.role == "community")
        assert m.name or m.role == "community"


def test_an_unknown_caller_is_refused_with_403(directory: StaffDirectory) -> None:
    for principal in ("someone-else", "", None):
        with pytest.raises(UnknownStaff) as err:
            directory.lookup(principal)
        assert err.value.status == 403 and "未授权" in err.value.message_zh


@pytest.mark.parametrize(
    "entry",
    [
        {"principal": "p", "role": "district"},  # a district reviewer without a district
        {"principal": "p", "role": "city", "district": "CY"},  # the city belongs to no district
        {"principal": "p", "role": "parent"},
        {"principal": "p", "role": "auditor", "phone": "x"},  # unknown field
    ],
)
def test_invalid_directory_entries_are_refused(entry: dict[str, str]) -> None:
    with pytest.raises(StaffDirectoryError) as err:
        StaffDirectory.from_mapping({"staff": [entry]}, "staff.yaml")
    assert "staff.yaml: staff.0" in str(err.value)


def test_a_principal_listed_twice_is_refused() -> None:
    entry = {"principal": "p", "role": "auditor"}
    with pytest.raises(StaffDirectoryError, match="listed twice"):
        StaffDirectory.from_mapping({"staff": [entry, entry]})


def test_access_rules(cy: StaffMember, city: StaffMember, auditor: StaffMember) -> None:
    assert (can_read(cy, "CY"), can_read(cy, "CH"), can_decide(cy, "CY"), can_decide(cy, "CH")) == (
        True,
        False,
        True,
        False,
    )
    assert can_read(city, "CH") and can_read(auditor, "CH")
    assert not can_decide(city, "CY") and not can_decide(auditor, "CY")


# The review queue -------------------------------------------------------------------------------


def test_the_queue_holds_a_districts_review_and_not_eligible_cases_sorted_by_id(
    store: FakeVerificationStore, cy: StaffMember, city: StaffMember, auditor: StaffMember
) -> None:
    queue = review.review_queue(store, cy, SEASON, "CY")
    assert [v.registration_id for v in queue] == ["R-CY-01", "R-CY-03"]
    assert [v.registration_id for v in review.review_queue(store, city, SEASON, "CH")] == [
        "R-CH-01",
        "R-CH-02",
    ]
    assert [v.registration_id for v in review.review_queue(store, auditor, SEASON, "CH")] == [
        "R-CH-01",
        "R-CH-02",
    ]


def test_district_staff_cannot_read_another_districts_queue(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    with pytest.raises(Forbidden) as err:
        review.review_queue(store, cy, SEASON, "CH")
    assert err.value.status == 403 and "仅限本区" in err.value.message_zh


def test_a_signed_case_leaves_the_queue(store: FakeVerificationStore, cy: StaffMember) -> None:
    review.decide(store, cy, "R-CY-01", "confirm", None, "材料核实无误", T0 + timedelta(days=1))
    assert [v.registration_id for v in review.review_queue(store, cy, SEASON, "CY")] == ["R-CY-03"]
    signed = review.review_queue(store, cy, SEASON, "CY", include_signed=True)
    assert [v.registration_id for v in signed] == ["R-CY-01", "R-CY-03"]


def test_the_queue_comes_in_pages_that_show_every_case_once_in_order(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    for n in range(4, 9):
        store.put_verdict(make_verdict(f"R-CY-{n:02d}", "CY", "review" if n % 2 else "not-eligible"))
    whole = [v.registration_id for v in review.review_queue(store, cy, SEASON, "CY")]
    assert len(whole) == 7
    for limit in (1, 2, 3, 7, 100):
        seen: list[str] = []
        after: str | None = None
        while True:
            cases, after = review.review_page(store, cy, SEASON, "CY", review.QueuePage(after, limit))
            assert 1 <= len(cases) <= limit
            seen += [v.registration_id for v in cases]
            if after is None:
                break
            assert after == seen[-1]
        assert seen == whole, limit


def test_a_case_signed_between_pages_moves_no_other_case(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    for n in range(4, 8):
        store.put_verdict(make_verdict(f"R-CY-{n:02d}", "CY", "not-eligible"))
    first, after = review.review_page(store, cy, SEASON, "CY", review.QueuePage(None, 2))
    assert [v.registration_id for v in first] == ["R-CY-01", "R-CY-03"] and after == "R-CY-03"
    # the reviewer signs the first case and a case of the next page, then asks for the next page
    review.decide(store, cy, "R-CY-01", "confirm", None, "材料核实无误", T0 + timedelta(days=1))
    review.decide(store, cy, "R-CY-05", "confirm", None, "材料核实无误", T0 + timedelta(days=1))
    rest, after = review.review_page(store, cy, SEASON, "CY", review.QueuePage(after, 2))
    assert [v.registration_id for v in rest] == ["R-CY-04", "R-CY-06"] and after == "R-CY-06"
    last, after = review.review_page(store, cy, SEASON, "CY", review.QueuePage(after, 2))
    assert [v.registration_id for v in last] == ["R-CY-07"] and after is None


def test_an_empty_queue_is_one_empty_page(
    store: FakeVerificationStore, cy: StaffMember, city: StaffMember
) -> None:
    assert review.review_page(store, city, SEASON, "C", review.QueuePage(None, 100)) == ([], None)
    for rid in ("R-CY-01", "R-CY-03"):
        review.decide(store, cy, rid, "override", "eligible", "现场核验原件", T0 + timedelta(days=1))
    assert review.review_page(store, cy, SEASON, "CY", review.QueuePage(None, 100)) == ([], None)
    with pytest.raises(Forbidden):
        review.review_page(store, cy, SEASON, "CH", review.QueuePage(None, 100))


def test_queue_paging_parameters_are_checked_and_named() -> None:
    assert review.queue_page_request(None, None) == review.QueuePage(None, review.QUEUE_PAGE_DEFAULT)
    assert review.queue_page_request("", "") == review.QueuePage(None, review.QUEUE_PAGE_DEFAULT)
    rid = "R-ABCD-EFGH-JKLM-NP23"
    assert review.queue_page_request(rid, "500") == review.QueuePage(rid, 500)
    for cursor, limit, named in [
        (None, "0", "limit"),
        (None, "501", "limit"),
        (None, "-1", "limit"),
        (None, "ten", "limit"),
        ("R-CY-01", None, "cursor"),
        ("1:" + rid, None, "cursor"),
        (rid.lower(), None, "cursor"),
    ]:
        with pytest.raises(review.BadPage) as err:
            review.queue_page_request(cursor, limit)
        assert err.value.status == 422 and err.value.field == named and named in err.value.message_zh


# Who may sign -----------------------------------------------------------------------------------


def test_district_staff_cannot_decide_another_districts_case(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    before = store.verdict("R-CH-01")
    with pytest.raises(Forbidden):
        review.decide(store, cy, "R-CH-01", "override", "eligible", "越权改判", T0)
    assert store.verdict("R-CH-01") == before and store.decisions("R-CH-01") == []


@pytest.mark.parametrize("who", ["auditor", "city"])
def test_auditors_and_the_city_cannot_decide(
    store: FakeVerificationStore, request: pytest.FixtureRequest, who: str
) -> None:
    staff: StaffMember = request.getfixturevalue(who)
    with pytest.raises(Forbidden) as err:
        review.decide(store, staff, "R-CY-01", "confirm", None, "确认", T0)
    assert err.value.status == 403
    assert store.decisions("R-CY-01") == []


def test_an_unknown_registration_is_not_found(store: FakeVerificationStore, cy: StaffMember) -> None:
    with pytest.raises(CaseNotFound) as err:
        review.decide(store, cy, "R-NOPE", "confirm", None, "确认", T0)
    assert isinstance(err.value, NotFound) and err.value.status == 404
    with pytest.raises(CaseNotFound):
        review.history(store, cy, "R-NOPE")


# Signing: who, when, why (R-VER-3) --------------------------------------------------------------


def test_confirm_keeps_the_outcome_and_records_who_when_why(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    # Given a not-eligible case of CY
    now = T0 + timedelta(days=1)
    # When CY's reviewer confirms it
    d = review.decide(store, cy, "R-CY-01", "confirm", None, "  房户不一致，已电话核实  ", now)
    # Then the decision says who, when and why, and the verdict carries the signature
    assert (d.actor, d.at, d.reason, d.action, d.outcome, d.district) == (
        cy.principal,
        now,
        "房户不一致，已电话核实",
        "confirm",
        "not-eligible",
        "CY",
    )
    v = store.verdict("R-CY-01")
    assert v is not None and (v.status, v.decided_by, v.decided_at) == ("not-eligible", cy.principal, now)
    assert v.reasons == ["deed-address-mismatch"]  # the system's findings stay on record


def test_confirm_without_a_reason_records_a_standard_one(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    d = review.decide(store, cy, "R-CY-02", "confirm", "eligible", "", T0 + timedelta(hours=1))
    assert d.reason == review.CONFIRM_REASON and d.outcome == "eligible" and d.zone_id == "CY-Z1"


def test_override_changes_the_outcome_and_needs_a_reason(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    now = T0 + timedelta(days=2)
    for reason in ("", " ", "好"):
        with pytest.raises(InvalidDecision) as err:
            review.decide(store, cy, "R-CY-03", "override", "eligible", reason, now)
        assert err.value.status == 422
    assert store.decisions("R-CY-03") == []

    d = review.decide(
        store, cy, "R-CY-03", "override", "eligible", "社区补充证明实际居住", now, zone_id="CY-Z2"
    )
    v = store.verdict("R-CY-03")
    assert v is not None and (v.status, v.zone_id, v.decided_by) == ("eligible", "CY-Z2", cy.principal)
    assert (d.action, d.outcome, d.zone_id) == ("override", "eligible", "CY-Z2")


def test_a_reviewer_verifies_a_priority_claim_and_the_child_then_ranks_first(
    store: FakeVerificationStore, cy: StaffMember
) -> None:
    # R-PRIO-1: a claim goes to review (no agency answers it); the reviewer's finding is recorded
    claim = make_verdict("R-CY-09", "CY", "review", zone_id="CY-Z1").model_copy(
        update={
            "facts": {"hukou-in-zone": True, "policy-priority": False},
            "reasons": ["priority-not-verified"],
        }
    )
    store.put_verdict(claim)
    d = review.decide(
        store,
        cy,
        "R-CY-09",
        "override",
        "eligible",
        "核验现役军人证明",
        T0 + timedelta(days=1),
        priority_verified=True,
    )
    v = store.verdict("R-CY-09")
    assert d.priority_verified is True and v is not None and v.facts["policy-priority"] is True
    # a case without a claim has nothing to verify
    with pytest.raises(InvalidDecision):
        review.decide(
            store, cy, "R-CY-02", "confirm", None, "", T0 + timedelta(days=1), priority_verified=True
        )


@pytest.mark.parametrize(
    ("rid", "action", "outcome"),
    [
        ("R-CY-03", "confirm", None),  # a case under review has no outcome to confirm
        ("R-CY-01", "confirm", "eligible"),  # confirm cannot change the outcome
        ("R-CY-01", "override", "not-eligible"),  # override to the same outcome
        ("R-CY-01", "override", None),
        ("R-CY-01", "approve", "eligible"),
    ],
)
def test_decisions_that_make_no_sense_are_refused(
    store: FakeVerificationStore, cy: StaffMember, rid: str, action: str, outcome: str | None
) -> None:
    with pytest.raises(InvalidDecision):
        review.decide(store, cy, rid, action, outcome, "理由充分", T0)  # type: ignore[arg-type]
    assert store.decisions(rid) == []


def test_confirm_cannot_move_the_zone(store: FakeVerificationStore, cy: StaffMember) -> None:
    with pytest.raises(InvalidDecision):
        review.decide(store, cy, "R-CY-02", "confirm", None, "确认", T0, zone_id="CY-Z9")


# History: append-only, in time order -------------------------------------------------------------


def test_a_second_decision_appends_and_never_replaces(
    store: FakeVerificationStore, cy: StaffMember, ch: StaffMember, auditor: StaffMember
) -> None:
    first = review.decide(
        store, cy, "R-CY-01", "override", "eligible", "补交房产证明", T0 + timedelta(days=1)
    )
    second = review.decide(
        store, cy, "R-CY-01", "override", "not-eligible", "证明系伪造", T0 + timedelta(days=3)
    )

    assert review.history(store, cy, "R-CY-01") == [first, second]
    assert review.history(store, auditor, "R-CY-01") == [first, second]
    v = store.verdict("R-CY-01")
    assert v is not None and v.status == "not-eligible" and v.decided_at == second.at
    with pytest.raises(Forbidden):
        review.history(store, ch, "R-CY-01")


def test_history_is_in_time_order_whatever_the_order_of_writing(store: FakeVerificationStore) -> None:
    later = Decision(
        registration_id="R-CY-01",
        district="CY",
        action="confirm",
        outcome="not-eligible",
        reason="复核",
        actor="a",
        at=T0 + timedelta(hours=2),
    )
    earlier = later.model_copy(update={"at": T0 + timedelta(hours=1), "actor": "b"})
    store.append_decision(later)
    store.append_decision(earlier)
    staff = StaffMember(principal="x", role="auditor")
    assert [d.actor for d in review.history(store, staff, "R-CY-01")] == ["b", "a"]


def test_a_retried_decision_is_recorded_once(store: FakeVerificationStore, cy: StaffMember) -> None:
    now = T0 + timedelta(days=1)
    review.decide(store, cy, "R-CY-01", "confirm", None, "确认", now)
    review.decide(store, cy, "R-CY-01", "confirm", None, "确认", now)
    assert len(review.history(store, cy, "R-CY-01")) == 1


# The write rules every store follows -----------------------------------------------------------


def _check(status: CheckStatus, reason: str = "found") -> Check:
    return Check(registration_id="R-1", agency="community", status=status, asked_at=T0, reason=reason)


@pytest.mark.parametrize(
    ("old", "new", "replaces"),
    [
        (None, "pending", True),
        ("pending", "answered", True),
        ("unanswered", "answered", True),
        ("pending", "not-confirmed", True),
        ("answered", "answered", False),  # an agency answers once: a retry does not write again
        ("answered", "not-confirmed", False),
        ("not-confirmed", "answered", False),
        ("pending", "pending", False),
        ("pending", "unanswered", False),
    ],
)
def test_check_supersedes(old: CheckStatus | None, new: CheckStatus, replaces: bool) -> None:
    assert check_supersedes(_check(old) if old else None, _check(new)) is replaces


def test_an_agencys_awaited_answer_closes_as_unanswered_a_home_visit_does_not() -> None:
    """At the verification deadline an agency's pending check (an answer file that never came) is
    closed as unanswered; a pending home visit closes only as not confirmed, at its own deadline."""
    awaited = Check(registration_id="R-1", agency="planning", status="pending", asked_at=T0, reason="file")
    closed = awaited.model_copy(update={"status": "unanswered", "reason": "deadline-passed"})
    assert check_supersedes(awaited, closed)
    assert not check_supersedes(closed, awaited)
    assert not check_supersedes(_check("pending"), _check("unanswered"))  # community


def test_a_system_verdict_never_replaces_a_signed_one_and_older_never_replaces_newer() -> None:
    system = make_verdict("R-1", "CY", "review")
    signed = make_verdict("R-1", "CY", "eligible", at=T0 + timedelta(hours=1), by="arn:…/cy-staff-01")
    assert verdict_supersedes(system, signed)
    assert not verdict_supersedes(
        signed, make_verdict("R-1", "CY", "not-eligible", at=T0 + timedelta(days=1))
    )
    assert verdict_supersedes(system, make_verdict("R-1", "CY", "eligible", at=T0 + timedelta(minutes=1)))
    assert not verdict_supersedes(system, make_verdict("R-1", "CY", "eligible", at=T0 - timedelta(minutes=1)))
    assert not verdict_supersedes(signed, signed.model_copy(update={"decided_at": T0}))
