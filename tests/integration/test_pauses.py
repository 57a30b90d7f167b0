"""A failure pauses the season, city staff resume it, and the season completes.

A small season runs on the embedded backend (the real ASL on moto's engine) while registration
cannot be closed: CloseRegistration fails (an error no retrier matches), is caught into
`PausedCloseRegistration`, and the season waits there with the error recorded. District staff see
the pause but cannot resume it; city staff fix the cause and resume it with a reason; the workflow
runs CloseRegistration again and the season goes on to its end. The pause pages the operator:
gate-open publishes `SeasonPaused` (the EMF Lambda would print, captured) under the season, the
dimensions the SeasonPaused alarm watches, and again with the step. And a restart: a second execution
started after the registration gates were advanced skips them, not a Conflict.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest import mock

import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.observability import metrics
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import load_season
from enrollment.core.pauses import METRIC_PAUSED
from enrollment.core.resources import SEASON_DIMENSION, SERVICE
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason, _polls
from enrollment.synth.population import generate
from functions.register import close as close_task
from tests.integration.conftest import small_season

pytestmark = pytest.mark.xdist_group("pauses")

PAUSE = "pause-close-registration-1"


def _wait_for_pause(rt: EmbeddedSeason, timeout: float = 120) -> dict[str, Any]:
    store = DynamoStore(rt.table_name)
    for _ in _polls(timeout):
        gate = store.get_gate(rt.config.season, PAUSE)
        if gate and gate.get("status") == "open":
            return gate
        assert rt.describe()["status"] == "RUNNING", rt.describe()
    raise TimeoutError("the season did not pause")


@pytest.fixture(scope="module")
def resumed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("pause"))
    population = generate(config, 40, 7)
    start = datetime.fromisoformat(f"{config.calendar.plans_published} 09:00").replace(tzinfo=config.tz)
    broken = [True]
    real_close = close_task.close

    def close(*args: Any, **kwargs: Any) -> dict[str, Any]:
        if broken:
            raise RuntimeError("the demand table is unavailable (simulated)")
        return real_close(*args, **kwargs)

    published: list[dict[str, Any]] = []  # each flush's EMF, as Lambda would print it
    provider = metrics.provider
    real_flush = provider.flush_metrics

    def flush(raise_on_empty_metrics: bool = False) -> None:
        if provider.metric_set:
            published.append(provider.serialize_metric_set())
        real_flush(raise_on_empty_metrics=raise_on_empty_metrics)

    seen: dict[str, Any] = {"published": published}
    with (
        EmbeddedSeason(
            config, SimulatedClock(start), registries=population.registries, config_path=path
        ) as rt,
        mock.patch.object(close_task, "close", close),
        mock.patch.object(provider, "flush_metrics", flush),
    ):
        rt.start()
        rt.wait_for_gate("grade7-registration")
        drive.register_valid(rt, population)
        _wait_for_pause(rt)
        # the pause is stored inside gate-open; its metric is flushed as the invocation ends, after
        end = time.monotonic() + 30
        while not any(METRIC_PAUSED in emf for emf in published) and time.monotonic() < end:
            time.sleep(0.05)
        seen["paused_metrics"] = [emf for emf in published if METRIC_PAUSED in emf]
        base = f"/admin/seasons/{config.season}/pauses"
        city = drive.member(rt, "city").principal
        district = drive.member(rt, "district", config.districts[0].code).principal
        seen["listed"] = drive.call(rt, "GET", base, None, district)
        seen["by_district"] = drive.call(rt, "POST", f"{base}/{PAUSE}/resume", {"reason": "试试"}, district)
        seen["no_reason"] = drive.call(rt, "POST", f"{base}/{PAUSE}/resume", {}, city)
        seen["unknown"] = drive.call(rt, "POST", f"{base}/pause-nope-1/resume", {"reason": "恢复"}, city)
        seen["status_while_paused"] = rt.describe()["status"]
        broken.clear()  # the operator fixed the cause
        seen["resume"] = drive.call(rt, "POST", f"{base}/{PAUSE}/resume", {"reason": "数据库已恢复"}, city)
        seen["again"] = drive.call(rt, "POST", f"{base}/{PAUSE}/resume", {"reason": "数据库已恢复"}, city)
        drive.run_verification(rt, config)
        seen["end"] = rt.wait_for_end(timeout=600)
        seen["after"] = drive.call(rt, "GET", base, None, city)
        seen["closed"] = rt.state_output("CloseRegistration")
        seen["config"] = config
        yield seen


def test_the_failed_step_pauses_the_season_with_its_error_for_staff(resumed: dict[str, Any]) -> None:
    assert resumed["status_while_paused"] == "RUNNING"
    status, answer = resumed["listed"]
    assert status == 200 and answer["may_resume"] is False, answer
    (pause,) = answer["pauses"]
    assert pause["pause"] == PAUSE and pause["status"] == "open" and pause["title_zh"] == "报名截止汇总"
    assert pause["error"] == "RuntimeError" and "demand table is unavailable" in pause["cause"]


def test_only_city_staff_resume_with_a_reason(resumed: dict[str, Any]) -> None:
    assert resumed["by_district"][0] == 403
    status, answer = resumed["no_reason"]
    assert 400 <= status < 500 and "reason" in str(answer), answer
    assert resumed["unknown"][0] == 404


def test_resumed_the_step_runs_again_and_the_season_completes(resumed: dict[str, Any]) -> None:
    status, answer = resumed["resume"]
    assert status == 200 and answer["result"] == "resumed", answer
    assert resumed["again"][1]["result"] == "already-resumed"
    assert resumed["end"]["status"] == "SUCCEEDED", resumed["end"]
    assert resumed["closed"]["phases"]["registration"]["demand"]["registrations"] > 0
    (pause,) = resumed["after"][1]["pauses"]
    assert pause["status"] == "resumed" and pause["reason"] == "数据库已恢复"


def test_the_pause_publishes_the_metric_its_alarm_watches(resumed: dict[str, Any]) -> None:
    """One SeasonPaused from gate-open, under service and season (the alarm's dimensions) and under
    season and step (which step), in namespace Enrollment."""
    # one per gate-open call: a call retried (a timeout under load) counts again, as in Lambda
    assert 1 <= len(resumed["paused_metrics"]) <= 3, resumed["paused_metrics"]
    for emf in resumed["paused_metrics"]:
        [directive] = emf["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "Enrollment"
        assert directive["Metrics"] == [{"Name": METRIC_PAUSED, "Unit": "Count"}]
        assert sorted(map(sorted, directive["Dimensions"])) == [
            sorted([SEASON_DIMENSION, "service"]),
            sorted([SEASON_DIMENSION, "service", "step"]),
        ]
        assert emf[SEASON_DIMENSION] == resumed["config"].name and emf["service"] == SERVICE
        assert emf["step"] == "close-registration" and emf[METRIC_PAUSED] == [1.0]
    # and every other metric of the season carried the season too
    assert all(e[SEASON_DIMENSION] == resumed["config"].name for e in resumed["published"])
