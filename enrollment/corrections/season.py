"""Corrections after the results (issue 18): one use case for every change to a sealed season's places.

From the notices until term a district corrects its own children's places (the city any district's):
a late registration (补录), a re-verification after an upheld appeal or a spot-check finding, a
decline, a late committee plan (R-DIS-1), a deferral (R-DEFER-1), an override (R-VER-3) and a transfer
between two schools with both schools' consent. Each is computed here against the season's
placements as they stand (the sealed `placements.jsonl` with every correction since applied), by the
rules placement used: a child without a seat goes to a free catchment seat if eligible there, else to
the nearest free seat of its district (`coordination.coordinate`, R-COORD-1); a freed private seat
goes to the first child of the draw's waitlist still waiting (LOTTERY.md step 7, `seats`), a freed
public seat to the school's first catchment child coordinated elsewhere (by tier, then the season's
tie-break). Each seat passed on is its own correction that `follows` the one that freed it.

Nothing is written unless the whole season, as it would then stand, passes the self-check
(`season_problems`): every registered child exactly once, no school over its plan per grade, every
private admission in its record or a waitlist promotion in ranking order, every coordinated or
decided place with a reason, no child coordinated while its catchment school has a seat. A
correction that would break it is refused naming the rule (in words on screen, the rule in English).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Archive, ChildKeyer, DuplicateChild, NotFound, Store
from enrollment.core.staff import Forbidden, StaffError, StaffMember
from enrollment.corrections.model import (
    MIN_REASON_CHARS,
    Change,
    Consent,
    Correction,
    CorrectionKind,
    PlacementLine,
)
from enrollment.lottery import ceremony
from enrollment.placement import place as placing
from enrollment.placement import tiebreak
from enrollment.placement.season import LotteryResults, cases_of
from enrollment.placement.seats import DECISION_ROUTES, freed_seat_problems, gave_up, waitlist
from enrollment.registration import form, registrar
from enrollment.registration.demand import WITHDRAWN
from enrollment.verification.verdicts import Fact, Verdict

RequestKind = Literal[
    "late-registration", "re-verification", "decline", "committee-plan", "deferral", "override", "transfer"
]
PRIVATE_ROUTES = ("private-draw", "private-no-draw")
SEATED_ROUTES = ("catchment", "priority", "coordination")  # what a re-verification may move
DECLINED = "declined"  # a public seat declined: the child leaves the season's schools
CORRECTIONS_AFTER_TERM_DAYS = 30  # corrections stay open this long after term starts (a season's later)
_LATE_RANK = 1 << 40  # a late child ranks after everyone in the season's tie-break


class CorrectionRefused(StaffError):
    status = 422


class CorrectionConflict(StaffError):
    """Another correction of the season was written meanwhile: computed again, it may differ."""

    status = 409


class NewVerdict(BaseModel):
    """A re-verification's verdict (the appeal's or the spot-check's finding), as placement reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    status: Literal["eligible", "not-eligible", "review"] = Field(
        description="eligible 符合 / not-eligible 不符合"
    )
    zone_id: str | None = Field(default=None, description="片区编号（符合时）")
    facts: dict[Fact, bool] = Field(default_factory=dict, description="审核事实，如 hukou-in-zone")


class GivenConsent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    school_id: str
    given_by: str = Field(min_length=1, max_length=200, description="代表学校同意的人")


class CorrectionRequest(BaseModel):
    """What staff ask for; the use case computes the changes."""

    model_config = ConfigDict(extra="forbid")
    kind: RequestKind = Field(
        description="late-registration 补录 / re-verification 复审后重新安置 / decline 放弃学位 / "
        "committee-plan 专家委员会安置 / deferral 缓学 / override 调整 / transfer 转学"
    )
    reason: str = Field(default="", max_length=2000, description=f"书面理由，至少{MIN_REASON_CHARS}个字")
    registration_id: str | None = Field(default=None, description="报名编号（补录以外）")
    registration: dict[str, Any] | None = Field(default=None, description="补录：与网上报名相同的表单")
    verdict: NewVerdict | None = Field(default=None, description="复审：新的审核结论")
    school_id: str | None = Field(default=None, description="调整、专家委员会安置或转学的学校")
    plan: placing.CommitteePlan | None = None
    promote: str | None = Field(default=None, description="放弃民办学位：递补的候补学生（默认为候补第一位）")
    consents: list[GivenConsent] = Field(default_factory=list, description="转学：两校的同意")
    reason_codes: list[str] = Field(default_factory=list, max_length=20)
    complaint_id: str | None = None


