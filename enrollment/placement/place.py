"""Placement: every registered child gets exactly one place (R-REG-2, R-PUB-*, R-LOT-5, R-COORD-1).

Order of the steps (each takes seats before the next sees them):
1. Staff decisions entered before the placement gate closes: deferred entry (R-DEFER-1: recorded,
   not placed), the disability expert committee's one plan per child (R-DIS-1: a regular class at a
   named school, a special-education school, or home delivery by one), and overrides (a named
   school, with a reason). A child claiming a disability with no committee decision stops the phase.
   A district decision wins over a private admission: before placing, `season.place_season`
   releases the private seat of every decided child to the school's waitlist (`ceremony.release`,
   as a decline does), so the lottery outcomes read here already say `released`.
2. Private admissions from the lottery records (R-LOT-1, R-LOT-2; declines, releases and the
   waitlist included); private applicants not admitted go to coordination (R-LOT-5). Foreign children
   follow their chosen private school's process or are coordinated into public schools (R-FOREIGN-1).
3. Ethnic and specialised schools: their applicants by the season's tie-break, up to the plan.
4. Catchment (R-PUB-1, R-PUB-2): verified children of a zone, ranked by (tier, tie-break) where the
   tier is the first of the district's published priority tiers whose facts all hold (policy
   priority, R-PRIO-1, is the first tier; migrants with a verified residence permit in the zone,
   R-MIG-1, are catchment children of their tier). Single-school zones admit by that key up to the
   plan; multi-school zones run the district's mechanism (deferred acceptance or first choice
   first) over the family's ranked choices, followed by the zone's other schools nearest first
   (the child is eligible for all of them).
5. Coordination (R-COORD-1) of everyone still without a place, per grade, into public schools with
   free seats: a min-cost flow on distance within the cap, else the nearest school with a seat.

`self_check` then verifies the result the way Parcoursup checks its own output; a broken invariant
fails the phase with the cases named (SelfCheckFailed), and the workflow does not go on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from enrollment.core.config import GeoPoint, SeasonConfig, Zone
from enrollment.core.staff import StaffError, StaffMember, require_decide
from enrollment.lottery.pools import utf8_sorted
from enrollment.placement import matching
from enrollment.placement.routes import Route
from enrollment.placement.seats import DECISION_ROUTES, freed_seat_problems

if TYPE_CHECKING:  # OR-Tools and numpy: in the place function's layer only, imported when coordinating
    from enrollment.placement import coordination

PUBLIC_KINDS = ("public",)
DecisionKind = Literal["defer", "committee", "override"]
CommitteePlan = Literal["regular-class", "special-education", "home-delivery"]


class PlacementBlocked(Exception):
    """The phase cannot place everyone yet (e.g. a committee decision is missing): the cases named."""

    def __init__(self, message: str, cases: list[str]) -> None:
        super().__init__(f"{message}: {', '.join(cases[:20])}{' …' if len(cases) > 20 else ''}")
        self.cases = cases


class SelfCheckFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} placement invariant(s) broken:\n" + "\n".join(problems[:50]))
        self.problems = problems


@dataclass(frozen=True)
class StaffDecision:
    """A district's decision for one child (R-VER-3: who, when, why), entered before placement runs."""

    registration_id: str
    kind: DecisionKind
    reason: str
    actor: str
    at: str
    plan: CommitteePlan | None = None  # committee only
    school_id: str | None = None  # committee (the school) and override


class VerdictView(Protocol):
    """What placement reads of a child's verdict: a stored `Verdict`, or the `PlacementFacts` the
    season's run reads (no model per child)."""

    @property
    def status(self) -> str: ...

    @property
    def zone_id(self) -> str | None: ...

    @property
    def facts(self) -> Mapping[Any, bool]: ...


