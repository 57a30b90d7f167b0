"""Benchmark: placement in multi-school zones (`enrollment.placement.matching`, R-PUB-1, R-PUB-2).

    .venv/bin/python benchmarks/placement_matching.py [--children N] [--schools S] [--repeat R]
        [--library CHILDRENxSCHOOLS ...] [--library-repeat R] [--seed SEED]

The issue's targets: deferred acceptance (DA) for 300,000 children in at most 10 s here, coordination
included (built separately, so DA itself aims at 3 s); the same matching as the `matching` library's
resident-optimal Hospital/Residents solver, and at least 300 times its speed at 20,000 × 300.

Part 1 times `deferred_acceptance` (the default fast path, serial dictatorship in key order), the general
DA (`priority=common_priority`, heaps per school) and `first_choice_first` on a synthetic zone: 3 distinct
choices per child drawn by school popularity (lognormal weights), keys (tier, tie-break) with a
permutation tie-break, seats about 0.95 per child overall so that popular schools are oversubscribed.
Each timed call includes input validation. Every result is checked afterwards (not timed): no school
over its plan, every child at one of their choices, and, for DA, no blocking pair.

Part 2 runs the `matching` library side by side on smaller zones from the same generator: each school
ranks the children who ranked it by (tier, tie-break, id), residents rank their choices, resident-optimal.
The library's time is `create_from_dictionaries` + `solve` (it deep-copies the players, hence the raised
recursion limit and the large thread stack), best of `--library-repeat` runs (1 by default), with
`solve` alone beside it; the speed ratios divide the library's whole time by `deferred_acceptance`'s best.
Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from itertools import accumulate

from matching.games import HospitalResident

from enrollment.placement.matching import (
    Applicant,
    Matching,
    blocking_pairs,
    common_priority,
    deferred_acceptance,
    first_choice_first,
    over_capacity,
)

TIERS = (0, 1, 2, 3)  # 0: verified R-PRIO-1 claims; then the district's published tiers (R-PUB-2)
TIER_WEIGHTS = (2, 55, 33, 10)


def synthetic_zone(children: int, schools: int, seed: int) -> tuple[list[Applicant], dict[str, int]]:
    """Synthetic children (3 distinct choices each, by popularity) and seats; random but seeded."""
    rng = random.Random(seed)
    names = [f"S{n:03d}" for n in range(schools)]
    popularity = [rng.lognormvariate(0.0, 0.5) for _ in names]
    cumulative = list(accumulate(popularity))
    tie_breaks = list(range(children))
    rng.shuffle(tie_breaks)
    tiers = rng.choices(TIERS, weights=TIER_WEIGHTS, k=children)
    want = min(3, schools)
    applicants = []
    for n in range(children):
        choices: list[str] = []
        while len(choices) < want:
            for school in rng.choices(names, cum_weights=cumulative, k=2 * want):
                if school not in choices:
                    choices.append(school)
                    if len(choices) == want:
                        break
        applicants.append(Applicant(f"C{n:07d}", tuple(choices), (tiers[n], tie_breaks[n])))
    per_school = 0.95 * children / schools
    capacity = {s: max(1, round(per_school * rng.uniform(0.6, 1.4))) for s in names}
    return applicants, capacity


def timed(run: Callable[[], Matching], repeat: int) -> tuple[list[float], Matching]:
    seconds = []
    result: Matching | None = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    assert result is not None
    return seconds, result


def check(applicants: list[Applicant], capacity: dict[str, int], matching: Matching, stable: bool) -> None:
    assert over_capacity(capacity, matching) == {}, "over capacity"
    assert all(matching[a.id] is None or matching[a.id] in a.choices for a in applicants)
    if stable:
        assert blocking_pairs(applicants, capacity, matching) == [], "DA result has blocking pairs"


def library_inputs(
    applicants: list[Applicant], capacity: dict[str, int]
) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]]:
    """Residents' and hospitals' preference lists and capacities for `HospitalResident`."""
    resident_prefs = {a.id: list(a.choices) for a in applicants}
    ranking: dict[str, list[Applicant]] = {s: [] for s in capacity}
    for a in applicants:
        for s in a.choices:
            ranking[s].append(a)
    hospital_prefs = {
        s: [a.id for a in sorted(ranked, key=lambda a: (a.key, a.id))]
        for s, ranked in ranking.items()
        if ranked
    }
    return resident_prefs, hospital_prefs, {s: capacity[s] for s in hospital_prefs}


def library_matching(
    resident_prefs: dict[str, list[str]],
    hospital_prefs: dict[str, list[str]],
    capacities: dict[str, int],
    solve_seconds: list[float],
) -> Matching:
    """The library's resident-optimal matching as applicant id -> school id; appends `solve`'s own time."""
    game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
    start = time.perf_counter()
    solved = game.solve(optimal="resident")
    solve_seconds.append(time.perf_counter() - start)
    result: Matching = dict.fromkeys(resident_prefs)
    for hospital, residents in solved.items():
        for resident in residents:
            result[resident.name] = hospital.name
    return result


def in_big_stack(run: Callable[[], Matching]) -> Matching:
    """Run in a thread with a 512 MiB stack: the library's deep copy recurses through the players."""
    box: list[Matching] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box.append(run())
        except BaseException as error:  # re-raised in the caller
            errors.append(error)

    previous = threading.stack_size(512 * 1024 * 1024)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(previous)
    if errors:
        raise errors[0]
    return box[0]


