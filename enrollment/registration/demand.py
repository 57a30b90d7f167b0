"""Demand against plan per school and per multi-school zone (R-WARN-1).

One function builds the rows from counts (`rows`): the live seat warnings during registration count
each registration as it is stored (`counter_keys`, added up atomically with the registration
itself), and the record made when registration closes (`demand`) counts the stored registrations
the same way, so both always agree. At close the workflow counts each shard of the registrations
apart (`partial`) and adds the parts up (`combine`): the same rows as one pass over them all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol

from enrollment.core.config import SeasonConfig

NEAR_FULL = 0.9  # a school at 90 % of its plan gets a seat warning
Scope = Literal["school", "zone"]
CounterKey = tuple[str, str, int]  # (scope, school or zone id, grade)
WITHDRAWN = (
    "withdrawn"  # a registration's status once its family withdrew it (enrollment/registration/changes.py)
)
WARNING_ZH = {"near": "接近计划", "over": "超出计划"}
KIND_ZH = {
    "public": "公办",
    "private": "民办",
    "ethnic": "民族",
    "specialised": "专门",
    "special-education": "特殊教育",
}


@dataclass(frozen=True)
class Demand:
    scope: str  # "school" or "zone"
    id: str
    name: str
    grade: int
    district: str
    kind: str
    plan: int
    applicants: int

    @property
    def warning(self) -> str | None:
        if self.plan == 0 or self.applicants > self.plan:
            return "over" if self.applicants else None
        return "near" if self.applicants >= NEAR_FULL * self.plan else None

    def as_row(self) -> dict[str, Any]:
        """The row recorded at close (`Store.put_demand`) and shown in the season report."""
        return {**asdict(self), "warning": self.warning}


class LiveCounts(Protocol):
    def live_counts(self, season: str) -> dict[CounterKey, int]:
        """The season's live counters: how many registrations each school and zone has so far."""
        ...


def counter_keys(registration: Mapping[str, Any]) -> list[CounterKey]:
    """Where one registration counts: at the school it asks for, and at its catchment zone."""
    grade = int(registration["grade"])
    keys: list[CounterKey] = []
    if registration.get("target_school"):
        keys.append(("school", str(registration["target_school"]), grade))
    if registration.get("zone_id"):
        keys.append(("zone", str(registration["zone_id"]), grade))
    return keys


def counted_keys(registration: Mapping[str, Any]) -> list[CounterKey]:
    """Where a stored registration counts now: `counter_keys`, or nowhere once it is withdrawn."""
    return [] if registration.get("status") == WITHDRAWN else counter_keys(registration)


def rows(config: SeasonConfig, counts: Mapping[CounterKey, int]) -> list[Demand]:
    """Every school (but special-education schools, placed by the committee) and every multi-school
    zone of each grade, with its plan and its count of applicants."""
    out = [
        Demand(
            "school", s.id, s.name, g, s.district, s.kind, s.plan(g), int(counts.get(("school", s.id, g), 0))
        )
        for s in config.schools
        for g in sorted(s.plans)
        if s.kind != "special-education"
    ]
    for z in config.zones:
        if z.multi_school:
            plan = sum(config.school_index[sid].plan(z.grade) for sid in z.schools)
            names = "、".join(config.school_index[sid].name for sid in z.schools)
            applicants = int(counts.get(("zone", z.id, z.grade), 0))
            out.append(Demand("zone", z.id, names, z.grade, z.district, "public", plan, applicants))
    return out


def demand(config: SeasonConfig, registrations: Iterable[Mapping[str, Any]]) -> list[Demand]:
    """Count each registration once: at the school it asks for, or at its multi-school zone."""
    counts: Counter[CounterKey] = Counter()
    for r in registrations:
        counts.update(counted_keys(r))
    return rows(config, counts)


def row_keys(config: SeasonConfig) -> list[CounterKey]:
    """Where each of `rows`' rows counts, in its order: the positions a `partial` lists counts in."""
    return list(dict.fromkeys((d.scope, d.id, d.grade) for d in rows(config, {})))


def partial(config: SeasonConfig, registrations: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One part of the season counted (a shard, in the workflow's Map): how many registrations, and
    each demand row's applicants among them as a list in `row_keys` order. Ints alone, so the Map's
    sixteen results stay small whatever the city's size (Step Functions carries them); a count at
    no row (a special-education school, a zone of one school) has no place, as in `rows`."""
    counts: Counter[CounterKey] = Counter()
    total = 0
    for r in registrations:
        if r.get("status") == WITHDRAWN:
            continue  # the store's listings leave them out already; a withdrawn one never counts
        total += 1
        counts.update(counter_keys(r))
    return {"registrations": total, "applicants": [counts.get(key, 0) for key in row_keys(config)]}


def combine(config: SeasonConfig, partials: Iterable[Mapping[str, Any]]) -> tuple[list[Demand], int]:
    """The parts' counts added up: the same rows `demand` gives for all their registrations at once,
    and how many registrations there were. A part counted against another config (its list of
    another length) is refused rather than added up wrongly."""
    keys = row_keys(config)
    counts: Counter[CounterKey] = Counter()
    total = 0
    for p in partials:
        applicants = list(p["applicants"])
        if len(applicants) != len(keys):
            raise ValueError(
                f"a partial count has {len(applicants)} rows, the season's demand has {len(keys)}"
            )
        total += int(p["registrations"])
        for key, n in zip(keys, applicants, strict=True):
            counts[key] += int(n)
    return rows(config, counts), total


def summary(rows: list[Demand], total: int) -> dict[str, Any]:
    """The small result the workflow carries on (Step Functions payloads are limited)."""
    return {
        "registrations": total,
        "over_plan": sorted(f"{d.id}-g{d.grade}" for d in rows if d.warning == "over"),
        "near_plan": sorted(f"{d.id}-g{d.grade}" for d in rows if d.warning == "near"),
    }


def warnings_view(config: SeasonConfig, counts: Mapping[CounterKey, int], as_of: str) -> dict[str, Any]:
    """The public seat-warning page (学位预警): per grade, every school and multi-school zone with its
    plan, applicants so far and warning; warned rows first, then by district and name."""
    districts = {d.code: d.name for d in config.districts}
    by_grade: dict[int, list[dict[str, Any]]] = {}
    for d in rows(config, counts):
        w = d.warning
        by_grade.setdefault(d.grade, []).append(
            {
                "scope": d.scope,
                "id": d.id,
                "name": d.name,
                "district": d.district,
                "district_name": districts.get(d.district, d.district),
                "kind": d.kind,
                "kind_zh": "多校划片" if d.scope == "zone" else KIND_ZH.get(d.kind, d.kind),
                "plan": d.plan,
                "applicants": d.applicants,
                "warning": w,
                "warning_zh": WARNING_ZH[w] if w else None,
            }
        )
    order = {"over": 0, "near": 1, None: 2}
    grades = []
    for grade in sorted(by_grade):
        found = sorted(by_grade[grade], key=lambda r: (order[r["warning"]], r["district"], r["id"]))
        grades.append(
            {
                "grade": grade,
                "grade_zh": "一年级" if grade == 1 else "七年级",
                "rows": found,
                "warned": sum(1 for r in found if r["warning"]),
            }
        )
    return {
        "season": config.season,
        "as_of": as_of,
        "near_share": NEAR_FULL,
        "grades": grades,
    }
