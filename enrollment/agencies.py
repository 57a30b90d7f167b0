"""The agencies that answer verification checks, one small interface each (R-VER-2).

    public security (公安)                 hukou or residence permit   `PublicSecurity.lookup`
    housing (住建)                         deed, owners, registration  `Housing.deed`
    planning & natural resources (规划)    planned use of the property `Planning.planned_use`
    street/community office (街道社区)     actual residence            `Community.request_visit`

Each synchronous agency returns an `AgencyAnswer` (its own reason code, e.g. "found" or "no-record",
and the facts it holds); `to_check` turns it into the stored `Check` with source and times. A home
visit is asynchronous: `request_visit` only asks, and the community office answers days later
through the callback API (`community_answer` builds that answer). An agency that errors or times
out raises `AgencyUnavailable`: the Step Functions ASL retries on that error *name*, with backoff,
and a check that stays unanswered goes to review (reason agency-unanswered).

Adapters:

- `LocalPublicSecurity`, `LocalHousing`, `LocalPlanning`, `LocalCommunity` answer from a
  `Registries` object (the synthetic population's agency records, or one day an agency export).
  `LocalCommunity` keeps the requested visits in memory and tells which are answered by a given
  day (`due_answers`), so the local runtime can post them to the callback API on that day.
- `FaultyAgency` wraps any of them and raises `AgencyUnavailable` for the first N calls
  (transient) or every call (persistent): for tests and the demo.
- The real AWS adapters are NOT implemented, because no agency is reachable from this project's
  machines; nothing here pretends to answer for them. Their contract: for each agency the season
  config names an `AgencyEndpoint` (`config.verification.agencies[agency]`: base_url over HTTPS,
  credentials_secret_arn in Secrets Manager, timeout_s). The adapter reads the credentials from the
  secret once per container, POSTs a JSON body (`registration_id` plus the method's arguments,
  e.g. `{"registration_id", "id_type", "id_number"}` for public security) to
  `{base_url}/{method}` with that timeout, and expects a JSON body `{"reason": str, "facts": {...}}`
  with the same facts as the local adapters below. A timeout, a connection error, HTTP 429 or any
  5xx raises `AgencyUnavailable`; HTTP 4xx raises `AgencyRejected` (not retried); the answer is
  returned as an `AgencyAnswer`. The community endpoint only acknowledges the request (HTTP 202)
  and later calls the callback API.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol, cast

from pydantic import BaseModel, ConfigDict, Field

from enrollment.config import AgencyEndpoint
from enrollment.registries import RecordAddress, Registries
from enrollment.verdicts import Agency, Check

__all__ = [
    "Agencies",
    "AgencyAnswer",
    "AgencyEndpoint",
    "AgencyError",
    "AgencyRejected",
    "AgencyUnavailable",
    "Community",
    "DueVisit",
    "FaultyAgency",
    "Housing",
    "LocalCommunity",
    "LocalHousing",
    "LocalPlanning",
    "LocalPublicSecurity",
    "Planning",
    "PublicSecurity",
    "VisitRequest",
    "ask",
    "closed_visit",
    "community_answer",
    "pending_visit",
    "to_check",
    "unanswered",
    "with_faults",
]

FactValue = str | int | bool | None

# The agencies' own reason codes (kept on the Check; the rules turn them into ReasonCodes).
FOUND = "found"
NO_RECORD = "no-record"
LIVES_THERE = "lives-there"
NOT_LIVING_THERE = "not-living-there"
VISIT_REQUESTED = "visit-requested"
TIMEOUT = "timeout"
DEADLINE_PASSED = "deadline-passed"


# Errors -------------------------------------------------------------------------------------------


class AgencyError(Exception):
    """Something went wrong asking an agency."""

    def __init__(self, agency: str, message: str) -> None:
        super().__init__(f"{agency}: {message}")
        self.agency = agency


class AgencyUnavailable(AgencyError):
    """The agency errored or timed out: safe to retry. The ASL retries on this exact name."""


class AgencyRejected(AgencyError):
    """The agency refused the question itself (e.g. an empty deed number): retrying will not help."""


# Answers ------------------------------------------------------------------------------------------


class AgencyAnswer(BaseModel):
    """What one agency said about one registration: its reason code and the facts it holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    registration_id: str
    agency: Agency
    status: Literal["answered"] = "answered"
    reason: str = Field(min_length=1)  # the agency's own code: found, no-record, lives-there, ...
    facts: dict[str, FactValue] = Field(default_factory=dict)


