"""What the season report computes from the season's data: its words, numbers and lotteries.

`season_data` is plain JSON-able data; every key is optional and a missing or empty section is left
out, so a season that has only reached registration still renders:

- `season` (str, e.g. "jilin-2023"), `city` (str, e.g. "吉林市"), `generated_at` (str, shown as given);
- `district_names`: {district code: name}, e.g. {"CY": "船营区"} (codes are shown when absent);
- `demand` (R-WARN-1): list of {"scope": "school" | "zone", "id", "name", "grade", "district", "kind",
  "plan", "applicants", "warning": "over" | "near" | None} — as `demand.Demand.as_item` gives (extra
  keys are ignored). Chart: applicants ÷ plan for the 20 highest ratios, coloured by warning; table of
  every warning;
- `lotteries` (R-LOT-1, R-LOT-2): list of {"school_id", "school_name", "grade", "plan", "applicants",
  "own_district_applicants", "case": "all-admitted" | "draw-own-district" | "draw-other-districts",
  "seats", "pool", "admitted"?}. `pool` is the number of children in the draw (a list of ids, or the
  pool's name "own-district" / "other-districts", is accepted too); `seats` and `pool` are derived
  from plan, applicants and own-district applicants when absent. Chart: the odds in the draw,
  seats ÷ pool (admitted ÷ applicants when nobody was drawn); table;
- `verification` (R-VER-1…4): {"verdicts": n, "by_status": {status: n}, "by_reason": {reason: n},
  "by_district": {district: {status: n}}, "signed"?: n, "reason_zh"?: {reason: 中文}} — as
  `verify_phase.summary` gives; `reason_zh` defaults to `verdicts.REASON_ZH`. Chart: children by
  reason (horizontal bars); tables by status, reason and district;
- `placement` (R-COORD-1): {"children": n, "by_route": {route: n}, "coordinated_by_reason":
  {reason: n}, "coordinated_distance_m": {"count", "median", "p90", "max"}, "route_zh"?: {route: 中文},
  "reason_zh"?: {reason: 中文}, "coordinated_distances_m"?: [metres, …]} — as `placement.summary`
  gives; `route_zh` defaults to `routes.ROUTE_ZH`, `reason_zh` to `routes.REASON_ZH`.
  `coordinated_distances_m` (each coordinated child's distance home → school) may also be given at the
  top level of `season_data`. Charts: children by route, histogram of coordinated distances; tables.

Nothing here draws or writes: `charts` and `page` turn these numbers into SVG and HTML, and `season`
gathers them from the sealed season. The page is read by the public and staff: every word on it is
Chinese (`word` gives a code's Chinese word, never the code itself).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

TOP_DEMAND = 20  # the demand chart shows the schools and zones with the highest applicants ÷ plan

WARNING_ZH = {"over": "超出计划", "near": "接近计划"}
SCOPE_ZH = {"school": "学校", "zone": "多校划片片区"}
CASE_ZH = {
    "all-admitted": "未超计划，全部录取",
    "draw-own-district": "本区派位",
    "draw-other-districts": "本区全录，外区派位",
}
STATUS_ZH = {"eligible": "符合片区入学条件", "not-eligible": "不符合（统筹安排）", "review": "待人工复核"}
STATUS_ORDER = ("eligible", "not-eligible", "review")


OTHER_ZH = "其他"
RULE_ID = re.compile(r"[（(]\s*R-[A-Z]+-\d+[^）)]*[）)]|\bR-[A-Z]+-\d+\b")


def word(words: Mapping[str, str], code: str) -> str:
    """A code's Chinese word as the page shows it: without any rule id, and "其他" for an unknown code."""
    text = RULE_ID.sub("", words.get(code, "")).strip()
    return text or OTHER_ZH


