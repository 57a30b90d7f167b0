"""Placement rules (R-PUB-1, R-PUB-2, R-PRIO-1, R-MIG-1, R-LOT-5, R-DIS-1, R-DEFER-1, R-COORD-1) and the self-check."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from enrollment.core.config import SeasonConfig, load_season
from enrollment.lottery import draw as lottery
from enrollment.placement import tiebreak
from enrollment.placement.place import (
    Case,
    Placement,
    PlacementBlocked,
    StaffDecision,
    lines,
    place,
    self_check,
    tier_of,
)
from enrollment.verification.season import PlacementFacts
from enrollment.verification.verdicts import Verdict

NOW = datetime(2023, 6, 20, tzinfo=UTC)
SINGLE, SINGLE_SCHOOL = "Z-CY-1-01", "S-CY-01"  # 康乐大路 56-110
MULTI, MULTI_SCHOOLS = "Z-CY-1-04", ("S-CY-04", "S-CY-14")  # 黄山东路 42-123
TIGHT = {SINGLE_SCHOOL: {1: 2}, "S-CY-04": {1: 1}, "S-CY-14": {1: 1}}
ALL_FACTS = {"hukou-in-zone": True, "deed-in-zone": True, "hukou-deed-match": True, "actual-residence": True}


def variant(season: SeasonConfig, folder: Path, mechanism: str = "deferred-acceptance") -> SeasonConfig:
    raw: dict[str, Any] = season.model_dump(mode="json")
    for school in raw["schools"]:
        if school["id"] in TIGHT:
            school["plans"] = {**school["plans"], **TIGHT[school["id"]]}
    for d in raw["districts"]:
        if d["code"] == "CY":
            d["multi_school_assignment"] = mechanism
    path = folder / f"{mechanism}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_season(path)


@pytest.fixture
def tight(season: SeasonConfig, tmp_path: Path) -> SeasonConfig:
    return variant(season, tmp_path)


def case(
    config: SeasonConfig,
    rid: str,
    *,
    zone: str | None = SINGLE,
    facts: dict[str, bool] | None = None,
    status: str = "eligible",
    category: str = "public",
    road: str = "康乐大路",
    number: int = 60,
    **extra: Any,
) -> Case:
    verdict = Verdict(
        registration_id=rid,
        season="2023",
        grade=1,
        district="CY",
        category=category,
        status=status,  # type: ignore[arg-type]
        zone_id=zone,
        facts=ALL_FACTS if facts is None else facts,  # type: ignore[arg-type]
        decided_at=NOW,
    )
    home = config.road_index[road].locate(number)
    return Case(rid, 1, "CY", category, home, verdict=verdict, **extra)


def ranks(*ids: str) -> dict[str, int]:
    return {rid: i for i, rid in enumerate(ids)}


def run(
    config: SeasonConfig, cases: list[Case], decisions: dict[str, StaffDecision] | None = None
) -> dict[str, Placement]:
    tb = ranks(*[c.registration_id for c in cases])
    return place(config, cases, tb, decisions or {}, cap_km=3.0).placements


def test_within_the_plan_every_verified_catchment_child_is_admitted(tight: SeasonConfig) -> None:
    placed = run(tight, [case(tight, "A"), case(tight, "B")])
    assert {(p.school_id, p.route) for p in placed.values()} == {(SINGLE_SCHOOL, "catchment")}


def test_an_oversubscribed_school_admits_by_tier_then_tie_break_and_coordinates_the_rest(
    tight: SeasonConfig,
) -> None:
    # R-PUB-2 + R-PRIO-1: the policy-priority child ranks first though its tie-break number is the
    # worst; then the full tier (hukou + deed + residence); the hukou-only child is coordinated.
    hukou_only = {"hukou-in-zone": True, "actual-residence": True}
    cases = [
        case(tight, "HUKOU", facts=hukou_only),  # best tie-break number
        case(tight, "FULL"),
        case(tight, "PRIO", facts={**hukou_only, "policy-priority": True}),  # worst tie-break number
    ]
    placed = run(tight, cases)
    assert (placed["PRIO"].school_id, placed["PRIO"].route, placed["PRIO"].tier) == (
        SINGLE_SCHOOL,
        "priority",
        "policy-priority",
    )
    assert (placed["FULL"].school_id, placed["FULL"].tier) == (SINGLE_SCHOOL, "hukou-deed-match")
    assert placed["HUKOU"].route == "coordination" and placed["HUKOU"].reason == "catchment-overflow"
    assert placed["HUKOU"].school_id != SINGLE_SCHOOL and placed["HUKOU"].distance_m is not None
    # inside one tier the tie-break decides
    twins = [case(tight, "T1"), case(tight, "T2"), case(tight, "T3")]
    placed = run(tight, twins)
    assert [placed[r].route for r in ("T1", "T2", "T3")] == ["catchment", "catchment", "coordination"]


def test_the_light_verdicts_a_season_reads_place_exactly_as_the_models_do(tight: SeasonConfig) -> None:
    # the season's run gives each Case a PlacementFacts tuple (status, zone, facts), not the model
    hukou_only = {"hukou-in-zone": True, "actual-residence": True}
    cases = [
        case(tight, "HUKOU", facts=hukou_only),
        case(tight, "FULL"),
        case(tight, "PRIO", facts={**hukou_only, "policy-priority": True, "deed-in-zone": False}),
        case(tight, "REVIEW", status="review"),
        case(tight, "FAILED", status="not-eligible", zone=None),
        case(tight, "NOZONE", zone=None),
        case(tight, "MULTI", zone=MULTI, road="黄山东路", number=50, preferences=MULTI_SCHOOLS[::-1]),
    ]

    def light(c: Case) -> Case:
        v = c.verdict
        assert isinstance(v, Verdict)
        return replace(c, verdict=PlacementFacts(v.registration_id, v.status, v.zone_id, dict(v.facts)))

    by_model = run(tight, cases)
    by_tuple = run(tight, [light(c) for c in cases])
    assert by_tuple == by_model
    assert by_tuple["PRIO"].tier == "policy-priority" and by_tuple["HUKOU"].route == "coordination"
    assert by_tuple["REVIEW"].reason == "verification-unresolved"
    assert by_tuple["FAILED"].reason == "verification-failed" and by_tuple["NOZONE"].reason == "no-catchment"


def test_tier_of_follows_the_published_order(tight: SeasonConfig) -> None:
    assert tier_of(tight, "CY", {"policy-priority": True}) == (0, "policy-priority")
    assert tier_of(tight, "CY", {"residence-permit-in-zone": True}) == (3, "residence-permit")
    assert tier_of(tight, "CY", {}) == (4, None)


def test_a_multi_school_zone_under_deferred_acceptance_and_first_choice_first(
    season: SeasonConfig, tmp_path: Path
) -> None:
    # a: S4 > S14 (best key), b: S4 > S14, c: S14 > S4 (worst key); one seat each.
    def cases(config: SeasonConfig) -> list[Case]:
        return [
            case(config, rid, zone=MULTI, road="黄山东路", number=50, preferences=prefs)
            for rid, prefs in (("a", MULTI_SCHOOLS), ("b", MULTI_SCHOOLS), ("c", MULTI_SCHOOLS[::-1]))
        ]

    da_config = variant(season, tmp_path, "deferred-acceptance")
    fcf_config = variant(season, tmp_path, "first-choice-first")
    da, fcf = run(da_config, cases(da_config)), run(fcf_config, cases(fcf_config))
    # DA: b's better key wins S14 over c, who ranked it first; c is coordinated
    assert (da["a"].school_id, da["b"].school_id, da["c"].route) == ("S-CY-04", "S-CY-14", "coordination")
    # 志愿优先: c's first choice is served before b's second; b is coordinated
    assert (fcf["a"].school_id, fcf["c"].school_id, fcf["b"].route) == ("S-CY-04", "S-CY-14", "coordination")


def test_a_family_that_ranked_one_school_is_still_eligible_for_the_zones_others(tight: SeasonConfig) -> None:
    cases = [
        case(tight, "a", zone=MULTI, road="黄山东路", number=50, preferences=("S-CY-04",)),
        case(tight, "b", zone=MULTI, road="黄山东路", number=50, preferences=("S-CY-04",)),
    ]
    placed = run(tight, cases)
    assert {placed["a"].school_id, placed["b"].school_id} == set(MULTI_SCHOOLS)


def test_migrants_with_a_verified_permit_in_the_zone_are_catchment_children(tight: SeasonConfig) -> None:
    # R-MIG-1: the residence permit is the basis; its tier is the last published one
    placed = run(tight, [case(tight, "M", facts={"residence-permit-in-zone": True})])
    assert (placed["M"].school_id, placed["M"].route, placed["M"].tier) == (
        SINGLE_SCHOOL,
        "catchment",
        "residence-permit",
    )


def test_special_groups_private_and_failed_verification(tight: SeasonConfig) -> None:
    lot_in = {"outcome": "admitted", "school_id": "P-CY-01"}
    lot_out = {"outcome": "waitlisted", "school_id": "P-CY-01"}
    cases = [
        case(tight, "PRIV-IN", category="private", lottery=lot_in),
        case(tight, "PRIV-OUT", category="private", lottery=lot_out),
        case(
            tight,
            "PRIV-FREE",
            category="private",
            lottery={"outcome": "admitted-without-draw", "school_id": "P-CY-01"},
        ),
        case(tight, "FAILED", status="not-eligible"),
        case(tight, "OPEN", status="review"),
        case(tight, "FOREIGN", foreign=True),
        case(tight, "DEFER", claims=("defer-health",)),
        case(tight, "DIS", claims=("disability",)),
        case(tight, "MOVED"),
    ]
    decisions = {
        "DEFER": StaffDecision("DEFER", "defer", "因病缓学一年", "arn:staff", "2023-06-20"),
        "DIS": StaffDecision(
            "DIS", "committee", "专家委员会意见", "arn:staff", "2023-06-20", "home-delivery", "SE-LT-01"
        ),
        "MOVED": StaffDecision(
            "MOVED", "override", "复审改判：实际居住地变更", "arn:staff", "2023-06-20", None, "S-CY-02"
        ),
    }
    placed = run(tight, cases, decisions)
    assert (placed["PRIV-IN"].route, placed["PRIV-IN"].school_id) == ("private-draw", "P-CY-01")
    assert placed["PRIV-FREE"].route == "private-no-draw"
    assert (placed["PRIV-OUT"].route, placed["PRIV-OUT"].reason) == (
        "coordination",
        "private-not-admitted",
    )  # R-LOT-5
    assert (placed["FAILED"].route, placed["FAILED"].reason) == (
        "coordination",
        "verification-failed",
    )  # R-VER-4
    assert placed["OPEN"].reason == "verification-unresolved"
    assert (placed["FOREIGN"].route, placed["FOREIGN"].reason) == ("coordination", "foreign")  # R-FOREIGN-1
    assert (placed["DEFER"].school_id, placed["DEFER"].route) == (None, "deferred")  # R-DEFER-1
    assert placed["DEFER"].line()["status"] == "deferred"
    assert (placed["DIS"].route, placed["DIS"].school_id) == ("home-delivery", "SE-LT-01")  # R-DIS-1
    assert (placed["MOVED"].route, placed["MOVED"].school_id, placed["MOVED"].reason) == (
        "override",
        "S-CY-02",
        "复审改判：实际居住地变更",
    )
    assert all(p.route != "coordination" or p.school_id for p in placed.values())  # R-COORD-1


def test_a_disabled_child_without_the_committees_decision_stops_placement(tight: SeasonConfig) -> None:
    with pytest.raises(PlacementBlocked, match="R-DIS-1") as e:
        run(tight, [case(tight, "DIS", claims=("disability",)), case(tight, "A")])
    assert e.value.cases == ["DIS"]


# The self-check: every invariant made to fail once on purpose ----------------------------------


@pytest.fixture
def checked(tight: SeasonConfig) -> tuple[SeasonConfig, Any, list[str]]:
    cases = [
        case(tight, "A"),
        case(tight, "B"),
        case(tight, "C"),
        case(tight, "P", category="private", lottery={"outcome": "admitted", "school_id": "P-CY-01"}),
    ]
    result = place(tight, cases, ranks("A", "B", "C", "P"), {}, cap_km=3.0)
    ids = ["A", "B", "C", "P"]
    records = [{"school_id": "P-CY-01", "admitted": ["P"]}]
    assert (
        self_check(tight, ids, result, records, {"P": {"outcome": "admitted", "school_id": "P-CY-01"}}) == []
    )
    return tight, result, ids


def problems_after(
    checked: tuple[SeasonConfig, Any, list[str]],
    change: Any,
    ids: list[str] | None = None,
    records: Any = None,
) -> list[str]:
    config, result, registered = checked
    change(result)
    recs = records if records is not None else [{"school_id": "P-CY-01", "admitted": ["P"]}]
    return self_check(
        config, ids or registered, result, recs, {"P": {"outcome": "admitted", "school_id": "P-CY-01"}}
    )


def test_self_check_names_a_child_registered_but_not_placed(checked: Any) -> None:
    problems = problems_after(checked, lambda r: r.placements.pop("B"))
    assert any(p.startswith("B: registered but not placed") for p in problems)


def test_self_check_names_a_child_placed_twice_or_not_registered(checked: Any) -> None:
    assert any(
        "registered twice" in p
        for p in problems_after(checked, lambda r: None, ids=["A", "A", "B", "C", "P"])
    )
    assert any(
        "X: placed but not registered" in p
        for p in problems_after(
            checked, lambda r: r.placements.__setitem__("X", Placement("X", 1, "S-CY-02", "catchment"))
        )
    )


def test_self_check_names_a_school_over_its_plan(checked: Any) -> None:
    problems = problems_after(
        checked, lambda r: r.placements.__setitem__("C", Placement("C", 1, SINGLE_SCHOOL, "catchment"))
    )
    assert any(p.startswith(f"{SINGLE_SCHOOL} grade 1: 3 placed over a plan of 2") for p in problems)


def test_self_check_names_a_private_admission_missing_from_its_record(checked: Any) -> None:
    problems = problems_after(checked, lambda r: None, records=[{"school_id": "P-CY-01", "admitted": []}])
    assert any(p.startswith("P: private admission to P-CY-01 not in its lottery record") for p in problems)


def test_self_check_names_a_child_coordinated_while_its_catchment_school_has_a_seat(checked: Any) -> None:
    problems = problems_after(
        checked,
        lambda r: r.placements.__setitem__(
            "A", Placement("A", 1, "S-CY-02", "coordination", "catchment-overflow")
        ),
    )
    assert any(
        p.startswith(f"A: coordinated while its catchment school {SINGLE_SCHOOL} has a free seat")
        for p in problems
    )


def test_self_check_names_a_coordination_or_override_without_a_reason(checked: Any) -> None:
    problems = problems_after(
        checked,
        lambda r: r.placements.__setitem__(
            "C", Placement("C", 1, r.placements["C"].school_id, "coordination", None)
        ),
    )
    assert any(p.startswith("C: coordinated without a reason") for p in problems)
    problems = problems_after(
        checked, lambda r: r.placements.__setitem__("C", Placement("C", 1, "S-CY-02", "override", None))
    )
    assert any(p.startswith("C: override without a reason") for p in problems)


def test_placements_jsonl_lines_follow_lottery_md(checked: Any) -> None:
    _, result, _ = checked
    out = lines(result)
    assert [line["registration_id"] for line in out] == ["A", "B", "C", "P"]
    assert set(out[0]) == {"registration_id", "grade", "school_id", "route"}
    coordinated = next(line for line in out if line["route"] == "coordination")
    assert coordinated["reason"] == "catchment-overflow"


# The season's tie-break --------------------------------------------------------------------------


def test_tie_break_numbers_replay_with_the_lottery_construction() -> None:
    ids = [f"R-{i:04d}" for i in range(200)]
    tb = tiebreak.draw("2023", reversed(ids), "seed-typed-by-the-notary")
    order0 = sorted(ids)
    digest = lottery.pool_digest(order0)
    drbg = lottery.step_drbg("2023", "placement", 0, "tie-break", digest, "seed-typed-by-the-notary")
    assert list(tb.order) == lottery.shuffle(order0, drbg)  # the straightforward reference
    assert tb.pool_digest == digest and sorted(tb.numbers().values()) == list(range(200))
    assert tiebreak.draw("2023", ids, "seed-typed-by-the-notary") == tb  # same inputs, same numbers
    assert tiebreak.draw("2023", ids, "another seed").order != tb.order
    rec = tiebreak.record(tb)
    assert rec["nonce"] == f"2023|placement|0|tie-break|{digest}" and rec["order"] == list(tb.order)