@dataclass(frozen=True)
class Case:
    """One registered child as placement sees it."""

    registration_id: str
    grade: int
    district: str
    category: str
    home: GeoPoint
    claims: tuple[str, ...] = ()
    target_school: str | None = None  # private / specialised / ethnic
    preferences: tuple[str, ...] = ()  # a multi-school zone's ranked schools
    foreign: bool = False
    verdict: VerdictView | None = None
    lottery: Mapping[str, Any] | None = None  # the child's private-admission result


@dataclass(frozen=True)
class Placement:
    registration_id: str
    grade: int
    school_id: str | None
    route: Route
    reason: str | None = None  # why coordinated, or an override's / committee's reason
    tier: str | None = None
    distance_m: int | None = None

    def line(self) -> dict[str, Any]:
        """The placements.jsonl line (LOTTERY.md): ids only, no names."""
        out: dict[str, Any] = {
            "registration_id": self.registration_id,
            "grade": self.grade,
            "school_id": self.school_id,
            "route": self.route,
        }
        if self.school_id is None:
            out["status"] = "deferred"
        if self.route == "coordination" or self.reason is not None:
            out["reason"] = self.reason
        return out


class Placements(dict[str, Placement]):
    """Placements by registration id that keep the seats taken per (school, grade) counted as they
    change: a run asks how many seats are free thousands of times (each targeted child, each
    catchment school, each coordinated child's self-check), and recounting every placement each
    time made the run quadratic in the city's children."""

    def __init__(self, placements: Mapping[str, Placement] | None = None) -> None:
        super().__init__()
        self.taken: Counter[tuple[str, int]] = Counter()
        for rid, p in (placements or {}).items():
            self[rid] = p

    def _count(self, p: Placement | None, n: int) -> None:
        if p is not None and p.school_id is not None:
            self.taken[(p.school_id, p.grade)] += n

    def __setitem__(self, rid: str, p: Placement) -> None:
        self._count(self.get(rid), -1)
        self._count(p, 1)
        super().__setitem__(rid, p)

    def __delitem__(self, rid: str) -> None:
        self._count(self.get(rid), -1)
        super().__delitem__(rid)

    def pop(self, rid: str, *default: Any) -> Any:
        if rid in self:
            self._count(self[rid], -1)
        return super().pop(rid, *default)

    def popitem(self) -> tuple[str, Placement]:
        rid, p = super().popitem()
        self._count(p, -1)
        return rid, p

    def clear(self) -> None:
        super().clear()
        self.taken.clear()

    def setdefault(self, rid: str, default: Placement) -> Placement:
        if rid not in self:
            self[rid] = default
        return self[rid]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for rid, p in dict(*args, **kwargs).items():
            self[rid] = p

    def __ior__(self, other: Any) -> Placements:  # type: ignore[override,misc]
        self.update(other)
        return self


@dataclass
class Result:
    placements: dict[str, Placement] = field(default_factory=Placements)
    capacity: dict[tuple[str, int], int] = field(default_factory=dict)  # plan per (school, grade)
    # the catchment schools each child was eligible for (for the self-check)
    eligible: dict[str, tuple[str, ...]] = field(default_factory=dict)
    coordination: dict[tuple[int, str], coordination.Summary] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.placements, Placements):
            self.placements = Placements(self.placements)

    def _taken(self) -> Counter[tuple[str, int]]:
        assert isinstance(self.placements, Placements), "a Result's placements were replaced"
        return self.placements.taken

    def seats_taken(self) -> Counter[tuple[str, int]]:
        return +self._taken()  # the schools and grades with a seat taken, as counted

    def free(self, school_id: str, grade: int) -> int:
        return self.capacity.get((school_id, grade), 0) - self._taken()[(school_id, grade)]


def tier_of(config: SeasonConfig, district: str, facts: Mapping[Any, bool]) -> tuple[int, str | None]:
    """The first published tier whose facts all hold (R-PUB-2); past the last when none does."""
    tiers = config.district_index[district].priority_tiers
    for i, t in enumerate(tiers):
        if all(facts.get(f) is True for f in t.requires):
            return i, t.id
    return len(tiers), None