@dataclass
class SeasonView:
    """The season as a correction reads it: every child's place now, its case, the private records."""

    season: str
    lines: dict[str, PlacementLine]
    cases: dict[str, placing.Case]
    records: list[dict[str, Any]]
    tie_break: Mapping[str, int] = field(default_factory=dict)
    # every registered child; None: the children of `cases` (a view holding every child's case)
    registered: set[str] | None = None


@dataclass(frozen=True)
class Problem:
    rule_zh: str  # the rule in words, for staff (no rule ids)
    detail: str  # English, may name the rule


@dataclass(frozen=True)
class Planned:
    corrections: tuple[Correction, ...]  # the request's first, then the seats passed on, in order
    lines: dict[str, PlacementLine]  # the season's places as they then stand
    registration: dict[str, Any] | None = None  # a late registration's item, to store with it
    verdicts: Mapping[str, NewVerdict] = field(default_factory=dict)  # re-verified children's


# The self-check ------------------------------------------------------------------------------------

ONCE_ZH = "每名报名儿童须有且只有一个安置结果"
PLAN_ZH = "学校录取人数不能超过该年级招生计划"
PRIVATE_ZH = "民办学校录取须在派位记录中，空出的学位须按候补顺序递补"
REASON_ZH = "统筹安排、调整和转学都须写明理由"
CATCHMENT_ZH = "片区学校仍有空余学位时，不能把该片区儿童统筹到其他学校"


def eligible_of(config: SeasonConfig, cases: Iterable[placing.Case]) -> dict[str, tuple[str, ...]]:
    return {c.registration_id: ch for c in cases if (ch := placing.catchment_choices(config, c))}


def season_problems(
    config: SeasonConfig,
    registered: Iterable[str],
    lines: Mapping[str, PlacementLine],
    records: Iterable[Mapping[str, Any]],
    eligible: Mapping[str, tuple[str, ...]],
) -> list[Problem]:
    """Every invariant of the season's places as they stand; empty when all hold (placement's
    `self_check` for a season whose lottery outcomes are read from the lines, as the audit does)."""
    out: list[Problem] = []
    registered = set(registered)
    out += [
        Problem(ONCE_ZH, f"{rid}: registered but not placed (R-REG-2)") for rid in registered - set(lines)
    ]
    out += [Problem(ONCE_ZH, f"{rid}: placed but not registered") for rid in set(lines) - registered]
    capacity = {(s.id, g): n for s in config.schools for g, n in s.plans.items()}
    taken = Counter((p.school_id, p.grade) for p in lines.values() if p.school_id is not None)
    for (school_id, grade), n in sorted(taken.items()):
        if n > capacity.get((school_id, grade), 0):
            plan = capacity.get((school_id, grade), 0)
            out.append(
                Problem(PLAN_ZH, f"{school_id} grade {grade}: {n} placed over a plan of {plan} (R-PUB-3)")
            )
    records = list(records)
    by_school = {(str(r["school_id"]), int(r.get("grade", 0))): r for r in records}
    as_lines = {rid: p.as_line() for rid, p in lines.items()}
    for rid, p in sorted(lines.items()):
        school = config.school_index.get(p.school_id) if p.school_id else None
        if p.route in PRIVATE_ROUTES or (school is not None and school.kind == "private"):
            rec = by_school.get((str(p.school_id), p.grade))
            known = rec is not None and (rid in rec["admitted"] or rid in waitlist(rec))
            if p.route not in PRIVATE_ROUTES or not known:
                out.append(
                    Problem(PRIVATE_ZH, f"{rid}: private place at {p.school_id} not in its record (R-LOT-2)")
                )
        if p.route in ("coordination", "override", "transfer", *DECISION_ROUTES[1:]) and not p.reason:
            out.append(Problem(REASON_ZH, f"{rid}: placed {p.route} without a reason (R-COORD-1, R-VER-3)"))
        if p.route == "coordination":
            free = [s for s in eligible.get(rid, ()) if capacity.get((s, p.grade), 0) > taken[(s, p.grade)]]
            if free:
                out.append(
                    Problem(
                        CATCHMENT_ZH,
                        f"{rid}: coordinated while its catchment school {free[0]} has a seat (R-PUB-1)",
                    )
                )
    for rec in records:
        for rid in rec["admitted"]:
            line = as_lines.get(rid)
            if line is not None and line.get("school_id") != rec["school_id"] and not gave_up(line):
                out.append(
                    Problem(
                        PRIVATE_ZH,
                        f"{rid}: admitted by {rec['school_id']} but placed {line['route']} without declining",
                    )
                )
        out += [Problem(PRIVATE_ZH, p) for p in freed_seat_problems(rec, as_lines)]
    return out


