"""Starting a deployed season, and where it stands: one use case for the console, the CLI and the
local runtime.

**Starting.** A season is one Step Functions execution named `season-{season}` (`execution_name`),
so starting twice is harmless: an execution of that name that exists is reported (still running,
or finished with its status), never duplicated, and a start racing another finds the other's
(`start_season`). The execution's input is `SeasonStart`: the season, the config's name and digest,
who started it and when. The start is refused (`DigestMismatch`, naming both digests) unless the
config in hand is the one deployed: its digest must equal the stack's (`ConfigDigest` output, and
`SEASON_CONFIG_DIGEST` in every function's environment). This use case makes that check, before
anything is started; the workflow's definition is unchanged and ignores its input's fields.

**The config's digest** (`config_digest`) is the SHA-256, in lower-case hex, of the *canonical JSON*
of the validated `SeasonConfig`:

1. the config validated (`SeasonConfig`), then dumped with pydantic's JSON mode
   (`model_dump(mode="json")`): every field, defaults filled in, dates and times in ISO 8601, so a
   config that spells out a default and one that leaves it out are the same config;
2. serialized with `json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False,
   allow_nan=False)`: object keys sorted by code point at every level, no whitespace, non-ASCII
   characters as themselves (not `\\u` escapes), lists in their given order;
3. encoded as UTF-8.

YAML comments, key order, quoting and anything else that does not survive validation do not change
the digest; any change to a value does.

**Status** (`season_status`): the workflow's execution (not started, running, finished), the
current phase (the first whose gate is not yet advanced) with its deadline and the deadline
schedule that will resume it (name, time, state), the open gates, the dead letters (count per
district and phase, the latest few) and counts per phase as the store gives them by key and index
queries (registrations per grade, verdicts per status, placements per route).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from enrollment.core.config import SeasonConfig
from enrollment.core.gates import deadline_of
from enrollment.core.phases import phases, schedule_name
from enrollment.core.ports import Refused, Store

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
LATEST_DEAD_LETTERS = 5  # the dead letters the status lists, newest first (the rest are counted)


def canonical_json(config: SeasonConfig) -> bytes:
    """The validated config as canonical JSON (see the module's docstring), UTF-8."""
    text = json.dumps(
        config.model_dump(mode="json"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    return text.encode("utf-8")


def config_digest(config: SeasonConfig) -> str:
    """SHA-256 of the config's canonical JSON, lower-case hex (64 digits)."""
    return hashlib.sha256(canonical_json(config)).hexdigest()


def execution_name(season: str) -> str:
    """The season's one execution: its name is the season's, so there is never a second."""
    return f"season-{season}"


class SeasonStart(BaseModel):
    """The season workflow's execution input: which season, which config (name and digest: the
    SHA-256 of its canonical JSON, `config_digest`), who started it and when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    season: str = Field(pattern=r"^[0-9A-Za-z-]+$", description="招生年度，例如 2023")
    config_name: str = Field(pattern=r"^[a-z0-9-]+$", description="招生季配置名，例如 jilin-2023")
    config_digest: str = Field(pattern=DIGEST_PATTERN, description="配置规范JSON的SHA-256（小写十六进制）")
    started_by: str = Field(min_length=1, max_length=200, description="启动人")
    started_at: datetime = Field(description="启动时间")


class LaunchError(Refused):
    status = 409


class DigestMismatch(LaunchError):
    """The config in hand is not the one deployed: starting would run a season nobody checked."""

    def __init__(
        self, mine: str, deployed: str, *, which_zh: str = "本地配置", which_en: str = "the config"
    ) -> None:
        shown = deployed or "（无）"
        super().__init__(
            f"配置与已部署的不一致，不能启动：{which_zh}摘要 {mine}，已部署配置摘要 {shown}。",
            f"{which_en}'s digest {mine} is not the deployed config's digest {deployed or '(none)'}",
        )
        self.mine = mine
        self.deployed = deployed


class WrongSeason(LaunchError):
    status = 404


ExecutionStatus = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"]


@dataclass(frozen=True)
class Execution:
    """A workflow execution as Step Functions describes it."""

    arn: str
    name: str
    status: str
    started_at: datetime
    stopped_at: datetime | None
    input: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """The execution as the status shows it: `started_at` and `started_by` as its input (a
        `SeasonStart`) records them, else Step Functions' start date; `execution_started_at` is
        always Step Functions' own."""
        recorded = self.input if isinstance(self.input, Mapping) else {}
        return {
            "execution_arn": self.arn,
            "execution_name": self.name,
            "status": self.status,
            "started_at": recorded.get("started_at") or self.started_at.isoformat(),
            "execution_started_at": self.started_at.isoformat(),
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
            "started_by": recorded.get("started_by"),
            "config_digest": recorded.get("config_digest"),
        }


class ExecutionExists(Exception):
    """StartExecution refused: an execution of that name exists (started meanwhile)."""


class Workflow(Protocol):
    """The season's state machine."""

    @property
    def state_machine_arn(self) -> str: ...

    def execution(self, name: str) -> Execution | None:
        """The execution of that name, described; None if there is none."""
        ...

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        """Start an execution of that name with that input: its ARN; ExecutionExists if the name is taken."""
        ...


@dataclass(frozen=True)
class Schedule:
    """A deadline schedule as EventBridge Scheduler describes it."""

    name: str
    expression: str
    timezone: str
    state: str


class DeadlineSchedules(Protocol):
    def describe(self, name: str) -> Schedule | None:
        """The schedule of that name in the season's group; None if there is none."""
        ...


class SeasonCounts(Protocol):
    """What the store can count by key and index queries (never a Scan)."""

    def registrations_per_grade(self, season: str, grades: tuple[int, ...]) -> dict[int, int]: ...

    def verdicts_per_status(self, season: str) -> dict[str, int]: ...

    def placements_per_route(self, season: str, school_ids: tuple[str, ...]) -> dict[str, int]:
        """The children placed at the schools, by route (a child placed nowhere is at no school)."""
        ...

    def season_dead_letters(self, season: str) -> list[dict[str, Any]]:
        """Every district's dead letters of the season."""
        ...


def start_season(
    config: SeasonConfig,
    workflow: Workflow,
    deployed_digest: str,
    *,
    actor: str,
    now: datetime,
    season: str | None = None,
    confirmed_digest: str | None = None,
) -> dict[str, Any]:
    """Start the season's execution, unless it exists: `started`, or `already-running` /
    `already-finished` with the existing execution. DigestMismatch if the config in hand is not the
    deployed one, or if `confirmed_digest` (what the console's confirmation showed) is not;
    WrongSeason if `season` (a route's) is not the config's."""
    if season is not None and season != config.season:
        raise WrongSeason(f"没有{season}年度的招生", f"no season {season!r} here")
    mine = config_digest(config)
    if mine != deployed_digest:
        raise DigestMismatch(mine, deployed_digest)
    if confirmed_digest is not None and confirmed_digest != deployed_digest:
        raise DigestMismatch(
            confirmed_digest, deployed_digest, which_zh="确认时显示的配置", which_en="the confirmed config"
        )
    request = SeasonStart(
        season=config.season,
        config_name=config.name,
        config_digest=mine,
        started_by=actor,
        started_at=now.astimezone(config.tz),
    )
    name = execution_name(config.season)
    existing = workflow.execution(name)
    if existing is None:
        try:
            arn = workflow.start(name, request.model_dump(mode="json"))
        except ExecutionExists:
            existing = workflow.execution(name)
            if existing is None:  # refused for a name that is not there: say so, start nothing
                raise
        else:
            return {
                "result": "started",
                "result_zh": RESULT_ZH["started"],
                "season": config.season,
                "state_machine_arn": workflow.state_machine_arn,
                "execution_arn": arn,
                "execution_name": name,
                "input": request.model_dump(mode="json"),
            }
    result = "already-running" if existing.status == "RUNNING" else "already-finished"
    return {
        "result": result,
        "result_zh": RESULT_ZH[result],
        "season": config.season,
        "state_machine_arn": workflow.state_machine_arn,
        "execution_arn": existing.arn,
        "execution_name": name,
        "execution": existing.as_dict(),
    }


RESULT_ZH = {
    "started": "招生季已启动",
    "already-running": "招生季已在运行，未重复启动",
    "already-finished": "招生季的流程已结束，未重复启动",
}
EXECUTION_ZH = {
    "not-started": "尚未启动",
    "RUNNING": "运行中",
    "SUCCEEDED": "已完成",
    "FAILED": "失败",
    "TIMED_OUT": "超时",
    "ABORTED": "已中止",
    "PENDING_REDRIVE": "待重新驱动",
}
GATE_STATE_ZH = {"not-reached": "尚未开始", "open": "等待推进", "advanced": "已结束"}


def season_status(
    config: SeasonConfig,
    *,
    workflow: Workflow,
    store: Store,
    schedules: DeadlineSchedules,
    counts: SeasonCounts,
    now: datetime,
    deployed_digest: str = "",
    district: str | None = None,
) -> dict[str, Any]:
    """Where the season stands (see the module's docstring), with what a start's confirmation names:
    the calendar, the state machine and the deployed config's digest. `district`: only that
    district's dead letters (district staff); None: every district's (city staff, auditors, the CLI)."""
    season = config.season
    execution = workflow.execution(execution_name(season))
    board = []
    for p in phases(config):
        gate = store.get_gate(season, p.name)
        state = "not-reached" if gate is None else str(gate.get("status", "open"))
        deadline = deadline_of(config, store, season, p.name).astimezone(config.tz)
        board.append(
            {
                "phase": p.name,
                "title_zh": p.title_zh,
                "state": state,
                "state_zh": GATE_STATE_ZH.get(state, state),
                "deadline": deadline.isoformat(),
                "opened_at": gate.get("opened_at") if gate else None,
                "overdue": state == "open" and now >= deadline,
            }
        )
    current = next((row for row in board if row["state"] != "advanced"), None)
    next_deadline = None
    if current is not None:
        name = schedule_name(next(p for p in phases(config) if p.name == current["phase"]))
        schedule = schedules.describe(name)
        next_deadline = {
            "phase": current["phase"],
            "title_zh": current["title_zh"],
            "deadline": current["deadline"],
            "schedule": None
            if schedule is None
            else {
                "name": schedule.name,
                "expression": schedule.expression,
                "timezone": schedule.timezone,
                "state": schedule.state,
            },
        }
    status = "not-started" if execution is None else execution.status
    return {
        "season": season,
        "config_name": config.name,
        "config_digest": deployed_digest,
        "calendar": config.calendar.model_dump(mode="json"),
        "state_machine_arn": workflow.state_machine_arn,
        "execution": None if execution is None else execution.as_dict(),
        "status": status,
        "status_zh": EXECUTION_ZH.get(status, status),
        "phase": None if current is None else current["phase"],
        "phase_zh": None if current is None else current["title_zh"],
        "next_deadline": next_deadline,
        "open_gates": [row for row in board if row["state"] == "open"],
        "phases": board,
        "dead_letters": dead_letter_summary(counts.season_dead_letters(season), district),
        "counts": {
            "registrations_per_grade": {
                str(g): n for g, n in counts.registrations_per_grade(season, grades(config)).items()
            },
            "verdicts_per_status": counts.verdicts_per_status(season),
            "placements_per_route": counts.placements_per_route(season, tuple(s.id for s in config.schools)),
        },
    }


def grades(config: SeasonConfig) -> tuple[int, ...]:
    """The grades any school of the season admits."""
    return tuple(sorted({g for s in config.schools for g in s.plans}))


def dead_letter_summary(records: list[dict[str, Any]], district: str | None) -> dict[str, Any]:
    """Dead letters counted per district and phase, and the latest `LATEST_DEAD_LETTERS`
    (newest first); only `district`'s if given."""
    mine = [r for r in records if district is None or r.get("district") == district]
    per: dict[tuple[str, str], int] = {}
    for r in mine:
        key = (str(r.get("district")), str(r.get("phase")))
        per[key] = per.get(key, 0) + 1
    latest = sorted(mine, key=lambda r: (str(r.get("recorded_at")), str(r.get("item_id"))), reverse=True)
    return {
        "total": len(mine),
        "per_district_phase": [{"district": d, "phase": p, "count": n} for (d, p), n in sorted(per.items())],
        "latest": [
            {k: r.get(k) for k in ("district", "phase", "item_id", "error", "recorded_at")}
            for r in latest[:LATEST_DEAD_LETTERS]
        ],
    }
