"""Benchmark: the time-budget report of a whole local season (issue 14), and its summary row.

    .venv/bin/python benchmarks/time_budget.py [--applicants N] [--seed S] [--out DIR] [-- DEMO-OPTIONS]

Runs `enroll demo --applicants N --budget --out DIR` in a fresh process (anything after `--` is passed
to it, e.g. `-- --engine sqlite`), then prints the season's time-budget table per Lambda (DIR/budget.md,
see enrollment/local/budget.py for the model and its planning figures) and one Markdown row for
benchmarks/README.md: applicants, wall time, CPU time, peak RSS, calls per applicant, US$ per 1,000
applicants, and the functions whose worst invocation is modelled over half its timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applicants", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--out", type=Path, default=None, help="the demo's folder (default: budget-out-N)")
    parser.add_argument("demo_options", nargs="*", help="more `enroll demo` options, after --")
    args = parser.parse_args()
    out = (args.out or ROOT / f"budget-out-{args.applicants}").resolve()
    command = [sys.executable, "-m", "enrollment.cli", "demo", "--applicants", str(args.applicants)]
    command += ["--seed", str(args.seed), "--budget", "--out", str(out), *args.demo_options]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads((out / "budget.json").read_text(encoding="utf-8"))
    s = report["summary"]
    print(
        f"machine: {platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
        f"{platform.python_implementation()} {platform.python_version()}; date {date.today()}; "
        f"demo exit status {done.returncode}"
    )
    print()
    print((out / "budget.md").read_text(encoding="utf-8"))
    print(
        "| applicants | wall (s) | CPU (s) | peak RSS (MiB) | calls per applicant | US$ per 1,000 | over 50 % |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    over = ", ".join(s["over_half_timeout"]) or "none"
    print(
        f"| {args.applicants:,} | {wall:.1f} | {usage.ru_utime + usage.ru_stime:.1f} | {usage.ru_maxrss / 1024:.0f} |"
        f" {s['calls_per_applicant']} | {s['usd_per_1000_applicants']:.4f} | {over} |"
    )
    raise SystemExit(done.returncode)


if __name__ == "__main__":
    main()
