"""Phase gates: `open_gate` stores the workflow's task token; `advance` resumes it. And the season
itself: `GET /admin/seasons/{season}/status` (every staff role; district staff see only their own
district's dead letters) and `POST /admin/seasons/{season}/start` (city staff), over
enrollment/core/launch.py, as `enroll season start|status` and the local runtime.

`advance` is invoked by the EventBridge Scheduler at a phase's deadline, or through the admin API
(`POST /admin/seasons/{season}/phases/{phase}/advance`, staff token) by the city bureau's staff.
`GET /admin/seasons/{season}/phases` lists every phase with its deadline and gate for the console;
`GET /admin/seasons/{season}/districts/{district}/dead-letters` the workflow's items that failed for
good (enrollment/core/deadletters.py), to the district's staff, the city and auditors.

A workflow step that fails after its retries pauses the season (enrollment/core/pauses.py): its
`Paused<Step>` task calls `open_gate` with a `pause-<step>` phase and the failure;
`GET /admin/seasons/{season}/pauses` lists the pauses for bureau staff and auditors, and
`POST /admin/seasons/{season}/pauses/{pause}/resume` (city staff, a reason) runs the step again.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.observability import logger, metrics, observed
from enrollment.adapters.wiring import Wiring, wiring
from enrollment.core import clock, deadletters, gates, launch, pauses
from enrollment.core.resources import SERVICE
from enrollment.core.staff import Forbidden, StaffError, require_read
from enrollment.people import console
from enrollment.registration import windows
from enrollment.verification import visits
from functions.api import caller, json_response, refused_answer, require_season, resolver
from functions.events import SeasonEvent, task

admin = resolver()  # gate refusals and invalid bodies: functions/api.py's one shape


@admin.get("/admin/seasons/<season>/phases")
def season_phases(season: str) -> Response[str]:
    """Every phase in order with its deadline (after extensions) and its gate: not reached, open, or
    advanced (when, by whom, why). For every bureau staff member and auditor."""
    w = wiring()
    try:
        staff = caller(admin)
        if staff.role not in ("district", "city", "auditor"):
            raise Forbidden("无权查看招生阶段", "forbidden: phases are for bureau staff and auditors")
        require_season(w.config, season)
    except StaffError as e:
        return refused_answer(e)
    board = console.phase_board(w.config, w.store, season, clock.now())
    return json_response(200, {"season": season, "may_advance": staff.role == "city", "phases": board})


@admin.get("/admin/seasons/<season>/districts/<district>/dead-letters")
def dead_letters(season: str, district: str) -> Response[str]:
    """The district's dead letters: the workflow's items (verification and notice batches, private
    lotteries) that failed after their retries, with the error, the cause and when (R-DATA-2: the
    district's own staff, the city and auditors)."""
    w = wiring()
    try:
        require_read(caller(admin), district)
        require_season(w.config, season)
    except StaffError as e:
        return refused_answer(e)
    found = deadletters.listed(w.store, season, district)
    return json_response(200, {"season": season, "district": district, "dead_letters": found})


@admin.get("/admin/seasons/<season>/status")
def season_status(season: str) -> Response[str]:
    """Where the season stands: the workflow's execution, the current phase, the next deadline and its
    schedule, open gates, dead letters (district staff: their own district's only) and counts per
    phase. For every bureau staff member and auditor; `may_start` for city staff."""
    w = wiring()
    try:
        staff = caller(admin)
        if staff.role not in ("district", "city", "auditor"):
            raise Forbidden(
                "无权查看招生季状态", "forbidden: the season's status is for bureau staff and auditors"
            )
        require_season(w.config, season)
    except StaffError as e:
        return refused_answer(e)
    status = launch.season_status(
        w.config,
        workflow=w.workflow,
        store=w.store,
        schedules=w.schedules,
        counts=w.season_counts,
        now=clock.now(),
        deployed_digest=w.settings.season_config_digest,
        district=staff.district if staff.role == "district" else None,
    )
    return json_response(200, status | {"may_start": staff.role == "city"})


@admin.get("/admin/seasons/<season>/visits/overdue")
def overdue_visits(season: str) -> Response[str]:
    """Home visits the community offices have not answered by the home-visit deadline, counted per
    district (R-VER-2): district staff see their own district's, city staff and auditors every one."""
    w = wiring()
    try:
        staff = caller(admin)
        if staff.role not in ("district", "city", "auditor"):
            raise Forbidden("无权查看入户核查进度", "forbidden: overdue visits are for bureau staff")
        require_season(w.config, season)
    except StaffError as e:
        return refused_answer(e)
    found = visits.overdue(
        w.verification,
        w.config,
        w.store.season_state(season),
        staff,
        w.config.district_index,
        clock.now(),
    )
    return json_response(200, found)


class StartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config_digest: str = Field(
        pattern=launch.DIGEST_PATTERN, description="确认时显示的已部署配置摘要（SHA-256，小写十六进制）"
    )


@admin.post("/admin/seasons/<season>/start")
def start_season(season: str, body: Annotated[StartRequest, Body()]) -> Response[str]:
    """Start the season (city staff): its one execution, `season-{season}`; a second start reports the
    existing execution. Refused (409) if the confirmed digest is not the deployed config's."""
    actor = _staff("招生季由市教育局统一启动", "forbidden: the city bureau starts the season")
    w = wiring()
    result = launch.start_season(
        w.config,
        w.workflow,
        w.settings.season_config_digest,
        actor=actor,
        now=clock.now(),
        season=season,
        confirmed_digest=body.config_digest,
    )
    logger.info("season start requested by staff", extra={"actor": actor, **result})
    return _json(200, result)


class GateOpenInput(SeasonEvent):
    phase: str  # a phase's gate, or `pause-<step>` for a step that failed after its retries
    task_token: str
    execution_id: str
    failure: dict[str, Any] | None = None  # a pause's caught error: {"Error": ..., "Cause": ...}


class ScheduledAdvance(SeasonEvent):
    source: Literal["schedule"]
    phase: str


class AdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=2, max_length=200, description="推进原因（谁审谁签字）")


class ResumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=2, max_length=200, description="恢复原因（已排除的故障）")


class ExtendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: date = Field(description="延长后的最后报名日")
    reason: str = Field(min_length=2, max_length=200, description="延长原因")


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, ensure_ascii=False))


def _staff(
    zh: str = "招生阶段和报名时间由市教育局统一推进和调整",
    en: str = "forbidden: the city bureau moves the season's phases",
) -> str:
    """The signed-in city staff member (the staff token authorizer verified the token): the season's
    start, phases and registration windows are the city's, so no district, auditor or agency moves
    them (anyone else: 403 with `zh`)."""
    try:
        staff = caller(admin)
    except StaffError as e:
        raise gates.Forbidden(e.message_zh, e.message_en) from None
    if staff.role != "city":
        raise gates.Forbidden(zh, en)
    return staff.principal


def _advance(
    w: Wiring, season: str, phase: str, *, source: Literal["staff", "schedule"], actor: str, reason: str
) -> dict[str, Any]:
    """Resume the phase's gate, logged as "gate advanced by staff" or "gate advanced by schedule" (a
    schedule early for the gate's current deadline, after an extension, advances nothing and is put
    again at that deadline: a warning)."""
    result = gates.advance(
        w.config,
        season,
        phase,
        source=source,
        actor=actor,
        reason=reason,
        now=clock.now(),
        store=w.store,
        tokens=w.tokens,
        schedules=w.schedules if source == "schedule" else None,
    )
    if result["result"] == "before-deadline":
        logger.warning(
            "gate not advanced: the schedule fired before the gate's current deadline; "
            "its schedule is put again at that deadline",
            extra=result,
        )
    else:
        logger.info(f"gate advanced by {source}", extra=result)
    return result


@admin.post("/admin/seasons/<season>/windows/<grade>/extend")
def extend(season: str, grade: int, body: Annotated[ExtendRequest, Body()]) -> Response[str]:
    w = wiring()
    result = windows.extend_window(
        w.config,
        season,
        grade,
        body.until,
        actor=_staff(),
        reason=body.reason,
        now=clock.now(),
        store=w.store,
        schedules=w.schedules,
    )
    logger.info("registration window extended", extra=result)
    return _json(200, result)


@admin.post("/admin/seasons/<season>/phases/<phase>/advance")
def advance_by_staff(season: str, phase: str, body: Annotated[AdvanceRequest, Body()]) -> Response[str]:
    actor = _staff()
    return _json(200, _advance(wiring(), season, phase, source="staff", actor=actor, reason=body.reason))


@admin.get("/admin/seasons/<season>/pauses")
def season_pauses(season: str) -> Response[str]:
    """The season's pauses in step order: the step, its error and cause, when it paused, and, once
    resumed, when, by whom and why. For every bureau staff member and auditor; `may_resume` for city
    staff."""
    w = wiring()
    try:
        staff = caller(admin)
        if staff.role not in ("district", "city", "auditor"):
            raise Forbidden("无权查看流程暂停", "forbidden: pauses are for bureau staff and auditors")
        require_season(w.config, season)
    except StaffError as e:
        return refused_answer(e)
    found = pauses.listed(w.store, season)
    return json_response(200, {"season": season, "may_resume": staff.role == "city", "pauses": found})


@admin.post("/admin/seasons/<season>/pauses/<pause>/resume")
def resume_pause(season: str, pause: str, body: Annotated[ResumeRequest, Body()]) -> Response[str]:
    """Resume a paused step (city staff, once its cause is fixed): the workflow runs it again. A second
    call changes nothing and says so."""
    actor = _staff("暂停的流程由市教育局恢复", "forbidden: the city bureau resumes the season")
    w = wiring()
    result = pauses.resume(
        w.config,
        season,
        pause,
        actor=actor,
        reason=body.reason,
        now=clock.now(),
        store=w.store,
        tokens=w.tokens,
    )
    logger.info("pause resumed by staff", extra=result)
    return _json(200, result)


@task(GateOpenInput)
def open_gate(request: GateOpenInput, w: Wiring) -> dict[str, Any]:
    if pauses.is_pause(request.phase):
        paused = pauses.open_pause(
            w.config,
            request.season,
            request.phase,
            failure=request.failure or {},
            token=request.task_token,
            execution_id=request.execution_id,
            now=clock.now(),
            store=w.store,
        )
        logger.error("season paused: a step failed after its retries", extra=paused)
        # The page: SeasonPaused per season (the alarm's metric), and per season and step (which
        # step, on the dashboard). A retried call counts again; the alarm fires on one or more.
        metrics.add_dimensions(service=SERVICE, **{pauses.STEP_DIMENSION: paused["step"]})
        metrics.add_metric(name=pauses.METRIC_PAUSED, unit="Count", value=1)
        return paused
    return gates.open_gate(
        w.config,
        request.season,
        request.phase,
        token=request.task_token,
        execution_id=request.execution_id,
        now=clock.now(),
        store=w.store,
        tokens=w.tokens,
    )


@observed
def advance(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "httpMethod" in event:
        return admin.resolve(event, context)
    request = ScheduledAdvance.model_validate(event)
    return _advance(
        wiring(),
        request.season,
        request.phase,
        source="schedule",
        actor="eventbridge-scheduler",
        reason="到达公布的截止时间",
    )
