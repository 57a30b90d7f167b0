"""Private seats given up and who took them (LOTTERY.md step 7), as `placements.jsonl` shows them.

A child a private school's record admits may end up elsewhere in two ways only:
- declined: the family gave the seat up; the child is coordinated with reason `private-declined`
  (R-LOT-5, R-COORD-1);
- released: a district decision placed the child, and a district decision wins over a private
  admission: a deferral (R-DEFER-1, route `deferred`), the expert committee's plan (R-DIS-1,
  `regular-class`, `special-education` or `home-delivery`) or an override (R-VER-3, `override`).
Either way the seat goes to the first child of the draw's waitlist still unplaced; a waitlisted
child placed by a district decision is already placed and is passed over; when nobody is left the
seat stays free. A child who took a seat from the waitlist may give it up again the same two ways.

`freed_seat_problems` checks exactly that from a record and the placements lines alone, so that the
placement self-check and the offline audit (`enroll audit`) accept the same thing and nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# the routes only a district's decision gives (enrollment.placement.place, step 1)
DECISION_ROUTES = ("deferred", "regular-class", "special-education", "home-delivery", "override")


def gave_up(line: Mapping[str, Any] | None) -> bool:
    """Whether a placements line shows a private seat given up: declined, or released by a decision."""
    if line is None:
        return False
    if line.get("route") in DECISION_ROUTES:
        return True
    return line.get("route") == "coordination" and line.get("reason") == "private-declined"


def waitlist(rec: Mapping[str, Any]) -> list[str]:
    d = rec.get("draw")
    return list(d["ranking"][int(d["seats"]) :]) if d else []


def freed_seat_problems(
    rec: Mapping[str, Any], placed: Mapping[str, Mapping[str, Any]], *, settled: bool = True
) -> list[str]:
    """One record's given-up seats against the lines: each went to the waitlist in order, or stays free
    only when nobody unplaced is left; nobody took a seat that was not given up.

    `settled` False: the lines between two sealed correction batches (docs/ARCHIVE.md, "Corrections"),
    where a seat declined in one batch may be filled from the waitlist in the next, so a seat still
    free is not yet a problem; the rest is checked all the same."""
    school_id = rec["school_id"]
    label = f"{school_id} grade {rec['grade']}" if "grade" in rec else str(school_id)
    ranked = waitlist(rec)
    freed = [rid for rid in rec["admitted"] if gave_up(placed.get(rid))]
    took = [rid for rid in ranked if (placed.get(rid) or {}).get("school_id") == school_id]
    # never reached: neither placed here, nor (after taking the seat) gave it up, nor placed by a decision
    unreached = [rid for rid in ranked if rid not in took and not gave_up(placed.get(rid))]
    problems = []
    if len(took) > len(freed):
        problems.append(
            f"{label}: {len(took)} children placed from the waitlist for {len(freed)} declined or "
            "released seats (LOTTERY.md step 7)"
        )
    if took:
        last = ranked.index(took[-1])
        problems += [
            f"{rid}: passed over on the waitlist of {label} for {took[-1]}, though still unplaced "
            "(LOTTERY.md step 7)"
            for rid in ranked[:last]
            if rid in unreached
        ]
    if settled and len(freed) > len(took) and unreached:
        problems.append(
            f"{label}: {len(freed) - len(took)} declined or released seats stay free while "
            f"{', '.join(unreached[:5])} on the waitlist are coordinated (LOTTERY.md step 7)"
        )
    return problems
