"""What one correction is, as the use case records it and the additions chain seals it.

A correction changes the places of one or more children of a sealed season, for a reason, by a named
staff member; it never rewrites the archive. Each changed child's new `placements.jsonl` line (the
fields of LOTTERY.md's placements: `registration_id`, `grade`, `school_id` or null with a `status`,
`route`, `reason` where coordinated) is given with the line it replaces (None for a child the sealed
season does not list: a late registration). Corrections are sealed in batches, in order, as
`additions/{season}/corrections/{n}/` (enrollment/archive, docs/ARCHIVE.md); applying every batch's
changes in order to the sealed `placements.jsonl` gives the season's placements as they stand.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CorrectionKind = Literal[
    "late-registration",  # 补录: a child registered after the window, on the family's behalf
    "re-verification",  # an upheld appeal or a spot-check finding: verified again, placed again
    "decline",  # a family declines its place (private or public); the seat goes on
    "waitlist-promotion",  # a private seat declined or released goes to the lottery's waitlist
    "catchment-promotion",  # a public seat declined goes to the catchment's next child
    "committee-plan",  # R-DIS-1: the disability committee's late plan
    "deferral",  # R-DEFER-1
    "override",  # R-VER-3: a signed district decision
    "transfer",  # between two schools of the district (or, by the city, of two districts)
]
MIN_REASON_CHARS = 10  # a correction's written reason, at least (configurable per season later)
# The actor of the corrections the system makes on a late registration's behalf when the child's
# verdict comes in (enrollment/corrections/late.py): no staff member decided them, the agencies'
# answers did; each follows the late registration it completes (docs/ARCHIVE.md, "Corrections").
AGENCY_VERIFICATION = "agency-verification"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlacementLine(_Strict):
    """One child's line of `placements.jsonl` (LOTTERY.md), as written and as corrected."""

    registration_id: str = Field(min_length=1)
    grade: Literal[1, 7]
    school_id: str | None
    route: str = Field(min_length=1)
    status: str | None = None  # with school_id null: "deferred", ...
    reason: str | None = None  # where coordinated

    @model_validator(mode="after")
    def _school_or_status(self) -> PlacementLine:
        if self.school_id is None and not self.status:
            raise ValueError("a line without a school gives its status")
        return self

    def as_line(self) -> dict[str, Any]:
        """The line as `placements.jsonl` holds it: only the fields that are set (None left out)."""
        return self.model_dump(exclude_none=True) | {"school_id": self.school_id}


class Consent(_Strict):
    """A school's consent to a transfer (R-VER-3): who gave it for the school, and when."""

    school_id: str
    given_by: str = Field(min_length=1)
    given_at: datetime


class Change(_Strict):
    """One child's place: the line it had (None: not in the sealed season) and the line it has now."""

    registration_id: str
    before: PlacementLine | None
    after: PlacementLine

    @model_validator(mode="after")
    def _same_child(self) -> Change:
        ids = {self.registration_id, self.after.registration_id}
        if self.before is not None:
            ids.add(self.before.registration_id)
        if len(ids) != 1:
            raise ValueError("a change is about one child")
        return self


class Correction(_Strict):
    """One correction: its changes, who made it, when and why (all of it sealed)."""

    correction_id: str = Field(pattern=r"^C-[0-9A-Za-z-]{4,64}$")
    season: str
    kind: CorrectionKind
    district: str | None  # the district whose children it changes; None: the city, across districts
    actor: str = Field(min_length=1)  # the staff member's principal
    role: Literal["district", "city"]
    at: datetime
    reason: str = Field(min_length=MIN_REASON_CHARS, max_length=2000)  # written, in Chinese
    reason_codes: tuple[str, ...] = ()  # e.g. the verdict's reasons that changed, "private-declined"
    changes: tuple[Change, ...] = Field(min_length=1)
    consents: tuple[Consent, ...] = ()  # a transfer: both schools'
    complaint_id: str | None = None  # the complaint this answers, if any
    # a promotion: the correction (decline, deferral, ...) whose freed seat it fills
    follows: str | None = None

    def changes_child(self, registration_id: str) -> bool:
        return any(ch.registration_id == registration_id for ch in self.changes)

    @model_validator(mode="after")
    def _aware_and_distinct(self) -> Correction:
        if self.at.tzinfo is None:
            raise ValueError("a correction's time has its offset")
        ids = [c.registration_id for c in self.changes]
        if len(ids) != len(set(ids)):
            raise ValueError("a child is changed once in a correction")
        if self.kind == "transfer" and len({c.school_id for c in self.consents}) < 2:
            raise ValueError("a transfer needs both schools' consent")
        return self


class ChildCorrection(_Strict):
    """One correction as one child's family may read it: what it was and the child's own change,
    never another child's change or who made it (the status page's history, issue 18)."""

    correction_id: str
    kind: CorrectionKind
    at: datetime
    reason_codes: tuple[str, ...] = ()
    complaint_id: str | None = None
    change: Change
