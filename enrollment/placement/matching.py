"""Placement in multi-school catchment zones (多校划片): deferred acceptance and first choice first.

R-PUB-1: in a multi-school zone families rank the zone's schools. R-PUB-2: when a school has more
verified applicants than its plan, the district's published priority tiers decide, with a recorded
random tie-break inside a tier. R-PRIO-1: a verified preferential claim ranks first (tier 0).
R-PUB-3: no school admits more than its plan. Children left without a place here are placed by
coordination (R-COORD-1), which is not this module's job.

Each child is an `Applicant` with a priority key `(tier, tie-break number)`: the tier from the
district's published tiers (0 = highest), and ONE tie-break number per child per season, the same at
every school (a single tie-break). Smaller keys have higher priority. The tie-break numbers are a
permutation, so keys are unique; should two children still share a key, the one whose id sorts first
(plain `str` order) wins, at every school and in every function here. Results are therefore fully
determined by the inputs (never by the input order or by hashing).

Two mechanisms, a district setting; both run on the same inputs:

- `deferred_acceptance`: student-proposing deferred acceptance (DA). Its matching is stable (no child
  prefers a school that has a free seat or admitted a child of lower priority there; see
  `blocking_pairs`) and the best stable matching for every child; no child gains by misreporting
  their ranking (as long as families may rank every school of the zone they would accept).
- `first_choice_first` (志愿优先, the Boston or immediate-acceptance mechanism): in round r every
  unplaced child applies to their r-th choice, and each school admits by priority up to its
  remaining seats, permanently.

Priorities are common to all schools by default (the applicant's `key`). A district whose priorities
differ by school (say, a child's tier at a school depends on which sub-catchment the home is in)
passes `priority`, a function `(school id, applicant) -> tuple of ints` (smaller = higher priority);
ties are again broken by applicant id. For example, per-school overrides in a mapping::

    overrides: dict[tuple[str, str], tuple[int, int]]  # (school id, applicant id) -> key there
    priority = lambda school, a: overrides.get((school, a.id), a.key)

With common priorities DA equals serial dictatorship in key order (each child in turn, best key
first, takes their most preferred school with a seat left); `deferred_acceptance` then uses that fast
path. Any `priority` function, even one returning `applicant.key` (`common_priority`), selects the
general algorithm (proposals held in a heap per school); the tests check that both agree.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, islice
from operator import attrgetter, eq, itemgetter
from typing import TypeAlias

__all__ = [
    "Applicant",
    "Matching",
    "Priority",
    "blocking_pairs",
    "common_priority",
    "deferred_acceptance",
    "first_choice_first",
    "over_capacity",
]


@dataclass(frozen=True, slots=True)
class Applicant:
    """One child in a multi-school zone (R-PUB-1).

    `choices`: school ids, most preferred first, no duplicates (may be empty: the child is then left
    for coordination, R-COORD-1). `key`: `(tier, tie-break number)`, smaller = higher priority
    (R-PUB-2; tier 0 for verified R-PRIO-1 claims). Construction raises `ValueError` naming the
    applicant for an empty id, a school listed twice or a key that is not two integers.
    """

    id: str
    choices: tuple[str, ...]
    key: tuple[int, int]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"applicant id must be a non-empty string, got {self.id!r}")
        if isinstance(self.choices, str) or not all(isinstance(s, str) for s in self.choices):
            raise ValueError(f"applicant {self.id!r}: choices must be a sequence of school ids")
        if not isinstance(self.choices, tuple):
            object.__setattr__(self, "choices", tuple(self.choices))
        if len(set(self.choices)) != len(self.choices):
            twice = next(s for i, s in enumerate(self.choices) if s in self.choices[:i])
            raise ValueError(f"applicant {self.id!r}: school {twice!r} appears twice in choices")
        key = self.key
        if not (
            isinstance(key, tuple)
            and len(key) == 2
            and all(isinstance(k, int) and not isinstance(k, bool) for k in key)
        ):
            raise ValueError(f"applicant {self.id!r}: key must be (tier, tie-break number), got {key!r}")


Priority: TypeAlias = Callable[[str, Applicant], tuple[int, ...]]
"""`(school id, applicant) -> priority at that school`; smaller = higher; ties broken by applicant id."""

Matching: TypeAlias = dict[str, str | None]
"""Applicant id -> school id, or None when unmatched (left for coordination, R-COORD-1)."""


def common_priority(school: str, applicant: Applicant) -> tuple[int, ...]:
    """The default priority: the applicant's own key at every school (single tie-break, R-PUB-2).

    Passing it explicitly makes `deferred_acceptance` run the general algorithm instead of the fast path.
    """
    return applicant.key


def deferred_acceptance(
    applicants: Iterable[Applicant],
    capacity: Mapping[str, int],
    *,
    priority: Priority | None = None,
) -> Matching:
    """Student-proposing deferred acceptance (R-PUB-1, R-PUB-2, R-PRIO-1, R-PUB-3).

    `capacity`: school id -> seats in its plan (non-negative). `priority`: school-specific priorities
    (see the module docstring); None (the default) means every school ranks children by their `key`.
    Returns applicant id -> school id or None, in the applicants' order. The result is stable and
    student-optimal; it never exceeds a school's plan. Raises `ValueError` naming the applicant or school
    for an unknown school in choices, a duplicate applicant id or a negative (or non-integer) capacity.

    Without `priority` this runs serial dictatorship in `(key, id)` order, which gives the same matching
    as DA when all schools share one priority order; with `priority` it runs DA itself, each school
    holding its best proposals so far in a heap.
    """
    listed, seats = _validated(applicants, capacity)
    if priority is None:
        return _serial_dictatorship(listed, seats)
    return _deferred_acceptance_general(listed, seats, priority)


def first_choice_first(
    applicants: Iterable[Applicant],
    capacity: Mapping[str, int],
    *,
    priority: Priority | None = None,
) -> Matching:
    """First choice first (志愿优先; the Boston or immediate-acceptance mechanism), R-PUB-1, R-PUB-2.

    Round r = 1, 2, ...: every unplaced child applies to their r-th choice; each school admits the
    applicants of that round by priority (`key`, or `priority` if given; ties by id) up to its remaining
    seats, and admissions are final. Same inputs, result form and validation as `deferred_acceptance`.
    Unlike DA the result need not be stable: a child may lose their second choice to children of lower
    priority who ranked it first.
    """
    listed, seats = _validated(applicants, capacity)
    if priority is None:
        return _first_choice_first_common(listed, seats)
    return _first_choice_first_general(listed, seats, priority)


def blocking_pairs(
    applicants: Iterable[Applicant],
    capacity: Mapping[str, int],
    matching: Mapping[str, str | None],
    *,
    priority: Priority | None = None,
) -> list[tuple[str, str]]:
    """The (applicant id, school id) pairs that block `matching` (R-PUB-2); DA's result has none.

    A pair blocks when the child ranks school s above their match (or is unmatched and ranks s at
    all) and s either has a free seat or admitted a child with lower priority there (a larger
    `(priority, id)`). Pairs come in the applicants' order, then choice order. Raises `ValueError` for
    the same input errors as the mechanisms, and when `matching` misses an applicant, names an unknown
    one or places a child at a school outside their choices.
    """
    listed, seats = _validated(applicants, capacity)
    rank = priority or common_priority
    _check_matching_covers(listed, matching)
    admitted = dict.fromkeys(seats, 0)
    worst: dict[str, tuple[tuple[int, ...], str]] = {}
    for applicant in listed:
        school = matching[applicant.id]
        if school is None:
            continue
        if school not in applicant.choices:
            raise ValueError(
                f"applicant {applicant.id!r} is matched to school {school!r}, which is not among their choices"
            )
        admitted[school] += 1
        here = (rank(school, applicant), applicant.id)
        if school not in worst or here > worst[school]:
            worst[school] = here
    pairs: list[tuple[str, str]] = []
    for applicant in listed:
        school = matching[applicant.id]
        preferred = (
            applicant.choices if school is None else applicant.choices[: applicant.choices.index(school)]
        )
        for better in preferred:
            if admitted[better] < seats[better] or (
                better in worst and (rank(better, applicant), applicant.id) < worst[better]
            ):
                pairs.append((applicant.id, better))
    return pairs


def over_capacity(capacity: Mapping[str, int], matching: Mapping[str, str | None]) -> dict[str, int]:
    """Schools admitting more children than their plan (R-PUB-3): school id -> number of children over it.

    Empty when the matching respects every plan. A school missing from `capacity` counts as having no
    seats. Schools appear in the order they first occur in `matching`.
    """
    admitted: dict[str, int] = {}
    for school in matching.values():
        if school is not None:
            admitted[school] = admitted.get(school, 0) + 1
    return {
        school: count - capacity.get(school, 0)
        for school, count in admitted.items()
        if count > capacity.get(school, 0)
    }


# ---------------------------------------------------------------------------------------------------
# Implementation


def _validated(
    applicants: Iterable[Applicant], capacity: Mapping[str, int]
) -> tuple[list[Applicant], dict[str, int]]:
    """The applicants as a list and the capacities as a dict, or ValueError naming the culprit."""
    seats: dict[str, int] = {}
    for school, count in capacity.items():
        if not isinstance(school, str):
            raise ValueError(f"school id must be a string, got {school!r}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"school {school!r}: capacity must be a non-negative integer, got {count!r}")
        seats[school] = count
    listed = list(applicants)
    if len({applicant.id for applicant in listed}) != len(listed):
        seen: set[str] = set()
        for applicant in listed:
            if applicant.id in seen:
                raise ValueError(f"duplicate applicant id {applicant.id!r}")
            seen.add(applicant.id)
    if not seats.keys() >= set(chain.from_iterable(applicant.choices for applicant in listed)):
        for applicant in listed:
            for school in applicant.choices:
                if school not in seats:
                    raise ValueError(f"applicant {applicant.id!r}: unknown school {school!r} in choices")
    return listed, seats


def _check_matching_covers(listed: list[Applicant], matching: Mapping[str, str | None]) -> None:
    ids = {applicant.id for applicant in listed}
    for applicant in listed:
        if applicant.id not in matching:
            raise ValueError(f"matching has no entry for applicant {applicant.id!r}")
    for name in matching:
        if name not in ids:
            raise ValueError(f"matching names unknown applicant {name!r}")


_KEY = attrgetter("key")
_KEY_THEN_ID = attrgetter("key", "id")


def _in_key_order(listed: list[Applicant]) -> list[Applicant]:
    """The applicants sorted by `(key, id)`.

    Sorting by `key` alone is about three times faster than by the nested `(key, id)` (tuple against tuple
    compares element by element in Python's generic path); keys are unique in practice (the tie-break is
    a permutation), so the id order is applied only when two neighbours share a key.
    """
    order = sorted(listed, key=_KEY)
    keys = [applicant.key for applicant in order]
    if any(map(eq, keys, islice(keys, 1, None))):
        order.sort(key=_KEY_THEN_ID)
    return order


# (priority at a school, a number naming the applicant: an index into a list)
_Entry: TypeAlias = tuple[tuple[int, ...], int]
_PRIORITY = itemgetter(0)


def _sort_entries(entries: list[_Entry], id_of: Callable[[int], str]) -> None:
    """Sort one school's entries by `(priority, applicant id)`; as `_in_key_order`, ids only on ties."""
    entries.sort(key=_PRIORITY)
    priorities = [entry[0] for entry in entries]
    if any(map(eq, priorities, islice(priorities, 1, None))):
        entries.sort(key=lambda entry: (entry[0], id_of(entry[1])))


