"""Benchmark: wall time and peak memory of `enroll demo` (the issue's target: default run <= 2 min).

    .venv/bin/python benchmarks/demo_season.py [--applicants N ...] [--repeat R]

Runs the real command in a subprocess each time and prints one Markdown table row per size.
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(applicants: int) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "enrollment.cli", "demo", "--applicants", str(applicants)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024  # ru_maxrss is KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applicants", type=int, nargs="+", default=[500, 1500, 3000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores; date {date.today()}"
    )
    print("| applicants | wall time (s) | peak RSS (MiB) |")
    print("| ---: | ---: | ---: |")
    for n in args.applicants:
        for _ in range(args.repeat):
            seconds, mib = run(n)
            print(f"| {n} | {seconds:.1f} | {mib:.0f} |", flush=True)


if __name__ == "__main__":
    main()
