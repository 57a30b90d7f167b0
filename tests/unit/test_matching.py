"""Placement in multi-school zones: deferred acceptance and first choice first (R-PUB-1, R-PUB-2, R-PRIO-1)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence

import pytest

from enrollment.placement.matching import (
    Applicant,
    Priority,
    blocking_pairs,
    common_priority,
    deferred_acceptance,
    first_choice_first,
    over_capacity,
)
from tests.support import library_resident_optimal

# --- helpers written from the definitions, independent of the module ---------------------------------


def order_at(school: str, applicant: Applicant, priority: Priority | None) -> tuple[tuple[int, ...], str]:
    return ((priority or common_priority)(school, applicant), applicant.id)


def is_stable(
    applicants: Sequence[Applicant],
    capacity: Mapping[str, int],
    matching: Mapping[str, str | None],
    priority: Priority | None = None,
) -> bool:
    """No child prefers a school that has a free seat or admitted someone it ranks lower (R-PUB-2)."""
    for child in applicants:
        placed = matching[child.id]
        better = child.choices if placed is None else child.choices[: child.choices.index(placed)]
        for school in better:
            admitted = [a for a in applicants if matching[a.id] == school]
            if len(admitted) < capacity[school]:
                return False
            if any(order_at(school, child, priority) < order_at(school, a, priority) for a in admitted):
                return False
    return True


def all_stable_matchings(
    applicants: Sequence[Applicant], capacity: Mapping[str, int], priority: Priority | None = None
) -> list[dict[str, str | None]]:
    """Brute force over every assignment of each child to one of their choices or to nobody."""
    found = []
    for picks in itertools.product(*[(None, *a.choices) for a in applicants]):
        matching = {a.id: school for a, school in zip(applicants, picks, strict=True)}
        if over_capacity(capacity, matching):
            continue
        if is_stable(applicants, capacity, matching, priority):
            found.append(matching)
    return found


def preference_rank(child: Applicant, school: str | None) -> int:
    return len(child.choices) if school is None else child.choices.index(school)


def random_instance(
    rng: random.Random, children: int, schools: int, *, ties: bool = False
) -> tuple[list[Applicant], dict[str, int]]:
    names = [f"S{n}" for n in range(schools)]
    capacity = {s: rng.randint(0, 2) for s in names}
    tie_breaks = (
        [rng.randint(0, 2) for _ in range(children)] if ties else rng.sample(range(children), children)
    )
    applicants = [
        Applicant(
            f"C{n}",
            tuple(rng.sample(names, rng.randint(0, min(3, schools)))),
            (rng.randint(0, 2), tie_breaks[n]),
        )
        for n in range(children)
    ]
    return applicants, capacity


# --- the classic example: DA and first choice first differ (R-PUB-2) --------------------------------

# A and B have one seat each. Ann (a verified R-PRIO-1 claim: tier 0) and Bob both put A first; Bob's
# second choice is B, which Cai, of lower priority than Bob, ranked first.
CLASSIC_CAPACITY = {"A": 1, "B": 1}
CLASSIC = [
    Applicant("ann", ("A", "B"), (0, 3)),
    Applicant("bob", ("A", "B"), (1, 1)),
    Applicant("cai", ("B", "A"), (1, 2)),
]


def test_da_gives_a_child_whose_first_choice_is_full_their_second_by_priority() -> None:
    # Given A taken by Ann, Bob applies to B, where he outranks Cai
    matching = deferred_acceptance(CLASSIC, CLASSIC_CAPACITY)
    # Then Bob gets B and Cai is left for coordination (R-COORD-1)
    assert matching == {"ann": "A", "bob": "B", "cai": None}
    assert blocking_pairs(CLASSIC, CLASSIC_CAPACITY, matching) == []


def test_first_choice_first_gives_the_second_choice_to_those_who_ranked_it_first() -> None:
    # Given the same inputs under first choice first (志愿优先)
    matching = first_choice_first(CLASSIC, CLASSIC_CAPACITY)
    # Then round 1 fills B with Cai, who ranked it first; Bob finds B full in round 2
    assert matching == {"ann": "A", "bob": None, "cai": "B"}
    # and Bob, who outranks Cai at B, blocks: first choice first is not stable
    assert blocking_pairs(CLASSIC, CLASSIC_CAPACITY, matching) == [("bob", "B")]


def test_both_mechanisms_agree_when_nobody_loses_a_first_choice() -> None:
    # Given a zone where every school has room for everyone who ranked it first (R-PUB-2: all admitted)
    applicants = [
        Applicant("c1", ("A", "B"), (1, 4)),
        Applicant("c2", ("B", "A"), (1, 2)),
        Applicant("c3", ("C",), (2, 1)),
        Applicant("c4", ("A",), (1, 3)),
    ]
    capacity = {"A": 2, "B": 1, "C": 1}
    expected = {"c1": "A", "c2": "B", "c3": "C", "c4": "A"}
    assert deferred_acceptance(applicants, capacity) == expected
    assert first_choice_first(applicants, capacity) == expected


def test_first_choice_first_runs_round_by_round() -> None:
    # Given three one-seat schools and four children
    applicants = [
        Applicant("d1", ("A", "B", "C"), (1, 1)),
        Applicant("d2", ("A", "B", "C"), (1, 2)),
        Applicant("d3", ("A", "C", "B"), (1, 3)),
        Applicant("d4", ("B", "A", "C"), (2, 4)),
    ]
    capacity = {"A": 1, "B": 1, "C": 1}
    # Round 1: A admits d1, B admits d4 (only applicant); round 2: d2 finds B full, d3 gets C
    assert first_choice_first(applicants, capacity) == {"d1": "A", "d2": None, "d3": "C", "d4": "B"}
    # DA instead: d2 outranks d4 at B (tier 1 against 2), d4 then finds A and C taken
    assert deferred_acceptance(applicants, capacity) == {"d1": "A", "d2": "B", "d3": "C", "d4": None}


# --- priority (R-PUB-2, R-PRIO-1) ---------------------------------------------------------------------


def test_tier_comes_before_the_tie_break_number() -> None:
    # Given a verified preferential claim (tier 0) with the worst tie-break number
    applicants = [
        Applicant("early", ("A",), (1, 0)),
        Applicant("claim", ("A",), (0, 99)),
    ]
    for mechanism in (deferred_acceptance, first_choice_first):
        assert mechanism(applicants, {"A": 1}) == {"early": None, "claim": "A"}  # R-PRIO-1 ranks first


@pytest.mark.parametrize("priority", [None, common_priority])
def test_equal_keys_are_broken_by_id(priority: Priority | None) -> None:
    # Given two children with the same key (never happens with a permutation tie-break)
    applicants = [Applicant("zed", ("A", "B"), (1, 5)), Applicant("amy", ("A", "B"), (1, 5))]
    capacity = {"A": 1, "B": 1}
    # Then the smaller id wins, whatever the input order, in both mechanisms
    for ordered in (applicants, applicants[::-1]):
        assert deferred_acceptance(ordered, capacity, priority=priority) == {"zed": "B", "amy": "A"}
        assert first_choice_first(ordered, capacity, priority=priority) == {"zed": "B", "amy": "A"}


def test_school_specific_priorities() -> None:
    # Given school B ranks by a different tier (say, its own sub-catchment) than the common key
    applicants = [
        Applicant("p", ("A", "B"), (1, 1)),
        Applicant("q", ("B", "A"), (1, 2)),
        Applicant("r", ("B",), (1, 3)),
    ]
    at_b = {"p": (0, 1), "q": (2, 2), "r": (1, 3)}

    def priority(school: str, applicant: Applicant) -> tuple[int, ...]:
        return at_b[applicant.id] if school == "B" else applicant.key

    capacity = {"A": 1, "B": 1}
    # With the common key q (1, 2) outranks r (1, 3) at B
    assert deferred_acceptance(applicants, capacity) == {"p": "A", "q": "B", "r": None}
    # With B's own order r outranks q there; q moves on to A, where p (1, 1) outranks q (1, 2)
    matching = deferred_acceptance(applicants, capacity, priority=priority)
    assert matching == {"p": "A", "q": None, "r": "B"}
    assert blocking_pairs(applicants, capacity, matching, priority=priority) == []
    assert blocking_pairs(applicants, capacity, matching) == [("q", "B")]
    assert matching == library_resident_optimal(applicants, capacity, priority)
    assert first_choice_first(applicants, capacity, priority=priority) == {"p": "A", "q": None, "r": "B"}


# --- stability, optimality, capacity, determinism ------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_da_is_the_student_optimal_stable_matching(seed: int) -> None:
    # Given a tiny random zone (ties in the tie-break allowed on odd seeds)
    rng = random.Random(seed)
    applicants, capacity = random_instance(rng, rng.randint(1, 5), rng.randint(1, 3), ties=seed % 2 == 1)
    matching = deferred_acceptance(applicants, capacity)
    stable = all_stable_matchings(applicants, capacity)
    # Then DA's matching is stable and every child likes it at least as well as any stable matching
    assert matching in stable
    for other in stable:
        for child in applicants:
            assert preference_rank(child, matching[child.id]) <= preference_rank(child, other[child.id])
    # and the module's own checks agree with the brute force's
    assert blocking_pairs(applicants, capacity, matching) == []
    assert deferred_acceptance(applicants, capacity, priority=common_priority) == matching


@pytest.mark.parametrize("seed", range(20))
def test_general_da_is_student_optimal_for_school_specific_priorities(seed: int) -> None:
    rng = random.Random(1000 + seed)
    applicants, capacity = random_instance(rng, rng.randint(1, 5), rng.randint(1, 3))
    tiers = {(s, a.id): rng.randint(0, 2) for s in capacity for a in applicants}

    def priority(school: str, applicant: Applicant) -> tuple[int, ...]:
        return (tiers[school, applicant.id], applicant.key[1])

    matching = deferred_acceptance(applicants, capacity, priority=priority)
    stable = all_stable_matchings(applicants, capacity, priority)
    assert matching in stable
    for other in stable:
        for child in applicants:
            assert preference_rank(child, matching[child.id]) <= preference_rank(child, other[child.id])
    assert matching == library_resident_optimal(applicants, capacity, priority)


@pytest.mark.parametrize("seed", range(10))
def test_blocking_pairs_agrees_with_the_definition_on_every_feasible_matching(seed: int) -> None:
    rng = random.Random(2000 + seed)
    applicants, capacity = random_instance(rng, rng.randint(1, 4), rng.randint(1, 3))
    for picks in itertools.product(*[(None, *a.choices) for a in applicants]):
        matching = {a.id: school for a, school in zip(applicants, picks, strict=True)}
        if not over_capacity(capacity, matching):
            assert (blocking_pairs(applicants, capacity, matching) == []) == is_stable(
                applicants, capacity, matching
            )


def test_da_matches_the_matching_library() -> None:
    rng = random.Random(7)
    applicants, capacity = random_instance(rng, 60, 8)
    assert deferred_acceptance(applicants, capacity) == library_resident_optimal(applicants, capacity)


def test_capacities_are_respected_and_unmatched_children_found_every_choice_full() -> None:
    rng = random.Random(11)
    applicants, capacity = random_instance(rng, 200, 10)
    capacity["S0"] = 0
    for mechanism in (deferred_acceptance, first_choice_first):
        matching = mechanism(applicants, capacity)
        assert over_capacity(capacity, matching) == {}  # R-PUB-3
        assert "S0" not in matching.values()
        for child in applicants:
            placed = matching[child.id]
            assert placed is None or placed in child.choices
    matching = deferred_acceptance(applicants, capacity)
    taken = {s: list(matching.values()).count(s) for s in capacity}
    for child in applicants:
        if matching[child.id] is None:
            assert all(taken[s] == capacity[s] for s in child.choices)


def test_results_are_deterministic_and_independent_of_input_order() -> None:
    rng = random.Random(5)
    applicants, capacity = random_instance(rng, 300, 6, ties=True)
    shuffled = applicants[:]
    random.Random(6).shuffle(shuffled)
    for mechanism in (deferred_acceptance, first_choice_first):
        for priority in (None, common_priority):
            first = mechanism(applicants, capacity, priority=priority)
            assert list(first) == [a.id for a in applicants]  # keys in the applicants' order
            assert mechanism(applicants, capacity, priority=priority) == first
            assert mechanism(shuffled, capacity, priority=priority) == first
            assert mechanism(iter(applicants), capacity, priority=priority) == first


def test_empty_inputs_and_children_without_choices() -> None:
    assert deferred_acceptance([], {}) == {}
    assert first_choice_first([], {"A": 3}) == {}
    nobody = [Applicant("x", (), (1, 0))]
    assert deferred_acceptance(nobody, {"A": 1}) == {"x": None}
    assert first_choice_first(nobody, {"A": 1}) == {"x": None}


def test_over_capacity_reports_schools_over_their_plan() -> None:
    matching = {"a": "A", "b": "A", "c": "B", "d": None, "e": "Z"}
    assert over_capacity({"A": 1, "B": 1}, matching) == {"A": 1, "Z": 1}
    assert over_capacity({"A": 2, "B": 1, "Z": 1}, matching) == {}


def test_blocking_pairs_counts_a_free_seat() -> None:
    applicants = [Applicant("a", ("A", "B"), (1, 1))]
    assert blocking_pairs(applicants, {"A": 1, "B": 1}, {"a": "B"}) == [("a", "A")]
    assert blocking_pairs(applicants, {"A": 1, "B": 1}, {"a": None}) == [("a", "A"), ("a", "B")]
    assert blocking_pairs(applicants, {"A": 0, "B": 1}, {"a": "B"}) == []


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", [deferred_acceptance, first_choice_first])
def test_unknown_school_is_refused_naming_applicant_and_school(mechanism) -> None:
    with pytest.raises(ValueError, match=r"applicant 'c2': unknown school 'Q'"):
        mechanism([Applicant("c1", ("A",), (1, 1)), Applicant("c2", ("A", "Q"), (1, 2))], {"A": 1})


@pytest.mark.parametrize("mechanism", [deferred_acceptance, first_choice_first])
@pytest.mark.parametrize("seats", [-1, 1.5, True, "2"])
def test_bad_capacity_is_refused_naming_the_school(mechanism, seats: object) -> None:
    with pytest.raises(ValueError, match=r"school 'B': capacity must be a non-negative integer"):
        mechanism([Applicant("c1", ("A",), (1, 1))], {"A": 1, "B": seats})


@pytest.mark.parametrize("mechanism", [deferred_acceptance, first_choice_first])
def test_duplicate_applicant_ids_are_refused(mechanism) -> None:
    applicants = [
        Applicant("c1", ("A",), (1, 1)),
        Applicant("c2", ("A",), (1, 2)),
        Applicant("c1", (), (1, 3)),
    ]
    with pytest.raises(ValueError, match=r"duplicate applicant id 'c1'"):
        mechanism(applicants, {"A": 1})


def test_duplicate_choices_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match=r"applicant 'c1': school 'A' appears twice in choices"):
        Applicant("c1", ("A", "B", "A"), (1, 1))


@pytest.mark.parametrize(
    ("ident", "choices", "key", "message"),
    [
        ("", ("A",), (1, 1), "applicant id must be a non-empty string"),
        ("c1", "AB", (1, 1), "applicant 'c1': choices must be a sequence of school ids"),
        ("c1", ("A",), (1,), r"applicant 'c1': key must be \(tier, tie-break number\)"),
        ("c1", ("A",), (1, "2"), r"applicant 'c1': key must be \(tier, tie-break number\)"),
    ],
)
def test_malformed_applicants_are_refused(ident, choices, key, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Applicant(ident, choices, key)


def test_choices_given_as_a_list_become_a_tuple() -> None:
    assert Applicant("c1", ["A", "B"], (1, 1)).choices == ("A", "B")  # type: ignore[arg-type]


def test_blocking_pairs_refuses_a_matching_that_does_not_fit_the_applicants() -> None:
    applicants = [Applicant("a", ("A",), (1, 1))]
    with pytest.raises(ValueError, match=r"matching has no entry for applicant 'a'"):
        blocking_pairs(applicants, {"A": 1, "B": 1}, {})
    with pytest.raises(ValueError, match=r"matching names unknown applicant 'x'"):
        blocking_pairs(applicants, {"A": 1, "B": 1}, {"a": None, "x": "A"})
    with pytest.raises(ValueError, match=r"applicant 'a' is matched to school 'B', which is not among"):
        blocking_pairs(applicants, {"A": 1, "B": 1}, {"a": "B"})