def _serial_dictatorship(listed: list[Applicant], seats: dict[str, int]) -> Matching:
    """DA for common priorities: in (key, id) order each child takes their best school with a seat left."""
    result: Matching = dict.fromkeys([applicant.id for applicant in listed])
    remaining = dict(seats)
    for applicant in _in_key_order(listed):
        for school in applicant.choices:
            if remaining[school]:
                remaining[school] -= 1
                result[applicant.id] = school
                break
    return result


def _deferred_acceptance_general(
    listed: list[Applicant], seats: dict[str, int], priority: Priority
) -> Matching:
    """Student-proposing DA for school-specific priorities.

    Every (child, choice) pair gets a number, in the children's order and then choice order. Each school
    first ranks its pairs 0, 1, ... by `(priority, id)`; it then holds its best proposals so far in a
    max-heap of ranks (stored negated), and a child it pushes out proposes to their next choice. The
    order in which free children propose does not change the result (the student-optimal one).
    """
    schools = list(seats)
    number = {school: n for n, school in enumerate(schools)}
    school_of = [number[school] for applicant in listed for school in applicant.choices]  # per pair
    owner = [index for index, applicant in enumerate(listed) for _ in applicant.choices]  # per pair
    first = [0] * (len(listed) + 1)  # pairs of child i: first[i] <= pair < first[i + 1]
    for index, applicant in enumerate(listed):
        first[index + 1] = first[index] + len(applicant.choices)
    entries: list[list[_Entry]] = [[] for _ in schools]
    pair = 0
    for applicant in listed:
        for school in applicant.choices:
            entries[number[school]].append((priority(school, applicant), pair))
            pair += 1
    rank_of = [0] * len(school_of)  # per pair
    ranked: list[list[int]] = []  # per school: its pairs by rank
    for school_entries in entries:
        _sort_entries(school_entries, lambda pair: listed[owner[pair]].id)
        pairs = [pair for _, pair in school_entries]
        for rank, pair in enumerate(pairs):
            rank_of[pair] = rank
        ranked.append(pairs)
    del entries
    room = [seats[school] for school in schools]
    held: list[list[int]] = [[] for _ in schools]  # per school: -rank of each held proposal
    following = first[:-1]  # per child: their next pair to propose
    free = list(range(len(listed) - 1, -1, -1))
    while free:
        index = free.pop()
        pair = following[index]
        last = first[index + 1]
        while pair < last:
            target = school_of[pair]
            rank = rank_of[pair]
            pair += 1
            heap = held[target]
            if len(heap) < room[target]:
                heapq.heappush(heap, -rank)
                break
            if heap and -heap[0] > rank:
                pushed_out = -heapq.heapreplace(heap, -rank)
                free.append(owner[ranked[target][pushed_out]])
                break
        following[index] = pair
    result: Matching = dict.fromkeys([applicant.id for applicant in listed])
    for target, heap in enumerate(held):
        for negated in heap:
            result[listed[owner[ranked[target][-negated]]].id] = schools[target]
    return result


