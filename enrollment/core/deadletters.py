"""The season's dead letters: a Map item of the workflow that failed for good, kept for its district.

Every Map of the workflow whose items are independent (the verification batches, the private
lotteries, the placement chunks, the districts' spot-check draws, the notice batches, the schools'
sunshine classes) retries a failing item with backoff; an item that still fails is caught in the
Map's item processor and recorded here, and the season goes on. One record per failed item and
district: the season, the phase, the item (the district's registration ids of the batch, the school
and grade, or the district itself), the error and its cause as the workflow saw them, and when.
District staff read their own district's (R-DATA-2), the city and auditors every district's:
`GET /admin/seasons/{season}/districts/{district}/dead-letters`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import NotFound

Phase = Literal["verification", "lottery", "placement", "spot-check", "notices", "report", "classes"]
# A season-wide task (the season report) that failed for good: one dead letter, kept for the city's
# staff and auditors under this district code (`GET …/districts/city/dead-letters`).
SEASON_WIDE: frozenset[str] = frozenset({"report"})
CITY = "city"
UNKNOWN_DISTRICT = "unknown"  # a registration the store does not know: only the city and auditors see it
CAUSE_LIMIT = 2000  # the cause as recorded, at most this many characters (a trace can be long)


class DeadLetters(Protocol):
    def get_registration(self, registration_id: str) -> dict[str, Any]: ...

    def put_dead_letter(self, record: dict[str, Any]) -> bool:
        """Store a dead letter if its (season, district, phase, item) is new: True if written."""
        ...

    def dead_letters(self, season: str, district: str) -> Iterator[dict[str, Any]]:
        """The district's dead letters, oldest phase first."""
        ...


def batch_id(registration_ids: list[str]) -> str:
    """A batch's name that does not depend on the order of its ids: 16 hex digits."""
    return hashlib.sha256("\n".join(sorted(registration_ids)).encode()).hexdigest()[:16]


def record(
    config: SeasonConfig,
    season: str,
    phase: Phase,
    *,
    error: str,
    cause: str,
    now: datetime,
    store: DeadLetters,
    registration_ids: list[str] | None = None,
    school_id: str | None = None,
    grade: int | None = None,
    district: str | None = None,
) -> dict[str, Any]:
    """Record a failed item, once per district it concerns; a retry (or a rerun) adds nothing.

    A batch of registrations goes to each district of its children with that district's ids; a
    school and grade to the school's district; a district's own step (its spot-check draw) to the
    district; a season-wide task (`SEASON_WIDE`) to the city.
    """
    by_district: dict[str, dict[str, Any]] = {}
    if registration_ids:
        item = batch_id(registration_ids)
        for rid in registration_ids:
            try:
                of_child = str(store.get_registration(rid)["district"])
            except NotFound:
                of_child = UNKNOWN_DISTRICT
            entry = by_district.setdefault(
                of_child, {"batch": item, "batch_size": len(registration_ids), "registration_ids": []}
            )
            entry["registration_ids"].append(rid)
    elif school_id is not None and grade is not None:
        item = f"{school_id}-g{grade}"
        school = config.school_index.get(school_id)
        by_district[school.district if school else UNKNOWN_DISTRICT] = {
            "school_id": school_id,
            "grade": grade,
        }
    elif district is not None:
        item = district
        known = district in {d.code for d in config.districts}
        by_district[district if known else UNKNOWN_DISTRICT] = {"district": district}
    elif phase in SEASON_WIDE:
        item = phase
        by_district[CITY] = {"task": phase}
    else:
        raise ValueError("a dead letter names its registrations, its school and grade, or its district")
    written = []
    for kept_by, what in sorted(by_district.items()):
        new = store.put_dead_letter(
            {
                "season": season,
                "phase": phase,
                "district": kept_by,
                "item_id": item,
                "item": what,
                "error": error or "Unknown",
                "cause": (cause or "")[:CAUSE_LIMIT],
                "recorded_at": now.astimezone(config.tz).isoformat(),
            }
        )
        written.append({"district": kept_by, "new": new})
    out: dict[str, Any] = {"season": season, "phase": phase, "item_id": item, "error": error}
    if school_id is not None:
        out |= {"school_id": school_id, "grade": grade}
    if district is not None:
        out |= {"district": district}
    return out | {"districts": written}


def listed(store: DeadLetters, season: str, district: str) -> list[dict[str, Any]]:
    return sorted(store.dead_letters(season, district), key=lambda r: (r["recorded_at"], r["item_id"]))
