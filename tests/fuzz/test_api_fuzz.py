"""Schemathesis over the whole OpenAPI document (docs/openapi.json) against the real handlers.

A season is loaded on the embedded backend up to grade 1 registration (enrollment/local/serve.py)
and served by the local API Gateway bridge (enrollment/local/http.py) on 127.0.0.1; Schemathesis
sends every operation valid and invalid requests, signed in as a city staff member (a token of the
development OIDC issuer, as tests/integration/test_access.py mints them), with all its checks: no
5xx, every status documented, every answer in its documented schema and content type, invalid data
refused, wrong methods answered 405.

`make test` runs it bounded (`FUZZ_MAX_EXAMPLES`, default 10 per operation, a fixed seed); `make fuzz`
runs it long (FUZZ_MAX_EXAMPLES=300: over 10,000 cases) and prints the run's figures.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.core.resources import ROOT
from enrollment.local.http import serve
from enrollment.local.runtime import EmbeddedSeason
from enrollment.local.serve import load
from enrollment.synth.population import generate

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("fuzz")]

HERE = Path(__file__).parent
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
SEED = os.environ.get("FUZZ_SEED", "20230601")  # `make fuzz` draws a new one each run
STAFF = "city-staff-01"


@pytest.fixture(scope="module")
def served(season: SeasonConfig) -> Iterator[tuple[str, str, str]]:
    """The local API on 127.0.0.1 with a season registering grade 1, a city staff token, and the
    Schemathesis configuration: tests/fuzz/schemathesis.toml, and the season's own identifiers
    (season, districts, schools, grades, registration ids) for most path parameters, so that
    requests reach the handlers' logic, not only their 404s."""
    population = generate(season, 20, 5)
    start = season.day_start(season.calendar.plans_published)
    with EmbeddedSeason(season, SimulatedClock(start), registries=population.registries, seed=5) as rt:
        loaded = load(rt, population, "grade1-registration", lambda _: None)
        known = {
            "season": [season.season],
            "district": [d.code for d in season.districts],
            "school_id": [s.id for s in season.schools],
            "grade": [1, 7],
            "registration_id": sorted(loaded.registrations),
        }
        config = (HERE / "schemathesis.toml").read_text(encoding="utf-8") + "\n"
        for name, values in known.items():
            config += f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n"
        config += "[parameters]\n" + "".join(
            f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}\n' for name in known
        )
        with serve(rt) as base:
            yield base, rt.oidc.mint(STAFF, lifetime_s=6 * 3600), config


def test_every_operation_answers_as_documented(served: tuple[str, str, str], tmp_path: Path) -> None:
    base, token, config = served
    (tmp_path / "schemathesis.toml").write_text(config, encoding="utf-8")
    args = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(tmp_path / "schemathesis.toml"),
        "run",
        str(ROOT / "docs" / "openapi.json"),
        "--url",
        base.rstrip("/"),
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {token}",
        "--generation-database",
        "none",
        "--no-color",
        "--output-truncate",
        "true",
    ]
    began = time.monotonic()
    run = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=3 * 3600, check=False)
    took = time.monotonic() - began
    out = run.stdout + run.stderr
    cases = re.search(r"Test cases:\s*(\d[\d,]*) generated", out)
    print(f"\nfuzz: {cases.group(1) if cases else '?'} cases in {took:.0f} s (seed {SEED})")
    print(out[-3000:])
    if os.environ.get("FUZZ_LOG"):
        Path(os.environ["FUZZ_LOG"]).write_text(out, encoding="utf-8")
    assert run.returncode == 0, out[-20000:]