def _first_choice_first_common(listed: list[Applicant], seats: dict[str, int]) -> Matching:
    """Immediate acceptance with one priority order: each round walks the unplaced children in (key, id)
    order, so every school admits its best applicants of the round while seats remain."""
    result: Matching = dict.fromkeys([applicant.id for applicant in listed])
    remaining = dict(seats)
    waiting = _in_key_order(listed)
    round_ = 0
    while waiting:
        still: list[Applicant] = []
        for applicant in waiting:
            if round_ >= len(applicant.choices):
                continue  # out of choices: left for coordination (R-COORD-1)
            school = applicant.choices[round_]
            if remaining[school]:
                remaining[school] -= 1
                result[applicant.id] = school
            else:
                still.append(applicant)
        waiting = still
        round_ += 1
    return result


def _first_choice_first_general(
    listed: list[Applicant], seats: dict[str, int], priority: Priority
) -> Matching:
    """Immediate acceptance with school-specific priorities: each round sorts each school's applicants."""
    result: Matching = dict.fromkeys([applicant.id for applicant in listed])
    remaining = dict(seats)
    waiting = list(range(len(listed)))

    def id_of(index: int) -> str:
        return listed[index].id

    round_ = 0
    while waiting:
        applying: dict[str, list[_Entry]] = {}
        for index in waiting:
            applicant = listed[index]
            if round_ < len(applicant.choices):
                school = applicant.choices[round_]
                applying.setdefault(school, []).append((priority(school, applicant), index))
        still: list[int] = []
        for school, school_entries in applying.items():
            _sort_entries(school_entries, id_of)
            seats_left = remaining[school]
            for _, index in school_entries[:seats_left]:
                result[listed[index].id] = school
            remaining[school] = max(0, seats_left - len(school_entries))
            still.extend(index for _, index in school_entries[seats_left:])
        waiting = sorted(still)
        round_ += 1
    return result