def place(
    config: SeasonConfig,
    cases: Iterable[Case],
    tie_break: Mapping[str, int],
    decisions: Mapping[str, StaffDecision],
    *,
    cap_km: float,
) -> Result:
    cases = sorted(cases, key=lambda c: tie_break[c.registration_id])
    result = Result(capacity={(s.id, g): n for s in config.schools for g, n in s.plans.items()})
    out = result.placements
    coordinate: dict[str, str] = {}  # registration id -> why

    # 1. staff decisions
    decided = {rid for rid, d in decisions.items() if d.kind in ("committee", "defer")}
    missing = [
        c.registration_id for c in cases if "disability" in c.claims and c.registration_id not in decided
    ]
    if missing:
        raise PlacementBlocked("残疾儿童须先录入专家委员会评估安置意见（R-DIS-1）", missing)
    for c in cases:
        d = decisions.get(c.registration_id)
        if d is None:
            continue
        if d.kind == "defer":
            out[c.registration_id] = Placement(c.registration_id, c.grade, None, "deferred", d.reason)
        elif d.kind == "committee":
            route: Route = d.plan or "special-education"
            out[c.registration_id] = Placement(c.registration_id, c.grade, d.school_id, route, d.reason)
        else:
            out[c.registration_id] = Placement(c.registration_id, c.grade, d.school_id, "override", d.reason)

    # 2. private admissions (the lottery records) and 3. ethnic / specialised schools
    by_target: dict[tuple[str, int], list[Case]] = {}
    for c in cases:
        if c.registration_id in out:
            continue
        if c.category == "private":
            lot = c.lottery or {}
            outcome = lot.get("outcome")
            if outcome == "admitted-without-draw":
                out[c.registration_id] = Placement(
                    c.registration_id, c.grade, lot["school_id"], "private-no-draw"
                )
            elif outcome in ("admitted", "admitted-from-waitlist"):
                out[c.registration_id] = Placement(
                    c.registration_id, c.grade, lot["school_id"], "private-draw"
                )
            else:
                coordinate[c.registration_id] = (
                    "private-declined" if outcome == "declined" else "private-not-admitted"
                )
        elif c.category in ("ethnic", "specialised") and c.target_school:
            by_target.setdefault((c.target_school, c.grade), []).append(c)
    for (school_id, grade), targeted in by_target.items():
        for c in targeted:  # already in tie-break order
            if result.free(school_id, grade) > 0:
                out[c.registration_id] = Placement(c.registration_id, grade, school_id, c.category)  # type: ignore[arg-type]
            else:
                coordinate[c.registration_id] = f"{c.category}-overflow"
        # an ethnic / specialised child without a school named goes to coordination below

    # 4. catchment
    zones = {z.id: z for z in config.zones}
    catchment: dict[tuple[str, int], list[tuple[Case, int, str | None]]] = {}
    for c in cases:
        rid = c.registration_id
        if rid in out or rid in coordinate:
            continue
        v = c.verdict
        if c.foreign:
            coordinate[rid] = "foreign"
        elif v is None or v.status == "review":
            coordinate[rid] = "verification-unresolved"
        elif v.status == "not-eligible":
            coordinate[rid] = "verification-failed"
        elif c.category != "public" or v.zone_id is None or v.zone_id not in zones:
            coordinate[rid] = "no-catchment"
        else:
            tier, tier_id = tier_of(config, zones[v.zone_id].district, v.facts)
            catchment.setdefault((zones[v.zone_id].district, c.grade), []).append((c, tier, tier_id))
    for (district, grade), ranked_cases in sorted(catchment.items()):
        applicants = []
        for c, tier, _ in ranked_cases:
            choices = zone_choices(config, c, zones[str(c.verdict.zone_id if c.verdict else "")])
            result.eligible[c.registration_id] = choices
            applicants.append(
                matching.Applicant(c.registration_id, choices, (tier, tie_break[c.registration_id]))
            )
        seats = {s: max(result.free(s, grade), 0) for a in applicants for s in a.choices}
        mechanism = config.district_index[district].multi_school_assignment
        run = (
            matching.deferred_acceptance
            if mechanism == "deferred-acceptance"
            else matching.first_choice_first
        )
        matched = run(applicants, seats)
        for c, _, tier_id in ranked_cases:
            school = matched.get(c.registration_id)
            if school is None:
                coordinate[c.registration_id] = "catchment-overflow"
            else:
                route = "priority" if tier_id == "policy-priority" else "catchment"
                out[c.registration_id] = Placement(c.registration_id, grade, school, route, tier=tier_id)

    # 5. coordination by each district into its own public schools (R-COORD-1); a child its district
    # cannot seat is then coordinated city-wide, never left without a place
    for grade in sorted({c.grade for c in cases}):
        waiting = [c for c in cases if c.grade == grade and c.registration_id in coordinate]
        for district in sorted({c.district for c in waiting}):
            mine = [c for c in waiting if c.district == district]
            left = _coordinate(config, result, mine, grade, coordinate, cap_km, district)
            waiting = [c for c in waiting if c.district != district] + left
        if waiting and _coordinate(config, result, waiting, grade, coordinate, cap_km, None):
            raise SelfCheckFailed(
                [f"{c.registration_id}: no public seat of grade {grade} is left (R-COORD-1)" for c in waiting]
            )
    return result


