"""Asking the agencies and judging the answers (R-VER-1, R-VER-2, R-MIG-1, R-PRIO-1, R-LOT-2).

Agencies sit behind one small interface each. The local adapters answer from the registries the
synthetic population comes with; an agency named in `config.verification.agencies` is asked over its
API (enrollment.adapters.agency_http, docs/agency-api.yaml) with its key from Secrets Manager. A
season with neither for some agency stops with `AgenciesNotConfigured` instead of pretending.

The rules are plain functions over the stored registration item and its checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from enrollment.core.config import SeasonConfig, Zone
from enrollment.verification.agency_api import KIND_OF, CheckAnswer, CheckRequest
from enrollment.verification.registries import Registries
from enrollment.verification.verdicts import Agency, Check, Fact, ReasonCode, Verdict

PRIORITY_CLAIMS = ("military", "police-merit", "introduced-talent")


class AgencyUnavailable(Exception):
    """An agency errored or timed out. The ASL retries on this name, with backoff."""


class AgenciesNotConfigured(Exception):
    """No way to reach the agencies: no local registries and no HTTPS adapters built."""


@dataclass(frozen=True)
class Answer:
    reason: str  # the agency's reason code: found, no-record, ...
    facts: dict[str, str | int | bool | None] = field(default_factory=dict)


def answer_of(a: CheckAnswer) -> Answer:
    """An agency's answer as a check keeps it, by API or by file: the facts, and which register said
    so when."""
    return Answer(a.reason, {**a.facts, "source": a.source, "answered_at": a.answered_at.isoformat()})


class PublicSecurity(Protocol):
    def lookup(self, id_type: str, id_number: str) -> Answer: ...


class Housing(Protocol):
    def deed(self, deed_number: str, owner_id_numbers: Sequence[str] = ()) -> Answer:
        """The deed's address, registration date and number of owners; given `owner_id_numbers`, also
        whether any of those people owns it (`owner_match`, `owners_matched`), never who does."""
        ...


class Planning(Protocol):
    def planned_use(self, deed_number: str) -> Answer: ...


class Community(Protocol):
    def request_visit(self, registration_id: str, id_number: str, address: dict[str, Any]) -> None:
        """Ask the community office to visit; its answer comes later through the callback API."""
        ...


@dataclass
class Agencies:
    public_security: PublicSecurity
    housing: Housing
    planning: Planning
    community: Community


def _address(a: Any) -> dict[str, str | int | bool | None]:
    """An agency's address as check facts: the road and house number, or the compound, building, unit."""
    if getattr(a, "compound", None) is not None:
        return {"district": a.district, "compound": a.compound, "building": a.building, "unit": a.unit}
    return {"district": a.district, "road": a.road, "number": a.number}


class LocalRegistries:
    """All four agencies answering from the registries (the embedded backend)."""

    def __init__(self, registries: Registries) -> None:
        self.registries = registries
        self.visits_requested: list[str] = []

    def lookup(self, id_type: str, id_number: str) -> Answer:
        r = self.registries.hukou(id_number)
        if r is None:
            return Answer("no-record")
        return Answer(
            "found",
            {
                "kind": r.kind,
                **_address(r.address),
                "permit_number": r.permit_number,
                "since": r.since.isoformat(),
            },
        )

    def deed(self, deed_number: str, owner_id_numbers: Sequence[str] = ()) -> Answer:
        d = self.registries.deed(deed_number)
        if d is None:
            return Answer("no-record")
        facts: dict[str, str | int | bool | None] = {
            **_address(d.address),
            "registered_on": d.registered_on.isoformat(),
            "owners": len(d.owner_id_numbers),
        }
        if owner_id_numbers:  # a 核验: whether these people own it, not who does
            matched = len(set(owner_id_numbers) & set(d.owner_id_numbers))
            facts |= {"owner_match": matched > 0, "owners_matched": matched}
        return Answer("found", facts)

    def planned_use(self, deed_number: str) -> Answer:
        p = self.registries.planned_use(deed_number)
        return Answer("no-record") if p is None else Answer("found", {"planned_use": p.planned_use})

    def request_visit(self, registration_id: str, id_number: str, address: dict[str, Any]) -> None:
        self.visits_requested.append(registration_id)

    def visit_answer(self, id_number: str, asked_on: date) -> tuple[date, bool] | None:
        """When the community would answer a visit asked on `asked_on`, and what (demo driver)."""
        r = self.registries.residence(id_number)
        if r is None:
            return None
        return asked_on + timedelta(days=r.visit_delay_days), r.lives_there

    def agencies(self) -> Agencies:
        return Agencies(self, self, self, self)