def to_check(answer: AgencyAnswer, asked_at: datetime, answered_at: datetime) -> Check:
    """The stored check for an answer (R-VER-2: with its source, times and reason code)."""
    return Check(
        registration_id=answer.registration_id,
        agency=answer.agency,
        status=answer.status,
        asked_at=asked_at,
        answered_at=answered_at,
        reason=answer.reason,
        facts=dict(answer.facts),
    )


def community_answer(
    lives_there: bool,
    *,
    registration_id: str,
    visitor: str | None = None,
    visited_on: date | None = None,
) -> AgencyAnswer:
    """The community office's answer to a home visit (what its callback carries)."""
    facts: dict[str, FactValue] = {"lives_there": lives_there}
    if visitor is not None:
        facts["visitor"] = visitor
    if visited_on is not None:
        facts["visited_on"] = visited_on.isoformat()
    return AgencyAnswer(
        registration_id=registration_id,
        agency="community",
        reason=LIVES_THERE if lives_there else NOT_LIVING_THERE,
        facts=facts,
    )


def pending_visit(registration_id: str, asked_at: datetime) -> Check:
    """A home visit asked for and not answered yet."""
    return Check(
        registration_id=registration_id,
        agency="community",
        status="pending",
        asked_at=asked_at,
        reason=VISIT_REQUESTED,
    )


def unanswered(registration_id: str, agency: Agency, asked_at: datetime) -> Check:
    """An agency that stayed down after the retries: the check could not be made (→ review)."""
    return Check(
        registration_id=registration_id, agency=agency, status="unanswered", asked_at=asked_at, reason=TIMEOUT
    )


def closed_visit(pending: Check, now: datetime) -> Check:
    """The home-visit deadline passed without an answer: not confirmed (→ review, visit-not-confirmed)."""
    if pending.agency != "community" or pending.status != "pending":
        raise ValueError("only a pending home visit can be closed")
    return Check(
        registration_id=pending.registration_id,
        agency="community",
        status="not-confirmed",
        asked_at=pending.asked_at,
        answered_at=now,
        reason=DEADLINE_PASSED,
    )


# Interfaces ---------------------------------------------------------------------------------------


class PublicSecurity(Protocol):
    def lookup(self, registration_id: str, id_type: str, id_number: str) -> AgencyAnswer:
        """found: kind ("hukou" | "residence-permit"), district, road, number, permit_number, since."""
        ...


class Housing(Protocol):
    def deed(self, registration_id: str, deed_number: str) -> AgencyAnswer:
        """found: district, road, number, registered_on (ISO date), owners (how many)."""
        ...


class Planning(Protocol):
    def planned_use(self, registration_id: str, deed_number: str) -> AgencyAnswer:
        """found: planned_use ("residential" | "commercial" | "industrial")."""
        ...


class Community(Protocol):
    def request_visit(self, registration_id: str, id_number: str, address: Mapping[str, Any]) -> None:
        """Ask for a home visit at `address`; the answer comes later through the callback API."""
        ...


@dataclass
class Agencies:
    """The four agencies a verification run asks."""

    public_security: PublicSecurity
    housing: Housing
    planning: Planning
    community: Community

    @classmethod
    def local(cls, registries: Registries, today: Callable[[], date]) -> Agencies:
        """All four answering from `registries`; `today` dates the home-visit requests."""
        return cls(
            LocalPublicSecurity(registries),
            LocalHousing(registries),
            LocalPlanning(registries),
            LocalCommunity(registries, today),
        )


def ask(agencies: Agencies, agency: Agency, registration_item: Mapping[str, Any], now: datetime) -> Check:
    """Ask one agency about a stored registration item; a home visit comes back pending.

    Raises AgencyUnavailable (retry) or AgencyRejected as the agency does.
    """
    rid = str(registration_item["registration_id"])
    req = registration_item["request"]
    child = req["child"]
    deed = str(((req.get("residence") or {}).get("property") or {}).get("deed_number") or "")
    if agency == "community":
        agencies.community.request_visit(rid, str(child["id_number"]), req["home_address"])
        return pending_visit(rid, now)
    if agency == "public-security":
        answer = agencies.public_security.lookup(
            rid, str(child.get("id_type") or "resident-id"), str(child["id_number"])
        )
    elif agency == "housing":
        answer = agencies.housing.deed(rid, deed)
    else:
        answer = agencies.planning.planned_use(rid, deed)
    return to_check(answer, now, now)