def size(text: str) -> tuple[int, int]:
    children, schools = text.lower().split("x")
    return int(children), int(schools)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=300_000)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--library", type=size, nargs="*", default=[(2_000, 50), (20_000, 300)])
    parser.add_argument("--library-repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    sys.setrecursionlimit(1_000_000)
    print(
        f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"Python {sys.version.replace(chr(10), ' ')}; date {date.today()}"
    )

    applicants, capacity = synthetic_zone(args.children, args.schools, args.seed)
    firsts: dict[str, int] = {}
    for a in applicants:
        firsts[a.choices[0]] = firsts.get(a.choices[0], 0) + 1
    oversubscribed = sum(1 for s, seats in capacity.items() if firsts.get(s, 0) > seats)
    print(
        f"\nzone: {len(applicants):,} children, {len(capacity)} schools ({oversubscribed} oversubscribed by "
        f"first choices), {sum(capacity.values()):,} seats, 3 choices each, seed {args.seed}\n"
    )
    print(
        "| mechanism | children | schools | runs | best (s) | median (s) | placed | at first choice "
        "| unplaced | checks |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    rows: list[tuple[str, Callable[[], Matching], bool]] = [
        ("`deferred_acceptance` (fast path)", lambda: deferred_acceptance(applicants, capacity), True),
        (
            "`deferred_acceptance(priority=common_priority)` (general DA)",
            lambda: deferred_acceptance(applicants, capacity, priority=common_priority),
            True,
        ),
        ("`first_choice_first`", lambda: first_choice_first(applicants, capacity), False),
    ]
    results: list[Matching] = []
    for name, run, stable in rows:
        seconds, matching = timed(run, args.repeat)
        check(applicants, capacity, matching, stable)
        results.append(matching)
        placed = sum(1 for s in matching.values() if s is not None)
        first = sum(1 for a in applicants if matching[a.id] == a.choices[0])
        print(
            f"| {name} | {len(applicants):,} | {len(capacity)} | {len(seconds)} | {min(seconds):.2f} | "
            f"{statistics.median(seconds):.2f} | {placed:,} | {first:,} | {len(applicants) - placed:,} | "
            f"{'stable, ' if stable else ''}within plans |",
            flush=True,
        )
    assert results[0] == results[1], "general DA and the fast path disagree"
    del applicants, capacity, results

    print(
        "\n| children × schools | `matching` library (s) | of which `solve` (s) | `deferred_acceptance` (s) "
        "| speed ratio | general DA (s) | speed ratio | same matching |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for children, schools in args.library:
        applicants, capacity = synthetic_zone(children, schools, args.seed)
        prefs = library_inputs(applicants, capacity)
        solve_seconds: list[float] = []
        library_seconds, theirs = timed(
            partial(in_big_stack, partial(library_matching, *prefs, solve_seconds)), args.library_repeat
        )
        repeat = max(args.repeat, 9)
        fast_seconds, ours = timed(partial(deferred_acceptance, applicants, capacity), repeat)
        general_seconds, general = timed(
            partial(deferred_acceptance, applicants, capacity, priority=common_priority), repeat
        )
        same = ours == theirs == general
        library_best, fast_best, general_best = min(library_seconds), min(fast_seconds), min(general_seconds)
        print(
            f"| {children:,} × {schools} | {library_best:.2f} | {min(solve_seconds):.2f} | {fast_best:.4f} | {library_best / fast_best:,.0f}× "
            f"| {general_best:.4f} | {library_best / general_best:,.0f}× | {'yes' if same else '**NO**'} |",
            flush=True,
        )
        assert same, f"matchings differ at {children} × {schools}"


if __name__ == "__main__":
    main()
