"""Gates with fakes: a gate resumes once, whoever asks first; later asks change nothing."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest

from enrollment.core import gates
from enrollment.core.config import SeasonConfig
from enrollment.core.phases import phases
from enrollment.core.ports import Conflict, SeasonState, TaskTokenGone


class FakeStore:
    def __init__(self) -> None:
        self.gates: dict[tuple[str, str], dict[str, Any]] = {}

    def get_gate(self, season: str, phase: str) -> dict[str, Any] | None:
        g = self.gates.get((season, phase))
        return dict(g) if g else None

    def put_gate_open(self, season: str, phase: str, item: dict[str, Any]) -> None:
        current = self.gates.get((season, phase))
        if current and current["status"] != "open":
            raise Conflict(phase)
        self.gates[(season, phase)] = dict(item)

    def close_gate(self, season: str, phase: str, changes: dict[str, Any]) -> None:
        current = self.gates.get((season, phase))
        if not current or current["status"] != "open":
            raise Conflict(phase)
        current.update(changes)

    # unused by gates
    def create_registration(self, item: dict[str, Any]) -> None: ...
    def get_registration(self, registration_id: str) -> dict[str, Any]:
        return {}

    def registrations(self, season: str) -> Iterator[dict[str, Any]]:
        return iter(())

    def season_state(self, season: str) -> SeasonState:
        return SeasonState(frozenset(), {})

    def put_window_extension(self, season: str, grade: int, record: dict[str, Any]) -> None: ...

    def put_demand(self, season: str, rows: Iterable[Mapping[str, Any]]) -> None: ...

    def demand(self, season: str) -> list[dict[str, Any]]:
        return []


class FakeTokens:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        if any(t == token for t, _ in self.sent):
            raise TaskTokenGone("TaskTimedOut")
        self.sent.append((token, output))


@pytest.fixture
def deps() -> tuple[FakeStore, FakeTokens]:
    return FakeStore(), FakeTokens()


def test_open_then_advance_once(season: SeasonConfig, deps: tuple[FakeStore, FakeTokens]) -> None:
    store, tokens = deps
    p = phases(season)[0]
    before = p.deadline - timedelta(days=2)
    opened = gates.open_gate(
        season, season.season, p.name, token="t1", execution_id="e", now=before, store=store, tokens=tokens
    )
    assert opened["result"] == "open" and tokens.sent == []

    first = gates.advance(
        season,
        season.season,
        p.name,
        source="staff",
        actor="u1",
        reason="提前结束",
        now=before,
        store=store,
        tokens=tokens,
    )
    second = gates.advance(
        season,
        season.season,
        p.name,
        source="schedule",
        actor="s",
        reason="截止",
        now=p.deadline,
        store=store,
        tokens=tokens,
    )

    assert first["result"] == "advanced" and first["advanced_by"] == "u1"
    assert second == {**first, "result": "already-advanced"}
    assert [t for t, _ in tokens.sent] == ["t1"]
    assert store.get_gate(season.season, p.name)["reason"] == "提前结束"  # type: ignore[index]


def test_opening_after_the_deadline_goes_on_at_once(
    season: SeasonConfig, deps: tuple[FakeStore, FakeTokens]
) -> None:
    store, tokens = deps
    p = phases(season)[0]
    result = gates.open_gate(
        season, season.season, p.name, token="t", execution_id="e", now=p.deadline, store=store, tokens=tokens
    )
    assert result["result"] == "advanced" and result["source"] == "deadline-passed"
    assert tokens.sent[0][1]["phase"] == p.name


def test_a_concurrent_resume_that_lost_the_race_is_harmless(
    season: SeasonConfig, deps: tuple[FakeStore, FakeTokens]
) -> None:
    store, tokens = deps
    p = phases(season)[1]
    now = p.deadline - timedelta(hours=1)
    gates.open_gate(
        season, season.season, p.name, token="t", execution_id="e", now=now, store=store, tokens=tokens
    )
    tokens.sent.append(("t", {}))  # another caller already resumed the workflow
    result = gates.advance(
        season,
        season.season,
        p.name,
        source="staff",
        actor="u",
        reason="r",
        now=now,
        store=store,
        tokens=tokens,
    )
    assert result["result"] == "advanced"


@pytest.mark.parametrize(
    ("season_id", "phase", "error"),
    [
        ("1999", "grade1-registration", gates.UnknownPhase),
        ("2023", "nope", gates.UnknownPhase),
        ("2023", "grade1-registration", gates.GateNotOpen),
    ],
)
def test_refusals(
    season: SeasonConfig,
    deps: tuple[FakeStore, FakeTokens],
    season_id: str,
    phase: str,
    error: type[Exception],
) -> None:
    store, tokens = deps
    with pytest.raises(error):
        gates.advance(
            season,
            season_id,
            phase,
            source="staff",
            actor="u",
            reason="r",
            now=phases(season)[0].deadline,
            store=store,
            tokens=tokens,
        )


def test_a_second_execution_skips_a_gate_already_advanced(
    season: SeasonConfig, deps: tuple[FakeStore, FakeTokens]
) -> None:
    """A restart or a redrive reaches a gate this season already advanced: it goes on at once with
    the recorded advance, not a Conflict, and the record stays as it was."""
    store, tokens = deps
    p = phases(season)[0]
    early = p.deadline - timedelta(days=1)
    gates.open_gate(
        season, season.season, p.name, token="t1", execution_id="e1", now=early, store=store, tokens=tokens
    )
    gates.advance(
        season,
        season.season,
        p.name,
        source="staff",
        actor="u1",
        reason="提前结束",
        now=early,
        store=store,
        tokens=tokens,
    )
    recorded = store.get_gate(season.season, p.name)

    again = gates.open_gate(
        season, season.season, p.name, token="t2", execution_id="e2", now=early, store=store, tokens=tokens
    )

    assert again["result"] == "already-advanced" and again["advanced_by"] == "u1"
    assert tokens.sent[-1] == (
        "t2",
        {
            "phase": p.name,
            "advanced_at": recorded["advanced_at"],  # type: ignore[index]
            "source": "staff",
            "actor": "u1",
            "skipped": True,
        },
    )
    assert store.get_gate(season.season, p.name) == recorded


def test_a_schedule_never_advances_a_gate_before_its_current_deadline(
    season: SeasonConfig, deps: tuple[FakeStore, FakeTokens]
) -> None:
    """A deploy that put back a registration window's original schedule fires before the extended
    end: the gate stays open; at the extended deadline the schedule advances it; staff may advance early."""
    store, tokens = deps
    p = phases(season)[0]
    extended = (p.deadline + timedelta(days=2)).date()
    store.season_state = lambda _season: SeasonState(frozenset(), {7: extended})  # type: ignore[method-assign]
    now = p.deadline - timedelta(hours=1)
    gates.open_gate(
        season, season.season, p.name, token="t", execution_id="e", now=now, store=store, tokens=tokens
    )
    kwargs: dict[str, Any] = {"actor": "eventbridge-scheduler", "reason": "到达截止时间"}

    early = gates.advance(
        season, season.season, p.name, source="schedule", now=p.deadline, store=store, tokens=tokens, **kwargs
    )
    assert early == {
        "phase": p.name,
        "result": "before-deadline",
        "deadline": season.day_end(extended).isoformat(),
        "rescheduled": False,
    }
    assert tokens.sent == [] and store.get_gate(season.season, p.name)["status"] == "open"  # type: ignore[index]

    # given the schedules (gate-advance does), the spent early schedule is put at the current deadline
    moved: list[tuple[str, str]] = []

    class Schedules:
        def move(self, name: str, expression: str) -> None:
            moved.append((name, expression))

    again = gates.advance(
        season,
        season.season,
        p.name,
        source="schedule",
        now=p.deadline,
        store=store,
        tokens=tokens,
        schedules=Schedules(),
        **kwargs,
    )
    assert again["result"] == "before-deadline" and again["rescheduled"] is True
    assert moved == [(f"deadline-{p.name}", f"at({extended + timedelta(days=1)}T00:00:00)")]
    assert tokens.sent == []

    due = gates.advance(
        season,
        season.season,
        p.name,
        source="schedule",
        now=season.day_end(extended),
        store=store,
        tokens=tokens,
        **kwargs,
    )
    assert due["result"] == "advanced" and [t for t, _ in tokens.sent] == ["t"]


def test_city_staff_may_advance_a_gate_before_its_deadline(
    season: SeasonConfig, deps: tuple[FakeStore, FakeTokens]
) -> None:
    store, tokens = deps
    p = phases(season)[0]
    now = p.deadline - timedelta(days=3)
    gates.open_gate(
        season, season.season, p.name, token="t", execution_id="e", now=now, store=store, tokens=tokens
    )
    result = gates.advance(
        season,
        season.season,
        p.name,
        source="staff",
        actor="u",
        reason="名额已满",
        now=now,
        store=store,
        tokens=tokens,
    )
    assert result["result"] == "advanced"
