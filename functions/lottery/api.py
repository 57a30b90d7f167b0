"""The lottery ceremony for district staff (R-LOT-3): its JSON API (the big-screen page that calls it is
the console's, functions/console/ceremony.html at `/console/ceremony`).

Every route is IAM-authorised; the caller's role and district come from the staff directory and
are checked against the school's district: district staff run their own schools' ceremonies, city
staff and auditors watch.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.observability import logger
from enrollment.core import clock
from enrollment.core.staff import can_read
from enrollment.lottery import ceremony
from enrollment.registration.form import Violation
from functions.api import caller, handler_for, json_response, refusal, season_wiring, staff_resolver

app = staff_resolver()
PREFIX = "/admin/lottery/<season>"


class StepInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(default="", max_length=64, description="代表输入的数字（按原样保存）、名额或签号")


@app.exception_handler(ceremony.InvalidStepValue)
def _invalid_value(e: ceremony.InvalidStepValue) -> Response[str]:
    return refusal(e.status, [Violation(e.field, e.rule, e.message_zh, e.message_en)])


@app.get(f"{PREFIX}/ceremonies")
def ceremonies(season: str) -> dict[str, Any]:
    """The private schools and grades the caller may see: applicants, plan, case and ceremony status."""
    w = season_wiring(season)
    staff = caller(app)
    rows = []
    for item in sorted(w.lotteries.schools(season), key=lambda i: (i["school_id"], int(i["grade"]))):
        if not can_read(staff, item["district"]):
            continue
        school = w.config.school_index.get(item["school_id"])
        rows.append(
            {
                "school_id": item["school_id"],
                "school_name": school.name if school else item["school_id"],
                "grade": int(item["grade"]),
                "district": item["district"],
                "plan": int(item["plan"]),
                "applicants": len(item["own"]) + len(item["other"]),
                "own_district_applicants": len(item["own"]),
                "case": item["case"],
                "seats": int(item["seats"]),
                "status": item["status"],
                "deadline": item.get("deadline"),
                "overdue": int(item.get("overdue_count", 0)) > 0,
            }
        )
    return {"season": season, "ceremonies": rows}


@app.get(f"{PREFIX}/ceremonies/<school_id>/<grade>")
def state(
    season: str,
    school_id: str,
    grade: int,
    limit: Annotated[
        str | None,
        Query(description=f"每个名单显示的名次数，1 到 {ceremony.VIEW_MAX}（默认 {ceremony.VIEW_LIMIT}）"),
    ] = None,
    cursor: Annotated[str | None, Query(description="上一次答复中的 next（从其后的名次接着显示）")] = None,
) -> dict[str, Any]:
    """The big screen's view. Its lists come a window of ranks at a time: `?limit=1..2000&cursor=`
    (the `next` of the previous answer); `pool_size` is the whole list's length. A step's answer is
    the first window."""
    w = season_wiring(season)
    window = ceremony.window_request(cursor, limit)
    return ceremony.view(
        w.config, season, school_id, grade, staff=caller(app), store=w.lotteries, window=window
    )


@app.post(f"{PREFIX}/ceremonies/<school_id>/<grade>/steps/<step>", responses={201: {"description": "已记录"}})
def enter(
    season: str, school_id: str, grade: int, step: str, body: Annotated[StepInput, Body()]
) -> Response[str]:
    """One representative's input, in annex 3's order; recorded once, never replaced."""
    w = season_wiring(season)
    out = ceremony.enter_step(
        w.config,
        season,
        school_id,
        grade,
        step,
        body.value,
        staff=caller(app),
        store=w.lotteries,
        tokens=w.tokens,
        now=clock.now(),
    )
    logger.info("lottery step recorded", extra={"school_id": school_id, "grade": grade, "step": step})
    return json_response(201, out)


handler = handler_for(app)
