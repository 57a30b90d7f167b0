"""The seal function's two tasks (issue 18): the workflow's `{"season"}` seals the season, the daily
schedule's `{"season", "task": "seal-corrections"}` settles the late children whose verdict is in,
then seals its pending corrections; nothing else."""

from __future__ import annotations

from datetime import UTC
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from pydantic import ValidationError

from enrollment.corrections.late import Settled
from functions import events
from functions.archive import seal as seal_task

AMENDED = {"amended": "nothing"}


def _run(
    event: dict[str, Any], unasked: list[str] | None = None, late_checks: Any = None
) -> tuple[dict[str, Any], mock.MagicMock, mock.MagicMock]:
    w = SimpleNamespace(
        config=SimpleNamespace(tz=UTC),
        archive=object(),
        archived=object(),
        signer=object(),
        corrections=object(),
        store=object(),
        verification=object(),
        lotteries=object(),
        placements=object(),
        late_checks=late_checks or mock.MagicMock(),
    )
    with (
        mock.patch.object(events, "wiring", return_value=w),
        mock.patch.object(seal_task, "settle_late", return_value=Settled()) as settle,
        mock.patch.object(seal_task, "unasked", return_value=unasked or []),
        mock.patch.object(seal_task, "seal_season", return_value={"sealed": "now"}) as season,
        mock.patch.object(
            seal_task, "seal_pending_corrections", return_value={"sealed": "nothing"}
        ) as pending,
        mock.patch.object(seal_task, "seal_class_amendments", return_value=AMENDED) as amendments,
    ):
        out = seal_task.handler(event, mock.MagicMock())
    assert settle.called == (event.get("task") == "seal-corrections")
    assert amendments.called == (event.get("task") == "seal-corrections")
    if amendments.called:  # the classes follow the corrections, signed with the same key
        [call] = amendments.call_args_list
        assert call.args == ("2023",) and call.kwargs == {
            "archive": w.archive,
            "registrations": w.store,
            "signer": w.signer,
        }
    return out, season, pending


def test_the_daily_task_seals_the_pending_corrections_with_the_seasons_key() -> None:
    out, season, pending = _run({"season": "2023", "task": "seal-corrections"})
    assert out == {"sealed": "nothing", "classes": AMENDED, "late_settled": [], "late_asked": []}
    assert not season.called
    [call] = pending.call_args_list
    assert call.args == ("2023",) and set(call.kwargs) == {"store", "archive", "signer"}


def test_the_workflows_event_seals_the_season() -> None:
    out, season, pending = _run({"season": "2023"})
    assert out == {"sealed": "now"} and season.called and not pending.called


def test_another_task_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="task"):
        _run({"season": "2023", "task": "seal-everything"})


def test_the_daily_task_asks_again_the_late_children_whose_checks_were_never_asked() -> None:
    checks = mock.MagicMock()
    out, _, pending = _run({"season": "2023", "task": "seal-corrections"}, ["R-1", "R-2"], checks)
    checks.ask.assert_called_once_with("2023", ["R-1", "R-2"])
    assert out["late_asked"] == ["R-1", "R-2"] and pending.called


def test_an_ask_that_fails_again_does_not_hold_up_the_seal() -> None:
    checks = mock.MagicMock()
    checks.ask.side_effect = RuntimeError("Lambda throttled")
    out, _, pending = _run({"season": "2023", "task": "seal-corrections"}, ["R-1"], checks)
    assert out["late_asked"] == [] and pending.called  # asked again tomorrow; the day's seal is made


def test_a_late_registrations_ask_that_fails_leaves_the_correction_answered() -> None:
    """The place API: the correction is written before the ask; an ask that fails is logged and
    answered `checks_asked: false` (the daily seal asks again), never a 5xx over a stored correction."""
    from functions.place import api as place_api

    checks = mock.MagicMock()
    w: Any = SimpleNamespace(late_checks=checks)
    assert place_api._ask_late_checks(w, "2023", "R-1") is True
    checks.ask.side_effect = RuntimeError("Lambda throttled")
    assert place_api._ask_late_checks(w, "2023", "R-1") is False
