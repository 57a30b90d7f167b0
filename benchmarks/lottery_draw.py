"""Benchmark: wall time of one whole lottery draw (LOTTERY.md: 3 shuffles + 3 draws) for a large pool.

    .venv/bin/python benchmarks/lottery_draw.py [--pool N] [--repeat R] [--reference-repeat R]

The issue's target: at most 1 s for a pool of 100,000 registration ids. Times `draw` as used in
production (by default a second process computes the draw steps for pools this large), `draw` kept in
one process, and the straightforward reference implementation (`draw_reference`: `HmacDrbg` + `shuffle`),
and checks that every run gives exactly the reference's orders and rankings. Prints Markdown table rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date

from enrollment.lottery.draw import Draw, draw, draw_reference


def timed(run: Callable[[], Draw], repeat: int) -> tuple[list[float], Draw]:
    seconds = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - start)
    assert result is not None
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reference-repeat", type=int, default=1)
    args = parser.parse_args()
    pool = [f"R-{i:06d}" for i in range(args.pool)]
    ceremony = ("2023", "P-CY-01", 1, pool, 120, ["0417", "9023", "5561"], ["3390", "7704", "1286"], 1)
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores; date {date.today()}"
    )
    reference_seconds, reference = timed(lambda: draw_reference(*ceremony), args.reference_repeat)
    rows = [
        ("`draw` (default: draw steps in a second process)", lambda: draw(*ceremony)),
        ("`draw(parallel=False)` (one process)", lambda: draw(*ceremony, parallel=False)),
    ]
    print("| implementation | pool | runs | best (s) | median (s) | same as reference |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, run in rows:
        seconds, result = timed(run, args.repeat)
        same = "yes" if result == reference else "**NO**"
        print(
            f"| {name} | {args.pool:,} | {len(seconds)} | {min(seconds):.2f} | "
            f"{statistics.median(seconds):.2f} | {same} |",
            flush=True,
        )
    print(
        f"| `draw_reference` (`HmacDrbg` + `shuffle`) | {args.pool:,} | {len(reference_seconds)} | "
        f"{min(reference_seconds):.2f} | {statistics.median(reference_seconds):.2f} | (itself) |"
    )


if __name__ == "__main__":
    main()
