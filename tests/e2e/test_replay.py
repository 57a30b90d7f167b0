"""A local season is a function of its config and seed: `enroll demo` twice with the same seed gives
the same signed archive, byte for byte (but the ECDSA signature), and the same summary.

The runs are separate processes with different hash seeds, so nothing may depend on set or dict
order that Python randomises per process. Private plans are tiny so that lotteries are drawn: the
representatives' typed inputs are part of what must replay.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

DEMO = [sys.executable, "-m", "enrollment.cli", "demo"]
APPLICANTS = "120"
UNSIGNED = {"manifest.sig.json", "public-key.pem"}  # the signature is ECDSA's: new each time
# what a run's console shows that is not the season: elapsed times and the export folder
WALL_CLOCK = (
    re.compile(r"\d+:\d\d:\d\d"),
    re.compile(r"done in [\d.]+ s"),
)


def small_plans(season: SeasonConfig, folder: Path) -> Path:
    """The season with two seats a grade at two private schools, so a small season draws lotteries."""
    raw = season.model_dump(mode="json")
    for school in raw["schools"]:
        if school["id"] in ("P-CY-01", "P-CH-02"):
            school["plans"] = dict.fromkeys(school["plans"], 2)
    path = folder / "jilin-2023.yaml"  # the season's name picks its staff directory
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def console(text: str, out: Path) -> str:
    text = text.replace(str(out), "OUT")
    for pattern in WALL_CLOCK:
        text = pattern.sub("…", text)
    return text


@dataclass(frozen=True)
class Runs:
    folder: Path
    shown: dict[str, str]  # each run's console, as `console` normalises it


# name: (seed, PYTHONHASHSEED, engine). The names are of one length: their paths wrap alike on the console.
RUNS = {
    "first": ("5", "1", "moto"),
    "again": ("5", "2", "moto"),
    "other": ("6", "3", "moto"),
    "lite5": ("5", "4", "sqlite"),
}


@pytest.fixture(scope="module")
def runs(season: SeasonConfig, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Every run both tests compare, started at once: the replay's three moto runs and, for the engine
    test, the first one's season on the SQLite engine (its moto side is "first" itself)."""
    folder = tmp_path_factory.mktemp("replay")
    config = small_plans(season, folder)
    started = {
        name: subprocess.Popen(
            [
                *DEMO,
                "--applicants",
                APPLICANTS,
                "--seed",
                seed,
                "--config",
                str(config),
                "--out",
                str(folder / name),
                "--engine",
                engine,
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed, "COLUMNS": "120"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (seed, hash_seed, engine) in RUNS.items()
    }
    shown = {}
    for name, proc in started.items():
        stdout, stderr = proc.communicate(timeout=900)
        assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
        shown[name] = console(stdout, folder / name)
    return Runs(folder, shown)


def test_the_same_seed_replays_the_season(runs: Runs) -> None:
    shown = runs.shown
    first, again, other = (runs.folder / name for name in ("first", "again", "other"))
    for signed in ("archive", "additions/classes"):
        a, b = files(first / signed), files(again / signed)
        assert sorted(a) == sorted(b)
        assert set(a) >= UNSIGNED
        differing = sorted(key for key in a if a[key] != b[key] and Path(key).name not in UNSIGNED)
        assert differing == [], f"{signed}: {differing}"
        for out in (first, again):  # and each is a sound archive
            audit = subprocess.run(
                [sys.executable, "-m", "enrollment.cli", "audit", str(out / signed)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert audit.returncode == 0 and "AUDIT PASSED" in audit.stdout, audit.stdout[-2000:]
    # lotteries were drawn, so the representatives' inputs are among what replayed
    records = [
        json.loads(body) for key, body in files(first / "archive").items() if key.startswith("private/")
    ]
    assert any(r["draw"] for r in records)

    # the exports beside the archive, and the summary as printed (but how long it took)
    summaries = [json.loads((out / "summary.json").read_text(encoding="utf-8")) for out in (first, again)]
    for s in summaries:
        s.pop("seconds")
        # the config as the run's functions read it names its loopback agencies: their ports and the
        # secrets' ARNs are new each run, so its digest is too (the archive's season.json is not)
        assert len(s["workflow_output"].pop("config_digest")) == 64
    assert summaries[0] == summaries[1]
    for export in ("submissions.jsonl", "demand.csv", "report/report.html"):
        assert (first / export).read_bytes() == (again / export).read_bytes(), export
    assert shown["first"] == shown["again"]

    # another seed is another season
    a, c = files(first / "archive"), files(other / "archive")
    assert a["placements.jsonl"] != c["placements.jsonl"]
    assert a["manifest.json"] != c["manifest.json"]


def test_the_sqlite_engine_seals_the_same_season_as_moto(runs: Runs) -> None:
    """The embedded SQLite engine (`--engine sqlite`, for rehearsals at a city's size) stands in for
    moto's DynamoDB: the same seed gives the same archive, byte for byte but the signature, the same
    additions, exports and summary. The moto run is the replay's first (same config and seed)."""
    shown = {"moto": runs.shown["first"], "sqlite": runs.shown["lite5"]}

    moto, sqlite = runs.folder / "first", runs.folder / "lite5"
    for signed in ("archive", "additions/classes"):
        a, b = files(moto / signed), files(sqlite / signed)
        assert sorted(a) == sorted(b)
        differing = sorted(key for key in a if a[key] != b[key] and Path(key).name not in UNSIGNED)
        assert differing == [], f"{signed}: {differing}"
    summaries = [json.loads((out / "summary.json").read_text(encoding="utf-8")) for out in (moto, sqlite)]
    for s in summaries:
        s.pop("seconds")
        # the config as the run's functions read it names its loopback agencies: their ports and the
        # secrets' ARNs are new each run, so its digest is too (the archive's season.json is not)
        assert len(s["workflow_output"].pop("config_digest")) == 64
    assert summaries[0] == summaries[1]
    for export in ("submissions.jsonl", "demand.csv"):
        assert (moto / export).read_bytes() == (sqlite / export).read_bytes(), export
    assert shown["moto"] == shown["sqlite"]