def zone_choices(config: SeasonConfig, c: Case, zone: Zone) -> tuple[str, ...]:
    """A catchment child's schools in the order it asks for them (step 4): the family's ranked schools
    of its zone, then the zone's others nearest first (the child is eligible for all of them)."""
    ranked = [s for s in c.preferences if s in zone.schools]
    rest = sorted(
        (s for s in zone.schools if s not in ranked),
        key=lambda s: (config.school_index[s].location.distance_km(c.home), s),
    )
    return tuple(ranked + rest)


def catchment_choices(config: SeasonConfig, c: Case) -> tuple[str, ...]:
    """The catchment schools a child is eligible for (step 4's `Result.eligible`), in its order; empty
    for a child step 4 does not rank (foreign, not verified eligible, not public, no zone)."""
    v = c.verdict
    if c.foreign or v is None or v.status != "eligible" or c.category != "public":
        return ()
    zone = config.zone_index.get(v.zone_id) if v.zone_id else None
    return zone_choices(config, c, zone) if zone is not None else ()


def _coordinate(
    config: SeasonConfig,
    result: Result,
    group: list[Case],
    grade: int,
    why: Mapping[str, str],
    cap_km: float,
    district: str | None,
) -> list[Case]:
    """Coordinate `group` (in tie-break order) into public schools (of one district, or all); the unseated."""
    from enrollment.placement import coordination

    schools = [
        coordination.SchoolSeats(s.id, s.location.lat, s.location.lon, max(result.free(s.id, grade), 0))
        for s in config.schools
        if s.kind in PUBLIC_KINDS and s.plan(grade) > 0 and district in (None, s.district)
    ]
    children = [coordination.Child(c.registration_id, c.home.lat, c.home.lon, i) for i, c in enumerate(group)]
    done = coordination.coordinate(children, schools, cap_km)
    result.coordination[(grade, district or "city")] = done.summary
    for p in done.placements:
        if p.school_id is not None:
            result.placements[p.child_id] = Placement(
                p.child_id, grade, p.school_id, "coordination", why[p.child_id], distance_m=p.metres
            )
    unseated = set(done.unplaced)
    return [c for c in group if c.registration_id in unseated]


