"""Private admissions per school and grade: who is in the draw and the archived record (LOTTERY.md).

R-LOT-1: applicants within the plan are all admitted. R-LOT-2: district priority (区域优先): own-district
applicants `L` first; a draw among `L` if they alone exceed the plan `P`, else `L` all admitted and a
draw among the others `O` for the `S = P - |L|` seats left (even when `S` is 0: the ranking is then
the waitlist for a seat an admitted child gives up). The record written here is the public contract
`private/{school_id}-g{grade}.json` that auditors replay; its bytes are deterministic, so recording
the same school twice gives the identical file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from enrollment.lottery.draw import ALGORITHM, Draw, draw

FORMAT = "enrollment-private-admission/1"
PoolName = Literal["own-district", "other-districts"]
Case = Literal["all-admitted", "draw-own-district", "draw-other-districts"]


def utf8_sorted(ids: Iterable[str]) -> list[str]:
    """Ascending by UTF-8 bytes, as LOTTERY.md sorts every id list."""
    return sorted(ids, key=lambda s: s.encode())


@dataclass(frozen=True)
class Pools:
    """One private school and grade after verification: the split of LOTTERY.md, before any draw."""

    school_id: str
    grade: int
    district: str
    plan: int
    own: tuple[str, ...]  # own-district applicants (verified), sorted
    other: tuple[str, ...]  # every other applicant, sorted

    @classmethod
    def split(
        cls,
        school_id: str,
        grade: int,
        district: str,
        plan: int,
        own: Iterable[str],
        other: Iterable[str],
    ) -> Pools:
        own_ids, other_ids = utf8_sorted(own), utf8_sorted(other)
        twice = set(own_ids) & set(other_ids)
        if twice or len(set(own_ids)) != len(own_ids) or len(set(other_ids)) != len(other_ids):
            raise ValueError(f"{school_id} grade {grade}: an applicant is listed twice")
        if plan < 0:
            raise ValueError(f"{school_id} grade {grade}: the plan cannot be negative")
        return cls(school_id, grade, district, plan, tuple(own_ids), tuple(other_ids))

    @property
    def case(self) -> Case:
        if len(self.own) + len(self.other) <= self.plan:
            return "all-admitted"  # R-LOT-1
        if len(self.own) > self.plan:
            return "draw-own-district"  # R-LOT-2
        return "draw-other-districts"  # R-LOT-2: own district first, then the others

    @property
    def needs_draw(self) -> bool:
        return self.case != "all-admitted"

    @property
    def admitted_without_draw(self) -> list[str]:
        if self.case == "all-admitted":
            return utf8_sorted(self.own + self.other)
        if self.case == "draw-own-district":
            return []
        return list(self.own)

    @property
    def pool_name(self) -> PoolName | None:
        return {"draw-own-district": "own-district", "draw-other-districts": "other-districts"}.get(self.case)  # type: ignore[return-value]

    @property
    def pool(self) -> list[str]:
        """The ids in the draw (empty when there is none)."""
        if self.case == "draw-own-district":
            return list(self.own)
        if self.case == "draw-other-districts":
            return list(self.other)
        return []

    @property
    def seats(self) -> int:
        """Seats the draw fills: `P` among the own district, or `P - |L|` among the others."""
        if self.case == "draw-own-district":
            return self.plan
        if self.case == "draw-other-districts":
            return self.plan - len(self.own)
        return 0

    @property
    def applicants(self) -> int:
        return len(self.own) + len(self.other)


@dataclass(frozen=True)
class CeremonyInputs:
    """What the representatives typed (kept exactly as typed) and the slip #5 drew."""

    shuffle_inputs: tuple[str, str, str]
    draw_inputs: tuple[str, str, str]
    chosen_draw: int


def run_draw(season: str, pools: Pools, inputs: CeremonyInputs) -> Draw:
    if not pools.needs_draw:
        raise ValueError(f"{pools.school_id} grade {pools.grade}: no draw is needed (R-LOT-1)")
    return draw(
        season,
        pools.school_id,
        pools.grade,
        pools.pool,
        pools.seats,
        list(inputs.shuffle_inputs),
        list(inputs.draw_inputs),
        inputs.chosen_draw,
    )


