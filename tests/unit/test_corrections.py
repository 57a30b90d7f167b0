"""Corrections after the results (issue 18): one use case, placement's rules, the whole season self-checked.

A small grade-1 season of 朝阳 (CY) is placed as the placement phase places it: S-CY-01 (5 seats) has
8 catchment children, S-CY-02 (6) three, S-CY-06 (3) three, ten children failed verification, a
private school of 3 seats drew among ten applicants, and one child with a disability was deferred.
Then it goes through 20 late registrations, 10 upheld appeals, a spot-check finding, 5 private and
3 public declines, a late committee plan, a deferral, an override and a transfer; each kind is also
refused once where it would break an invariant or a rule, and a refusal leaves the season as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from enrollment.archive import corrections as chain_format
from enrollment.archive.audit import audit
from enrollment.archive.contract import MANIFEST, LocalSigner, sha256_hex
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import SeasonState
from enrollment.core.staff import Forbidden, StaffMember
from enrollment.corrections.model import Correction, PlacementLine
from enrollment.corrections.season import (
    CorrectionRefused,
    CorrectionRequest,
    Planned,
    SeasonView,
    current_lines,
    eligible_of,
    plan_correction,
    season_problems,
)
from enrollment.lottery.pools import CeremonyInputs, Pools
from enrollment.placement import place as placing
from enrollment.placement.season import cases_of
from enrollment.registration import form, registrar
from enrollment.registration.form import RegistrationRefused
from enrollment.verification.verdicts import Verdict
from tests.memory_lottery import (
    MemoryArchive,
    MemoryLotteryStore,
    record_season,
    sealed_archive,
    small_season,
)
from tests.support import valid_body

YEAR = "2023"
DRAWN = datetime(2023, 6, 21, 10, 0, tzinfo=UTC)
JULY = datetime(2023, 7, 20, 2, 0, tzinfo=UTC)
PRIVATE = "P-CY-01"
PLANS = {"S-CY-01": {1: 5}, "S-CY-02": {1: 6}, "S-CY-06": {1: 3}, PRIVATE: {1: 3}}
INPUTS = CeremonyInputs(("0417", "9023", "5561"), ("3390", "7704", "1286"), 1)
FACTS = {"hukou-in-zone": True, "deed-in-zone": True, "hukou-deed-match": True, "actual-residence": True}
CY = StaffMember(principal="cy-staff-01", role="district", district="CY")
LT = StaffMember(principal="lt-staff-01", role="district", district="LT")
CITY = StaffMember(principal="city-staff-01", role="city")
AUDITOR = StaffMember(principal="auditor-01", role="auditor")
REASON = "经区教育局复核，情况属实，依规更正"

A = [f"A{i:02d}" for i in range(1, 9)]  # zone Z-CY-1-01 (S-CY-01, 5 seats)
B = [f"B{i:02d}" for i in range(1, 4)]  # zone Z-CY-1-02 (S-CY-02)
D = [f"D{i:02d}" for i in range(1, 4)]  # zone Z-CY-1-06 (S-CY-06, 3 seats: full)
F = [f"F{i:02d}" for i in range(1, 11)]  # failed verification, living in zone 01
P = [f"P{i:02d}" for i in range(1, 11)]  # private applicants
X = "X01"  # a disability claimed; deferred before placement


def _verdict(rid: str, status: str, zone: str | None) -> Verdict:
    return Verdict(
        registration_id=rid,
        season=YEAR,
        grade=1,
        district="CY",
        category="public",
        status=status,
        zone_id=zone,
        facts=FACTS,
        decided_at=DRAWN,
    )


@pytest.fixture(scope="module")
def config(season: SeasonConfig, tmp_path_factory: pytest.TempPathFactory) -> SeasonConfig:
    return small_season(season, tmp_path_factory.mktemp("corrections"), PLANS)


class Keyer:
    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        return hashlib.sha256(f"{season}|{id_type}|{id_number}".encode()).hexdigest()


class Registrations:
    def season_state(self, season: str) -> SeasonState:
        return SeasonState(frozenset(), {})


def late(config: SeasonConfig, now: datetime) -> Any:
    def make(req: form.RegistrationRequest, exception: Any) -> dict[str, Any]:
        return registrar.registration_item(
            req,
            config=config,
            now=now,
            store=Registrations(),  # type: ignore[arg-type]
            keyer=Keyer(),
            late=exception,
        )

    return make


@pytest.fixture(scope="module")
def placed(placed_archive: tuple[SeasonView, MemoryArchive]) -> SeasonView:
    return placed_archive[0]


@pytest.fixture(scope="module")
def placed_archive(config: SeasonConfig) -> tuple[SeasonView, MemoryArchive]:
    """The season placed, and the archive its lottery wrote (the private records)."""
    store, archive = MemoryLotteryStore(), MemoryArchive()
    pools = [Pools.split(PRIVATE, 1, "CY", 3, [], P)]
    record_season(config, YEAR, pools, {(PRIVATE, 1): INPUTS}, store=store, archive=archive, now=DRAWN)
    road = config.road_index
    cases = (
        [
            placing.Case(
                r,
                1,
                "CY",
                "public",
                road["康乐大路"].locate(60 + i),
                verdict=_verdict(r, "eligible", "Z-CY-1-01"),
            )
            for i, r in enumerate(A)
        ]
        + [
            placing.Case(
                r,
                1,
                "CY",
                "public",
                road["康乐大路"].locate(120 + i),
                verdict=_verdict(r, "eligible", "Z-CY-1-02"),
            )
            for i, r in enumerate(B)
        ]
        + [
            placing.Case(
                r,
                1,
                "CY",
                "public",
                road["黄山东路"].locate(10 + i),
                verdict=_verdict(r, "eligible", "Z-CY-1-06"),
            )
            for i, r in enumerate(D)
        ]
        + [
            placing.Case(
                r,
                1,
                "CY",
                "public",
                road["康乐大路"].locate(70 + i),
                verdict=_verdict(r, "not-eligible", None),
            )
            for i, r in enumerate(F)
        ]
        + [
            placing.Case(
                r,
                1,
                "CY",
                "private",
                road["康乐大路"].locate(80 + i),
                target_school=PRIVATE,
                lottery=store.outcome(r),
            )
            for i, r in enumerate(P)
        ]
        + [placing.Case(X, 1, "CY", "public", road["康乐大路"].locate(90), claims=("disability",))]
    )
    defer = placing.StaffDecision(
        X, "defer", "监护人申请缓学一年", "cy-staff-01", "2023-06-20T09:00:00+08:00"
    )
    tb = {c.registration_id: i for i, c in enumerate(cases)}
    result = placing.place(config, cases, tb, {X: defer}, cap_km=3.0)
    records = [__import__("json").loads(v) for k, v in sorted(archive.files.items()) if "/private/" in k]
    outcomes = {c.registration_id: dict(c.lottery) for c in cases if c.lottery}
    assert placing.self_check(config, list(tb), result, records, outcomes, {X: defer}) == []
    lines = {line["registration_id"]: PlacementLine.model_validate(line) for line in placing.lines(result)}
    return SeasonView(YEAR, lines, {c.registration_id: c for c in cases}, records, tb), archive


class Season:
    """The season as the store would hold it: each planned correction applied."""

    def __init__(self, config: SeasonConfig, view: SeasonView) -> None:
        self.config, self.view = config, replace(view, lines=dict(view.lines), cases=dict(view.cases))
        self.corrections: list[Correction] = []
        self.clock = JULY

    def correct(self, staff: StaffMember, **request: Any) -> Planned:
        self.clock += timedelta(minutes=5)
        req = CorrectionRequest(**{"reason": REASON, **request})
        planned = plan_correction(
            self.config, staff, req, self.view, now=self.clock, late=late(self.config, self.clock)
        )
        self.view.lines = dict(planned.lines)
        if planned.registration is not None:
            [case] = cases_of(self.config, [planned.registration], {}, _Nothing())
            self.view.cases[case.registration_id] = case
        for rid, v in planned.verdicts.items():
            self.view.cases[rid] = replace(self.view.cases[rid], verdict=v)
        self.corrections += planned.corrections
        return planned

    def refused(
        self, staff: StaffMember, error: type[Exception] = CorrectionRefused, **request: Any
    ) -> Exception:
        before = dict(self.view.lines)
        with pytest.raises(error) as e:
            self.correct(staff, **request)
        assert self.view.lines == before  # nothing changed
        return e.value

    def line(self, rid: str) -> PlacementLine:
        return self.view.lines[rid]

    def problems(self) -> list[Any]:
        v = self.view
        return season_problems(
            self.config, v.cases, v.lines, v.records, eligible_of(self.config, v.cases.values())
        )

    @property
    def ranking(self) -> list[str]:
        [rec] = [r for r in self.view.records if r["school_id"] == PRIVATE]
        return list(rec["draw"]["ranking"])


class _Nothing:
    def outcomes_of(self, ids: Any) -> dict[str, dict[str, Any]]:
        return {}

    def schools(self, season: str) -> list[dict[str, Any]]:
        return []


@pytest.fixture
def s(config: SeasonConfig, placed: SeasonView) -> Season:
    return Season(config, placed)


def test_the_season_as_placed(s: Season) -> None:
    assert s.problems() == []
    assert sum(1 for r in A if s.line(r).school_id == "S-CY-01") == 5
    assert s.line(X).route == "deferred"
    assert [s.line(r).route for r in s.ranking[:3]] == ["private-draw"] * 3


def late_body(config: SeasonConfig, n: int) -> dict[str, Any]:
    body = valid_body(config)
    body["home_address"]["number"] = 56 + n
    body["residence"]["hukou_address"]["number"] = 56 + n
    return body


def test_twenty_late_registrations_are_placed_by_coordination_with_the_window_recorded(s: Season) -> None:
    bodies = [late_body(s.config, n) for n in range(20)]
    for body in bodies:
        planned = s.correct(CY, kind="late-registration", registration=body)
        [c] = planned.corrections
        [ch] = c.changes
        assert c.kind == "late-registration" and ch.before is None
        assert ch.after.route == "coordination" and ch.after.reason == "late-registration"
        exception = (planned.registration or {})["late_registration"]
        assert exception["by"] == "cy-staff-01" and exception["reason"] == REASON
        assert exception["window_refusal"]  # the window's refusal, recorded rather than refusing
    assert len(s.view.lines) == 35 + 20 and s.problems() == []
    # the form's other checks still refuse, naming the field; another district's staff cannot
    bad = late_body(s.config, 30)
    bad["child"]["id_number"] = "220102201703040000"
    refused = s.refused(CY, RegistrationRefused, kind="late-registration", registration=bad)
    assert any(v.field.startswith("child") for v in refused.violations)  # type: ignore[attr-defined]
    s.refused(LT, Forbidden, kind="late-registration", registration=late_body(s.config, 31))
    # the same child twice
    s.refused(CY, RegistrationRefused, kind="late-registration", registration=bodies[0])


def test_ten_upheld_appeals_are_placed_again_by_the_rules_that_now_hold(s: Season) -> None:
    for rid in F:
        before = s.line(rid)
        assert before.reason == "verification-failed"
        planned = s.correct(
            CY,
            kind="re-verification",
            registration_id=rid,
            verdict={"status": "eligible", "zone_id": "Z-CY-1-01", "facts": FACTS},
        )
        after = s.line(rid)
        assert planned.corrections[0].kind == "re-verification"
        # S-CY-01 is full: the child is its catchment's now, coordinated as its overflow
        assert (after.route, after.reason) == ("coordination", "catchment-overflow")
    assert s.problems() == []
    s.refused(LT, Forbidden, kind="re-verification", registration_id=F[0], verdict={"status": "not-eligible"})
    e = s.refused(
        CY, kind="re-verification", registration_id=F[0], verdict={"status": "eligible"}, reason="改判"
    )
    assert "reason" in str(e) and "理由" in str(getattr(e, "message_zh", ""))


def test_a_spot_check_finding_moves_the_child_and_its_seat_goes_to_the_catchments_next(s: Season) -> None:
    first = next(r for r in A if s.line(r).school_id == "S-CY-01")
    waiting = [r for r in A if s.line(r).route == "coordination"]
    planned = s.correct(CY, kind="re-verification", registration_id=first, verdict={"status": "not-eligible"})
    main, promotion = planned.corrections
    assert s.line(first).route == "coordination" and s.line(first).reason == "verification-failed"
    assert promotion.kind == "catchment-promotion" and promotion.follows == main.correction_id
    [ch] = promotion.changes
    assert ch.registration_id == waiting[0]  # the best-ranked of the catchment coordinated elsewhere
    assert (ch.after.school_id, ch.after.route) == ("S-CY-01", "catchment")
    assert s.problems() == []


def test_five_private_declines_promote_from_the_waitlist_in_order(s: Season) -> None:
    ranking = s.ranking
    for n, rid in enumerate([ranking[0], ranking[1], ranking[2], ranking[3], ranking[4]]):
        planned = s.correct(CY, kind="decline", registration_id=rid)
        decline, promotion, *more = planned.corrections
        assert decline.kind == "decline" and s.line(rid).reason == "private-declined"
        assert promotion.kind == "waitlist-promotion" and promotion.follows == decline.correction_id
        assert [c.registration_id for c in promotion.changes] == [ranking[3 + n]]
        assert s.line(ranking[3 + n]).school_id == PRIVATE
        assert all(c.follows for c in more)
    assert s.problems() == []
    # naming a child further down the waitlist passes the next one over: refused, the rule named
    e = s.refused(CY, kind="decline", registration_id=ranking[5], promote=ranking[9])
    assert "候补顺序" in str(getattr(e, "message_zh", "")) and "R-" not in str(getattr(e, "message_zh", ""))
    assert "passed over" in str(e)


def test_three_public_declines_pass_the_seat_to_the_catchment(s: Season) -> None:
    at_one = [r for r in A if s.line(r).school_id == "S-CY-01"]
    waiting = sorted((r for r in A if s.line(r).route == "coordination"), key=list(s.view.tie_break).index)
    planned = s.correct(CY, kind="decline", registration_id=at_one[0])
    assert s.line(at_one[0]).school_id is None and s.line(at_one[0]).status == "declined"
    [promoted] = planned.corrections[1].changes
    assert promoted.registration_id == waiting[0] and s.line(waiting[0]).school_id == "S-CY-01"
    for rid in (B[0], D[0]):
        s.correct(CY, kind="decline", registration_id=rid)
    assert s.problems() == []
    s.refused(AUDITOR, Forbidden, kind="decline", registration_id=B[1])
    s.refused(LT, Forbidden, kind="decline", registration_id=B[1])
    s.refused(CY, kind="decline", registration_id=B[1], promote=A[7])


def test_a_late_committee_plan_a_deferral_and_an_override(s: Season) -> None:
    # over plan: S-CY-01 is full
    e = s.refused(CY, kind="committee-plan", registration_id=X, plan="regular-class", school_id="S-CY-01")
    assert "招生计划" in str(getattr(e, "message_zh", "")) and "R-PUB-3" in str(e)
    s.correct(CY, kind="committee-plan", registration_id=X, plan="special-education", school_id="SE-LT-01")
    assert (s.line(X).school_id, s.line(X).route) == ("SE-LT-01", "special-education")
    at_one = next(r for r in A if s.line(r).school_id == "S-CY-01")
    planned = s.correct(CY, kind="deferral", registration_id=at_one)
    assert s.line(at_one).route == "deferred" and planned.corrections[1].kind == "catchment-promotion"
    s.refused(CY, kind="override", registration_id=F[0], school_id="S-CY-06")  # over plan
    s.correct(CITY, kind="override", registration_id=F[0], school_id="S-CY-02")
    assert (s.line(F[0]).route, s.line(F[0]).reason) == ("override", REASON)
    assert s.corrections[-1].role == "city" and s.problems() == []


def test_a_transfer_needs_both_schools_and_a_seat(s: Season) -> None:
    consents = [
        {"school_id": "S-CY-02", "given_by": "张校长"},
        {"school_id": "S-CY-03", "given_by": "李校长"},
    ]
    s.refused(CY, kind="transfer", registration_id=B[1], school_id="S-CY-03", consents=consents[:1])
    full = [{"school_id": "S-CY-02", "given_by": "张校长"}, {"school_id": "S-CY-06", "given_by": "王校长"}]
    e = s.refused(CY, kind="transfer", registration_id=B[1], school_id="S-CY-06", consents=full)
    assert "S-CY-06 grade 1" in str(e)
    s.refused(LT, Forbidden, kind="transfer", registration_id=B[1], school_id="S-CY-03", consents=consents)
    planned = s.correct(CY, kind="transfer", registration_id=B[1], school_id="S-CY-03", consents=consents)
    c = planned.corrections[0]
    assert c.kind == "transfer" and {x.school_id for x in c.consents} == {"S-CY-02", "S-CY-03"}
    assert (s.line(B[1]).school_id, s.line(B[1]).route) == ("S-CY-03", "transfer")
    assert s.problems() == []


def test_the_whole_season_in_order(s: Season, placed: SeasonView) -> None:
    """Every kind, one after another, as July goes: the self-check holds after each."""
    july(s)
    kinds = [c.kind for c in s.corrections]
    assert kinds.count("late-registration") == 20 and kinds.count("re-verification") == 11
    assert kinds.count("waitlist-promotion") == 5 and kinds.count("decline") == 8
    ids = {c.correction_id for c in s.corrections}
    assert len(ids) == len(s.corrections) and all(c.follows in ids for c in s.corrections if c.follows)
    # replaying every change in order over the sealed lines gives the season as it stands
    sealed = [line.as_line() for line in placed.lines.values()]
    assert current_lines(sealed, s.corrections) == s.view.lines
    assert date(2023, 7, 20) <= s.corrections[-1].at.date()


def test_the_whole_season_sealed_in_batches_passes_the_audit(
    s: Season, placed_archive: tuple[SeasonView, MemoryArchive]
) -> None:
    """What the use case records is what the chain seals and the auditor replays: July's corrections
    sealed in batches (docs/ARCHIVE.md, "Corrections") over the season's sealed archive pass
    `enroll audit`'s checks; and the audit is no rubber stamp: a batch left out fails it."""
    view, archive = placed_archive
    july(s)
    lines = sorted((line.as_line() for line in view.lines.values()), key=lambda line: line["registration_id"])
    signer = LocalSigner(key_id="test-release")  # the season's key signs its corrections too
    sealed = sealed_archive(s.config, archive, lines, datetime(2023, 7, 6, 9, 0, tzinfo=UTC), signer)
    # sealed ten at a time (a promotion may land in the batch after the decline that freed its seat)
    batches = [s.corrections[n : n + 10] for n in range(0, len(s.corrections), 10)]
    assert len(batches) >= 5
    additions: dict[str, bytes] = {}
    previous = sha256_hex(sealed[MANIFEST])
    for n, batch in enumerate(batches, start=1):
        files = chain_format.seal_corrections(YEAR, n, batch, previous, signer=signer)
        additions |= {f"{chain_format.batch_name(n)}/{k}": v for k, v in files.items()}
        previous = sha256_hex(files[MANIFEST])
    report = audit(sealed, additions)
    assert report.ok, report.render()
    for n in (1, len(batches) // 2):  # a batch left out, at the start or in the middle
        name = chain_format.batch_name(n)
        dropped = {k: v for k, v in additions.items() if not k.startswith(name + "/")}
        failed = audit(sealed, dropped)
        assert not failed.ok and name in failed.render()


def july(s: Season) -> None:
    """Every kind of correction, one after another, as July goes."""
    for n in range(20):
        s.correct(CY, kind="late-registration", registration=late_body(s.config, n))
    for rid in F:
        s.correct(
            CY,
            kind="re-verification",
            registration_id=rid,
            verdict={"status": "eligible", "zone_id": "Z-CY-1-01", "facts": FACTS},
        )
    s.correct(CITY, kind="re-verification", registration_id=A[0], verdict={"status": "not-eligible"})
    ranking = s.ranking
    for rid in ranking[:5]:
        s.correct(CY, kind="decline", registration_id=rid)
    for rid in (A[1], B[0], D[0]):
        s.correct(CY, kind="decline", registration_id=rid)
    s.correct(CY, kind="committee-plan", registration_id=X, plan="special-education", school_id="SE-LT-01")
    consents = [
        {"school_id": "S-CY-02", "given_by": "张校长"},
        {"school_id": "S-CY-03", "given_by": "李校长"},
    ]
    s.correct(CY, kind="transfer", registration_id=B[1], school_id="S-CY-03", consents=consents)
    assert s.problems() == []


def test_corrections_are_open_from_the_notices_until_a_while_after_term(s: Season) -> None:
    for day in (datetime(2023, 7, 5, 12, 0, tzinfo=UTC), datetime(2023, 10, 2, 2, 0, tzinfo=UTC)):
        s.clock = day - timedelta(minutes=5)
        e = s.refused(CY, kind="decline", registration_id=B[0])
        assert "更正" in str(getattr(e, "message_zh", "")) and "open from 2023-07-06" in str(e)
    s.clock = datetime(2023, 9, 30, 2, 0, tzinfo=UTC)  # term started on 1 September: still open
    s.correct(CY, kind="decline", registration_id=B[0])


def test_a_re_verification_that_leaves_the_child_eligible_where_it_sits_keeps_its_seat(s: Season) -> None:
    sitting = next(r for r in A if s.line(r).school_id == "S-CY-01")
    policy = {**FACTS, "policy-priority": True}
    planned = s.correct(
        CY,
        kind="re-verification",
        registration_id=sitting,
        verdict={"status": "eligible", "zone_id": "Z-CY-1-01", "facts": policy},
    )
    [c] = planned.corrections  # nobody else moves: the seat was never free
    [ch] = c.changes
    assert ch.before is not None and ch.before.school_id == ch.after.school_id == "S-CY-01"
    assert ch.after.route == "priority" and planned.verdicts[sitting].facts["policy-priority"]
    assert s.problems() == []


# Tampering with the sealed chain (issue 18, done when) ---------------------------------------------

BATCHES = 5  # July's corrections sealed in five batches
BATCH_FILES = ("corrections.jsonl", "placements.jsonl", MANIFEST, "manifest.sig.json", "public-key.pem")


@dataclass(frozen=True)
class Chain:
    season: dict[str, bytes]  # seasons/{season}/'s files
    additions: dict[str, bytes]  # the batches' files, by their key below additions/{season}/corrections/
    head: str  # the last batch and its manifest's digest, as the bureau publishes them
    signer: LocalSigner  # the season's key


@pytest.fixture(scope="module")
def chain(config: SeasonConfig, placed_archive: tuple[SeasonView, MemoryArchive]) -> Chain:
    """The season sealed and July's corrections sealed after it in BATCHES batches, once per module."""
    view, archive = placed_archive
    s = Season(config, view)
    july(s)
    lines = sorted((line.as_line() for line in view.lines.values()), key=lambda line: line["registration_id"])
    signer = LocalSigner(key_id="test-release")
    sealed = sealed_archive(config, archive, lines, datetime(2023, 7, 6, 9, 0, tzinfo=UTC), signer)
    k, total = BATCHES, len(s.corrections)
    batches = [s.corrections[i * total // k : (i + 1) * total // k] for i in range(k)]
    additions: dict[str, bytes] = {}
    previous = sha256_hex(sealed[MANIFEST])
    for n, batch in enumerate(batches, start=1):
        files = chain_format.seal_corrections(YEAR, n, batch, previous, signer=signer)
        additions |= {f"{chain_format.batch_name(n)}/{k}": v for k, v in files.items()}
        previous = sha256_hex(files[MANIFEST])
        head = chain_format.head(n, files[MANIFEST])
    report = audit(sealed, additions, head=head)
    assert report.ok, report.render()
    return Chain(sealed, additions, head, signer)


def named(n: int) -> str:
    return f"{chain_format.root(YEAR)}{chain_format.batch_name(n)}"


def fails_naming(report: Any, *batches: int) -> None:
    assert not report.ok
    for n in batches:
        assert any(named(n) in p for p in report.problems), (named(n), report.render())


def without(additions: dict[str, bytes], n: int) -> dict[str, bytes]:
    return {k: v for k, v in additions.items() if not k.startswith(chain_format.batch_name(n) + "/")}


@pytest.mark.parametrize("n", range(1, BATCHES + 1))
def test_a_deleted_batch_fails_the_audit_naming_it(chain: Chain, n: int) -> None:
    # the auditor holds the published head: even the last batch withheld is named
    fails_naming(audit(chain.season, without(chain.additions, n), head=chain.head), n)
    if n < BATCHES:  # the chain alone shows a gap (a cut-off end needs the head: docs/ARCHIVE.md)
        fails_naming(audit(chain.season, without(chain.additions, n)), n)


@pytest.mark.parametrize("pair", [(n, n + 1) for n in range(1, BATCHES)] + [(1, BATCHES)])
def test_two_swapped_batches_fail_the_audit_naming_both(chain: Chain, pair: tuple[int, int]) -> None:
    one, other = (chain_format.batch_name(n) for n in pair)
    rename = {one: other, other: one}
    swapped = {rename.get(k[:4], k[:4]) + k[4:]: v for k, v in chain.additions.items()}
    fails_naming(audit(chain.season, swapped, head=chain.head), *pair)
    fails_naming(audit(chain.season, swapped), *pair)


def edits(body: bytes) -> list[tuple[int, int]]:
    """One-byte edits of `body` (position, new byte), the sneaky ones included: a space made a tab
    and a line break made a space (a JSON or PEM parser reads both the same), a hex digit made another
    (still hex), a letter's case changed; at the ends, in the middle and at each kind of separator."""
    size = len(body)
    where = {0, 1, size // 3, size // 2, 2 * size // 3, size - 2, size - 1}
    where |= {i for c in b'\n "-:,' if (i := body.find(bytes([c]), 1)) >= 0}

    def other(b: int) -> int:
        if b >= 0x80:
            return b ^ 1  # a UTF-8 byte of a Chinese reason
        c = chr(b)
        if c in " \n":
            return ord("\t" if c == " " else " ")
        if c in "0123456789abcdef":
            return ord("1" if c == "0" else "0")
        return ord(c.swapcase()) if c.isalpha() else ord("x")

    return [(i, other(body[i])) for i in sorted(where)]


@pytest.mark.parametrize("n", range(1, BATCHES + 1))
@pytest.mark.parametrize("file", BATCH_FILES)
def test_one_byte_edited_in_any_file_of_a_batch_fails_the_audit_naming_it(
    chain: Chain, n: int, file: str
) -> None:
    key = f"{chain_format.batch_name(n)}/{file}"
    body = chain.additions[key]
    for i, new in edits(body):
        edited = bytearray(body)
        edited[i] = new
        report = audit(chain.season, {**chain.additions, key: bytes(edited)}, head=chain.head)
        fails_naming(report, n)