# Computing a correction -----------------------------------------------------------------------------


@dataclass
class _Group:
    kind: CorrectionKind
    follows: int | None
    reason: str
    codes: tuple[str, ...]
    changes: dict[str, Change] = field(default_factory=dict)


class _Work:
    """A working copy of the season's places, the corrections made so far and the seats they freed."""

    def __init__(self, config: SeasonConfig, view: SeasonView) -> None:
        self.config, self.view = config, view
        self.lines = dict(view.lines)
        self.cases = dict(view.cases)
        self.capacity = {(s.id, g): n for s in config.schools for g, n in s.plans.items()}
        self.taken: Counter[tuple[str, int]] = Counter(
            (p.school_id, p.grade) for p in self.lines.values() if p.school_id is not None
        )
        self.groups: list[_Group] = []
        self.lifted: dict[str, PlacementLine] = {}  # children between their old and new place
        self._eligible: dict[str, tuple[str, ...]] = {}

    def free(self, school_id: str, grade: int) -> int:
        return self.capacity.get((school_id, grade), 0) - self.taken[(school_id, grade)]

    def eligible(self, rid: str) -> tuple[str, ...]:
        if rid not in self._eligible:  # a child whose case is not read can be eligible nowhere
            case = self.cases.get(rid)
            self._eligible[rid] = placing.catchment_choices(self.config, case) if case else ()
        return self._eligible[rid]

    def set_verdict(self, rid: str, verdict: NewVerdict) -> None:
        self.cases[rid] = replace(self.cases[rid], verdict=verdict)
        self._eligible.pop(rid, None)

    def group(self, kind: CorrectionKind, reason: str, codes: tuple[str, ...], follows: int | None) -> int:
        self.groups.append(_Group(kind, follows, reason, codes))
        return len(self.groups) - 1

    def lift(self, rid: str) -> PlacementLine:
        """Take the child out of its seat (placed again by `put`): its seat is free meanwhile."""
        line = self.lines.pop(rid)
        self.lifted[rid] = line
        if line.school_id is not None:
            self.taken[(line.school_id, line.grade)] -= 1
        return line

    def put(self, g: int, line: PlacementLine) -> None:
        rid = line.registration_id
        before = self.lifted.pop(rid) if rid in self.lifted else self.lines.get(rid)
        if rid in self.lines and (old := self.lines[rid]).school_id is not None:
            self.taken[(old.school_id, old.grade)] -= 1
        self.lines[rid] = line
        if line.school_id is not None:
            self.taken[(line.school_id, line.grade)] += 1
        self.groups[g].changes[rid] = Change(registration_id=rid, before=before, after=line)

    # placing one child by placement's rules --------------------------------------------------------

    def seat(self, g: int, rid: str, why: str) -> None:
        """A catchment seat if the child is eligible and one is free, else the nearest free seat."""
        c = self.cases[rid]
        for school_id in self.eligible(rid):
            if self.free(school_id, c.grade) > 0:
                self.put(g, self.catchment_line(rid, school_id))
                return
        self.coordinate(g, rid, "catchment-overflow" if self.eligible(rid) else why)

    def catchment_line(self, rid: str, school_id: str) -> PlacementLine:
        c = self.cases[rid]
        _, tier = self.tier(rid)
        route = "priority" if tier == "policy-priority" else "catchment"
        return PlacementLine(registration_id=rid, grade=c.grade, school_id=school_id, route=route)

    def tier(self, rid: str) -> tuple[int, str | None]:
        c = self.cases[rid]
        return placing.tier_of(self.config, c.district, c.verdict.facts if c.verdict else {})

    def coordinate(self, g: int, rid: str, why: str) -> None:
        """R-COORD-1 for one child: placement's coordination, the district's public seats, else the city's."""
        from enrollment.placement import coordination

        c = self.cases[rid]
        child = coordination.Child(rid, c.home.lat, c.home.lon, 0)
        cap = self.config.placement.coordination_cap_km
        for district in (c.district, None):
            schools = [
                coordination.SchoolSeats(
                    s.id, s.location.lat, s.location.lon, max(self.free(s.id, c.grade), 0)
                )
                for s in self.config.schools
                if s.kind in placing.PUBLIC_KINDS and s.plan(c.grade) > 0 and district in (None, s.district)
            ]
            done = coordination.coordinate([child], schools, cap)
            [p] = done.placements
            if p.school_id is not None:
                line = PlacementLine(
                    registration_id=rid,
                    grade=c.grade,
                    school_id=p.school_id,
                    route="coordination",
                    reason=why,
                )
                self.put(g, line)
                return
        raise CorrectionRefused(
            f"{c.grade}年级已没有空余公办学位，无法安排",
            f"{rid}: no public seat of grade {c.grade} is left (R-COORD-1)",
        )

    # seats passed on -------------------------------------------------------------------------------

    def pass_on(self, freed: list[tuple[str, int]], follows: int, promote: str | None = None) -> None:
        """Each freed seat to whom it goes by the rules, and on through the seats those children free."""
        queue = deque((s, grade, follows) for s, grade in freed)
        while queue:
            school_id, grade, after = queue.popleft()
            school = self.config.school_index[school_id]
            if self.free(school_id, grade) <= 0:
                continue
            if school.kind == "private":
                rid = self.next_on_waitlist(school_id, grade, promote)
                promote = None
                if rid is None:
                    continue
                line = PlacementLine(
                    registration_id=rid, grade=grade, school_id=school_id, route="private-draw"
                )
                kind: CorrectionKind = "waitlist-promotion"
                why = f"{school.name}空出的民办学位按派位候补顺序递补"
            elif school.kind in placing.PUBLIC_KINDS:
                rid = self.next_in_catchment(school_id, grade)
                if rid is None:
                    continue
                line = self.catchment_line(rid, school_id)
                kind, why = "catchment-promotion", f"{school.name}空出的学位按片区录取顺序递补给本片区儿童"
            else:
                continue
            old = self.lines[rid]
            g = self.group(kind, why, (kind,), after)
            self.put(g, line)
            if old.school_id is not None:
                queue.append((old.school_id, old.grade, g))

    def next_on_waitlist(self, school_id: str, grade: int, promote: str | None) -> str | None:
        """The first child of the draw's waitlist still waiting (as `seats.freed_seat_problems` reads it):
        neither placed at the school nor gone by a decline or a decision; or the one staff named."""
        rec = next(
            (
                r
                for r in self.view.records
                if r["school_id"] == school_id and int(r.get("grade", grade)) == grade
            ),
            None,
        )
        if rec is None:
            return None
        if promote is not None:
            if promote not in self.lines:
                raise CorrectionRefused("递补的学生不在本招生季", f"{promote}: not a child of the season")
            return promote
        for rid in waitlist(rec):
            line = self.lines.get(rid)
            if line is not None and line.school_id != school_id and not gave_up(line.as_line()):
                return rid
        return None

    def next_in_catchment(self, school_id: str, grade: int) -> str | None:
        """The school's catchment child coordinated elsewhere who ranks first (tier, then tie-break)."""
        waiting = [
            rid
            for rid, p in self.lines.items()
            if p.route == "coordination" and p.grade == grade and school_id in self.eligible(rid)
        ]
        tb = self.view.tie_break
        return min(waiting, key=lambda r: (self.tier(r)[0], tb.get(r, _LATE_RANK), r), default=None)


