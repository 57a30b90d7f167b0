"""The season report's task at a city's size: its CPU, memory and AWS calls, modelled as budget.py does.

Reads an exported season (`enroll demo --out DIR`, e.g. the 60,000-applicant benchmark's): the sealed
archive as the archive bucket, demand.csv as the demand rows, and for the verdicts and the coordinated
children's registrations stand-ins of the same number and shape (the export holds neither: the ids
are the server's). Runs `write_season_report` once, in this process, and prints its CPU time, its
memory (tracemalloc's peak of the task's own allocations, and the process's peak RSS), the AWS calls
it would make and the modelled duration in AWS at the function's memory (enrollment/local/budget.py:
Σ calls × LATENCY_S + CPU × max(1, 1,769 MB / memory)).

    PYTHONPATH=. .venv/bin/python benchmarks/report_budget.py /tmp/a60k --config /tmp/a60k/jilin-2023-x3.yaml
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import resource
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from enrollment.core.config import load_season
from enrollment.core.resources import FUNCTION_INDEX
from enrollment.local.budget import LAMBDA_VCPU_MB, LATENCY_S, RUNTIME_MB
from enrollment.report.season import write_season_report
from enrollment.verification.season import VerdictFacts

QUERY_PAGE_BYTES = 1_000_000  # one Query page (DynamoDB returns at most 1 MB)
VERDICT_BYTES = 160  # a verdict's projected item (id, district, status, reasons, decided_by)


class FolderArchive:
    """The archive bucket, read from an exported `archive/` folder (`seasons/{season}/` below it)."""

    def __init__(self, folder: Path, season: str, calls: Counter[str]) -> None:
        self.folder, self.prefix, self.calls = folder, f"seasons/{season}/", calls
        self.put: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        self.calls["s3.GetObject"] += 1
        if key in self.put:
            return self.put[key]
        path = self.folder / key.removeprefix(self.prefix)
        return path.read_bytes() if key.startswith(self.prefix) and path.is_file() else None

    def put_once(self, key: str, body: bytes) -> str:
        existing = self.get(key)
        if existing is not None:
            return "identical" if existing == body else "conflict"
        self.calls["s3.PutObject"] += 1
        self.put[key] = body
        return "written"


class Records:
    """Demand as exported; each registration asked for gets one of the export's home addresses."""

    def __init__(self, out: Path, calls: Counter[str]) -> None:
        self.calls = calls
        with (out / "demand.csv").open(encoding="utf-8") as f:
            self.rows = [
                {
                    **r,
                    "grade": int(r["grade"]),
                    "plan": int(r["plan"]),
                    "applicants": int(r["applicants"]),
                    "warning": r["warning"] or None,
                }
                for r in csv.DictReader(f)
            ]
        with (out / "submissions.jsonl").open(encoding="utf-8") as f:
            homes = [json.loads(line)["body"].get("home_address") for line in f]
        self.homes = itertools.cycle([h for h in homes if isinstance(h, dict) and "road" in h])

    def demand(self, season: str) -> list[dict[str, Any]]:
        self.calls["dynamodb.Query"] += 1
        return self.rows

    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(registration_ids)
        self.calls["dynamodb.BatchGetItem"] += -(-len(ids) // 100)
        return {rid: {"request": {"home_address": next(self.homes)}} for rid in ids}


class Verdicts:
    """The season's verdicts as the index lists them, in the export's proportions."""

    def __init__(self, summary: dict[str, Any], calls: Counter[str]) -> None:
        self.summary, self.calls = summary, calls

    def verdict_facts(self, season: str, district: str | None = None) -> Iterator[VerdictFacts]:
        reasons = [r for r, n in self.summary["by_reason"].items() for _ in range(int(n))]
        n = 0
        for d, statuses in self.summary["by_district"].items():
            for status, count in statuses.items():
                for _ in range(int(count)):
                    why = (reasons[n % len(reasons)],) if status != "eligible" and reasons else ()
                    yield VerdictFacts(f"R-{n:08d}", d, status, why, "system")
                    n += 1
        self.calls["dynamodb.Query"] += -(-n * VERDICT_BYTES // QUERY_PAGE_BYTES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="an `enroll demo --out` folder")
    parser.add_argument("--config", required=True, help="the season config it was run with")
    args = parser.parse_args()
    config = load_season(args.config)
    calls: Counter[str] = Counter()
    archive = FolderArchive(args.out / "archive", config.season, calls)
    records = Records(args.out, calls)
    summary = json.loads((args.out / "summary.json").read_text(encoding="utf-8"))["verification"]
    verdicts = Verdicts(summary, calls)
    tracemalloc.start()
    cpu = time.process_time()
    result = write_season_report(config, config.season, archive=archive, records=records, verdicts=verdicts)  # type: ignore[arg-type]
    cpu = time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    spec = FUNCTION_INDEX["report"]
    latency = {f"{s}.{op}": v for (s, op), v in LATENCY_S.items()}
    io_s = sum(n * latency[c] for c, n in calls.items())
    modelled = io_s + cpu * max(1.0, LAMBDA_VCPU_MB / spec.memory_mb)
    print(
        json.dumps(
            {
                "result": {k: v for k, v in result.items() if k != "sha256"},
                "calls": dict(calls),
                "cpu_s": round(cpu, 2),
                "traced_peak_mb": round(peak / 2**20, 1),
                "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "modelled_memory_mb": round(peak / 2**20 + RUNTIME_MB, 1),
                "modelled_aws_s": round(modelled, 1),
                "function": {"memory_mb": spec.memory_mb, "timeout_s": spec.timeout_s},
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
