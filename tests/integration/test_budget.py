"""The time-budget report and the cost model count a real season (issue 14).

A tiny whole season runs on the embedded backend with counting on (`enroll demo --budget`): every
function that ran is in the report, the calls are attributed to the functions that made them, the
registration handler's writes are there, and the cost model's lines add up; on either table engine
(moto, whose request units the counting estimates, or the SQLite engine, which reports its own). No
timing is asserted.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pytest
from rich.console import Console

from enrollment.cli.demo import print_budget, run_demo
from enrollment.core import resources
from enrollment.core.config import load_season
from enrollment.local import budget, calls
from enrollment.local.runtime import EmbeddedSeason
from functions.notify import render

pytestmark = pytest.mark.xdist_group("faults")  # a whole season: keep it off the other heavy tests' core

APPLICANTS, SEED = 40, 41


@pytest.mark.parametrize("engine", ["moto", "sqlite"])
def test_a_counted_season_reports_every_function_its_calls_and_its_cost(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_season("seasons/jilin-2023.yaml")
    console = Console(file=io.StringIO(), width=200)
    runtimes: list[EmbeddedSeason] = []
    exit_ = EmbeddedSeason.__exit__

    def keep(rt: EmbeddedSeason, *exc: object) -> None:
        runtimes.append(rt)
        exit_(rt, *exc)

    monkeypatch.setattr(EmbeddedSeason, "__exit__", keep)
    calls.start()
    try:
        result = run_demo(
            config, APPLICANTS, SEED, tmp_path, console, "seasons/jilin-2023.yaml", engine=engine
        )
    finally:
        calls.stop()
    assert result.workflow["status"] == "SUCCEEDED", result.workflow
    assert result.unexpected == [], result.unexpected

    # Every function that ran (the runtime's own list of Lambda invocations, and the API's) is in the report
    (rt,) = runtimes
    ran = {name.removeprefix(resources.function_name(config.name, "")) for name, _ in rt.invocations}
    ran |= {"register", "authorize", "verify-api", "place-api"}
    snap = budget.snapshot(APPLICANTS)
    rows = {r.function: r for r in budget.time_budget(snap)}
    assert ran <= set(rows), ran - set(rows)
    assert {"register", "close-registration", "verify-batch", "place", "seal", "report", "classes"} <= set(
        rows
    )
    for key, row in rows.items():
        spec = resources.FUNCTION_INDEX[key]
        assert (row.timeout_s, row.memory_mb) == (spec.timeout_s, spec.memory_mb), key
        assert row.modelled_s >= row.calls_s >= 0 and row.cpu_at_memory_s >= row.cpu_s >= 0, row
    assert rows["register"].limit_s == budget.API_GATEWAY_TIMEOUT_S  # an API handler: API Gateway's limit
    # Memory: workflow tasks that ran alone are measured (their growth + the runtime), API requests are not
    assert rows["place"].used_mb is not None and rows["place"].used_mb >= budget.RUNTIME_MB
    assert rows["seal"].used_mb is not None and rows["report"].used_mb is not None
    # Maps' iterations run one at a time while counting, so each shard and batch is measured alone
    shards = [i for i in calls.INVOCATIONS if i.function == "close-registration"]
    assert len(shards) == 17 and all(i.memory_mb is not None for i in shards), shards  # 16 shards + total
    # (but for a late registration's checks, which the place API asks of verify-batch from inside its
    # own invocation: an asynchronous invoke in AWS, run in-process here)
    assert not [
        i
        for i in calls.INVOCATIONS
        if i.function in ("verify-batch", "notify-batch") and i.overlapped and not i.nested
    ]
    assert sorted(i.function for i in calls.INVOCATIONS if i.nested) == ["seal", "verify-batch"]
    assert rows["verify-batch"].used_mb is not None and not rows["verify-batch"].upper_bound
    assert rows["register"].used_mb is None and rows["register"].memory_share is None

    # Calls are attributed to the functions that made them, not all to the driver
    by_owner: dict[str, int] = {}
    for (fn, _, _), n in calls.CALLS.items():
        by_owner[fn] = by_owner.get(fn, 0) + n
    mine = sum(n for fn, n in by_owner.items() if fn not in (calls.OUTSIDE, calls.ENGINE))
    assert mine > by_owner.get(calls.OUTSIDE, 0), by_owner
    # the engine's own requests are its Lambda Invokes (and Map ItemReader reads), never a function's
    engine = {(s, op) for (fn, s, op) in calls.CALLS if fn == calls.ENGINE}
    assert ("lambda", "Invoke") in engine and engine <= {("lambda", "Invoke"), ("s3", "GetObject")}, engine
    # ... but for the place API's: city staff sealing the corrections on demand invoke the seal, and a
    # late registration's checks are asked of verify-batch
    invokes = {k: n for k, n in calls.CALLS.items() if k[1:] == ("lambda", "Invoke") and k[0] in rows}
    assert invokes == {("place-api", "lambda", "Invoke"): 2}, "a task's Invoke"
    # registration goes through the real handler: at least one conditional put per registration
    assert calls.CALLS[("register", "dynamodb", "PutItem")] >= result.accepted > 0
    assert calls.CALLS[("register", "kms", "GenerateMac")] >= result.accepted
    # each invocation's own calls add up to its function's counted calls
    per_invocation: dict[tuple[str, str, str], int] = {}
    for inv in calls.INVOCATIONS:
        for (s, op), n in inv.calls.items():
            per_invocation[(inv.function, s, op)] = per_invocation.get((inv.function, s, op), 0) + n
    assert per_invocation == {
        k: n for k, n in calls.CALLS.items() if k[0] not in (calls.OUTSIDE, calls.ENGINE)
    }

    # DynamoDB request units: at least one write unit per write, none for the driver's reads in the bill
    writes = sum(
        n
        for (fn, s, op), n in calls.CALLS.items()
        if fn not in (calls.OUTSIDE, calls.ENGINE)
        and s == "dynamodb"
        and op in ("PutItem", "UpdateItem", "DeleteItem")
    )
    lines = {line.item: line for line in budget.cost(snap)}
    assert lines["dynamodb-write"].quantity >= writes > 0
    assert calls.CAPACITY[("register", "write")] >= calls.CALLS[("register", "dynamodb", "PutItem")]
    assert calls.CAPACITY[("close-registration", "read")] > 0

    # notify-batch's CPU includes its notices' drawing, done here by worker processes
    drawn = [i for i in calls.INVOCATIONS if i.function == "notify-batch"]
    assert drawn and all(i.cpu_s >= i.worker_cpu_s for i in drawn)
    if render.processes() > 1:
        assert all(i.worker_cpu_s > 0 for i in drawn)

    # The cost model: positive, and its total is the sum of its lines
    total = sum(line.usd for line in lines.values())
    summary = budget.summary(snap)
    assert total > 0 and math.isclose(summary["usd_total"], total)
    assert math.isclose(summary["usd_per_1000_applicants"], total / APPLICANTS * 1000)
    assert lines["api-requests"].quantity == sum(1 for i in calls.INVOCATIONS if i.trigger == "api")
    assert lines["lambda-requests"].quantity == len(calls.INVOCATIONS)
    assert snap["transitions"] >= snap["history"]["TaskStateEntered"] > 0

    # Calls per applicant: the functions' calls over the applicants
    pa = budget.per_applicant(snap)
    assert pa["calls"] == mine and pa["per_applicant"] == round(mine / APPLICANTS, 2)

    # The demo's --budget output: the JSON holds the same figures, the Markdown one row per function
    print_budget(APPLICANTS, result, tmp_path, console)
    written = json.loads((tmp_path / "budget.json").read_text(encoding="utf-8"))
    assert written["summary"]["calls_per_applicant"] == pa["per_applicant"]
    assert math.isclose(sum(line["usd"] for line in written["cost"]), written["summary"]["usd_total"])
    table = (tmp_path / "budget.md").read_text(encoding="utf-8")
    assert all(f"| {key} |" in table for key in rows)
