"""Who is in the draw and the archived record (LOTTERY.md; R-LOT-1, R-LOT-2, R-LOT-5)."""

from __future__ import annotations

import json

import pytest

from enrollment.lottery.pools import (
    FORMAT,
    CeremonyInputs,
    Pools,
    check_record,
    outcomes,
    record,
    record_bytes,
    record_key,
    waitlist,
)

INPUTS = CeremonyInputs(("0417", "9023", "5561"), ("3390", "7704", "1286"), 1)


def ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(1, n + 1)]


def split(plan: int, own: int, other: int) -> Pools:
    return Pools.split("P-CY-01", 1, "CY", plan, ids("L", own), ids("O", other))


def test_within_the_plan_everyone_is_admitted_without_a_draw() -> None:
    # R-LOT-1: |L| + |O| <= P, including exactly P
    for own, other in ((3, 2), (5, 0), (0, 5), (2, 1)):
        p = split(5, own, other)
        assert p.case == "all-admitted" and not p.needs_draw
        rec = record("2023", p, None)
        assert rec["draw"] is None and rec["not_admitted"] == []
        assert rec["admitted"] == rec["admitted_without_draw"] == sorted(ids("L", own) + ids("O", other))


def test_own_district_exactly_the_plan_admits_them_all_and_draws_the_others_for_zero_seats() -> None:
    # R-LOT-2 edge: |L| == P with others applying: all of L admitted, a draw among O for S = 0 seats,
    # whose ranking is the waitlist if an admitted child declines
    p = split(5, 5, 3)
    assert p.case == "draw-other-districts" and p.seats == 0 and p.pool == ids("O", 3)
    rec = record("2023", p, INPUTS)
    assert rec["admitted"] == rec["admitted_without_draw"] == ids("L", 5)
    assert rec["draw"]["seats"] == 0 and sorted(rec["draw"]["ranking"]) == ids("O", 3)
    assert rec["not_admitted"] == ids("O", 3)
    assert list(waitlist(rec)) == rec["draw"]["ranking"]


def test_own_district_exactly_the_plan_and_nobody_else_needs_no_draw() -> None:
    p = split(5, 5, 0)
    assert p.case == "all-admitted"


def test_one_more_own_district_applicant_than_the_plan_draws_among_them_only() -> None:
    # R-LOT-2: |L| = P + 1: the draw is among L for P seats; everyone in O is not admitted
    p = split(5, 6, 4)
    assert p.case == "draw-own-district" and p.seats == 5 and p.pool == ids("L", 6)
    rec = record("2023", p, INPUTS)
    assert rec["admitted_without_draw"] == []
    assert rec["draw"]["pool"] == "own-district" and len(rec["admitted"]) == 5
    assert set(rec["not_admitted"]) == set(ids("O", 4)) | (set(ids("L", 6)) - set(rec["admitted"]))
    assert rec["admitted"] == sorted(rec["draw"]["ranking"][:5])


def test_others_fill_the_seats_left_by_a_draw_when_they_exceed_them() -> None:
    # R-LOT-2: |L| < P, |O| > P - |L|: L admitted, a draw among O for S = P - |L|
    p = split(5, 2, 7)
    assert p.case == "draw-other-districts" and p.seats == 3
    rec = record("2023", p, INPUTS)
    assert rec["admitted_without_draw"] == ids("L", 2)
    assert rec["draw"]["pool"] == "other-districts" and rec["draw"]["seats"] == 3
    assert rec["admitted"] == sorted(ids("L", 2) + rec["draw"]["ranking"][:3])
    assert len(rec["not_admitted"]) == 4


def test_a_school_with_no_applicants_still_has_its_record() -> None:
    rec = record("2023", split(40, 0, 0), None)
    assert rec["draw"] is None and rec["admitted"] == rec["not_admitted"] == []
    assert rec["own_district_applicants"] == rec["other_applicants"] == []


def test_a_school_with_zero_seats_in_a_grade_draws_for_none() -> None:
    p = split(0, 2, 1)
    assert p.case == "draw-own-district" and p.seats == 0
    rec = record("2023", p, INPUTS)
    assert rec["admitted"] == [] and sorted(rec["not_admitted"]) == ids("L", 2) + ids("O", 1)


def test_the_record_has_the_fields_of_lottery_md_in_order_and_replays() -> None:
    rec = record("2023", split(3, 4, 2), INPUTS)
    assert list(rec) == [
        "format",
        "season",
        "school_id",
        "grade",
        "district",
        "plan",
        "own_district_applicants",
        "other_applicants",
        "admitted_without_draw",
        "draw",
        "admitted",
        "not_admitted",
    ]
    assert list(rec["draw"]) == [
        "algorithm",
        "pool",
        "seats",
        "pool_digest",
        "shuffle_inputs",
        "draw_inputs",
        "chosen_draw",
        "ranking",
    ]
    assert rec["format"] == FORMAT and rec["draw"]["algorithm"] == "hmac-drbg-sha256-durstenfeld/1"
    assert record_key("P-CY-01", 1) == "private/P-CY-01-g1.json"
    assert check_record(rec) == []
    # the bytes are deterministic: the same inputs give the identical file
    assert record_bytes(rec) == record_bytes(record("2023", split(3, 4, 2), INPUTS))
    assert json.loads(record_bytes(rec)) == rec


def test_the_worked_example_as_a_record() -> None:
    p = Pools.split("P-CY-01", 1, "CY", 3, [f"R{i:04d}" for i in range(1, 11)], [])
    rec = record("2023", p, INPUTS)
    assert rec["draw"]["pool_digest"] == "19b1370c4a10cc801cf6f7e6076b08b5ba1d521a91561e8483ac3bc98c7f42c8"
    assert rec["admitted"] == ["R0001", "R0002", "R0004"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r["draw"]["ranking"].reverse(), "draw differs"),
        (lambda r: r["draw"]["shuffle_inputs"].__setitem__(0, "0418"), "draw differs"),
        (lambda r: r.__setitem__("admitted", r["admitted"][:-1]), "admitted differs"),
        (lambda r: r["own_district_applicants"].append("L999"), "differs"),
        (lambda r: r.__setitem__("draw", None), "R-LOT-2"),
        (lambda r: r["draw"].__setitem__("chosen_draw", 4), "cannot be replayed"),
    ],
)
def test_a_changed_record_fails_its_replay(change: object, problem: str) -> None:
    rec = record("2023", split(3, 4, 2), INPUTS)
    change(rec)  # type: ignore[operator]
    problems = check_record(rec)
    assert problems and any(problem in p for p in problems), problems


def test_outcomes_give_rank_and_waitlist() -> None:
    rec = record("2023", split(3, 2, 4), INPUTS)
    out = outcomes(rec)
    assert {out[r]["outcome"] for r in ids("L", 2)} == {"admitted-without-draw"}
    ranking = rec["draw"]["ranking"]
    assert out[ranking[0]] == {"outcome": "admitted", "rank": 1, "seats": 1, "pool": "other-districts"}
    assert out[ranking[1]]["outcome"] == "waitlisted" and out[ranking[1]]["rank"] == 2
    # when the own district is drawn, the others are simply not admitted (no rank)
    out = outcomes(record("2023", split(1, 2, 2), INPUTS))
    assert out["O001"] == {"outcome": "not-admitted"}


def test_an_applicant_in_both_pools_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Pools.split("P-CY-01", 1, "CY", 3, ["R1", "R2"], ["R2"])