# Local adapters (answering from the registries) ---------------------------------------------------


def _house(address: RecordAddress) -> dict[str, FactValue]:
    """The house as agencies answer it; the flat (detail) is not needed by any rule (R-DATA-1)."""
    return {"district": address.district, "road": address.road, "number": address.number}


def _require(agency: Agency, **values: str) -> None:
    for name, value in values.items():
        if not value.strip():
            raise AgencyRejected(agency, f"{name} is empty")


class LocalPublicSecurity:
    """Public security answering from `Registries.public_security`."""

    agency: Agency = "public-security"

    def __init__(self, registries: Registries) -> None:
        self.registries = registries

    def lookup(self, registration_id: str, id_type: str, id_number: str) -> AgencyAnswer:
        _require(self.agency, id_number=id_number)
        record = self.registries.hukou(id_number)
        if record is None:
            return AgencyAnswer(registration_id=registration_id, agency=self.agency, reason=NO_RECORD)
        return AgencyAnswer(
            registration_id=registration_id,
            agency=self.agency,
            reason=FOUND,
            facts={
                "kind": record.kind,
                **_house(record.address),
                "permit_number": record.permit_number,
                "since": record.since.isoformat(),
            },
        )


class LocalHousing:
    """Housing answering from `Registries.housing`."""

    agency: Agency = "housing"

    def __init__(self, registries: Registries) -> None:
        self.registries = registries

    def deed(self, registration_id: str, deed_number: str) -> AgencyAnswer:
        _require(self.agency, deed_number=deed_number)
        record = self.registries.deed(deed_number)
        if record is None:
            return AgencyAnswer(registration_id=registration_id, agency=self.agency, reason=NO_RECORD)
        return AgencyAnswer(
            registration_id=registration_id,
            agency=self.agency,
            reason=FOUND,
            facts={
                **_house(record.address),
                "registered_on": record.registered_on.isoformat(),
                "owners": len(record.owner_id_numbers),
            },
        )


class LocalPlanning:
    """Planning & natural resources answering from `Registries.planning` (by deed number)."""

    agency: Agency = "planning"

    def __init__(self, registries: Registries) -> None:
        self.registries = registries

    def planned_use(self, registration_id: str, deed_number: str) -> AgencyAnswer:
        _require(self.agency, deed_number=deed_number)
        record = self.registries.planned_use(deed_number)
        if record is None:
            return AgencyAnswer(registration_id=registration_id, agency=self.agency, reason=NO_RECORD)
        return AgencyAnswer(
            registration_id=registration_id,
            agency=self.agency,
            reason=FOUND,
            facts={"planned_use": record.planned_use},
        )


@dataclass(frozen=True)
class VisitRequest:
    registration_id: str
    id_number: str
    address: tuple[str, str, int]  # the house visited: (district, road, number)
    requested_on: date


@dataclass(frozen=True)
class DueVisit:
    """A home visit the community answers on `answered_on` (to be posted to the callback API)."""

    request: VisitRequest
    answered_on: date
    answer: AgencyAnswer

    @property
    def registration_id(self) -> str:
        return self.request.registration_id