def _reason(request: CorrectionRequest) -> str:
    text = request.reason.strip()
    if len(text) < MIN_REASON_CHARS:
        raise CorrectionRefused(
            f"请填写书面理由（reason），至少{MIN_REASON_CHARS}个字",
            f"reason: a written reason of at least {MIN_REASON_CHARS} characters is required",
        )
    return text


def in_window(config: SeasonConfig, now: datetime) -> None:
    """Corrections are a phase of the season: from the admission notices' day until a while after
    term starts (before the notices the results are not the families' yet; after, the school's)."""
    cal = config.calendar
    last = cal.term_start + timedelta(days=CORRECTIONS_AFTER_TERM_DAYS)
    if not cal.admission_notices <= now.astimezone(config.tz).date() <= last:
        raise CorrectionRefused(
            f"安置结果的更正在{cal.admission_notices:%Y年%m月%d日}至{last:%Y年%m月%d日}之间办理",
            f"corrections are open from {cal.admission_notices} to {last} (term start + "
            f"{CORRECTIONS_AFTER_TERM_DAYS} days)",
        )


def may_correct(staff: StaffMember, district: str) -> None:
    """District staff correct their own district's children; the city any district's; nobody else."""
    if staff.role == "city" or (staff.role == "district" and staff.district == district):
        return
    if staff.role == "auditor":
        raise Forbidden("审计监督人员只能查看，不能更正安置结果", "forbidden: auditors read only")
    raise Forbidden(
        f"无权更正{district}儿童的安置结果（仅限本区）", f"forbidden: children of district {district}"
    )