class VisitsByCallback:
    """Home visits where no registries drive them (deployed): the pending check stored by `ask` is the
    request, and the community office answers through its callback route (`record_visit`)."""

    def request_visit(self, registration_id: str, id_number: str, address: dict[str, Any]) -> None:
        return None


class Faulty:
    """Wraps an agency: the first `failures` calls raise AgencyUnavailable (-1: every call)."""

    def __init__(self, inner: Any, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.failures < 0 or self.calls <= self.failures:
                raise AgencyUnavailable(f"{name}: agency did not answer")
            return target(*args, **kwargs)

        return call


# Which agencies a registration needs -------------------------------------------------------------


def checks_needed(item: dict[str, Any]) -> list[Agency]:
    req = item["request"]
    if req["child"].get("id_type") == "passport":
        return []  # R-FOREIGN-1: checked with foreign-affairs offices, by people
    needed: list[Agency] = ["public-security"]
    if item["category"] == "public":
        if (req["residence"].get("property") or {}).get("deed_number"):
            needed += ["housing", "planning"]
        needed.append("community")
    return needed


def owner_candidates(req: Mapping[str, Any]) -> list[str]:
    """Whose ownership of the deed housing is asked to confirm (R-VER-1, R-VER-2): the guardians the
    form names (父母或其他法定监护人) and the child. Empty for a registration stored before the form
    asked for the guardians' ID numbers: its deed is judged as it was then, without the owners
    (README.md, "Whose deed")."""
    guardians = [str(g["id_number"]) for g in req.get("guardians", []) if g.get("id_number")]
    if not guardians:
        return []
    return list(dict.fromkeys([*guardians, str(req["child"]["id_number"])]))


def question(agency: Agency, item: dict[str, Any]) -> CheckRequest | None:
    """What `ask` would ask an agency about a registration, as the agency API's check (None: a visit).
    The check id is a placeholder: the adapter numbers the checks of each call itself."""
    req = item["request"]
    deed = (req["residence"].get("property") or {}).get("deed_number", "")
    rid = "c"
    if agency == "public-security":
        child = req["child"]
        return CheckRequest(
            check_id=rid,
            kind="hukou",
            id_type=child.get("id_type", "resident-id"),
            id_number=child["id_number"],
        )
    if agency == "housing":
        owners = owner_candidates(req) or None
        return CheckRequest(check_id=rid, kind="deed", deed_number=deed, owner_id_numbers=owners)
    if agency == "planning":
        return CheckRequest(check_id=rid, kind=KIND_OF[agency], deed_number=deed)
    return None


def prefetch(agencies: Agencies, wanted: Iterable[tuple[Agency, dict[str, Any]]]) -> None:
    """Where an agency answers batches (the API adapter's `prefetch`), ask it about the whole batch in
    one call before `ask` goes check by check; `ask` then takes those answers. Raises AgencyUnavailable."""
    by: dict[Agency, list[CheckRequest]] = {}
    for agency, item in wanted:
        if (q := question(agency, item)) is not None:
            by.setdefault(agency, []).append(q)
    ports = {
        "public-security": agencies.public_security,
        "housing": agencies.housing,
        "planning": agencies.planning,
    }
    for agency, questions in by.items():
        batched = getattr(ports[agency], "prefetch", None)
        if batched is not None:
            batched(questions)


def ask(agencies: Agencies, agency: Agency, item: dict[str, Any], now: datetime) -> Check:
    """One agency's answer as a stored check (community: a visit requested, answer pending; an agency
    exchanging files, `request_file` on its port: the request on its worklist, answer pending)."""
    req = item["request"]
    rid = str(item["registration_id"])
    deed = (req["residence"].get("property") or {}).get("deed_number", "")
    if agency == "community":
        agencies.community.request_visit(rid, req["child"]["id_number"], req["home_address"])
        return Check(
            registration_id=rid, agency=agency, status="pending", asked_at=now, reason="visit-requested"
        )
    port = {"public-security": agencies.public_security, "housing": agencies.housing}.get(agency)
    by_file = getattr(port or agencies.planning, "request_file", None)
    if by_file is not None:  # an agency exchanging files (agency_files.py): its answer comes later
        by_file(agency, item, now)
        return Check(
            registration_id=rid, agency=agency, status="pending", asked_at=now, reason="file-requested"
        )
    if agency == "public-security":
        answer = agencies.public_security.lookup(
            req["child"].get("id_type", "resident-id"), req["child"]["id_number"]
        )
    elif agency == "housing":
        answer = agencies.housing.deed(deed, owner_candidates(req))
    else:
        answer = agencies.planning.planned_use(deed)
    return answered(rid, agency, answer, asked_at=now, now=now)


def answered(
    registration_id: str, agency: Agency, answer: Answer, asked_at: datetime, now: datetime
) -> Check:
    """An agency's answer as its stored check, however it came: asked and answered at once (`ask`), or
    answered later by file (`season.record_answers`)."""
    return Check(
        registration_id=registration_id,
        agency=agency,
        status="answered",
        asked_at=asked_at,
        answered_at=now,
        reason=answer.reason,
        facts=answer.facts,
    )


def unanswered(agency: Agency, registration_id: str, now: datetime) -> Check:
    return Check(
        registration_id=registration_id, agency=agency, status="unanswered", asked_at=now, reason="timeout"
    )


def agency_closed(registration_id: str, agency: Agency, asked_at: datetime, now: datetime) -> Check:
    """An agency's awaited answer (a requested answer file) did not come by the verification
    deadline: the check is unanswered (→ review, R-VER-3)."""
    return Check(
        registration_id=registration_id,
        agency=agency,
        status="unanswered",
        asked_at=asked_at,
        reason="deadline-passed",
    )


def visit_answer(
    registration_id: str, lives_there: bool, asked_at: datetime, now: datetime, visitor: str
) -> Check:
    return Check(
        registration_id=registration_id,
        agency="community",
        status="answered",
        asked_at=asked_at,
        answered_at=now,
        reason="lives-there" if lives_there else "not-living-there",
        facts={"lives_there": lives_there, "visitor": visitor},
    )


def visit_closed(registration_id: str, asked_at: datetime, now: datetime) -> Check:
    """The home-visit deadline passed without an answer (→ review)."""
    return Check(
        registration_id=registration_id,
        agency="community",
        status="not-confirmed",
        asked_at=asked_at,
        answered_at=now,
        reason="deadline-passed",
    )


def is_complete(item: dict[str, Any], checks: Iterable[Check]) -> bool:
    by = {c.agency: c for c in checks}
    return all(a in by and by[a].status != "pending" for a in checks_needed(item))


# The rules -----------------------------------------------------------------------------------------


def _same_house(facts: Mapping[str, Any], addr: Mapping[str, Any]) -> bool:
    """The same house, like with like: the same district, road and house number, or the same district,
    compound, building and unit. A building or unit one side does not give (the form leaves them
    optional) is not compared: the zone is the compound's either way, and the agencies' own records
    (hukou against deed) always give both.

    A compound address never equals a road address, not even its gate's: the gate's number stands
    for every building of the compound, so it cannot show that two addresses are the same flat's
    building (R-VER-1, hukou-deed-match), and a compound may be in another zone than its gate."""
    if facts.get("compound") or addr.get("compound"):
        if any(facts.get(p) != addr.get(p) for p in ("district", "compound")):
            return False
        return all(
            facts.get(p) == addr.get(p)
            for p in ("building", "unit")
            if facts.get(p) is not None and addr.get(p) is not None
        )
    return all(facts.get(p) == addr.get(p) for p in ("district", "road", "number"))


def _zone(config: SeasonConfig, grade: int, facts: Mapping[str, Any]) -> Zone | None:
    """The zone of an agency's address; None for an address the season does not know."""
    if not facts.get("compound") and not (facts.get("road") and facts.get("number")):
        return None
    return config.zone_of(grade, facts)


def _ownership(req: Mapping[str, Any], deed: Mapping[str, Any]) -> list[ReasonCode]:
    """R-VER-1, R-VER-2: the deed is the family's, owned (alone or jointly) by a guardian the form
    names or by the child; a deed in anyone else's name alone (a grandparent who is not a named
    guardian, a landlord) does not qualify. Nothing to judge where the form named no guardian's ID
    number (stored before it asked); a found deed whose answer does not say is a person's to look at."""
    if not owner_candidates(req):
        return []
    match = deed.get("owner_match")
    if not isinstance(match, bool):
        return ["agency-unanswered"]
    return [] if match else ["owner-not-guardian"]


def verdict(config: SeasonConfig, item: dict[str, Any], checks: Iterable[Check], now: datetime) -> Verdict:
    """What the checks establish. Every failing fact is reported, not just the first (R-VER-4)."""
    if not is_complete(item, checks):
        raise ValueError(f"{item['registration_id']}: checks are not complete")
    by = {c.agency: c for c in checks}
    req = item["request"]
    grade = int(item["grade"])
    reasons: list[ReasonCode] = []
    facts: dict[Fact, bool] = {}
    base = {
        "registration_id": item["registration_id"],
        "season": item["season"],
        "grade": grade,
        "district": item["district"],
        "category": item["category"],
        "decided_at": now,
    }
    if req["child"].get("id_type") == "passport":
        return Verdict(**base, status="review", reasons=["foreign-check-pending"])
    if any(c.status == "unanswered" for c in by.values()):
        reasons.append("agency-unanswered")

    police = by["public-security"]
    record = police.facts if police.status == "answered" and police.reason == "found" else None
    basis = req["residence"]["basis"]
    if record is None and police.status == "answered":
        reasons.append("permit-not-found" if basis == "residence-permit" else "hukou-not-found")

    if item["category"] in ("private", "specialised", "ethnic"):  # no catchment; R-LOT-2 own-district
        school = config.school_index.get(str(item.get("target_school")))
        if record is not None and school is not None:
            facts["own-district"] = record.get("district") == school.district
        status = "review" if reasons else "eligible"
        return Verdict(**base, status=status, facts=facts, reasons=reasons)

    zone = None
    if record is not None:
        if basis == "residence-permit":  # R-MIG-1: the permit is the main basis
            if record.get("kind") != "residence-permit" or record.get("permit_number") != req[
                "residence"
            ].get("residence_permit_number"):
                reasons.append("permit-not-found")
            else:
                zone = _zone(config, grade, record)
                facts["residence-permit-in-zone"] = zone is not None
                if zone is None:
                    reasons.append("permit-outside-zone")
        else:
            stated = req["residence"].get("hukou_address") or {}
            if not _same_house(record, stated):
                reasons.append("hukou-address-mismatch")
            zone = _zone(config, grade, record)
            facts["hukou-in-zone"] = zone is not None
            if zone is None:
                reasons.append("hukou-outside-zone")

    deed_check = by.get("housing")
    if deed_check is None:
        if basis == "hukou":
            reasons.append("no-property")  # a migrant without property may still be placed by permit
    elif deed_check.status == "answered":
        if deed_check.reason != "found":
            reasons.append("deed-not-found")
        else:
            d = deed_check.facts
            deed_zone = _zone(config, grade, d)
            facts["deed-in-zone"] = deed_zone is not None
            if record is not None:
                facts["hukou-deed-match"] = _same_house(d, record)
                if not facts["hukou-deed-match"]:
                    reasons.append("deed-address-mismatch")
            # registered strictly before the cut-off: on the cut-off day fails (R-VER-1)
            if date.fromisoformat(str(d["registered_on"])) >= config.property_cutoff:
                reasons.append("deed-after-cutoff")
            reasons += [r for r in _ownership(req, d) if r not in reasons]
        plan = by.get("planning")
        if plan is not None and plan.status == "answered":
            if plan.reason != "found":  # planning holds no record of a known deed: a person looks
                reasons.append("agency-unanswered")
            elif plan.facts.get("planned_use") != "residential":
                reasons.append("not-residential")

    visit = by.get("community")
    if visit is not None:
        if visit.status == "not-confirmed":
            reasons.append("visit-not-confirmed")
        elif visit.status == "answered":
            facts["actual-residence"] = bool(visit.facts.get("lives_there"))
            if not facts["actual-residence"]:
                reasons.append("not-living-there")

    claims = [c for c in item.get("special_claims", []) if c in PRIORITY_CLAIMS]
    if claims:  # R-PRIO-1: no agency registry for these here; a person verifies the claim
        facts["policy-priority"] = False
        reasons.append("priority-not-verified")

    if not reasons:
        return Verdict(**base, status="eligible", zone_id=zone.id if zone else None, facts=facts)
    review_only = {"agency-unanswered", "visit-not-confirmed", "priority-not-verified"}
    status = "review" if set(reasons) <= review_only else "not-eligible"
    return Verdict(**base, status=status, zone_id=zone.id if zone else None, facts=facts, reasons=reasons)
