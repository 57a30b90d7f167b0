"""Benchmark: coordinated placement (R-COORD-1) of the children left without a place in a large season.

    .venv/bin/python benchmarks/placement_coordination.py [--children N] [--schools M] [--cap-km C]
        [--candidates K] [--repeat R] [--seed S]

The issue's target: deferred acceptance plus coordination of a 300,000-child season in at most 10 s
here; coordination's share is at most 4 s for the 10 % left to coordinate (30,000 children) across
300 schools. The synthetic city is about 20 km × 15 km around 43.84° N, 126.55° E: schools spread over
it, children in 60 neighbourhoods of a few hundred metres to a kilometre and a half around some of
the schools, free seats summing to about 1.2 × the children and uneven (a fifth of the schools full).
Times `enrollment.placement.coordination.coordinate` in-process (best and median of the runs), checks every run
gives the same placements and that `check` finds no problem, and compares with greedy-by-rank (each
child in rank order takes the nearest school with a seat left). Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from datetime import date

import numpy as np

from enrollment.placement.coordination import (
    Child,
    Coordination,
    SchoolSeats,
    _haversine_km,
    _metres,
    cap_metres,
    check,
    coordinate,
)

LAT0, LON0 = 43.84, 126.55
KM_PER_DEG_LAT = 111.195


def city(children: int, schools: int, seed: int) -> tuple[list[Child], list[SchoolSeats]]:
    rng = np.random.default_rng(seed)
    km_per_deg_lon = KM_PER_DEG_LAT * math.cos(math.radians(LAT0))

    def to_deg(x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return LAT0 + y_km / KM_PER_DEG_LAT, LON0 + x_km / km_per_deg_lon

    sx, sy = rng.uniform(-10, 10, schools), rng.uniform(-7.5, 7.5, schools)
    hoods = rng.choice(schools, 60, replace=False)
    spread = rng.uniform(0.3, 1.5, 60)
    hood = rng.integers(0, 60, children)
    cx = np.clip(sx[hoods][hood] + rng.normal(0, 1, children) * spread[hood], -10, 10)
    cy = np.clip(sy[hoods][hood] + rng.normal(0, 1, children) * spread[hood], -7.5, 7.5)
    weight = rng.gamma(1.5, 1.0, schools) * (rng.random(schools) >= 0.2)
    free = np.floor(weight / weight.sum() * children * 1.2).astype(int)
    s_lat, s_lon = to_deg(sx, sy)
    c_lat, c_lon = to_deg(cx, cy)
    rank = rng.permutation(children)
    kids = [Child(f"C{i:06d}", float(c_lat[i]), float(c_lon[i]), int(rank[i])) for i in range(children)]
    sch = [SchoolSeats(f"S{j:04d}", float(s_lat[j]), float(s_lon[j]), int(free[j])) for j in range(schools)]
    return kids, sch


def greedy(kids: list[Child], sch: list[SchoolSeats], cap_km: float) -> tuple[int, int, int]:
    """Greedy by rank: (children within the cap, total metres, max metres), same metres as the module."""
    left = np.array([s.free for s in sch])
    s_lat = np.array([s.lat for s in sch])
    s_lon = np.array([s.lon for s in sch])
    within = total = worst = 0
    cap_m = cap_metres(cap_km)
    for c in sorted(kids, key=lambda c: c.rank):
        d = _metres(_haversine_km(c.lat, c.lon, s_lat, s_lon))
        j = int(np.where(left > 0, d, np.iinfo(np.int64).max).argmin())
        left[j] -= 1
        within += int(d[j] <= cap_m)
        total += int(d[j])
        worst = max(worst, int(d[j]))
    return within, total, worst


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=30_000)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--cap-km", type=float, default=3.0)
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20231)
    parser.add_argument("--no-greedy", action="store_true", help="skip the greedy comparison")
    args = parser.parse_args()
    kids, sch = city(args.children, args.schools, args.seed)
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores; date {date.today()}"
    )
    seats = sum(s.free for s in sch)
    seconds: list[float] = []
    results: list[Coordination] = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        results.append(coordinate(kids, sch, args.cap_km, candidates=args.candidates))
        seconds.append(time.perf_counter() - start)
    r = results[0]
    same = all(x.placements == r.placements for x in results)
    problems = check(kids, sch, r)
    s = r.summary
    print(
        "| method | children | schools | free seats | cap (km) | K | arcs | runs | best (s) | median (s) "
        "| within cap | nearest with seat | total (km) | mean (m) | max (m) | exchanges | same each run "
        "| `check` |"
    )
    print("| --- | " + "---: | " * 15 + "--- | --- |")
    print(
        f"| min-cost flow | {s.children:,} | {len(sch)} | {seats:,} | {args.cap_km:g} | {args.candidates} "
        f"| {s.arcs:,} | {len(seconds)} | {min(seconds):.2f} | {statistics.median(seconds):.2f} "
        f"| {s.within_cap / s.children:.2%} | {s.nearest_with_seat:,} | {s.total_m / 1000:,.0f} "
        f"| {s.mean_m:.0f} | {s.max_m:,} | {s.exchanges} | {'yes' if same else '**NO**'} "
        f"| {'sound' if not problems else f'**{len(problems)} problems**'} |",
        flush=True,
    )
    if not args.no_greedy:
        start = time.perf_counter()
        within, total, worst = greedy(kids, sch, args.cap_km)
        took = time.perf_counter() - start
        print(
            f"| greedy by rank (comparison) | {s.children:,} | {len(sch)} | {seats:,} | {args.cap_km:g} | – "
            f"| – | 1 | {took:.2f} | {took:.2f} | {within / s.children:.2%} | {s.children - within:,} "
            f"| {total / 1000:,.0f} | {total / s.children:.0f} | {worst:,} | – | – | – |"
        )


if __name__ == "__main__":
    main()
