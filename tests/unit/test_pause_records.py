"""Pauses with fakes, and the ASL's pause states: a step that fails after its retries waits for the
city at `Paused<Step>`, which loops back to the step once city staff resume it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from enrollment.core import pauses
from enrollment.core.config import SeasonConfig
from enrollment.core.resources import FUNCTIONS, STATE_MACHINE_FILE
from tests.unit.test_gates import FakeStore, FakeTokens

ASL: dict[str, Any] = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))
INVOKE = "arn:${Partition}:states:::lambda:invoke"
FAILURE = {"Error": "RuntimeError", "Cause": '{"errorMessage": "the demand table is unavailable"}'}


def _now(season: SeasonConfig) -> datetime:
    return datetime(2023, 5, 20, 10, tzinfo=season.tz)


def _open(season: SeasonConfig, store: FakeStore, token: str) -> dict[str, Any]:
    return pauses.open_pause(
        season,
        season.season,
        "pause-close-registration",
        failure=FAILURE,
        token=token,
        execution_id="e",
        now=_now(season),
        store=store,
    )


def _resume(season: SeasonConfig, store: FakeStore, tokens: FakeTokens, pause: str) -> dict[str, Any]:
    return pauses.resume(
        season,
        season.season,
        pause,
        actor="city-1",
        reason="数据库已恢复",
        now=_now(season),
        store=store,
        tokens=tokens,
    )


def test_a_pause_is_recorded_resumed_once_and_a_second_failure_pauses_again(season: SeasonConfig) -> None:
    store, tokens = FakeStore(), FakeTokens()
    first = _open(season, store, "t1")
    assert first == {
        "pause": "pause-close-registration-1",
        "result": "paused",
        "step": "close-registration",
        "error": "RuntimeError",
    }
    # the pause task's gate-open retried: the same pause, the newer token
    assert _open(season, store, "t2")["pause"] == "pause-close-registration-1"

    resumed = _resume(season, store, tokens, "pause-close-registration-1")
    assert resumed["result"] == "resumed" and resumed["resumed_by"] == "city-1"
    assert tokens.sent == [("t2", {"pause": "pause-close-registration-1", **_times(resumed)})]
    assert _resume(season, store, tokens, "pause-close-registration-1")["result"] == "already-resumed"
    assert len(tokens.sent) == 1

    # the step failed again after the resume: a new pause
    assert _open(season, store, "t3")["pause"] == "pause-close-registration-2"
    (one, two) = pauses.listed(store, season.season)
    assert (
        one["status"] == "resumed" and one["reason"] == "数据库已恢复" and one["title_zh"] == "报名截止汇总"
    )
    assert two["status"] == "open" and two["error"] == "RuntimeError" and "unavailable" in two["cause"]


def _times(resumed: dict[str, Any]) -> dict[str, Any]:
    return {"resumed_at": resumed["resumed_at"], "resumed_by": "city-1"}


def test_a_pause_whose_execution_ended_is_recorded_so(season: SeasonConfig) -> None:
    store, tokens = FakeStore(), FakeTokens()
    _open(season, store, "t1")
    tokens.sent.append(("t1", {}))  # the token is gone: the execution was stopped or timed out
    assert _resume(season, store, tokens, "pause-close-registration-1")["result"] == "execution-ended"
    assert pauses.listed(store, season.season)[0]["status"] == "resumed"


@pytest.mark.parametrize(
    ("season_id", "pause"),
    [
        ("1999", "pause-close-registration-1"),
        ("2023", "pause-nope-1"),
        ("2023", "pause-close-registration-9"),
        ("2023", "close-registration"),
    ],
)
def test_unknown_pauses_are_404(season: SeasonConfig, season_id: str, pause: str) -> None:
    with pytest.raises(pauses.UnknownPause) as e:
        pauses.resume(
            season,
            season_id,
            pause,
            actor="u",
            reason="r",
            now=_now(season),
            store=FakeStore(),
            tokens=FakeTokens(),
        )
    assert e.value.status == 404


def test_every_top_level_step_pauses_instead_of_failing_the_season() -> None:
    states = ASL["States"]
    paused = {name for name in states if name.startswith("Paused")}
    for name, state in states.items():
        if name in paused or state["Type"] not in ("Task", "Map"):
            continue
        catch = state["Catch"][-1]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        if name in ("WriteSeasonReport", "RecordReportDeadLetter"):
            continue  # the report is a dead letter: the season goes on without it
        assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.pause", "Next": f"Paused{name}"}
        pause = states[f"Paused{name}"]
        assert pause["Resource"].endswith(":lambda:invoke.waitForTaskToken")
        assert pause["Parameters"]["FunctionName"] == "${GateOpenFunctionArn}"
        payload = pause["Parameters"]["Payload"]
        assert payload["failure.$"] == "$.pause" and payload["task_token.$"] == "$$.Task.Token"
        assert pauses.is_pause(payload["phase"]) and payload["phase"].removeprefix("pause-") in pauses.STEPS
        assert pause["Next"] == name  # resumed: the failed step runs again
        assert "Catch" not in pause
    # and the domain knows every pausable step, in the ASL's order
    steps = [
        states[p]["Parameters"]["Payload"]["phase"].removeprefix("pause-") for p in states if p in paused
    ]
    assert steps == list(pauses.STEPS)


def _tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for name, s in states.items():
        if s["Type"] == "Task":
            found.append((name, s))
        if s["Type"] == "Map":
            found += _tasks(s["ItemProcessor"]["States"])
    return found


def test_every_lambda_task_has_a_timeout_beyond_its_function_and_retries_timeouts() -> None:
    timeouts = {"${" + spec.asl_placeholder + "}": spec.timeout_s for spec in FUNCTIONS}
    for name, task in _tasks(ASL["States"]):
        if task["Resource"] == INVOKE:
            assert task["TimeoutSeconds"] > timeouts[task["Parameters"]["FunctionName"]], name
            retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
            assert {"Sandbox.Timedout", "States.Timeout", "Lambda.AWSLambdaException"} <= retried, name
    # every gate and pause waits at most 90 days (then it pauses, or the season fails loudly)
    for name, state in ASL["States"].items():
        if state["Type"] == "Task" and state["Resource"] != INVOKE:
            assert state["TimeoutSeconds"] == 90 * 24 * 3600, name
    # the season has an end: a stuck execution times out (ExecutionsTimedOut) after a year
    assert ASL["TimeoutSeconds"] == 366 * 24 * 3600