def self_check(
    config: SeasonConfig,
    registered: Iterable[str],
    result: Result,
    private_records: Iterable[Mapping[str, Any]],
    lottery_outcomes: Mapping[str, Mapping[str, Any]],
    decisions: Mapping[str, StaffDecision] | None = None,
) -> list[str]:
    """Every invariant of a placement run; each problem names its cases. Empty when all hold.

    A private seat given up (declined, or released because a district decision placed the child)
    must have gone to the draw's waitlist in order (`seats.freed_seat_problems`, as the audit checks
    it); a child promoted from the waitlist must be placed at that school; a decided child is placed
    as its decision says and never at the private school too."""
    problems: list[str] = []
    registered = list(registered)
    placed = result.placements
    seen = Counter(registered)
    problems += [f"{rid}: registered twice" for rid, n in seen.items() if n > 1]
    problems += [f"{rid}: registered but not placed (R-REG-2)" for rid in seen if rid not in placed]
    problems += [f"{rid}: placed but not registered" for rid in placed if rid not in seen]
    for (school_id, grade), n in sorted(result.seats_taken().items()):
        plan = result.capacity.get((school_id, grade), 0)
        if n > plan:
            problems.append(f"{school_id} grade {grade}: {n} placed over a plan of {plan} (R-PUB-3)")
    records = list(private_records)
    admitted_by_record = {}
    for rec in records:
        for rid in rec["admitted"]:
            admitted_by_record[rid] = rec["school_id"]
    for rid, p in placed.items():
        lot = lottery_outcomes.get(rid, {})
        outcome = lot.get("outcome")
        if p.route in ("private-no-draw", "private-draw"):
            promoted = outcome == "admitted-from-waitlist"
            if outcome in ("declined", "released"):
                problems.append(f"{rid}: its seat at {lot.get('school_id')} was {outcome}, yet placed there")
            if admitted_by_record.get(rid) != p.school_id and not (
                promoted and lot.get("school_id") == p.school_id
            ):
                problems.append(
                    f"{rid}: private admission to {p.school_id} not in its lottery record (R-LOT-2)"
                )
        elif rid in admitted_by_record and outcome not in ("declined", "released"):
            problems.append(f"{rid}: admitted by {admitted_by_record[rid]}'s record but placed {p.route}")
        if outcome == "released":
            if p.route not in DECISION_ROUTES:
                problems.append(
                    f"{rid}: its seat at {lot.get('school_id')} was released, but no district decision "
                    f"placed it ({p.route})"
                )
            if not lot.get("released_by") or not lot.get("release_reason"):
                problems.append(f"{rid}: its seat at {lot.get('school_id')} was released without who and why")
        if outcome == "admitted-from-waitlist" and (
            p.route != "private-draw" or p.school_id != lot.get("school_id")
        ):
            problems.append(
                f"{rid}: promoted from the waitlist of {lot.get('school_id')} but placed {p.route} "
                f"at {p.school_id}"
            )
        d = (decisions or {}).get(rid)
        if d is not None:
            want = _decided(d)
            if (p.route, p.school_id) != want:
                problems.append(
                    f"{rid}: the district's {d.kind} decision places it {want[0]} at {want[1]}, "
                    f"but it is placed {p.route} at {p.school_id}"
                )
        if p.route == "coordination":
            if not p.reason:
                problems.append(f"{rid}: coordinated without a reason (R-COORD-1)")
            free = [s for s in result.eligible.get(rid, ()) if result.free(s, p.grade) > 0]
            if free:
                problems.append(f"{rid}: coordinated while its catchment school {free[0]} has a free seat")
        if p.route == "override" and not p.reason:
            problems.append(f"{rid}: override without a reason (R-VER-3)")
        if p.school_id is not None and (p.school_id, p.grade) not in result.capacity:
            problems.append(f"{rid}: placed at {p.school_id}, which takes no grade {p.grade}")
    line_of = {rid: p.line() for rid, p in placed.items()}
    for rec in records:
        problems += freed_seat_problems(rec, line_of)
    return problems


