"""Placement decisions by district staff, before the coordination gate closes (R-DIS-1, R-DEFER-1, R-VER-3).

- `POST /admin/placement/{season}/registrations/{id}/decisions`: `{"kind": "committee" | "defer" |
  "override", "reason", "plan"?, "school_id"?}`; only the child's district signs; kept append-only.
- `GET /admin/placement/{season}/districts/{district}/decisions`: the district's current decisions.
- `POST /admin/placement/{season}/schools/{school}/arrivals`, `GET …/no-shows`: reporting day (R-NOTE-1).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from enrollment import clock, placement, reporting
from enrollment.adapters.wiring import wiring
from enrollment.api import json_response, require_season, staff_caller, staff_resolver
from enrollment.observability import logger, metrics, tracer
from enrollment.ports import NotFound
from enrollment.staff import StaffError, StaffMember, require_read

app = staff_resolver()
PREFIX = "/admin/placement/<season>"


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: placement.DecisionKind = Field(description="committee 专家委员会安置 / defer 缓学 / override 调整")
    reason: str = Field(min_length=2, max_length=500, description="理由（谁审谁签字）")
    plan: placement.CommitteePlan | None = Field(default=None, description="随班就读 / 特教学校 / 送教上门")
    school_id: str | None = None


def caller() -> StaffMember:
    return staff_caller(app, wiring().staff)


@app.post(f"{PREFIX}/registrations/<registration_id>/decisions")
def decide(season: str, registration_id: str, body: Annotated[DecisionRequest, Body()]) -> Response[str]:
    w = wiring()
    require_season(w.config, season)
    try:
        item = w.store.get_registration(registration_id)
    except NotFound:
        raise StaffError("未找到该报名编号", "no such registration") from None
    staff = caller()
    if w.placements.placed(registration_id) is not None:
        raise placement.DecisionRefused(
            "安置结果已经公布，不能再录入", "placement has run; decisions are closed"
        )
    made = placement.decision(
        w.config,
        item,
        staff,
        body.kind,
        body.reason,
        clock.now().astimezone(w.config.tz).isoformat(),
        plan=body.plan,
        school_id=body.school_id,
    )
    w.placements.append_decision(season, str(item["district"]), made)
    logger.info("placement decision", extra={"registration_id": registration_id, "kind": body.kind})
    return json_response(201, vars(made))


@app.get(f"{PREFIX}/districts/<district>/decisions")
def decisions(season: str, district: str) -> dict[str, Any]:
    w = wiring()
    require_season(w.config, season)
    require_read(caller(), district)
    return {
        "district": district,
        "decisions": [vars(d) for d in w.placements.decisions(season, district).values()],
    }


class ArrivalsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registration_ids: list[str] = Field(
        min_length=1, max_length=500, description="已持通知书报到的学生报名编号"
    )


def _placed_at(season: str) -> dict[str, str | None]:
    body = wiring().archive.get(f"seasons/{season}/placements.jsonl")
    if body is None:
        raise placement.DecisionRefused("录取结果尚未公布", "placement has not run")
    return {
        line["registration_id"]: line["school_id"] for line in map(json.loads, body.decode().splitlines())
    }


@app.post(f"{PREFIX}/schools/<school_id>/arrivals")
def arrivals(season: str, school_id: str, body: Annotated[ArrivalsRequest, Body()]) -> Response[str]:
    """Reporting day (R-NOTE-1): the school's children who came with their notice, recorded once."""
    w = wiring()
    require_season(w.config, season)
    out = reporting.mark_arrivals(
        w.config,
        season,
        school_id,
        body.registration_ids,
        _placed_at(season),
        staff=caller(),
        store=w.placements,
        at=clock.now().astimezone(w.config.tz).isoformat(),
    )
    return json_response(201, out)


@app.get(f"{PREFIX}/schools/<school_id>/no-shows")
def missing(season: str, school_id: str) -> dict[str, Any]:
    """Children placed at the school who have not reported: the school follows them up."""
    w = wiring()
    require_season(w.config, season)
    school = w.config.school_index.get(school_id)
    require_read(caller(), school.district if school else "")
    return {
        "school_id": school_id,
        "no_shows": reporting.no_shows(
            school_id, _placed_at(season), w.placements.arrivals(season, school_id)
        ),
    }


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