def _child(work: _Work, request: CorrectionRequest) -> tuple[str, PlacementLine]:
    rid = request.registration_id
    if not rid or rid not in work.lines or rid not in work.cases:
        raise CorrectionRefused(
            "未找到该报名编号的安置结果（registration_id）", "registration_id: no such child placed"
        )
    return rid, work.lines[rid]


def plan_correction(
    config: SeasonConfig,
    staff: StaffMember,
    request: CorrectionRequest,
    view: SeasonView,
    *,
    now: datetime,
    late: Callable[[form.RegistrationRequest, Mapping[str, Any]], dict[str, Any]] | None = None,
    new_id: Callable[[], str] | None = None,
) -> Planned:
    """The corrections the request makes and the season after them, self-checked; nothing is written.

    `late` turns a late registration's form into the registration to store (the form's checks, the
    window's refusal recorded as the exception), raising RegistrationRefused when a check fails."""
    if staff.role not in ("district", "city"):
        may_correct(staff, "")
    in_window(config, now)
    reason = _reason(request)
    work = _Work(config, view)
    codes = tuple(request.reason_codes)
    registration: dict[str, Any] | None = None
    verdicts: dict[str, NewVerdict] = {}
    kind = request.kind
    if kind == "late-registration":
        registration = _late(config, staff, request, work, reason, now, late)
        rid = str(registration["registration_id"])
        g = work.group("late-registration", reason, codes or ("late-registration",), None)
        work.seat(g, rid, "late-registration")
    else:
        rid, line = _child(work, request)
        may_correct(staff, work.cases[rid].district)
        if kind == "decline":
            _decline(work, request, rid, line, reason, codes)
        elif kind == "re-verification":
            verdicts[rid] = _reverify(config, work, request, rid, line, reason, codes)
        elif kind in ("committee-plan", "deferral", "override"):
            _decide(config, work, request, rid, line, reason, codes)
        else:
            _transfer(config, staff, work, request, rid, line, reason, codes, now)
    registered = set(work.cases) if view.registered is None else view.registered | set(work.cases)
    problems = season_problems(
        config, registered, work.lines, view.records, eligible_of(config, work.cases.values())
    )
    if problems:
        rules = "；".join(dict.fromkeys(p.rule_zh for p in problems))
        raise CorrectionRefused(f"该更正会违反规则：{rules}", "; ".join(p.detail for p in problems[:10]))
    return Planned(
        _corrections(config, staff, request, work, now, new_id), work.lines, registration, verdicts
    )


def _corrections(
    config: SeasonConfig,
    staff: StaffMember,
    request: CorrectionRequest,
    work: _Work,
    now: datetime,
    new_id: Callable[[], str] | None,
) -> tuple[Correction, ...]:
    make_id = new_id or (lambda: f"C-{now:%Y%m%d}-{uuid.uuid4().hex[:12]}")
    ids = [make_id() for _ in work.groups]
    out = []
    for i, g in enumerate(work.groups):
        if not g.changes:
            continue
        districts = {work.cases[rid].district for rid in g.changes}
        consents: tuple[Consent, ...] = ()
        if g.kind == "transfer":
            consents = tuple(
                Consent(school_id=c.school_id, given_by=c.given_by, given_at=now) for c in request.consents
            )
        out.append(
            Correction(
                correction_id=ids[i],
                season=config.season,
                kind=g.kind,
                district=next(iter(districts)) if len(districts) == 1 else None,
                actor=staff.principal,
                role=staff.role,
                at=now,
                reason=g.reason,
                reason_codes=g.codes,
                changes=tuple(g.changes.values()),
                consents=consents,
                complaint_id=request.complaint_id if i == 0 else None,
                follows=ids[g.follows] if g.follows is not None else None,
            )
        )
    return tuple(out)


