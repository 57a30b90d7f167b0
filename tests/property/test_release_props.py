"""District decisions over private admittees (R-DEFER-1, R-DIS-1, R-VER-3 over R-LOT-*), in small seasons.

Private schools of 2-3 seats, some within their plan (no draw), some drawn (own-district or other
pool), with random declines, then random deferrals, committee plans and overrides over their
applicants (admitted, waitlisted or not admitted), entered in two rounds (a later round may change a
child's decision: the latest wins). After the releases (`release_decided`) the pure placement places
every child exactly once, its self-check passes, and the sealed archive passes `enroll audit`.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from enrollment.archive.audit import audit
from enrollment.core.config import load_season
from enrollment.lottery import ceremony
from enrollment.lottery.pools import CeremonyInputs, Pools
from enrollment.placement.place import Case, CommitteePlan, StaffDecision, lines, place, self_check
from enrollment.placement.season import release_decided
from enrollment.placement.seats import DECISION_ROUTES
from tests.memory_lottery import (
    MemoryArchive,
    MemoryLotteryStore,
    record_season,
    sealed_archive,
    small_season,
)

YEAR = "2023"
NOW = datetime(2023, 6, 21, 10, 0, tzinfo=UTC)
CREATED = datetime(2023, 7, 6, 9, 0, tzinfo=timezone(timedelta(hours=8)))
# (school, grade) -> (district, seats): small private plans
SCHOOLS = {
    ("P-CY-01", 1): ("CY", 2),
    ("P-CH-02", 1): ("CH", 3),
    ("P-CH-02", 7): ("CH", 2),
    ("P-GX-01", 1): ("GX", 2),
}
CONFIG = small_season(
    load_season("jilin-2023"),
    Path(tempfile.mkdtemp(prefix="release-props-")),
    {"P-CY-01": {1: 2}, "P-CH-02": {1: 3, 7: 2}, "P-GX-01": {1: 2}},
)
PUBLIC = {g: next(s.id for s in CONFIG.schools if s.kind == "public" and s.plan(g) > 20) for g in (1, 7)}
HOME = CONFIG.road_index["康乐大路"].locate(60)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Scenario:
    pools: list[Pools]
    inputs: dict[tuple[str, int], CeremonyInputs]
    declines: list[str]
    rounds: list[dict[str, StaffDecision]]  # decisions entered before placement, in two rounds

    @property
    def grade_of(self) -> dict[str, int]:
        return {rid: p.grade for p in self.pools for rid in (*p.own, *p.other)}


def decision(draw: st.DrawFn, rid: str, grade: int, n: int) -> StaffDecision:
    kind = draw(st.sampled_from(["defer", "committee", "override"]))
    at = f"2023-06-2{n}T09:00:00+08:00"
    actor = f"arn:aws-cn:iam::123456789012:role/district-staff-{n}"
    if kind == "defer":
        return StaffDecision(rid, "defer", "因病缓学一年", actor, at)
    if kind == "committee":
        plans: list[CommitteePlan] = ["regular-class", "special-education", "home-delivery"]
        plan = draw(st.sampled_from(plans))
        school = PUBLIC[grade] if plan == "regular-class" else "SE-LT-01"
        return StaffDecision(rid, "committee", "专家委员会评估意见", actor, at, plan, school)
    return StaffDecision(rid, "override", "复审改判", actor, at, None, PUBLIC[grade])


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    pools, inputs = [], {}
    n = 0
    for (school_id, grade), (district, seats) in SCHOOLS.items():
        own = [f"A{n + i:03d}" for i in range(draw(st.integers(0, 4)))]
        n += len(own)
        other = [f"A{n + i:03d}" for i in range(draw(st.integers(0, 4)))]
        n += len(other)
        p = Pools.split(school_id, grade, district, seats, own, other)
        pools.append(p)
        if p.needs_draw:
            typed = st.text("0123456789", min_size=1, max_size=4)
            inputs[(school_id, grade)] = CeremonyInputs(
                (draw(typed), draw(typed), draw(typed)),
                (draw(typed), draw(typed), draw(typed)),
                draw(st.integers(1, 3)),
            )
    everyone = [rid for p in pools for rid in (*p.own, *p.other)]
    grade_of = {rid: p.grade for p in pools for rid in (*p.own, *p.other)}
    declines = draw(st.lists(st.sampled_from(everyone), unique=True, max_size=3)) if everyone else []
    rounds = []
    for r in (1, 2):
        chosen = draw(st.lists(st.sampled_from(everyone), unique=True, max_size=5)) if everyone else []
        rounds.append({rid: decision(draw, rid, grade_of[rid], r) for rid in chosen})
    return Scenario(pools, inputs, declines, rounds)


@SLOW
@given(scenario=scenarios())
def test_every_decision_kind_ends_in_one_consistent_placement(scenario: Scenario) -> None:
    store, archive = MemoryLotteryStore(), MemoryArchive()
    record_season(CONFIG, YEAR, scenario.pools, scenario.inputs, store=store, archive=archive, now=NOW)
    for rid in scenario.declines:  # families may decline first (only an admitted child can)
        if (store.outcome(rid) or {}).get("outcome") in ceremony.ADMITTED:
            ceremony.decline(CONFIG, rid, actor="guardian", reason="家庭搬迁", store=store, now=NOW)
    decisions: dict[str, StaffDecision] = {}
    for n, entered in enumerate(scenario.rounds):  # placement may run after either round: release each time
        decisions = {**decisions, **entered}  # the latest decision per child wins
        for r in release_decided(CONFIG, decisions, store, NOW + timedelta(days=n)):
            event("a seat released to the waitlist" if r["seat_went_to"] else "a released seat stays free")
    again = release_decided(CONFIG, decisions, store, NOW + timedelta(days=3))
    assert again == []  # nothing is released twice

    grade_of = scenario.grade_of
    ids = sorted(grade_of)
    cases = [
        Case(
            rid,
            grade_of[rid],
            "CY",
            "private",
            HOME,
            claims=("disability",) if rid in decisions and decisions[rid].kind == "committee" else (),
            target_school=next(p.school_id for p in scenario.pools if rid in (*p.own, *p.other)),
            lottery=store.outcome(rid),
        )
        for rid in ids
    ]
    result = place(CONFIG, cases, {rid: i for i, rid in enumerate(ids)}, decisions, cap_km=3.0)
    outcomes: dict[str, Any] = {rid: store.outcome(rid) for rid in ids}
    records = [json.loads(v) for k, v in sorted(archive.files.items()) if "/private/" in k]
    assert self_check(CONFIG, ids, result, records, outcomes, decisions) == []
    assert sorted(result.placements) == ids  # every child placed, once
    for rid in decisions:
        assert result.placements[rid].route in DECISION_ROUTES  # the decision wins
        held = outcomes[rid]
        assert held is None or held["outcome"] not in ceremony.ADMITTED  # no private seat kept
    for rid, o in outcomes.items():
        if o is not None and o["outcome"] in ceremony.ADMITTED:
            assert result.placements[rid].school_id == o["school_id"]
    report = audit(sealed_archive(CONFIG, archive, lines(result), CREATED))
    assert report.ok, report.render()
