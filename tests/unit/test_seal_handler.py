"""The seal function's two tasks (issue 18): the workflow's `{"season"}` seals the season, the daily
schedule's `{"season", "task": "seal-corrections"}` seals its pending corrections; nothing else."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from pydantic import ValidationError

from functions import events
from functions.archive import seal as seal_task

AMENDED = {"amended": "nothing"}


def _run(event: dict[str, Any]) -> tuple[dict[str, Any], mock.MagicMock, mock.MagicMock]:
    w = SimpleNamespace(
        config=object(),
        archive=object(),
        archived=object(),
        signer=object(),
        corrections=object(),
        store=object(),
    )
    with (
        mock.patch.object(events, "wiring", return_value=w),
        mock.patch.object(seal_task, "seal_season", return_value={"sealed": "now"}) as season,
        mock.patch.object(
            seal_task, "seal_pending_corrections", return_value={"sealed": "nothing"}
        ) as pending,
        mock.patch.object(seal_task, "seal_class_amendments", return_value=AMENDED) as amendments,
    ):
        out = seal_task.handler(event, mock.MagicMock())
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
    assert out == {"sealed": "nothing", "classes": AMENDED} and not season.called
    [call] = pending.call_args_list
    assert call.args == ("2023",) and set(call.kwargs) == {"store", "archive", "signer"}


def test_the_workflows_event_seals_the_season() -> None:
    out, season, pending = _run({"season": "2023"})
    assert out == {"sealed": "now"} and season.called and not pending.called


def test_another_task_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="task"):
        _run({"season": "2023", "task": "seal-everything"})