class LocalCommunity:
    """Community offices answering home visits from `Registries.community`, days later.

    A visit requested on day D is answered on D + `ResidenceRecord.visit_delay_days`: the family
    lives there if the record says so *and* the record is for the house that was visited. A child
    the community has no record of is never answered (the deadline closes the visit as not
    confirmed). Asking again for the same registration keeps the first request (retries are safe).
    """

    agency: Agency = "community"

    def __init__(self, registries: Registries, today: Callable[[], date]) -> None:
        self.registries = registries
        self.today = today
        self._requests: dict[str, VisitRequest] = {}
        self._delivered: set[str] = set()
        self._lock = threading.Lock()

    def request_visit(self, registration_id: str, id_number: str, address: Mapping[str, Any]) -> None:
        _require(self.agency, id_number=id_number)
        try:
            house = (str(address["district"]), str(address["road"]), int(address["number"]))
        except (KeyError, TypeError, ValueError):
            raise AgencyRejected(self.agency, "the address needs district, road and number") from None
        with self._lock:
            if registration_id not in self._requests:
                self._requests[registration_id] = VisitRequest(
                    registration_id, id_number, house, self.today()
                )

    @property
    def requests(self) -> list[VisitRequest]:
        with self._lock:
            return list(self._requests.values())

    def due_answers(self, now_day: date) -> list[DueVisit]:
        """Every requested visit answered on or before `now_day`, by answer day then registration id."""
        due = []
        for request in self.requests:
            record = self.registries.residence(request.id_number)
            if record is None:
                continue
            answered_on = request.requested_on + timedelta(days=record.visit_delay_days)
            if answered_on > now_day:
                continue
            lives = record.lives_there and record.address.key == request.address
            answer = community_answer(lives, registration_id=request.registration_id, visited_on=answered_on)
            due.append(DueVisit(request, answered_on, answer))
        return sorted(due, key=lambda d: (d.answered_on, d.registration_id))

    def deliver(self, now_day: date) -> list[DueVisit]:
        """The due answers not handed out before (each is handed out once)."""
        with self._lock:
            fresh = [d for d in self.due_answers(now_day) if d.registration_id not in self._delivered]
            self._delivered.update(d.registration_id for d in fresh)
        return fresh


# Faults (tests, demo) -----------------------------------------------------------------------------

AgencyAdapter = PublicSecurity | Housing | Planning | Community
Fault = int | Literal["always"]  # fail the first N calls (transient), or every call (persistent)


class FaultyAgency:
    """Wraps an agency adapter and raises AgencyUnavailable for the first `fail_first` calls
    (a transient outage the ASL's retries ride out) or, with `always`, for every call."""

    def __init__(
        self, inner: AgencyAdapter, agency: Agency, *, fail_first: int = 0, always: bool = False
    ) -> None:
        if fail_first < 0:
            raise ValueError("fail_first is a number of calls, 0 or more")
        self.inner = inner
        self.agency = agency
        self.fail_first = fail_first
        self.always = always
        self.calls = 0
        self.failures = 0

    @classmethod
    def transient(cls, inner: AgencyAdapter, agency: Agency, failures: int) -> FaultyAgency:
        return cls(inner, agency, fail_first=failures)

    @classmethod
    def persistent(cls, inner: AgencyAdapter, agency: Agency) -> FaultyAgency:
        return cls(inner, agency, always=True)

    def _call(self, method: str) -> None:
        self.calls += 1
        if self.always or self.calls <= self.fail_first:
            self.failures += 1
            raise AgencyUnavailable(self.agency, f"{method} did not answer (call {self.calls})")

    def lookup(self, registration_id: str, id_type: str, id_number: str) -> AgencyAnswer:
        self._call("lookup")
        return cast(PublicSecurity, self.inner).lookup(registration_id, id_type, id_number)

    def deed(self, registration_id: str, deed_number: str) -> AgencyAnswer:
        self._call("deed")
        return cast(Housing, self.inner).deed(registration_id, deed_number)

    def planned_use(self, registration_id: str, deed_number: str) -> AgencyAnswer:
        self._call("planned_use")
        return cast(Planning, self.inner).planned_use(registration_id, deed_number)

    def request_visit(self, registration_id: str, id_number: str, address: Mapping[str, Any]) -> None:
        self._call("request_visit")
        cast(Community, self.inner).request_visit(registration_id, id_number, address)


def with_faults(agencies: Agencies, faults: Mapping[Agency, Fault]) -> Agencies:
    """A copy of `agencies` where each agency named in `faults` is wrapped in a FaultyAgency."""

    def wrap(agency: Agency, inner: AgencyAdapter) -> Any:
        fault = faults.get(agency)
        if fault is None:
            return inner
        if fault == "always":
            return FaultyAgency.persistent(inner, agency)
        return FaultyAgency.transient(inner, agency, fault)

    return Agencies(
        public_security=wrap("public-security", agencies.public_security),
        housing=wrap("housing", agencies.housing),
        planning=wrap("planning", agencies.planning),
        community=wrap("community", agencies.community),
    )