def record(season: str, pools: Pools, inputs: CeremonyInputs | None) -> dict[str, Any]:
    """The archive record `private/{school_id}-g{grade}.json`, field by field as LOTTERY.md lists them."""
    drawn: dict[str, Any] | None = None
    admitted = pools.admitted_without_draw
    if pools.needs_draw:
        if inputs is None:
            raise ValueError(f"{pools.school_id} grade {pools.grade}: a draw is needed and not held yet")
        d = run_draw(season, pools, inputs)
        drawn = {
            "algorithm": ALGORITHM,
            "pool": pools.pool_name,
            "seats": pools.seats,
            "pool_digest": d.pool_digest,
            "shuffle_inputs": list(inputs.shuffle_inputs),
            "draw_inputs": list(inputs.draw_inputs),
            "chosen_draw": inputs.chosen_draw,
            "ranking": d.ranking,
        }
        admitted = admitted + d.winners
    elif inputs is not None:
        raise ValueError(f"{pools.school_id} grade {pools.grade}: no draw is needed (R-LOT-1)")
    everyone = set(pools.own) | set(pools.other)
    return {
        "format": FORMAT,
        "season": season,
        "school_id": pools.school_id,
        "grade": pools.grade,
        "district": pools.district,
        "plan": pools.plan,
        "own_district_applicants": list(pools.own),
        "other_applicants": list(pools.other),
        "admitted_without_draw": pools.admitted_without_draw,
        "draw": drawn,
        "admitted": utf8_sorted(admitted),
        "not_admitted": utf8_sorted(everyone - set(admitted)),
    }


def record_key(school_id: str, grade: int) -> str:
    """The record's path under the season's archive prefix."""
    return f"private/{school_id}-g{grade}.json"


def record_bytes(rec: dict[str, Any]) -> bytes:
    """Canonical bytes: UTF-8 JSON, keys in LOTTERY.md's order, two-space indent, final newline."""
    return (json.dumps(rec, ensure_ascii=False, indent=2) + "\n").encode()


def outcomes(rec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each applicant's result from a record: how admitted, or rank and waitlist place (R-LOT-5)."""
    out: dict[str, dict[str, Any]] = {}
    for rid in rec["admitted_without_draw"]:
        out[rid] = {"outcome": "admitted-without-draw"}
    d = rec["draw"]
    if d is not None:
        seats = int(d["seats"])
        for rank, rid in enumerate(d["ranking"], start=1):
            out[rid] = {
                "outcome": "admitted" if rank <= seats else "waitlisted",
                "rank": rank,
                "seats": seats,
                "pool": d["pool"],
            }
    for rid in rec["not_admitted"]:
        out.setdefault(rid, {"outcome": "not-admitted"})  # the other districts when own-district is drawn
    return out


def record_pools(rec: dict[str, Any]) -> Pools:
    """The pools a record (`record`) was drawn from."""
    return Pools.split(
        rec["school_id"],
        int(rec["grade"]),
        rec["district"],
        int(rec["plan"]),
        rec["own_district_applicants"],
        rec["other_applicants"],
    )


def check_record(rec: dict[str, Any]) -> list[str]:
    """Problems with a record against R-LOT-2 and a replay of its draw; empty if it is sound."""
    problems: list[str] = []
    try:
        pools = record_pools(rec)
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        return [f"malformed record: {e!r}"]
    inputs = None
    d = rec.get("draw")
    if d is not None:
        try:
            inputs = CeremonyInputs(
                tuple(d["shuffle_inputs"]), tuple(d["draw_inputs"]), int(d["chosen_draw"])
            )
        except (KeyError, TypeError, ValueError) as e:
            return [f"malformed draw: {e}"]
    if pools.needs_draw != (d is not None):
        problems.append(f"R-LOT-2: case {pools.case} but the record {'has' if d else 'has no'} draw")
        return problems
    try:
        expected = record(str(rec["season"]), pools, inputs)
    except (KeyError, ValueError, TypeError, AttributeError) as e:
        return [f"the draw cannot be replayed: {e!r}"]
    for field in expected:
        if rec.get(field) != expected[field]:
            problems.append(f"{field} differs from the replay")
    return problems


def waitlist(rec: dict[str, Any]) -> Sequence[str]:
    d = rec["draw"]
    return d["ranking"][int(d["seats"]) :] if d else []