def _late(
    config: SeasonConfig,
    staff: StaffMember,
    request: CorrectionRequest,
    work: _Work,
    reason: str,
    now: datetime,
    late: Callable[[form.RegistrationRequest, Mapping[str, Any]], dict[str, Any]] | None,
) -> dict[str, Any]:
    if request.registration is None or late is None:
        raise CorrectionRefused("补录须填写报名表（registration）", "registration: the form is required")
    req = form.parse_request({**request.registration, "season": config.season})
    may_correct(staff, req.home_address.district)
    item = late(req, {"by": staff.principal, "role": staff.role, "at": now.isoformat(), "reason": reason})
    rid = str(item["registration_id"])
    if rid in work.cases or rid in work.lines:
        raise registrar.duplicate()
    cases = list(cases_of(config, [item], {}, _NoLottery()))
    work.cases[rid] = cases[0]
    return item


class _NoLottery:
    """A late child took part in no draw."""

    def outcomes_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {}

    def schools(self, season: str) -> list[dict[str, Any]]:
        return []


def _decline(
    work: _Work,
    request: CorrectionRequest,
    rid: str,
    line: PlacementLine,
    reason: str,
    codes: tuple[str, ...],
) -> None:
    if line.school_id is None:
        raise CorrectionRefused("该儿童没有可放弃的学位", f"{rid}: placed at no school ({line.route})")
    school = work.config.school_index[line.school_id]
    if school.kind == "private":
        g = work.group("decline", reason, codes or ("private-declined",), None)
        work.lift(rid)
        work.pass_on([(line.school_id, line.grade)], g, request.promote)
        work.coordinate(g, rid, "private-declined")  # R-LOT-5: coordinated, never left without a place
        return
    if request.promote is not None:
        raise CorrectionRefused(
            "公办学校空出的学位按片区顺序递补，不能指定", "promote: only a private seat's waitlist"
        )
    g = work.group("decline", reason, codes or ("public-declined",), None)
    work.put(
        g,
        PlacementLine(
            registration_id=rid,
            grade=line.grade,
            school_id=None,
            route=DECLINED,
            status=DECLINED,
            reason="public-declined",
        ),
    )
    work.pass_on([(line.school_id, line.grade)], g)


def _reverify(
    config: SeasonConfig,
    work: _Work,
    request: CorrectionRequest,
    rid: str,
    line: PlacementLine,
    reason: str,
    codes: tuple[str, ...],
) -> NewVerdict:
    verdict = request.verdict
    if verdict is None:
        raise CorrectionRefused("复审须给出新的审核结论（verdict）", "verdict: the new verdict is required")
    c = work.cases[rid]
    zone = config.zone_index.get(verdict.zone_id) if verdict.zone_id is not None else None
    if verdict.zone_id is not None and (zone is None or zone.grade != c.grade):
        raise CorrectionRefused(
            "片区编号不存在（verdict.zone_id）",
            f"verdict.zone_id: no zone {verdict.zone_id} of grade {c.grade}",
        )
    if line.route not in SEATED_ROUTES:
        raise CorrectionRefused(
            "该儿童的学位不是按片区或统筹安排取得的，复审不改变它",
            f"{rid}: placed {line.route}, not by verification",
        )
    work.set_verdict(rid, verdict)
    g = work.group("re-verification", reason, codes or (f"verdict-{verdict.status}",), None)
    if line.school_id in work.eligible(rid):  # still eligible where it sits: it keeps the seat
        work.put(g, work.catchment_line(rid, str(line.school_id)))
        return verdict
    work.lift(rid)
    if line.school_id is not None:
        work.pass_on([(line.school_id, line.grade)], g)
    why = {"not-eligible": "verification-failed", "review": "verification-unresolved"}.get(verdict.status)
    work.seat(g, rid, why or ("foreign" if c.foreign else "no-catchment"))
    return verdict


