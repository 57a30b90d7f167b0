"""The verification rules: which agencies to ask, and what their answers establish.

Pure functions over the stored registration item (see `enrollment.registrar.register`) and its
`Check`s: no AWS, no I/O, no clock (`now` is given). Rules, as this module reads them:

R-VER-1 (public school, by catchment, hukou basis). Every one of these must hold:
  - public security holds a hukou for the child's ID number (else hukou-not-found), at the very
    address the family stated (district, road, number; else hukou-address-mismatch, a suspicion of
    false information, R-VER-4); the zone is computed from the police record, not the statement;
  - that address is inside a catchment zone of the child's grade (fact hukou-in-zone; else
    hukou-outside-zone);
  - a deed is stated (else no-property) and housing knows it (else deed-not-found); its house is the
    hukou house (fact hukou-deed-match; else deed-address-mismatch, 房户不一致); it was registered
    strictly before `config.property_cutoff` (registered ON the cut-off day fails: deed-after-cutoff);
  - planning says its planned use is residential (else not-residential);
  - the family actually lives there (fact actual-residence): the community visit, made at the stated
    home address, confirmed it (else not-living-there) AND that home is the hukou house. A family
    whose stated home is another house does not live at the catchment address by its own account:
    not-living-there as well. A visit closed at the deadline without an answer: visit-not-confirmed.
  Fact deed-in-zone: the deed's house lies in the child's catchment zone (only set when that zone
  is known).

R-MIG-1 (residence-permit basis), read as: the residence permit replaces the hukou as the main
  basis. Public security must hold a residence permit for the child with the stated permit number
  (else permit-not-found); its address must be inside a zone of the grade (fact
  residence-permit-in-zone; else permit-outside-zone). A migrant family WITHOUT property is still
  eligible for the zone of the permit address, provided it actually lives there (no extra proofs,
  R-MIG-1). A family that states a deed has it checked exactly as for hukou (found, same house as
  the permit, before the cut-off, residential). Fact hukou-deed-match is not set for migrants (they
  have no local hukou); a deed at another house still gives deed-address-mismatch.

R-PRIO-1 claims (military, police-merit, introduced-talent) are "verified like other facts", but no
  agency registry for them exists in this build: a claim gives fact policy-priority = False, reason
  priority-not-verified and (if nothing else fails) status review, so a person verifies it and signs.
  Only public-school applicants have it assessed: priority is about catchment placement, and the
  private-school lottery (R-LOT-2) has no priority.

R-LOT-2 (private, specialised): only the own-district fact is needed: the district of the hukou or
  permit public security holds equals the chosen school's district. Their status is eligible
  unless public security found nothing (review). Ethnic-school applicants (not catchment, no
  lottery district priority) likewise need only public security.

R-FOREIGN-1: a child registered with a passport is checked with the foreign-affairs office by
  people: no agency is asked; the verdict is review with foreign-check-pending.

Status: any failed rule → not-eligible, listing every reason found (not just the first; reasons
that only leave the case open, e.g. agency-unanswered, are listed too). Otherwise any open reason
(agency-unanswered, visit-not-confirmed, priority-not-verified, foreign-check-pending) → review.
Otherwise eligible, with the zone of the hukou (or permit) house. R-VER-4: not-eligible is never a
refusal of schooling: the district places the child by coordination (R-COORD-1).

A verdict is only made once every needed check is answered (`is_complete`): a pending home visit is
not a reason, it is no verdict yet. The home-visit deadline turns pending visits into
"not-confirmed" checks (`enrollment.agencies.closed_visit`); then the verdict can be made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from enrollment.config import SeasonConfig, Zone
from enrollment.verdicts import Agency, Check, Fact, ReasonCode, Verdict, VerdictStatus

__all__ = [
    "PRIORITY_CLAIMS",
    "REASON_QUEUE",
    "ReviewQueue",
    "checks_needed",
    "is_complete",
    "is_foreign",
    "needs_review",
    "verdict",
    "visit_deadline",
]

PRIORITY_CLAIMS: tuple[str, ...] = ("military", "police-merit", "introduced-talent")  # R-PRIO-1
CATCHMENT_CATEGORIES: tuple[str, ...] = ("public",)
LOTTERY_CATEGORIES: tuple[str, ...] = ("private", "specialised")  # R-LOT-2

# Where each reason sends a case:
#   open                    nothing is decided yet: a person completes the check (status review)
#   false-information       the family's statement and the agency's record disagree (弄虚作假?):
#                           a person looks at it, the child is still placed (R-VER-4)
#   coordination            a rule failed on the agencies' facts: placed by coordination (R-COORD-1)
ReviewQueue = Literal["open", "false-information", "coordination"]
REASON_QUEUE: dict[ReasonCode, ReviewQueue] = {
    "agency-unanswered": "open",
    "visit-not-confirmed": "open",
    "priority-not-verified": "open",
    "foreign-check-pending": "open",
    "hukou-not-found": "false-information",
    "hukou-address-mismatch": "false-information",
    "permit-not-found": "false-information",
    "deed-not-found": "false-information",
    "hukou-outside-zone": "coordination",
    "permit-outside-zone": "coordination",
    "no-property": "coordination",
    "deed-address-mismatch": "coordination",
    "deed-after-cutoff": "coordination",
    "not-residential": "coordination",
    "not-living-there": "coordination",
}
_FINAL = frozenset({"answered", "not-confirmed"})

House = tuple[str, str, int]


def is_foreign(registration_item: Mapping[str, Any]) -> bool:
    """R-FOREIGN-1: registered with a passport instead of a resident ID number."""
    return bool(registration_item["request"]["child"].get("id_type") == "passport")


def _deed_number(request: Mapping[str, Any]) -> str | None:
    prop = (request.get("residence") or {}).get("property") or {}
    number = prop.get("deed_number")
    return str(number) if number else None


def checks_needed(registration_item: Mapping[str, Any]) -> list[Agency]:
    """Which agencies to ask about a registration (R-VER-2), in the order AGENCIES lists them."""
    if is_foreign(registration_item):
        return []  # R-FOREIGN-1: foreign-affairs check, by people
    needed: list[Agency] = ["public-security"]  # hukou/permit; for R-LOT-2 the own-district fact
    if registration_item["category"] in CATCHMENT_CATEGORIES:
        if _deed_number(registration_item["request"]):
            needed += ["housing", "planning"]
        needed.append("community")
    return needed


def _latest(checks: Iterable[Check]) -> dict[Agency, Check]:
    """One check per agency: a final answer wins over an open one, then the latest, then list order."""
    best: dict[Agency, tuple[tuple[bool, float, int], Check]] = {}
    for i, c in enumerate(checks):
        key = (c.status in _FINAL, (c.answered_at or c.asked_at).timestamp(), i)
        if c.agency not in best or key > best[c.agency][0]:
            best[c.agency] = (key, c)
    return {a: c for a, (_, c) in best.items()}


def is_complete(checks: Iterable[Check], registration_item: Mapping[str, Any] | None = None) -> bool:
    """True when no check is still pending (a home visit not answered yet) and, given the item,
    every agency it needs has a check. Only then can `verdict` be made."""
    latest = _latest(checks)
    if any(c.status == "pending" for c in latest.values()):
        return False
    return registration_item is None or all(a in latest for a in checks_needed(registration_item))


def visit_deadline(config: SeasonConfig) -> datetime:
    """The instant the home visits end (the end of calendar.home_visits' last day)."""
    return config.day_end(config.calendar.home_visits.end)


def needs_review(verdict: Verdict) -> bool:
    """A person must look at it: an open case, or a suspicion of false information (R-VER-4)."""
    return verdict.status == "review" or any(REASON_QUEUE[r] == "false-information" for r in verdict.reasons)


# The rules ----------------------------------------------------------------------------------------


class _Findings:
    def __init__(self) -> None:
        self.reasons: list[ReasonCode] = []
        self.facts: dict[Fact, bool] = {}

    def fail(self, reason: ReasonCode) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def fact(self, fact: Fact, value: bool, otherwise: ReasonCode | None = None) -> None:
        self.facts[fact] = value
        if not value and otherwise is not None:
            self.fail(otherwise)


def _house(value: Any) -> House | None:
    """(district, road, number) of an address dict or an agency's facts; None if incomplete."""
    if not isinstance(value, Mapping):
        return None
    try:
        district, road, number = value["district"], value["road"], int(value["number"])
    except (KeyError, TypeError, ValueError):
        return None
    if not district or not road:
        return None
    return (str(district), str(road), number)


def _zone(config: SeasonConfig, grade: int, house: House) -> Zone | None:
    zone = config.zone_for(grade, house[1], house[2])
    return zone if zone is not None and zone.district == house[0] else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _found(check: Check | None) -> Mapping[str, Any] | None:
    """The facts of an answered check that found a record; None otherwise."""
    if check is None or check.status != "answered" or check.reason != "found":
        return None
    return check.facts


def _open(check: Check | None) -> bool:
    """The agency could not answer (stayed down); a non-visit check closed at a deadline likewise."""
    return check is not None and (
        check.status == "unanswered" or (check.status == "not-confirmed" and check.agency != "community")
    )


def _lives_there(check: Check) -> bool:
    value = check.facts.get("lives_there")
    return value if isinstance(value, bool) else check.reason == "lives-there"


def verdict(
    config: SeasonConfig, registration_item: Mapping[str, Any], checks: Iterable[Check], now: datetime
) -> Verdict:
    """What the checks establish about a registration (see the module docstring for the rules).

    Raises ValueError if the checks are not complete (`is_complete`) or belong to another registration.
    """
    item = registration_item
    rid = str(item["registration_id"])
    checks = list(checks)
    if any(c.registration_id != rid for c in checks):
        raise ValueError(f"{rid}: a check belongs to another registration")
    if not is_complete(checks, item):
        raise ValueError(f"{rid}: checks are not complete (a needed agency has not answered yet)")
    latest = _latest(checks)
    req = item["request"]
    grade = int(item["grade"])
    category = str(item["category"])

    def result(status: VerdictStatus, found: _Findings, zone: Zone | None = None) -> Verdict:
        return Verdict(
            registration_id=rid,
            season=str(item["season"]),
            grade=grade,
            district=str(item["district"]),
            category=category,
            status=status,
            zone_id=zone.id if zone is not None and status != "not-eligible" else None,
            facts=found.facts,
            reasons=found.reasons,
            decided_at=now,
        )

    found = _Findings()
    if is_foreign(item):  # R-FOREIGN-1
        found.fail("foreign-check-pending")
        return result("review", found)

    police = latest["public-security"]
    record = _found(police)
    permit_basis = (req.get("residence") or {}).get("basis") == "residence-permit"
    not_found: ReasonCode = "permit-not-found" if permit_basis else "hukou-not-found"
    if _open(police):
        found.fail("agency-unanswered")

    if category not in CATCHMENT_CATEGORIES:
        # R-LOT-2 (private, specialised) and ethnic schools: public security only.
        if record is None and not _open(police):
            found.fail(not_found)
        home = _house(record)
        school = config.school_index.get(str(item.get("target_school")))
        if category in LOTTERY_CATEGORIES and home is not None and school is not None:
            found.fact("own-district", home[0] == school.district)
        return result("review" if found.reasons else "eligible", found)

    catchment, zone = _catchment(config, grade, req, police, record, permit_basis, found)
    _property(config, grade, req, latest, catchment, zone, permit_basis, found)
    _residence(req, latest.get("community"), catchment, found)

    claims = [c for c in item.get("special_claims") or [] if c in PRIORITY_CLAIMS]
    if claims:  # R-PRIO-1: no registry to verify against in this build; a person verifies
        found.fact("policy-priority", False, "priority-not-verified")

    if any(REASON_QUEUE[r] != "open" for r in found.reasons):
        return result("not-eligible", found)
    return result("review" if found.reasons else "eligible", found, zone)


def _catchment(
    config: SeasonConfig,
    grade: int,
    req: Mapping[str, Any],
    police: Check,
    record: Mapping[str, Any] | None,
    permit_basis: bool,
    found: _Findings,
) -> tuple[House | None, Zone | None]:
    """R-VER-1 hukou / R-MIG-1 permit: the verified house and its zone (None where not established)."""
    answered = police.status == "answered"
    house = _house(record)
    residence = req.get("residence") or {}
    if record is None or house is None:
        if answered:
            found.fail("permit-not-found" if permit_basis else "hukou-not-found")
        return None, None
    if permit_basis:  # R-MIG-1: a permit of this child, with the number the family stated
        stated = residence.get("residence_permit_number")
        if record.get("kind") != "residence-permit" or record.get("permit_number") != stated:
            found.fail("permit-not-found")
            return None, None
        zone = _zone(config, grade, house)
        found.fact("residence-permit-in-zone", zone is not None, "permit-outside-zone")
        return house, zone
    if record.get("kind") != "hukou":  # the police hold only a residence permit for this child
        found.fail("hukou-not-found")
        return None, None
    if _house(residence.get("hukou_address")) != house:
        found.fail("hukou-address-mismatch")  # stated one address, the police hold another
    zone = _zone(config, grade, house)
    found.fact("hukou-in-zone", zone is not None, "hukou-outside-zone")
    return house, zone


def _property(
    config: SeasonConfig,
    grade: int,
    req: Mapping[str, Any],
    latest: Mapping[Agency, Check],
    catchment: House | None,
    zone: Zone | None,
    permit_basis: bool,
    found: _Findings,
) -> None:
    """R-VER-1: deed found, same house as the hukou (or permit), before the cut-off, residential."""
    if _deed_number(req) is None:
        if not permit_basis:
            found.fail("no-property")  # R-MIG-1: a migrant without property is still eligible
        return
    housing, planning = latest.get("housing"), latest.get("planning")
    deed = _found(housing)
    if _open(housing):
        found.fail("agency-unanswered")
    elif deed is None:
        found.fail("deed-not-found")
    else:
        deed_house = _house(deed)
        registered = _date(deed.get("registered_on"))
        if deed_house is None or registered is None:
            found.fail("agency-unanswered")  # housing answered without the facts the rule needs
        else:
            if zone is not None:
                deed_zone = _zone(config, grade, deed_house)
                found.fact("deed-in-zone", deed_zone is not None and deed_zone.id == zone.id)
            if catchment is not None:
                same = deed_house == catchment
                if permit_basis:
                    if not same:
                        found.fail("deed-address-mismatch")
                else:
                    found.fact("hukou-deed-match", same, "deed-address-mismatch")
            if registered >= config.property_cutoff:  # strictly before: the cut-off day itself fails
                found.fail("deed-after-cutoff")
    if _open(planning):
        found.fail("agency-unanswered")
    elif (use := _found(planning)) is not None:
        if use.get("planned_use") != "residential":
            found.fail("not-residential")
    elif deed is not None:
        # housing knows the deed but planning has no record of it: the planned use cannot be
        # established, so the check is incomplete and a person looks at it (not a failed fact)
        found.fail("agency-unanswered")


def _residence(
    req: Mapping[str, Any], visit: Check | None, catchment: House | None, found: _Findings
) -> None:
    """R-VER-1 actual residence: the visit at the stated home confirmed it, and home is the catchment house."""
    home = _house(req.get("home_address"))
    elsewhere = catchment is not None and home != catchment
    if visit is None or _open(visit):
        found.fail("agency-unanswered")
    elif visit.status == "not-confirmed":
        found.fail("visit-not-confirmed")
    else:
        found.fact("actual-residence", _lives_there(visit) and not elsewhere, "not-living-there")
        return
    if elsewhere:  # by the family's own statement, it lives in another house than the catchment one
        found.fact("actual-residence", False, "not-living-there")