def as_int(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def ratio(applicants: int, plan: int) -> float:
    if plan > 0:
        return applicants / plan
    return math.inf if applicants else 0.0


def demand_ratio(d: Mapping[str, Any]) -> float:
    """A demand row's applicants ÷ plan (infinite when there is no plan but there are applicants)."""
    return ratio(as_int(d.get("applicants")), as_int(d.get("plan")))


def pct(x: float | None) -> str:
    if x is None:
        return "—"
    if math.isinf(x):
        return "计划为0"
    return f"{x * 100:.0f}%"


def metres(v: Any) -> str:
    if v is None:
        return "—"
    m = int(v)
    return f"{m / 1000:.1f}公里" if m >= 1000 else f"{m}米"


def top_demand(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The `TOP_DEMAND` schools and zones with the highest applicants ÷ plan, highest first."""
    return sorted(rows, key=lambda d: (-demand_ratio(d), str(d.get("id"))))[:TOP_DEMAND]


def warned(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every school and zone with a seat warning (R-WARN-1): over plan first, then by ratio."""
    found = [d for d in rows if d.get("warning") in WARNING_ZH]
    found.sort(
        key=lambda d: (
            d.get("warning") != "over",
            -demand_ratio(d),
            str(d.get("id")),
            as_int(d.get("grade")),
        )
    )
    return found


@dataclass(frozen=True)
class Lottery:
    school_id: str
    school_name: str
    grade: int
    plan: int
    applicants: int
    own: int
    case: str
    seats: int
    pool: int
    admitted: int

    @classmethod
    def of(cls, r: Mapping[str, Any]) -> Lottery:
        plan, applicants = as_int(r.get("plan")), as_int(r.get("applicants"))
        own = as_int(r.get("own_district_applicants"))
        case = str(r.get("case") or "")
        if case not in CASE_ZH:
            case = (
                "all-admitted"
                if applicants <= plan
                else "draw-own-district"
                if own > plan
                else "draw-other-districts"
            )
        derived_pool = {"draw-own-district": own, "draw-other-districts": applicants - own}.get(case, 0)
        derived_seats = {"draw-own-district": plan, "draw-other-districts": plan - own}.get(case, 0)
        raw_pool = r.get("pool")
        if isinstance(raw_pool, list | tuple):
            pool = len(raw_pool)
        elif isinstance(raw_pool, int | float) and not isinstance(raw_pool, bool):
            pool = int(raw_pool)
        else:  # absent, or the pool's name ("own-district" / "other-districts")
            pool = derived_pool
        seats = as_int(r.get("seats"), derived_seats) if r.get("seats") is not None else derived_seats
        admitted = (
            as_int(r.get("admitted"), min(plan, applicants))
            if r.get("admitted") is not None
            else min(plan, applicants)
        )
        return cls(
            str(r.get("school_id", "")),
            str(r.get("school_name") or r.get("school_id", "")),
            as_int(r.get("grade")),
            plan,
            applicants,
            own,
            case,
            seats,
            pool,
            admitted,
        )

    @property
    def drawn(self) -> bool:
        return self.case != "all-admitted" and self.pool > 0

    @property
    def odds(self) -> float | None:
        """Seats ÷ pool in a draw; admitted ÷ applicants when nobody was drawn."""
        if self.drawn:
            return min(1.0, max(0, self.seats) / self.pool)
        return min(1.0, self.admitted / self.applicants) if self.applicants else None

    @property
    def admission_rate(self) -> float | None:
        return min(1.0, self.admitted / self.applicants) if self.applicants else None


def coordinated_distances(season_data: Mapping[str, Any], placement: Mapping[str, Any]) -> list[int]:
    """Each coordinated child's distance home → school in metres, shortest first."""
    raw = placement.get("coordinated_distances_m", season_data.get("coordinated_distances_m")) or []
    return sorted(int(d) for d in raw if d is not None)


def distance_stats(distances: list[int], given: Mapping[str, Any]) -> dict[str, Any]:
    """The summary of coordinated distances as given, completed from the distances themselves."""
    stats = dict(given)
    if distances:
        stats.setdefault("count", len(distances))
        stats.setdefault("median", distances[len(distances) // 2])
        stats.setdefault("p90", distances[int(len(distances) * 0.9)])
        stats.setdefault("max", distances[-1])
    return stats


def default_words(which: str) -> Mapping[str, str]:
    """The project's own Chinese words, when the caller passed none (imported only then)."""
    try:
        if which == "verification":
            from enrollment.verification.verdicts import REASON_ZH as verdict_reasons

            return verdict_reasons
        if which == "route":
            from enrollment.placement.routes import ROUTE_ZH

            return ROUTE_ZH
        from enrollment.placement.routes import REASON_ZH

        return REASON_ZH
    except ImportError:
        return {}
