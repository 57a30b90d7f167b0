"""A city's own season end to end: the bureau's workbook → `enroll season import` → `enroll demo --config`
→ the exports.

The city is not the built-in one: Siping (四平市) 2024 from the synthetic generator, with residential
compounds in its zones (by compounds only, and mixed), written as the workbook a bureau fills in; some
of its families live in compounds and register with a compound address.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from enrollment.core.config import load_season
from enrollment.core.resources import ROOT

pytestmark = [pytest.mark.xdist_group("demo"), pytest.mark.slow]
NAME = "e2e-siping-2024"


def enroll(*args: str, timeout: int = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def season_files() -> Iterator[list[Path]]:
    """seasons/NAME.yaml and NAME.staff.yaml, where the local runtime reads them; removed afterwards."""
    files = [ROOT / "seasons" / f"{NAME}.yaml", ROOT / "seasons" / f"{NAME}.staff.yaml"]
    assert not any(f.exists() for f in files), "left over from an earlier run: remove them"
    try:
        yield files
    finally:
        for f in files:
            f.unlink(missing_ok=True)


def test_a_new_city_from_its_workbook_runs_a_whole_season(tmp_path: Path, season_files: list[Path]) -> None:
    # the bureau gets the template ...
    template = enroll("-m", "enrollment.cli", "season", "template", "--out", str(tmp_path / "template.xlsx"))
    assert template.returncode == 0, template.stderr
    # ... and fills it in: here the synthetic generator fills it for another city and year
    book = tmp_path / "siping-2024.xlsx"
    filled = enroll(
        "-m", "enrollment.synth.city", "--name", NAME, "--city", "四平市", "--year", "2024", "--seed", "7",
        "--workbook", str(book),
    )  # fmt: skip
    assert filled.returncode == 0, filled.stderr
    imported = enroll("-m", "enrollment.cli", "season", "import", str(book), "--name", NAME)
    assert imported.returncode == 0, imported.stderr
    assert all(f.exists() for f in season_files)
    config = load_season(season_files[0])
    assert (config.city, config.year) == ("四平市", 2024)
    assert any(not z.segments for z in config.zones) and any(z.segments and z.compounds for z in config.zones)

    out = tmp_path / "demo"
    demo = enroll(
        "-m", "enrollment.cli", "demo", "--config", str(season_files[0]), "--applicants", "300", "--seed", "5",
        "--out", str(out), timeout=600,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "审计通过 AUDIT PASSED" in demo.stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["workflow_status"] == "SUCCEEDED" and summary["unexpected"] == []
    season = json.loads((out / "archive" / "season.json").read_text(encoding="utf-8"))
    assert season["season"] == "2024"
    audit = enroll("-m", "enrollment.cli", "audit", str(out / "archive"))
    assert audit.returncode == 0 and "AUDIT PASSED" in audit.stdout, audit.stdout[-2000:]

    # some families registered with a compound address, and were placed like everyone else
    bodies = [
        json.loads(line)["body"] for line in (out / "submissions.jsonl").read_text("utf-8").splitlines()
    ]
    assert any(b["home_address"].get("compound") for b in bodies)
    # the results went out: every school's admitted list holds exactly the children placed there
    placed: dict[str, int] = {}
    for line in (out / "archive" / "placements.jsonl").read_text("utf-8").splitlines():
        school_id = json.loads(line)["school_id"]
        if school_id:
            placed[school_id] = placed.get(school_id, 0) + 1
    index = json.loads((out / "exports" / "exports.json").read_text(encoding="utf-8"))
    kinds = {f["kind"] for f in index["files"]}
    assert kinds >= {"admitted", "student-status", "reporting", "public-results"}
    admitted = [f for f in index["files"] if f["kind"] == "admitted" and f["file"].endswith(".xlsx")]
    assert {f["scope"]: f["rows"] for f in admitted if f["rows"]} == placed
    for f in admitted:
        assert config.school_index[f["scope"]].district == f["district"] == f["file"].split("/")[0]
        rows = list(openpyxl.load_workbook(out / "exports" / f["file"], read_only=True).worksheets[0].values)
        assert "姓名" in rows[0] and "证件号码" in rows[0] and len(rows) - 1 == f["rows"]
