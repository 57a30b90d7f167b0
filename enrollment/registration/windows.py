"""Extending a registration window (R-REG-1: a bureau may extend a window, and it is recorded).

The extension moves the last day of the window, the deadline schedule that closes its gate, and
the gate's recorded deadline; it is kept with who, when and why, and every extension stays in an
append-only history.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.gates import GateError, UnknownPhase, current_extension
from enrollment.core.phases import REGISTRATION_GATE, at_expression, phase, schedule_name
from enrollment.core.ports import Schedules, Store


class ExtensionRefused(GateError):
    status = 422


def extend_window(
    config: SeasonConfig,
    season: str,
    grade: int,
    until: date,
    *,
    actor: str,
    reason: str,
    now: datetime,
    store: Store,
    schedules: Schedules,
) -> dict[str, Any]:
    if season != config.season:
        raise UnknownPhase(f"没有{season}年度的招生", f"no season {season!r} here")
    if grade not in REGISTRATION_GATE:
        raise UnknownPhase("年级只能是1或7", "grade is 1 or 7")
    gate_name = REGISTRATION_GATE[grade]
    window = config.calendar.registration_window(grade)  # type: ignore[arg-type]
    gate = store.get_gate(season, gate_name)
    if gate and gate.get("status") == "advanced":
        raise GateError(f"{grade}年级报名已截止，不能延长", f"grade {grade} registration has closed")
    last = current_extension(store, season, grade) or window.end
    if until <= last:
        raise ExtensionRefused(
            f"延长后的截止日期须晚于当前截止日期{last:%m月%d日}", f"the new last day must be after {last}"
        )
    if until >= config.calendar.verification.end:  # late registrations still need verifying
        raise ExtensionRefused(
            f"报名须在信息审核结束（{config.calendar.verification.end:%m月%d日}）之前截止",
            "registration must close before verification ends",
        )
    deadline = config.day_end(until)
    when = now.astimezone(config.tz).isoformat()
    record = {"extended_to": until.isoformat(), "extended_by": actor, "extended_at": when, "reason": reason}
    store.put_window_extension(season, grade, record)
    schedules.move(schedule_name(phase(config, gate_name)), at_expression(deadline))
    if gate is not None:
        store.set_gate_deadline(season, gate_name, deadline.isoformat())
    return {"grade": grade, "phase": gate_name, "deadline": deadline.isoformat(), **record}
