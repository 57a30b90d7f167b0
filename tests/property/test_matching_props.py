"""Properties of placement in multi-school zones (R-PUB-1, R-PUB-2, R-PUB-3, R-PRIO-1).

Small random zones: DA is stable, never over a plan, places children only at schools they chose, its
fast path (serial dictatorship) equals the general algorithm for common priorities, and it equals the
`matching` library's resident-optimal Hospital/Residents matching, for common and school-specific
priorities. First choice first is never over a plan either and places the most children at their first
choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from enrollment.placement.matching import (
    Applicant,
    blocking_pairs,
    common_priority,
    deferred_acceptance,
    first_choice_first,
    over_capacity,
)
from tests.support import library_resident_optimal

FAST = settings(max_examples=100, deadline=None)


@dataclass(frozen=True)
class Zone:
    applicants: list[Applicant]
    capacity: dict[str, int]
    tiers: dict[tuple[str, str], int]  # (school, applicant id) -> tier there, for school-specific priorities

    def school_priority(self, school: str, applicant: Applicant) -> tuple[int, ...]:
        return (self.tiers[school, applicant.id], applicant.key[1])


@st.composite
def zones(draw: st.DrawFn, *, ties: bool = False, max_children: int = 9) -> Zone:
    """Up to 5 schools with 0-3 seats, up to `max_children` children ranking up to 3 of them.

    The tie-break numbers are a permutation, as in a season; with `ties` they may repeat.
    """
    schools = [f"S{n}" for n in range(draw(st.integers(1, 5)))]
    capacity = {s: draw(st.integers(0, 3)) for s in schools}
    count = draw(st.integers(0, max_children))
    if ties:
        tie_breaks = draw(st.lists(st.integers(0, 2), min_size=count, max_size=count))
    else:
        tie_breaks = draw(st.permutations(range(count)))
    applicants = [
        Applicant(
            f"C{n}",
            tuple(draw(st.lists(st.sampled_from(schools), unique=True, max_size=3))),
            (draw(st.integers(0, 2)), tie_breaks[n]),
        )
        for n in range(count)
    ]
    tiers = {(s, a.id): draw(st.integers(0, 2)) for s in schools for a in applicants}
    return Zone(applicants, capacity, tiers)


def placed_at_a_choice(applicants: Sequence[Applicant], matching: Mapping[str, str | None]) -> bool:
    return all(matching[a.id] is None or matching[a.id] in a.choices for a in applicants)


@FAST
@given(zone=zones(ties=True))
def test_da_is_stable_within_plans_and_at_chosen_schools(zone: Zone) -> None:
    matching = deferred_acceptance(zone.applicants, zone.capacity)
    assert list(matching) == [a.id for a in zone.applicants]
    assert blocking_pairs(zone.applicants, zone.capacity, matching) == []
    assert over_capacity(zone.capacity, matching) == {}
    assert placed_at_a_choice(zone.applicants, matching)


@FAST
@given(zone=zones())
def test_da_is_stable_for_school_specific_priorities(zone: Zone) -> None:
    priority = zone.school_priority
    matching = deferred_acceptance(zone.applicants, zone.capacity, priority=priority)
    assert blocking_pairs(zone.applicants, zone.capacity, matching, priority=priority) == []
    assert over_capacity(zone.capacity, matching) == {}
    assert placed_at_a_choice(zone.applicants, matching)


@FAST
@given(zone=zones(ties=True))
def test_general_da_equals_the_fast_path_for_common_priorities(zone: Zone) -> None:
    assert deferred_acceptance(
        zone.applicants, zone.capacity, priority=common_priority
    ) == deferred_acceptance(zone.applicants, zone.capacity)


@FAST
@given(zone=zones())
def test_da_equals_the_matching_library(zone: Zone) -> None:
    assert deferred_acceptance(zone.applicants, zone.capacity) == library_resident_optimal(
        zone.applicants, zone.capacity
    )


@FAST
@given(zone=zones())
def test_general_da_equals_the_matching_library_for_school_specific_priorities(zone: Zone) -> None:
    priority = zone.school_priority
    assert deferred_acceptance(zone.applicants, zone.capacity, priority=priority) == library_resident_optimal(
        zone.applicants, zone.capacity, priority
    )


@FAST
@given(zone=zones(ties=True))
def test_first_choice_first_within_plans_at_chosen_schools_and_most_first_choices(zone: Zone) -> None:
    matching = first_choice_first(zone.applicants, zone.capacity)
    assert over_capacity(zone.capacity, matching) == {}
    assert placed_at_a_choice(zone.applicants, matching)
    assert first_choice_first(zone.applicants, zone.capacity, priority=common_priority) == matching
    # Round 1 fills each school with those who ranked it first: as many first choices as possible
    firsts = [a.choices[0] for a in zone.applicants if a.choices]
    most = sum(min(seats, firsts.count(s)) for s, seats in zone.capacity.items())
    got = sum(1 for a in zone.applicants if a.choices and matching[a.id] == a.choices[0])
    da = deferred_acceptance(zone.applicants, zone.capacity)
    assert got == most >= sum(1 for a in zone.applicants if a.choices and da[a.id] == a.choices[0])


@FAST
@given(zone=zones())
def test_first_choice_first_with_school_specific_priorities(zone: Zone) -> None:
    matching = first_choice_first(zone.applicants, zone.capacity, priority=zone.school_priority)
    assert over_capacity(zone.capacity, matching) == {}
    assert placed_at_a_choice(zone.applicants, matching)


@FAST
@given(zone=zones(), data=st.data())
def test_results_do_not_depend_on_the_input_order(zone: Zone, data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(zone.applicants))
    for mechanism in (deferred_acceptance, first_choice_first):
        for priority in (None, zone.school_priority):
            assert mechanism(shuffled, zone.capacity, priority=priority) == mechanism(
                zone.applicants, zone.capacity, priority=priority
            )


@FAST
@given(zone=zones())
def test_when_everyone_names_one_school_both_mechanisms_agree(zone: Zone) -> None:
    single = [Applicant(a.id, a.choices[:1], a.key) for a in zone.applicants]
    assert first_choice_first(single, zone.capacity) == deferred_acceptance(single, zone.capacity)
