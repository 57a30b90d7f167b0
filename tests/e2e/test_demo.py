"""`enroll demo` end to end, at small size: the command a bureau or auditor runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from enrollment.core.config import load_season
from enrollment.core.resources import ROOT
from enrollment.exports.sheets import read_xlsx

pytestmark = pytest.mark.xdist_group("demo")


def test_demo_runs_a_season_and_exports(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "enrollment.cli",
            "demo",
            "--applicants",
            "240",
            "--seed",
            "11",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # the workflow ran through both gates and recorded demand
    assert summary["workflow_status"] == "SUCCEEDED"
    gates = summary["workflow_output"]["gates"]
    assert gates["grade7_registration"]["source"] == gates["grade1_registration"]["source"] == "schedule"
    # every submission got the answer its rules call for, and each kind of bad submission occurred
    assert summary["unexpected"] == []
    assert {"R-ID-1", "R-AGE-1", "R-REG-2", "R-DATA-1"} <= set(summary["refused"])
    submissions = (out / "submissions.jsonl").read_text(encoding="utf-8").splitlines()
    assert summary["accepted"] + sum(summary["refused"].values()) == len(submissions)
    assert (
        summary["workflow_output"]["phases"]["registration"]["demand"]["registrations"] == summary["accepted"]
    )
    # the printed summary shows the whole season, every phase of the notice run
    assert "not built yet" not in run.stdout and "受理 accepted" in run.stdout
    assert "阳光分班 sunshine classes" in run.stdout and "新生报到 reporting day" in run.stdout
    assert (out / "demand.csv").read_text(encoding="utf-8").startswith("scope,id,name,grade")
    assert (out / "registries" / "public-security.jsonl").exists()
    # every private school and grade has its record; every registered child is placed exactly once
    records = sorted(p.name for p in (out / "archive" / "private").glob("*.json"))
    assert records and all(p.endswith(("-g1.json", "-g7.json")) for p in records)
    placed = [
        json.loads(line)
        for line in (out / "archive" / "placements.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len({p["registration_id"] for p in placed}) == len(placed) == summary["accepted"]
    assert summary["placement"]["children"] == summary["accepted"]
    assert "招生录取结果 Placement" in run.stdout and "民办学校招生与电脑派位" in run.stdout
    # the export is the signed archive, and the demo ends with its audit
    assert {"manifest.json", "manifest.sig.json", "public-key.pem", "season.json"} <= {
        p.name for p in (out / "archive").iterdir()
    }
    assert "审计通过 AUDIT PASSED" in run.stdout
    audit = subprocess.run(
        [sys.executable, "-m", "enrollment.cli", "audit", str(out / "archive")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert audit.returncode == 0 and "AUDIT PASSED" in audit.stdout, audit.stdout[-2000:]
    # after the notices staff corrected places through the route, one refused by the self-check; the
    # city sealed the first on demand, the daily 03:00 schedule the rest; the audit replays the chain
    fixes = summary["corrections"]
    assert [m["what"] for m in fixes["made"]] == ["补录", "放弃民办学位", "放弃公办学位", "转学"]
    assert [m["kinds"][0] for m in fixes["made"]] == ["late-registration", "decline", "decline", "transfer"]
    assert fixes["refused"] and all("R-" not in r and "违反规则" in r for r in fixes["refused"])
    assert [b["n"] for b in fixes["sealed_on_demand"]] == [1] and [b["n"] for b in fixes["sealed_daily"]] == [
        2
    ]
    made = sum(len(m["kinds"]) for m in fixes["made"])
    assert sum(b["corrections"] for b in fixes["sealed_on_demand"] + fixes["sealed_daily"]) == made
    assert fixes["batches"] == ["0001", "0002"] and "结果公布后的更正" in run.stdout
    assert fixes["notices"]["issued"] >= 1  # the changed places' families got a new notice
    assert "2 batches applied in order" in " ".join(run.stdout.split())  # the demo's audit, with the chain
    chain = subprocess.run(
        [
            sys.executable,
            "-m",
            "enrollment.cli",
            "audit",
            str(out / "archive"),
            "--corrections",
            str(out / "additions" / "corrections"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert chain.returncode == 0 and "AUDIT PASSED" in chain.stdout, chain.stdout[-2000:]
    assert f"{made} corrections" in chain.stdout
    classes = subprocess.run(
        [sys.executable, "-m", "enrollment.cli", "audit", str(out / "additions" / "classes")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert classes.returncode == 0 and "AUDIT PASSED" in classes.stdout, classes.stdout[-2000:]
    # … → exports: every list of every school and district (docs/EXPORTS.md), each opening in openpyxl
    listed = json.loads((out / "exports" / "exports.json").read_text(encoding="utf-8"))
    assert listed["refused"] == [] and "导出 exports:" in run.stdout
    school_of = {p["registration_id"]: p["school_id"] for p in placed}
    admitted = [f for f in listed["files"] if f["kind"] == "admitted" and f["file"].endswith(".xlsx")]
    assert len(admitted) == len(load_season("seasons/jilin-2023.yaml").schools)
    for f in admitted:
        ((_, rows),) = read_xlsx((out / "exports" / f["file"]).read_bytes()).items()
        assert {r[0] for r in rows[1:]} == {rid for rid, s in school_of.items() if s == f["scope"]}
    assert sum(f["rows"] for f in admitted) == sum(1 for s in school_of.values() if s)


def test_demo_refuses_a_broken_config(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    text = (
        (ROOT / "seasons" / "jilin-2023.yaml")
        .read_text(encoding="utf-8")
        .replace("timezone: Asia/Shanghai", "timezone: Mars/Olympus")
    )
    bad.write_text(text, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "enrollment.cli", "demo", "--config", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert f"{bad}: timezone: " in run.stderr and "Mars/Olympus" in run.stderr