def _decide(
    config: SeasonConfig,
    work: _Work,
    request: CorrectionRequest,
    rid: str,
    line: PlacementLine,
    reason: str,
    codes: tuple[str, ...],
) -> None:
    decision: placing.DecisionKind = {"committee-plan": "committee", "deferral": "defer"}.get(
        request.kind, "override"
    )  # type: ignore[assignment]
    c = work.cases[rid]
    item = {"registration_id": rid, "grade": c.grade, "special_claims": list(c.claims)}
    placing.check_decision(config, item, decision, reason, plan=request.plan, school_id=request.school_id)
    route = {"committee": request.plan, "defer": "deferred"}.get(decision, "override")
    school_id = None if decision == "defer" else request.school_id
    kind: CorrectionKind = request.kind
    g = work.group(kind, reason, codes or (kind,), None)
    after = PlacementLine(
        registration_id=rid,
        grade=line.grade,
        school_id=school_id,
        route=str(route),
        status="deferred" if school_id is None else None,
        reason=reason,
    )
    work.put(g, after)
    if line.school_id is not None and line.school_id != school_id:
        work.pass_on([(line.school_id, line.grade)], g)


def _transfer(
    config: SeasonConfig,
    staff: StaffMember,
    work: _Work,
    request: CorrectionRequest,
    rid: str,
    line: PlacementLine,
    reason: str,
    codes: tuple[str, ...],
    now: datetime,
) -> None:
    target = config.school_index.get(request.school_id or "")
    if line.school_id is None or line.route in PRIVATE_ROUTES:
        raise CorrectionRefused(
            "只有在公办学校就读的儿童可以转学（放弃民办学位请按放弃处理）",
            f"{rid}: placed {line.route}: no public seat to move",
        )
    if target is None or target.kind not in placing.PUBLIC_KINDS or target.plan(line.grade) == 0:
        raise CorrectionRefused(
            f"转入学校须为招收{line.grade}年级的公办学校（school_id）",
            f"school_id: a public school taking grade {line.grade}",
        )
    if target.id == line.school_id:
        raise CorrectionRefused(
            "转入学校与现在的学校相同（school_id）", "school_id: the child is there already"
        )
    may_correct(staff, target.district)
    if {c.school_id for c in request.consents} != {line.school_id, target.id}:
        raise CorrectionRefused(
            "转学须有转出和转入两所学校的同意（consents）",
            "consents: both schools' consent is required (R-VER-3)",
        )
    g = work.group("transfer", reason, codes or ("transfer",), None)
    work.put(
        g,
        PlacementLine(
            registration_id=rid, grade=line.grade, school_id=target.id, route="transfer", reason=reason
        ),
    )
    work.pass_on([(line.school_id, line.grade)], g)


# The use case over the season's stores -----------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What the store holds of a season's corrections, in the order written."""

    corrections: list[Correction]
    verdicts: dict[str, NewVerdict]  # the latest re-verification's verdict per child
    registrations: list[dict[str, Any]]  # late registrations (also in the registrations store)
    batches: int  # how many writes: the next one must follow exactly these


class CorrectionStore(Protocol):
    def recorded(self, season: str) -> Recorded: ...

    def record(self, season: str, planned: Planned, *, after: int) -> None:
        """Write the request's corrections (with any late registration and re-verified verdict) as
        one item, if the season's writes are still the `after` read, else CorrectionConflict; then
        the children's places for the status API."""
        ...


class VerdictsOf(Protocol):
    def verdicts_of(self, registration_ids: Iterable[str]) -> Mapping[str, placing.VerdictView]:
        """Several children's verdicts, batched; those without one absent."""
        ...


class VerdictWriter(Protocol):
    def put_verdict(self, verdict: Verdict) -> bool: ...


class TieBreaks(Protocol):
    def tie_break(self, season: str) -> dict[str, Any] | None: ...


def current_lines(
    sealed: Iterable[Mapping[str, Any]], corrections: Iterable[Correction]
) -> dict[str, PlacementLine]:
    """The sealed `placements.jsonl` with every correction's changes applied in order."""
    lines = {str(x["registration_id"]): PlacementLine.model_validate(x) for x in sealed}
    for c in corrections:
        for ch in c.changes:
            lines[ch.registration_id] = ch.after
    return lines


