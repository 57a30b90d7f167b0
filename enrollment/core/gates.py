"""Phase gates: the workflow waits at each; a schedule or authorised staff resume it, once."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.phases import REGISTRATION_GATE, Phase, at_expression, phase, schedule_name
from enrollment.core.ports import Conflict, Refused, Schedules, SeasonState, Store, TaskTokenGone, TaskTokens


class GateError(Refused):
    status = 409


class UnknownPhase(GateError):
    status = 404


class GateNotOpen(GateError):
    pass


class Forbidden(GateError):
    status = 403


def _phase(config: SeasonConfig, season: str, name: str) -> Phase:
    if season != config.season:
        raise UnknownPhase(f"没有{season}年度的招生", f"no season {season!r} here")
    try:
        return phase(config, name)
    except KeyError:
        raise UnknownPhase(f"没有名为 {name} 的阶段", f"no phase {name!r}") from None


def open_gate(
    config: SeasonConfig,
    season: str,
    name: str,
    *,
    token: str,
    execution_id: str,
    now: datetime,
    store: Store,
    tokens: TaskTokens,
) -> dict[str, Any]:
    """Store the token the workflow waits on; if the deadline has already passed, go on at once.

    A gate this season already advanced (a second execution after a restart or a redrive) is skipped:
    the workflow goes on at once with the recorded advance, and nothing is stored."""
    _phase(config, season, name)
    deadline = deadline_of(config, store, season, name)
    gate = store.get_gate(season, name)
    if gate is not None and gate.get("status") == "advanced":
        return _skip(name, gate, token, tokens)
    try:
        store.put_gate_open(
            season,
            name,
            {
                "status": "open",
                "task_token": token,
                "execution_id": execution_id,
                "opened_at": now.astimezone(config.tz).isoformat(),
                "deadline": deadline.isoformat(),
            },
        )
    except Conflict:  # advanced meanwhile
        return _skip(name, store.get_gate(season, name) or {}, token, tokens)
    if now >= deadline:
        return advance(
            config,
            season,
            name,
            source="deadline-passed",
            actor="system",
            reason="截止时间已过",
            now=now,
            store=store,
            tokens=tokens,
        )
    return {"phase": name, "result": "open", "deadline": deadline.isoformat()}


def advance(
    config: SeasonConfig,
    season: str,
    name: str,
    *,
    source: str,
    actor: str,
    reason: str,
    now: datetime,
    store: Store,
    tokens: TaskTokens,
    schedules: Schedules | None = None,
) -> dict[str, Any]:
    """Resume the workflow waiting at this gate. A second call changes nothing and says so. A
    schedule (`source="schedule"`) never advances a gate before its current deadline (extensions
    included): it answers `before-deadline` and advances nothing; city staff may advance it early.
    With `schedules`, the early schedule (one-time, so spent) is put again at that deadline, so
    the gate still closes on time (`rescheduled`)."""
    p = _phase(config, season, name)
    gate = store.get_gate(season, name)
    if gate is None:
        raise GateNotOpen(
            f"“{p.title_zh}”阶段尚未开始，不能推进", f"the workflow has not reached gate {name!r}"
        )
    if gate.get("status") == "advanced":
        return _result("already-advanced", name, gate)
    if source == "schedule":
        # a schedule put back by a deploy may fire before a window's extended end: it waits for that
        deadline = deadline_of(config, store, season, name)
        if now < deadline:
            early = {"phase": name, "result": "before-deadline", "deadline": deadline.isoformat()}
            if schedules is not None:
                schedules.move(schedule_name(p), at_expression(deadline.astimezone(config.tz)))
            return early | {"rescheduled": schedules is not None}
    when = now.astimezone(config.tz).isoformat()
    output = {"phase": name, "advanced_at": when, "source": source, "actor": actor}
    # TaskTokenGone: the workflow already went on (a concurrent resume); recording it is all that is left
    with contextlib.suppress(TaskTokenGone):
        tokens.succeed(str(gate["task_token"]), output)
    changes = {
        "status": "advanced",
        "advanced_at": when,
        "advanced_by": actor,
        "source": source,
        "reason": reason,
    }
    try:
        store.close_gate(season, name, changes)
    except Conflict:
        return _result("already-advanced", name, store.get_gate(season, name) or gate)
    return _result("advanced", name, {**gate, **changes})


def _skip(name: str, gate: dict[str, Any], token: str, tokens: TaskTokens) -> dict[str, Any]:
    """The workflow waiting at an already advanced gate goes on with the recorded advance."""
    output = {
        "phase": name,
        "advanced_at": gate.get("advanced_at"),
        "source": gate.get("source"),
        "actor": gate.get("advanced_by"),
        "skipped": True,
    }
    with contextlib.suppress(TaskTokenGone):
        tokens.succeed(token, output)
    return _result("already-advanced", name, gate)


def _result(result: str, name: str, gate: dict[str, Any]) -> dict[str, Any]:
    return {
        "phase": name,
        "result": result,
        "advanced_at": gate.get("advanced_at"),
        "advanced_by": gate.get("advanced_by"),
        "source": gate.get("source"),
    }


def current_extension(store: Store, season: str, grade: int) -> date | None:
    return store.season_state(season).extended_to.get(grade)


def deadline_of(config: SeasonConfig, store: Store, season: str, gate_name: str) -> datetime:
    """A gate's deadline, after any recorded extension of its window."""
    return deadline_in(config, store.season_state(season), gate_name)


def deadline_in(config: SeasonConfig, state: SeasonState, gate_name: str) -> datetime:
    """A gate's deadline in this season state: the config's, or its window's extended end when later."""
    p = phase(config, gate_name)
    for grade, name in REGISTRATION_GATE.items():
        if name == gate_name:
            extended = state.extended_to.get(grade)
            if extended:
                return max(p.deadline, config.day_end(extended))
    return p.deadline
