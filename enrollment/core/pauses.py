"""Pauses: a workflow step that still fails after its retries waits for the city, it does not end the season.

Every top-level step of statemachines/season.asl.json (tasks, Maps, gates) catches what its retries
could not absorb into `Paused<Step>`, a task that waits for its token like a gate. Its gate-open
call (`open_pause`) records the pause under the gate key `pause-<step>-<n>` (the n-th time that step
paused this season) with the error and its cause. City staff read it in the console
(`GET /admin/seasons/{season}/pauses`), fix the cause, and resume it (`resume`, a reason required
and recorded): the workflow runs the failed step again, which every step is safe to do (README, "A
season that survives its own failures"). A step that fails again pauses again, as `pause-<step>-<n+1>`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.gates import GateError
from enrollment.core.ports import Conflict, Store, TaskTokenGone, TaskTokens

PREFIX = "pause-"
# The ASL's pausable steps in season order (`Paused<Step>`'s phase, without the prefix), each with
# what city staff read; tests/unit/test_pause_records.py checks this against the ASL file.
STEPS: dict[str, str] = {
    "grade7-registration-gate": "七年级报名",
    "grade1-registration-gate": "一年级报名",
    "count-registrations": "报名统计",
    "close-registration": "报名截止汇总",
    "list-registrations": "报名名单整理",
    "prepare-verification": "审核准备",
    "verify-registrations": "部门信息核验",
    "find-open-agency-checks": "部门核验待答复清点",
    "close-agency-checks": "部门核验截止",
    "home-visits-gate": "材料审核与入户核查",
    "close-home-visits": "入户核查截止",
    "review-gate": "区县复核",
    "prepare-lotteries": "民办学校摇号准备",
    "private-lotteries": "民办学校摇号",
    "coordination-gate": "复核与统筹",
    "place-children": "学位分配",
    "store-placements": "保存分配结果",
    "draw-spot-check": "抽查抽样",
    "draw-district-spot-checks": "各区县抽样",
    "spot-check-gate": "市级抽查",
    "summarize-verification": "审核汇总",
    "prepare-notices": "录取通知准备",
    "send-notices": "发送录取通知",
    "seal-archive": "封存招生档案",
    "reporting-gate": "新生报到",
    "classes-gate": "阳光分班",
    "assign-classes": "阳光分班分配",
    "draw-classes": "各校分班",
    "seal-classes": "封存分班结果",
}
# What gate-open publishes for each pause it records (namespace Enrollment, dimensions service and
# season, and again with the step): the SeasonPaused alarm pages the operator (infra/observability.py).
METRIC_PAUSED = "SeasonPaused"
STEP_DIMENSION = "step"
PAUSE_ID = re.compile(r"^pause-(?P<step>[a-z0-9-]+)-(?P<n>[1-9][0-9]{0,3})$")
MAX_CAUSE = 4000  # characters of the cause kept (a stack trace's end is cut)


class UnknownPause(GateError):
    status = 404


def is_pause(phase: str) -> bool:
    return phase.startswith(PREFIX)


def _step(season: str, config: SeasonConfig, name: str) -> str:
    if season != config.season:
        raise UnknownPause(f"没有{season}年度的招生", f"no season {season!r} here")
    step = name.removeprefix(PREFIX)
    if step not in STEPS:
        raise UnknownPause("没有这个暂停", f"no pausable step {step!r}")
    return step


def open_pause(
    config: SeasonConfig,
    season: str,
    phase: str,
    *,
    failure: dict[str, Any],
    token: str,
    execution_id: str,
    now: datetime,
    store: Store,
) -> dict[str, Any]:
    """Record the failed step's pause and the token the workflow waits on. A retried call (the same
    pause still open) records the new token over the old."""
    step = _step(season, config, phase)
    n = 1
    while (gate := store.get_gate(season, f"{phase}-{n}")) is not None and gate.get("status") != "open":
        n += 1
    pause = f"{phase}-{n}"
    error = str(failure.get("Error") or "unknown")[:200]
    cause = str(failure.get("Cause") or "")[-MAX_CAUSE:]
    store.put_gate_open(
        season,
        pause,
        {
            "status": "open",
            "task_token": token,
            "execution_id": execution_id,
            "opened_at": now.astimezone(config.tz).isoformat(),
            "step": step,
            "error": error,
            "cause": cause,
        },
    )
    return {"pause": pause, "result": "paused", "step": step, "error": error}


def resume(
    config: SeasonConfig,
    season: str,
    pause: str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    store: Store,
    tokens: TaskTokens,
) -> dict[str, Any]:
    """Resume the workflow waiting at this pause: it runs the failed step again. A second call changes
    nothing and says so; a pause whose execution has ended is recorded as such (start the season again)."""
    match = PAUSE_ID.fullmatch(pause)
    if match is None:
        raise UnknownPause("没有这个暂停", f"no pause {pause!r}")
    _step(season, config, PREFIX + match["step"])
    gate = store.get_gate(season, pause)
    if gate is None:
        raise UnknownPause("没有这个暂停", f"no pause {pause!r}")
    if gate.get("status") == "advanced":
        return _answer("already-resumed", pause, gate)
    when = now.astimezone(config.tz).isoformat()
    result = "resumed"
    try:
        tokens.succeed(str(gate["task_token"]), {"pause": pause, "resumed_at": when, "resumed_by": actor})
    except TaskTokenGone:
        result = "execution-ended"  # stopped, timed out or already resumed by a concurrent call
    changes = {
        "status": "advanced",
        "advanced_at": when,
        "advanced_by": actor,
        "source": "staff" if result == "resumed" else "execution-ended",
        "reason": reason,
    }
    try:
        store.close_gate(season, pause, changes)
    except Conflict:
        return _answer("already-resumed", pause, store.get_gate(season, pause) or gate)
    return _answer(result, pause, {**gate, **changes})


def listed(store: Store, season: str) -> list[dict[str, Any]]:
    """Every pause of the season in step order, open or resumed, with its error (for staff: what
    failed, when, and who resumed it why)."""
    found: list[dict[str, Any]] = []
    for step, title in STEPS.items():
        n = 1
        while (gate := store.get_gate(season, f"{PREFIX}{step}-{n}")) is not None:
            found.append(
                {
                    "pause": f"{PREFIX}{step}-{n}",
                    "step": step,
                    "title_zh": title,
                    "status": "open" if gate.get("status") == "open" else "resumed",
                    "opened_at": gate.get("opened_at"),
                    "error": gate.get("error"),
                    "cause": gate.get("cause"),
                    "resumed_at": gate.get("advanced_at"),
                    "resumed_by": gate.get("advanced_by"),
                    "reason": gate.get("reason"),
                }
            )
            n += 1
    return found


def _answer(result: str, pause: str, gate: dict[str, Any]) -> dict[str, Any]:
    return {
        "pause": pause,
        "result": result,
        "resumed_at": gate.get("advanced_at"),
        "resumed_by": gate.get("advanced_by"),
    }
