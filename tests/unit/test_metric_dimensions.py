"""Every custom metric a function publishes carries the season (issue 16): `observed` sets the
dimension from the function's season config, so two seasons in one account never mix their counts,
and the alarms (infra/observability.py) watch what is published."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from enrollment.adapters.observability import metrics, observed
from enrollment.core.config import load_season
from enrollment.core.resources import ROOT, SEASON_DIMENSION, SERVICE
from enrollment.local.runtime import LambdaContext

SEASON_FILE = "seasons/jilin-2023.yaml"


@pytest.fixture
def publishing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Metrics published as in Lambda (EMF on stdout), the function configured for a season."""
    monkeypatch.setenv("SEASON_CONFIG", SEASON_FILE)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")
    metrics.clear_default_dimensions()  # none left by a season run earlier in this process
    metrics.clear_metrics()
    yield
    metrics.clear_default_dimensions()
    metrics.clear_metrics()


def _emf(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def _context() -> LambdaContext:
    return LambdaContext("enrollment-test-register", 512, "arn:aws-cn:lambda:cn-north-1:1:function:x", "r-1")


def test_a_functions_metrics_carry_the_season_and_the_service(
    publishing: None, capsys: pytest.CaptureFixture[str]
) -> None:
    @observed
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="RegistrationAccepted", unit="Count", value=1)
        return {}

    handler({}, _context())
    handler({}, _context())  # and again on a warm start
    emitted = _emf(capsys.readouterr().out)
    assert len(emitted) == 2
    name = load_season(ROOT / SEASON_FILE).name
    for emf in emitted:
        [directive] = emf["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Enrollment"
        assert [sorted(d) for d in directive["Dimensions"]] == [sorted([SEASON_DIMENSION, "service"])]
        assert emf[SEASON_DIMENSION] == name and emf["service"] == SERVICE
        assert emf["RegistrationAccepted"] == [1.0]


def test_a_function_without_a_season_config_is_not_given_a_season(
    publishing: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SEASON_CONFIG")

    @observed
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        metrics.add_metric(name="Probe", unit="Count", value=1)
        return {}

    handler({}, _context())
    [emf] = _emf(capsys.readouterr().out)
    assert SEASON_DIMENSION not in emf
