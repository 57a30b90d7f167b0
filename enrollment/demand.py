"""Demand against plan per school and per multi-school zone, recorded when registration closes (R-WARN-1)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from enrollment.config import SeasonConfig

NEAR_FULL = 0.9  # a school at 90 % of its plan gets a seat warning


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

    def as_item(self, season: str) -> dict[str, Any]:
        return {
            "pk": f"SEASON#{season}",
            "sk": f"DEMAND#{self.scope}#{self.id}#g{self.grade}",
            **asdict(self),
            "warning": self.warning,
        }


def demand(config: SeasonConfig, registrations: Iterable[dict[str, Any]]) -> list[Demand]:
    """Count each registration once: at the school it asks for, or at its multi-school zone."""
    by_school: Counter[tuple[str, int]] = Counter()
    by_zone: Counter[tuple[str, int]] = Counter()
    for r in registrations:
        grade = int(r["grade"])
        if r.get("target_school"):
            by_school[(str(r["target_school"]), grade)] += 1
        if r.get("zone_id"):
            by_zone[(str(r["zone_id"]), grade)] += 1
    rows = [
        Demand("school", s.id, s.name, g, s.district, s.kind, s.plan(g), by_school[(s.id, g)])
        for s in config.schools
        for g in sorted(s.plans)
        if s.kind != "special-education"
    ]
    for z in config.zones:
        if z.multi_school:
            plan = sum(config.school_index[sid].plan(z.grade) for sid in z.schools)
            names = "、".join(config.school_index[sid].name for sid in z.schools)
            rows.append(
                Demand("zone", z.id, names, z.grade, z.district, "public", plan, by_zone[(z.id, z.grade)])
            )
    return rows


def summary(rows: list[Demand], total: int) -> dict[str, Any]:
    """The small result the workflow carries on (Step Functions payloads are limited)."""
    return {
        "registrations": total,
        "over_plan": sorted(f"{d.id}-g{d.grade}" for d in rows if d.warning == "over"),
        "near_plan": sorted(f"{d.id}-g{d.grade}" for d in rows if d.warning == "near"),
    }
