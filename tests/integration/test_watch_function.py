"""The season watch's function on the embedded backend (moto): invoked as the EventBridge rule
invokes it, it reads the season's execution (Step Functions) and gates (DynamoDB) and says whether
the season should have started and which gates are overdue (enrollment/core/watch.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.resources import function_name
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import generate
from tests.integration.conftest import small_season

pytestmark = pytest.mark.xdist_group("season-watch")


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedSeason, SeasonConfig]]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("watch"))
    population = generate(config, 10, 7)
    start = datetime.fromisoformat(f"{config.calendar.grade7_registration.start} 08:00").replace(
        tzinfo=config.tz
    )
    with EmbeddedSeason(
        config, SimulatedClock(start), registries=population.registries, config_path=path
    ) as rt:
        yield rt, config


def _watch(config: SeasonConfig, event: dict[str, Any]) -> dict[str, Any]:
    answer = boto3.client("lambda").invoke(
        FunctionName=function_name(config.name, "watch"), Payload=json.dumps(event).encode()
    )
    payload: dict[str, Any] = json.loads(answer["Payload"].read())
    if answer.get("FunctionError"):
        return {"error": payload}
    return payload


def test_a_season_not_started_after_its_notice_date_is_reported_then_not_once_started(season) -> None:
    rt, config = season
    before = _watch(config, {"season": config.season})
    assert before["season_not_started"] is True and before["execution_status"] == "not-started"
    assert before["overdue_gates"] == []
    rt.start()
    after = _watch(config, {"season": config.season})
    assert after["season_not_started"] is False and after["execution_status"] == "RUNNING"
    assert after["overdue_gates"] == []


def test_another_season_is_refused_naming_the_field(season) -> None:
    _, config = season
    out = _watch(config, {"season": "1999"})
    assert "season" in json.dumps(out["error"]) and "1999" in json.dumps(out["error"])
