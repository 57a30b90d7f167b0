"""Coordinated placement (R-COORD-1): min-cost flow within the cap, rank tie-break, fallback, checks.

Hand-computed cases put everyone on the meridian lon = 0, where the haversine distance is exactly the
latitude difference times R·π/180, so `north(km)` places a point `km` kilometres north of the equator
and distances come out in whole metres as written.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random

import numpy as np
import pytest

from enrollment.placement import coordination
from enrollment.placement.coordination import (
    EARTH_RADIUS_KM,
    Child,
    Coordination,
    IntArray,
    Placement,
    SchoolSeats,
    check,
    coordinate,
    distance_km,
    distance_m,
)

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180


def north(km: float) -> float:
    return km / KM_PER_DEGREE


def child(cid: str, km: float, rank: int) -> Child:
    return Child(cid, north(km), 0.0, rank)


def school(sid: str, km: float, free: int) -> SchoolSeats:
    return SchoolSeats(sid, north(km), 0.0, free)


def random_city(seed: int, n: int, m: int, grid: bool = False) -> tuple[list[Child], list[SchoolSeats]]:
    """A 4 km × 4 km city; with `grid`, points on a 10 × 10 grid of 400 m, so that ties abound."""
    rng = random.Random(seed)

    def point() -> tuple[float, float]:
        if grid:
            return north(rng.randrange(10) * 0.4), rng.randrange(10) * 0.4 / KM_PER_DEGREE
        return north(rng.uniform(0, 4)), rng.uniform(0, 4) / KM_PER_DEGREE

    ranks = list(range(n))
    rng.shuffle(ranks)
    kids = [Child(f"c{i:03d}", *point(), ranks[i]) for i in range(n)]
    schools = [SchoolSeats(f"s{j:02d}", *point(), rng.randrange(0, 2 * n // m + 2)) for j in range(m)]
    return kids, schools


# distance


def test_distance_is_the_haversine_great_circle_distance() -> None:
    a, b = Child("a", 0.0, 0.0, 0), Child("b", 1.0, 0.0, 1)
    assert distance_km(a, b) == pytest.approx(KM_PER_DEGREE, rel=1e-12)
    assert distance_km(a, Child("e", 0.0, 1.0, 2)) == pytest.approx(KM_PER_DEGREE, rel=1e-12)
    assert distance_km(a, a) == 0.0
    jilin, changchun = Child("j", 43.84, 126.55, 0), Child("c", 43.88, 125.32, 1)
    assert distance_km(jilin, changchun) == pytest.approx(98.8, abs=0.1)
    assert distance_km(jilin, changchun) == distance_km(changchun, jilin)
    assert distance_m(child("x", 1.0, 0), school("y", 3.5, 1)) == 2500


# the flow


def test_the_flow_finds_the_global_optimum_where_greedy_by_rank_does_not() -> None:
    # Greedy by rank: A (rank 0) takes its nearest X (500 m), B is left with Y (2,000 m): 2,500 m.
    # The flow sends A to Y (1,000 m) and B to X (500 m): 1,500 m.
    kids = [child("A", 1.0, 0), child("B", 0.0, 1)]
    schools = [school("X", 0.5, 1), school("Y", 2.0, 1)]
    result = coordinate(kids, schools, cap_km=5)
    assert result.assignment == {"A": "Y", "B": "X"}
    assert result.metres == {"A": 1000, "B": 500}
    assert result.reasons == {"A": "within-cap", "B": "within-cap"}
    assert result.summary.total_m == 1500 and result.summary.max_m == 1000
    assert result.summary.mean_m == 750.0 and result.summary.arcs == 4
    assert check(kids, schools, result) == []


def test_capacities_are_respected() -> None:
    kids = [child(f"c{i}", 0.1 * i, i) for i in range(6)]
    schools = [school("X", 0.2, 2), school("Y", 1.0, 3), school("Z", 2.0, 5)]
    result = coordinate(kids, schools, cap_km=3)
    placed = list(result.assignment.values())
    assert placed.count("X") == 2 and placed.count("Y") == 3 and placed.count("Z") == 1
    assert result.summary.within_cap == 6 and result.summary.seats_left == 4
    assert check(kids, schools, result) == []


def test_more_children_within_the_cap_beats_a_shorter_total() -> None:
    # A alone could take X at 100 m, but then B (only X within its cap) would fall back: the flow
    # places both within the cap (A at Y, 900 m) although the total is longer.
    kids = [child("A", 1.0, 0), child("B", 0.0, 1)]
    schools = [school("X", 0.9, 1), school("Y", 1.9, 1)]
    result = coordinate(kids, schools, cap_km=1)
    assert result.assignment == {"A": "Y", "B": "X"}
    assert result.reasons == {"A": "within-cap", "B": "within-cap"}


def test_the_cap_is_respected_and_the_rest_fall_back_to_the_nearest_school_with_a_seat() -> None:
    # One seat within 1 km of both; the flow gives it to B (400 m, against A's 500 m); A falls back to
    # the nearest school with a seat, Z at 3 km, skipping the nearer W that has no free seat.
    kids = [child("A", 0.0, 0), child("B", 0.1, 1)]
    schools = [school("X", 0.5, 1), school("W", 2.0, 0), school("Z", 3.0, 5), school("V", 4.0, 5)]
    result = coordinate(kids, schools, cap_km=1)
    assert result.assignment == {"A": "Z", "B": "X"}
    assert result.reasons == {"A": "nearest-with-seat", "B": "within-cap"}
    assert result.metres == {"A": 3000, "B": 400}
    assert result.summary.within_cap == 1 and result.summary.nearest_with_seat == 1
    assert check(kids, schools, result) == []


def test_fallback_children_take_the_nearest_seat_left_in_rank_order() -> None:
    kids = [child("late", 10.0, 1), child("early", 10.2, 0)]
    schools = [school("near", 5.0, 1), school("far", 0.0, 9)]
    result = coordinate(kids, schools, cap_km=3)
    assert result.assignment == {"early": "near", "late": "far"}
    assert result.reasons == {"early": "nearest-with-seat", "late": "nearest-with-seat"}
    assert result.metres == {"early": 5200, "late": 10000}
    assert result.summary.arcs == 0
    assert check(kids, schools, result) == []


def test_at_most_k_candidates_per_child_then_the_fallback_may_be_within_the_cap() -> None:
    # With K = 1 each child's only arc is its nearest school with a free seat (X); B's fallback Y is
    # within the cap but was not a candidate.
    kids = [child("A", 0.0, 0), child("B", 0.05, 1)]
    schools = [school("X", 0.1, 1), school("Y", 0.5, 1), school("Q", 0.0, 0)]
    result = coordinate(kids, schools, cap_km=3, candidates=1)
    assert result.summary.arcs == 2
    assert result.assignment == {"A": "Y", "B": "X"} or result.assignment == {"A": "X", "B": "Y"}
    assert result.assignment["B"] == "X"  # 50 m against A's 100 m
    assert result.reasons == {"A": "nearest-with-seat", "B": "within-cap"}
    assert check(kids, schools, result) == []
    assert coordinate(kids, schools, cap_km=3).reasons == {"A": "within-cap", "B": "within-cap"}


def test_no_seat_when_the_whole_grade_is_full() -> None:
    # Within the cap only X has a seat; the flow gives it to a (0 m) although a has the worst rank:
    # rank breaks ties, it does not buy distance. The rest in rank order: b takes Y, c finds no seat.
    kids = [child("a", 0.0, 2), child("b", 0.1, 0), child("c", 0.2, 1)]
    schools = [school("X", 0.0, 1), school("Y", 5.0, 1), school("Z", 1.0, 0)]
    result = coordinate(kids, schools, cap_km=1)
    assert result.reasons == {"b": "nearest-with-seat", "c": "no-seat", "a": "within-cap"}
    assert result.assignment == {"b": "Y", "a": "X"}
    assert result.unplaced == ["c"]
    assert result.placements[1] == Placement("c", 1, None, "no-seat", None)
    assert result.summary.no_seat == 1 and result.summary.seats_left == 0
    assert check(kids, schools, result) == []
    assert coordinate(kids, [], cap_km=1).unplaced == ["b", "c", "a"]


def test_empty_season() -> None:
    result = coordinate([], [school("X", 0.0, 3)], cap_km=3)
    assert result.placements == () and result.summary.children == 0 and result.summary.seats_left == 3


# tie-break and determinism


@pytest.mark.parametrize("first", ["A", "B"])
def test_equal_total_distance_the_better_ranked_child_is_nearer_home(first: str) -> None:
    # d(A, X) = 1,000, d(A, Y) = 2,000, d(B, X) = 800, d(B, Y) = 1,800: both placements total 2,800 m.
    ranks = {"A": 0, "B": 1} if first == "A" else {"A": 1, "B": 0}
    kids = [child("A", 0.0, ranks["A"]), child("B", 0.2, ranks["B"])]
    schools = [school("X", 1.0, 1), school("Y", 2.0, 1)]
    result = coordinate(kids, schools, cap_km=3)
    assert result.assignment[first] == "X"
    assert result.summary.total_m == 2800


def test_children_at_the_same_home_are_ordered_by_rank() -> None:
    kids = [Child(f"c{r}", north(0.0), 0.0, r) for r in (3, 1, 0, 2)]
    schools = [school("X", 0.1, 1), school("Y", 0.2, 1), school("Z", 0.3, 1), school("W", 0.4, 1)]
    result = coordinate(kids, schools, cap_km=3)
    assert result.assignment == {"c0": "X", "c1": "Y", "c2": "Z", "c3": "W"}


def test_same_inputs_same_output_in_any_input_order() -> None:
    kids, schools = random_city(7, 120, 8, grid=True)
    first = coordinate(kids, schools, cap_km=1.2, candidates=5)
    assert coordinate(kids, schools, cap_km=1.2, candidates=5) == first
    rng = random.Random(1)
    for _ in range(5):
        rng.shuffle(kids)
        rng.shuffle(schools)
        assert coordinate(kids, schools, cap_km=1.2, candidates=5) == first
    assert check(kids, schools, first) == []
    assert [p.rank for p in first.placements] == list(range(120))


def within_cap_optimum(kids: list[Child], schools: list[SchoolSeats], cap_km: float) -> tuple[int, int]:
    """Brute force: (most children within the cap, least total metres among those placements)."""
    cap_m = round(cap_km * 1000)
    options = [[None] + [s for s in schools if s.free > 0 and distance_m(c, s) <= cap_m] for c in kids]
    best = (0, 0)
    for choice in itertools.product(*options):
        used = [s.id for s in choice if s is not None]
        if any(used.count(s.id) > s.free for s in schools):
            continue
        placed = sum(s is not None for s in choice)
        total = sum(distance_m(c, s) for c, s in zip(kids, choice, strict=True) if s is not None)
        if (placed, -total) > (best[0], -best[1]):
            best = (placed, total)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_small_cities_match_brute_force(seed: int) -> None:
    kids, schools = random_city(seed, 6, 3, grid=seed % 2 == 0)
    result = coordinate(kids, schools, cap_km=1.5)
    assert check(kids, schools, result) == []
    within = [p for p in result.placements if p.reason == "within-cap"]
    assert (len(within), sum(p.metres or 0 for p in within)) == within_cap_optimum(kids, schools, 1.5)


def test_no_exchange_at_an_equal_total_brings_a_better_ranked_child_nearer() -> None:
    exchanges = 0
    for seed in range(12):
        kids, schools = random_city(seed, 150, 6, grid=True)
        result = coordinate(kids, schools, cap_km=1.5)
        exchanges += result.summary.exchanges
        assert check(kids, schools, result) == []
        by_id = {s.id: s for s in schools}
        home = {c.id: c for c in kids}
        within = [p for p in result.placements if p.reason == "within-cap"]
        for p, q in itertools.combinations(within, 2):  # in rank order: p has the better rank
            assert p.school_id is not None and q.school_id is not None
            p_m, q_m = p.metres or 0, q.metres or 0
            p_there = distance_m(home[p.child_id], by_id[q.school_id])
            q_there = distance_m(home[q.child_id], by_id[p.school_id])
            if max(p_there, q_there) <= 1500 and p_there + q_there == p_m + q_m:
                assert p_there >= p_m, (p, q)
    assert exchanges > 0  # the solver's first choice did need the tie-break


def test_later_exchange_rounds_equal_recomputing_every_arc() -> None:
    # `_exchange` reuses the first round's records of children never moved; recomputing all of them
    # every round must give the same exchanges.
    def every_arc(at: IntArray, m: int, arc_child: IntArray, arc_school: IntArray, arc_m: IntArray) -> int:
        span, total = int(arc_m.max()) + 1, 0
        records = coordination._Records
        while pairs := records.of(at, m, span, arc_child, arc_school, arc_m).exchanges(m, span):
            for i, j in pairs:
                at[i], at[j] = at[j], at[i]
            total += len(pairs)
        return total

    exchanges = 0
    for seed in range(8):
        kids, schools = random_city(seed, 300, 8, grid=True)
        kids.sort(key=lambda c: c.rank)
        schools.sort(key=lambda s: s.id)
        arcs = coordination._candidates(kids, schools, 1200, 20)
        at = coordination._flow(len(kids), [s.free for s in schools], *arcs)
        again = at.copy()
        made = coordination._exchange(at, len(schools), *arcs)
        assert every_arc(again, len(schools), *arcs) == made
        assert at.tolist() == again.tolist()
        exchanges += made
    assert exchanges > 0


# validation


@pytest.mark.parametrize(
    ("kids", "schools", "message"),
    [
        ([child("a", 0, 0), child("a", 1, 1)], [school("X", 0, 1)], "duplicate child id 'a'"),
        ([child("a", 0, 0)], [school("X", 0, 1), school("X", 1, 1)], "duplicate school id 'X'"),
        ([child("a", 0, 0)], [school("X", 0, -1)], "school 'X': free seats must be an integer >= 0"),
        ([child("a", 0, 0), child("b", 0, 0)], [school("X", 0, 1)], "children 'a' and 'b' share rank 0"),
        (
            [child("a", 0, 0), child("b", 0, 2)],
            [school("X", 0, 1)],
            "child 'b': rank 2 is not an integer in 0..1",
        ),
        ([child("a", 0, -1)], [school("X", 0, 1)], "child 'a': rank -1"),
        ([Child("a", math.nan, 0.0, 0)], [school("X", 0, 1)], "child 'a': coordinates must be finite"),
        ([child("a", 0, 0)], [SchoolSeats("X", 0.0, math.nan, 1)], "school 'X': coordinates must be finite"),
        ([Child("a", 91.0, 0.0, 0)], [school("X", 0, 1)], "child 'a': coordinates out of range"),
    ],
)
def test_invalid_inputs_are_refused_naming_the_child_or_school(
    kids: list[Child], schools: list[SchoolSeats], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        coordinate(kids, schools, cap_km=3)


def test_numpy_integers_are_integers_but_floats_and_bools_are_not() -> None:
    result = coordinate([child("a", 0, np.int64(0))], [school("X", 0, np.int64(2))], cap_km=3)  # type: ignore[arg-type]
    assert result.placements == (Placement("a", 0, "X", "within-cap", 0),)
    assert type(result.placements[0].rank) is int
    with pytest.raises(ValueError, match="school 'X': free seats must be an integer"):
        coordinate([child("a", 0, 0)], [school("X", 0, 2.0)], cap_km=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="child 'a': rank True"):
        coordinate([child("a", 0, True)], [school("X", 0, 1)], cap_km=3)


@pytest.mark.parametrize(("cap_km", "candidates"), [(-1.0, 20), (math.nan, 20), (3.0, 0)])
def test_invalid_parameters_are_refused(cap_km: float, candidates: int) -> None:
    with pytest.raises(ValueError, match=r"cap_km|candidates"):
        coordinate([child("a", 0, 0)], [school("X", 0, 1)], cap_km=cap_km, candidates=candidates)


# check


@pytest.fixture
def sound() -> tuple[list[Child], list[SchoolSeats], Coordination]:
    kids = [child("A", 0.0, 0), child("B", 0.1, 1), child("C", 0.2, 2)]
    schools = [school("X", 0.0, 2), school("Y", 0.5, 1), school("Z", 5.0, 1)]
    result = coordinate(kids, schools, cap_km=1)
    assert result.assignment == {"A": "X", "B": "X", "C": "Y"}
    assert check(kids, schools, result) == []
    return kids, schools, result


def planted(result: Coordination, *placements: Placement) -> Coordination:
    return dataclasses.replace(result, placements=placements)


def test_check_finds_a_school_over_capacity(
    sound: tuple[list[Child], list[SchoolSeats], Coordination],
) -> None:
    kids, schools, result = sound
    a, b, c = result.placements
    bad = planted(result, a, b, dataclasses.replace(c, school_id="X", metres=200))
    assert check(kids, schools, bad) == ["school 'X' is over capacity: 3 placed, 2 free seats"]


def test_check_finds_a_child_placed_twice_or_missing(
    sound: tuple[list[Child], list[SchoolSeats], Coordination],
) -> None:
    kids, schools, result = sound
    a, b, c = result.placements
    assert check(
        kids,
        schools,
        planted(
            result, a, b, c, dataclasses.replace(c, school_id="Z", reason="nearest-with-seat", metres=4800)
        ),
    ) == ["child 'C' is placed 2 times"]
    assert check(kids, schools, planted(result, a, b)) == ["child 'C' is missing from the result"]
    stranger = Placement("D", 3, "Z", "nearest-with-seat", 5000)
    assert check(kids, schools, planted(result, a, b, c, stranger)) == ["unknown child 'D' in the result"]


def test_check_finds_a_within_cap_child_beyond_the_cap(
    sound: tuple[list[Child], list[SchoolSeats], Coordination],
) -> None:
    kids, schools, result = sound
    a, b, c = result.placements
    bad = planted(result, a, b, dataclasses.replace(c, school_id="Z", metres=4800))
    assert check(kids, schools, bad) == ["child 'C': within-cap at 'Z', 4800 m beyond the cap of 1000 m"]


def test_check_finds_a_fallback_while_a_school_within_the_cap_has_a_seat(
    sound: tuple[list[Child], list[SchoolSeats], Coordination],
) -> None:
    kids, schools, result = sound
    a, b, c = result.placements
    bad = planted(
        result, a, b, dataclasses.replace(c, school_id="Z", reason="nearest-with-seat", metres=4800)
    )
    assert check(kids, schools, bad) == [
        "child 'C': nearest-with-seat at 'Z' (4800 m) while school 'Y' within the cap (300 m) still has a free seat"
    ]


def test_check_finds_no_seat_while_seats_are_left_and_wrong_distances(
    sound: tuple[list[Child], list[SchoolSeats], Coordination],
) -> None:
    kids, schools, result = sound
    a, b, c = result.placements
    bad = planted(result, a, b, Placement("C", 2, None, "no-seat", None))
    assert check(kids, schools, bad) == ["child 'C' has no seat while school 'Y' has a free seat"]
    bad = planted(result, a, b, dataclasses.replace(c, metres=250))
    assert check(kids, schools, bad) == ["child 'C': recorded 250 m to 'Y', it is 300 m"]
    bad = planted(result, a, b, dataclasses.replace(c, school_id="Q"))
    assert check(kids, schools, bad) == ["unknown school 'Q' in the result"]