def load_view(
    config: SeasonConfig,
    season: str,
    *,
    archive: Archive,
    corrections: CorrectionStore,
    registrations: Store,
    verdicts: VerdictsOf,
    lotteries: LotteryResults,
    tie_breaks: TieBreaks,
    subjects: Iterable[str] = (),
) -> tuple[SeasonView, int]:
    """The season as it stands, and how many corrections that includes: every child's place, and
    the cases of the children a correction of `subjects` may read (not the whole season's: a city's
    300,000 registrations do not fit in a request)."""
    body = archive.get(ceremony.archive_key(season, "placements.jsonl"))
    if body is None:
        raise CorrectionRefused("录取结果尚未公布，还不能更正", "placement has not been sealed yet")
    sealed = [json.loads(x) for x in body.decode().splitlines() if x.strip()]
    done = corrections.recorded(season)
    lines = current_lines(sealed, done.corrections)
    records = [
        json.loads(
            archive.get(ceremony.archive_key(season, f"private/{s['school_id']}-g{s['grade']}.json")) or b"{}"
        )
        for s in lotteries.schools(season)
    ]
    records = [r for r in records if r]
    # the cases a correction can read: its own child's, the waitlisted children's (a private seat
    # passed on) and the catchment children coordinated elsewhere (a public seat passed on, and
    # the self-check's catchment seats); any other child is eligible at no catchment school
    wanted = {
        rid for rid, p in lines.items() if p.route == "coordination" and p.reason == "catchment-overflow"
    }
    wanted |= {rid for r in records for rid in waitlist(r)}
    wanted |= set(subjects)
    verdict_of: dict[str, Any] = dict(verdicts.verdicts_of(wanted))
    verdict_of.update(done.verdicts)
    items = {str(i["registration_id"]): i for i in done.registrations if i["registration_id"] in wanted}
    items.update(registrations.get_registrations(wanted - set(items)))
    cases = {c.registration_id: c for c in cases_of(config, items.values(), verdict_of, lotteries)}
    recorded = tie_breaks.tie_break(season)
    numbers: dict[str, int] = {}
    if recorded is not None:
        numbers = tiebreak.draw(
            season, [str(x["registration_id"]) for x in sealed], str(recorded["seed"])
        ).numbers()
    view = SeasonView(season, lines, cases, records, numbers, registered=set(lines))
    return view, done.batches


def correct_all(
    config: SeasonConfig,
    staff: StaffMember,
    request: CorrectionRequest,
    *,
    archive: Archive,
    corrections: CorrectionStore,
    registrations: Store,
    verdicts: VerdictsOf,
    lotteries: LotteryResults,
    tie_breaks: TieBreaks,
    keyer: ChildKeyer,
    now: datetime,
    verified: VerdictWriter | None = None,
) -> tuple[Correction, ...]:
    """One correction, self-checked and written with the seats it passes on: the request's own
    correction first, then each seat passed on, in the order the store keeps them."""
    if staff.role not in ("district", "city"):
        may_correct(staff, "")
    view, after = load_view(
        config,
        config.season,
        archive=archive,
        corrections=corrections,
        registrations=registrations,
        verdicts=verdicts,
        lotteries=lotteries,
        tie_breaks=tie_breaks,
        subjects=[request.registration_id] if request.registration_id else [],
    )

    def late(req: form.RegistrationRequest, exception: Mapping[str, Any]) -> dict[str, Any]:
        item = registrar.registration_item(
            req, config=config, now=now, store=registrations, keyer=keyer, late=exception
        )
        try:
            stored = registrations.get_registration(str(item["registration_id"]))
        except NotFound:
            return item
        if stored.get("status") == WITHDRAWN:  # the family withdrew: registered again
            return item
        raise registrar.duplicate()

    planned = plan_correction(config, staff, request, view, now=now, late=late)
    corrections.record(config.season, planned, after=after)
    if planned.registration is not None:
        # the correction holds it too, so a season read later finds the child either way; a
        # duplicate is this very registration, stored by an earlier attempt, or the child's
        # withdrawn registration, which this one takes the place of (its history kept)
        try:
            registrations.create_registration(planned.registration)
        except DuplicateChild:
            registrar.over_withdrawn(
                planned.registration, config=config, now=now, store=registrations, by=staff.principal
            )
    if verified is not None:  # the verdict as staff and families read it (signed by who corrected)
        for rid, v in planned.verdicts.items():
            c = view.cases[rid]
            verified.put_verdict(
                Verdict(
                    registration_id=rid,
                    season=config.season,
                    grade=c.grade,
                    district=c.district,
                    category=c.category,
                    status=v.status,
                    zone_id=v.zone_id,
                    facts=dict(v.facts),
                    decided_at=now,
                    decided_by=staff.principal,
                )
            )
    return planned.corrections


def correct(
    config: SeasonConfig, staff: StaffMember, request: CorrectionRequest, **stores: Any
) -> Correction:
    """`correct_all`'s first: the request's own correction (its promotions follow it in the store)."""
    return correct_all(config, staff, request, **stores)[0]