def _decided(d: StaffDecision) -> tuple[str, str | None]:
    """The route and school a staff decision gives (step 1 of `place`)."""
    if d.kind == "defer":
        return "deferred", None
    if d.kind == "committee":
        return d.plan or "special-education", d.school_id
    return "override", d.school_id


def lines(result: Result) -> list[dict[str, Any]]:
    """placements.jsonl, one line per registered child, sorted by registration id."""
    return [result.placements[rid].line() for rid in utf8_sorted(result.placements)]


def summary(config: SeasonConfig, result: Result) -> dict[str, Any]:
    """Placed by route, coordinated distances, schools full or with seats (small: it travels in the workflow)."""
    routes = Counter(p.route for p in result.placements.values())
    reasons = Counter(p.reason for p in result.placements.values() if p.route == "coordination")
    distances = sorted(p.distance_m for p in result.placements.values() if p.distance_m is not None)
    public = [(s.id, g) for s in config.schools if s.kind in PUBLIC_KINDS for g in s.plans]
    full = sum(1 for s, g in public if result.free(s, g) <= 0)
    return {
        "children": len(result.placements),
        "by_route": dict(routes.most_common()),
        "coordinated_by_reason": dict(reasons.most_common()),
        "coordinated_distance_m": {
            "count": len(distances),
            "median": distances[len(distances) // 2] if distances else None,
            "p90": distances[int(len(distances) * 0.9)] if distances else None,
            "max": distances[-1] if distances else None,
        },
        "public_school_grades": {"full": full, "with_seats": len(public) - full},
    }


class DecisionRefused(StaffError):
    status = 422


def decision(
    config: SeasonConfig,
    item: Mapping[str, Any],
    staff: StaffMember,
    kind: DecisionKind,
    reason: str,
    at: str,
    *,
    plan: CommitteePlan | None = None,
    school_id: str | None = None,
) -> StaffDecision:
    """A district's decision for one of its children, checked against the rules it records."""
    require_decide(staff, str(item["district"]))
    check_decision(config, item, kind, reason, plan=plan, school_id=school_id)
    return StaffDecision(
        str(item["registration_id"]), kind, reason.strip(), staff.principal, at, plan, school_id
    )


def check_decision(
    config: SeasonConfig,
    item: Mapping[str, Any],
    kind: DecisionKind,
    reason: str,
    *,
    plan: CommitteePlan | None = None,
    school_id: str | None = None,
) -> None:
    """A decision's own rules, whoever signs it (before placement, or later as a correction)."""
    grade = int(item["grade"])
    school = config.school_index.get(school_id) if school_id else None
    if len(reason.strip()) < 2:
        raise DecisionRefused("请填写理由（谁审谁签字）", "a reason is required (R-VER-3)")
    if kind == "defer":
        if school_id or plan:
            raise DecisionRefused("缓学不安排学校", "a deferral names no school (R-DEFER-1)")
    elif kind == "committee":
        if "disability" not in item.get("special_claims", []):
            raise DecisionRefused(
                "只有申报残疾的儿童由专家委员会评估安置",
                "only a disability claim goes to the committee (R-DIS-1)",
            )
        wanted = "public" if plan == "regular-class" else "special-education"
        if plan is None or school is None or school.kind != wanted or school.plan(grade) == 0:
            raise DecisionRefused(
                "安置方式须与学校相符：随班就读为公办学校，特教学校和送教上门为特殊教育学校",
                f"plan {plan} needs a {wanted} school taking grade {grade} (R-DIS-1)",
            )
    else:
        if school is None or school.plan(grade) == 0 or school.kind == "private":
            raise DecisionRefused(
                f"调整须指定招收{grade}年级的公办、民族、专门或特殊教育学校（民办学校只按派位录取）",
                f"an override names a non-private school taking grade {grade}",
            )
