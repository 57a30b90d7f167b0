"""District bureaus answer families' complaints and appeals (R-OPEN-1: every complaint is answered).

- `GET /admin/complaints/{season}/districts/{district}`: the district's complaints, unanswered first
  (longest waiting first), each with how long it has waited; district staff their own district only,
  city and auditors every district (R-DATA-2).
- `POST /admin/complaints/{season}/complaints/{complaint_id}/answer` `{"answer": "…", "correction_id"?}`:
  only staff of the child's own district, checked against the stored complaint (not the path); records
  who and when (R-VER-3 style). A correction of the child's place may be attached (issue 18): one of
  the season's, changing this child, made naming this complaint (`complaint_id`), so the two link each
  other; the family reads in the answer that (and how) the place was corrected. Auditors read only; the city reads and supervises but the districts answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from enrollment.adapters.observability import logger
from enrollment.core import clock
from enrollment.core.staff import StaffError, require_read
from enrollment.corrections.family import correction_zh
from enrollment.people import complaints
from functions.api import caller, handler_for, json_response, season_wiring, staff_resolver

app = staff_resolver()
PREFIX = "/admin/complaints/<season>"


class ComplaintNotFound(StaffError):
    status = 404


@app.get(f"{PREFIX}/districts/<district>")
def district_complaints(season: str, district: str) -> dict[str, Any]:
    w = season_wiring(season)
    require_read(caller(app), district)
    found = w.complaints.complaints_of_district(season, district)
    listed = complaints.staff_list(found, clock.now().astimezone(w.config.tz))
    return {
        "district": district,
        "open": sum(1 for c in listed if c["status"] == "open"),
        "complaints": listed,
    }


@app.post(f"{PREFIX}/complaints/<complaint_id>/answer", responses={201: {"description": "已答复"}})
def answer(
    season: str, complaint_id: str, body: Annotated[complaints.AnswerRequest, Body()]
) -> Response[str]:
    w = season_wiring(season)
    staff = caller(app)
    found = w.complaints.complaint(complaint_id)
    if found is None or found.season != season:
        raise ComplaintNotFound("未找到该投诉申诉", "no such complaint")
    complaints.require_answer(staff, found.district)  # whose it is, before anything about a correction
    told = None
    if body.correction_id is not None:  # a correction of the child's place attached (issue 18)
        correction = next(
            (c for c in w.correction_reads.corrections(season) if c.correction_id == body.correction_id), None
        )
        complaints.check_attached(found, body.correction_id, correction)
        assert correction is not None
        told = correction_zh(w.config, correction, found.registration_id)
    answered = complaints.answer_complaint(
        found, body, staff, store=w.complaints, now=clock.now().astimezone(w.config.tz), correction_zh=told
    )
    logger.info("complaint answered", extra={"complaint_id": complaint_id, "district": found.district})
    return json_response(201, complaints.staff_view(answered, clock.now().astimezone(w.config.tz)))


handler = handler_for(app)
