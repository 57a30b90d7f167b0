"""Benchmark: render 1,000 admission notices (R-NOTE-1) as PDFs; time per 1,000 and mean size.

    .venv/bin/python benchmarks/notice_render.py [--notices N] [--repeat R] [--label TEXT] [--pool]

The children are synthetic (`enrollment.synth.population.generate`, seeded): their names and ID
numbers come from the population generator, never from real people. Each child gets a school that
takes its grade (the season's schools in turn) and the route that school's kind admits by, so the
notices vary in name, school, address and grade as a real batch does. A run builds the 1,000
`Notice`s once (not timed) and then times `render_pdf` for all of them; the row gives the best and
the median run scaled to 1,000 notices, the mean and largest PDF, and whether rendering the first
notice again gives the same bytes. Prints a Markdown table row.

The row also gives the best run's CPU time (this process's, scaled to 1,000): on a machine other
jobs share, the wall time grows with their load and the CPU time much less, so compare versions by
CPU time when the load average is not low. With `--pool` the notices are drawn as the embedded
backend draws a notices batch, by `functions.notify.render.render_pooled` (a process pool, made and
warmed up before the runs); the CPU column then counts this process only, the wall time is what counts.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date

from enrollment.core.config import load_season
from enrollment.notices.notice import Notice, build_notice, render_pdf
from enrollment.synth.population import generate

SECRET = b"benchmark-secret-not-a-real-one-0123456789"
ROUTE_BY_KIND = {
    "private": "private-draw",
    "ethnic": "ethnic",
    "specialised": "specialised",
    "special-education": "special-education",
}
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def registration_id(i: int) -> str:
    digits = "".join(_CROCKFORD[(i * 2654435761 >> (5 * k)) & 31] for k in range(16))
    return "R-" + "-".join(digits[k : k + 4] for k in range(0, 16, 4))


def notices(count: int, seed: int) -> list[Notice]:
    config = load_season("jilin-2023")
    schools = {g: [s for s in config.schools if s.plan(g) > 0] for g in (1, 7)}
    population = generate(config, count + count // 5 + 50, seed)
    out: list[Notice] = []
    for sub in population.submissions:
        child = sub.body["child"]
        if sub.intent != "valid" or child.get("id_type") != "resident-id":
            continue
        grade = sub.grade
        school = schools[grade][len(out) % len(schools[grade])]
        out.append(
            build_notice(
                config,
                registration_id=registration_id(len(out)),
                child_name=child["name"],
                id_number=child["id_number"],
                grade=grade,
                school_id=school.id,
                route=ROUTE_BY_KIND.get(school.kind, "catchment"),
                secret=SECRET,
            )
        )
        if len(out) == count:
            return out
    raise SystemExit(f"the population gave only {len(out)} notices")


def here(batch: list[Notice]) -> list[bytes]:
    return [render_pdf(n) for n in batch]


def pooled(batch: list[Notice]) -> list[bytes]:
    from functions.notify.render import render_pooled

    out = [b for b in render_pooled(batch) if isinstance(b, bytes)]
    if len(out) != len(batch):
        raise SystemExit("a notice could not be drawn")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20230706)
    parser.add_argument("--label", default="`render_pdf`")
    parser.add_argument("--pool", action="store_true", help="draw with the embedded backend's process pool")
    args = parser.parse_args()
    batch = notices(args.notices, args.seed)
    draw: Callable[[list[Notice]], list[bytes]] = here
    if args.pool:
        from functions.notify.render import processes

        draw = pooled
        draw(batch[: 4 * processes()])  # start the workers; each parses the font
    print(
        f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{len(os.sched_getaffinity(0))} cores; date {date.today()}; "
        f"load average {os.getloadavg()[0]:.2f} (other jobs slow the rows down)"
    )
    render_pdf(batch[0])  # warm up: imports, the font read and parsed once per process
    seconds: list[float] = []
    cpu: list[float] = []
    sizes: list[int] = []
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        sizes = [len(b) for b in draw(batch)]
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    per_1000 = [s * 1000 / len(batch) for s in seconds]
    cpu_per_1000 = min(cpu) * 1000 / len(batch)
    first = hashlib.sha256(render_pdf(batch[0])).digest()
    same = "yes" if first == hashlib.sha256(render_pdf(batch[0])).digest() else "**NO**"
    print(
        "| implementation | notices | runs | best (s / 1,000) | median (s / 1,000) | mean PDF (bytes) | largest (bytes) "
        "| same bytes again | best CPU (s / 1,000) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    print(
        f"| {args.label} | {len(batch):,} | {len(seconds)} | {min(per_1000):.2f} | "
        f"{statistics.median(per_1000):.2f} | {statistics.mean(sizes):,.0f} | {max(sizes):,} | {same} "
        f"| {cpu_per_1000:.2f} |"
    )


if __name__ == "__main__":
    main()
