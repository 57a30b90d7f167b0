"""Verification API for people: district review and sign-off (R-VER-3), the city's spot-check (R-VER-5),
and the community office's home-visit answers. Every route is IAM-authorised; the caller's role and
district come from the staff directory and are checked against the data itself (R-DATA-2).
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from functools import partial
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field

from enrollment.adapters.console_reads import console_reads
from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import wiring
from enrollment.core import clock
from enrollment.core.staff import Forbidden, require_read
from enrollment.exports import views
from enrollment.people import console, lists
from enrollment.verification import agency_files, bulk, queue_search, review, search, spotcheck, visits
from enrollment.verification.season import record_visit
from enrollment.verification.verdicts import REASON_ZH, DecisionAction
from functions.api import (
    DistrictView,
    caller,
    district_export,
    district_list,
    handler_for,
    json_response,
    season_wiring,
    staff_resolver,
)

app = staff_resolver()
PREFIX = "/admin/verification/<season>"


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: DecisionAction = Field(description="confirm 确认 / override 改判")
    outcome: Literal["eligible", "not-eligible"] | None = None
    zone_id: str | None = None
    priority_verified: bool | None = Field(
        default=None, strict=True, description="政策性照顾资格是否核实（R-PRIO-1）"
    )
    reason: str = Field(default="", max_length=500, description="理由（谁审谁签字）")


class BulkDecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registration_ids: list[str] = Field(
        min_length=1, max_length=bulk.BULK_MAX, description=f"所选案件的报名编号（1 到 {bulk.BULK_MAX} 件）"
    )
    action: DecisionAction = Field(description="confirm 确认 / override 改判（每件案件相同）")
    outcome: Literal["eligible", "not-eligible"] | None = None
    preset: str | None = Field(default=None, description="常用理由（见 decision-presets）")
    note: str = Field(default="", max_length=bulk.REASON_MAX, description="补充说明（可与常用理由同时填写）")


class VisitAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registration_id: str
    lives_there: bool = Field(strict=True, description="实际居住")  # true or false, never 1 or "yes"
    visited_on: date
    visitor: str = Field(min_length=1, max_length=60, description="核查人")


class AnswerPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    upload: str = Field(pattern=r"^[0-9a-f]{32}$", description="本次上传的编号（32 位十六进制）")
    part: int = Field(strict=True, ge=0, lt=agency_files.MAX_PARTS, description="分段序号，从 0 开始")
    content_base64: str = Field(
        min_length=4, max_length=agency_files.PART_BASE64, description="该段内容（Base64 编码）"
    )


class AnswerUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        min_length=5,
        max_length=120,
        pattern=r"^[^/\\]+\.([xX][lL][sS][xX]|[cC][sS][vV])$",
        description="文件名（.xlsx 或 .csv）",
    )
    upload: str = Field(pattern=r"^[0-9a-f]{32}$", description="本次上传的编号")
    parts: int = Field(strict=True, ge=1, le=agency_files.MAX_PARTS, description="分段数")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="整个文件的 SHA-256（十六进制）")


class SpotCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Literal["confirmed", "discrepancy"]
    note: str = Field(default="", max_length=500)


@app.get(f"{PREFIX}/districts/<district>/queue")
def queue(
    season: str,
    district: str,
    limit: Annotated[
        str | None,
        Query(description=f"每页件数，1 到 {review.QUEUE_PAGE_MAX}（默认 {review.QUEUE_PAGE_DEFAULT}）"),
    ] = None,
    cursor: Annotated[str | None, Query(description="上一页答复中的 next（该页最后一件的报名编号）")] = None,
    status: Annotated[
        str | None, Query(description="当前结论：review 待人工复核 / not-eligible 审核未通过")
    ] = None,
    reason: Annotated[str | None, Query(description="审核原因（如 deed-address-mismatch）")] = None,
    grade: Annotated[str | None, Query(description="年级：1 或 7")] = None,
    category: Annotated[str | None, Query(description="报名类别")] = None,
    school: Annotated[str | None, Query(description="志愿学校（学校编号）")] = None,
    q: Annotated[
        str | None, Query(description="查找：报名编号、身份证号（或后四位）、监护人手机号或儿童姓名")
    ] = None,
    sort: Annotated[
        str | None, Query(description=f"排序列：{' / '.join(queue_search.QUEUE_SORTS)}（默认按报名编号）")
    ] = None,
    order: Annotated[str | None, Query(description="排序方向：asc 升序（默认）/ desc 降序")] = None,
) -> dict[str, Any]:
    """Cases to review, each with its reasons in Chinese and the masked child (R-DATA-2).

    Paged: `?limit=1..500&cursor=` (the `next` cursor of the previous page; 100 cases by default), by
    registration id, cases under review and not-eligible cases mixed; a case signed meanwhile leaves
    the queue without moving the others. Filters (`status`, `reason`, `grade`, `category`, `school`)
    and a search `q` keep that order and those cursors (enrollment/verification/queue_search.py); a
    full ID number is matched by its keyed form, never in the clear. Sorted by `sort` (`order=asc|desc`),
    the matching cases are ordered by that column and the cursor is the sorted queue's."""
    w = season_wiring(season)
    staff = caller(app)
    by = search.sort_request(sort, order, queue_search.QUEUE_SORTS)
    page = review.queue_page_request(None if by else cursor, limit)
    params = {"status": status, "reason": reason, "grade": grade, "category": category, "school": school}
    flt = queue_search.queue_filter(
        params | {"q": q}, season=season, schools=w.config.school_index, keyer=w.keyer
    )
    if by is not None:
        reads = console_reads(w)[0]
        found, after = queue_search.sorted_queue(
            w.verification, staff, season, district, flt, reads.registrations_of, by, cursor, page.limit
        )
        return {"district": district, "cases": [console.case_row(c, i) for c, i in found], "next": after}
    rows, after = _queue_rows(w, staff, season, district, page, flt)
    return {"district": district, "cases": rows, "next": after}


def _queue_rows(
    w: Any, staff: Any, season: str, district: str, page: review.QueuePage, flt: queue_search.QueueFilter
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the queue as the console shows it (masked), filtered or not."""
    reads = console_reads(w)[0]
    if flt.empty:
        cases, after = review.review_page(w.verification, staff, season, district, page)
        children = reads.registrations_of(c.registration_id for c in cases)
        found: list[tuple[Any, Any]] = [(c, children.get(c.registration_id)) for c in cases]
    else:
        found, after = queue_search.search_page(
            w.verification, staff, season, district, page, flt, reads.registrations_of
        )
    return [console.case_row(c, item) for c, item in found], after


@app.get(f"{PREFIX}/districts/<district>/queue/export")
def queue_export(
    season: str,
    district: str,
    status: Annotated[str | None, Query(description="同审核队列")] = None,
    reason: Annotated[str | None, Query(description="同审核队列")] = None,
    grade: Annotated[str | None, Query(description="同审核队列")] = None,
    category: Annotated[str | None, Query(description="同审核队列")] = None,
    school: Annotated[str | None, Query(description="同审核队列")] = None,
    q: Annotated[str | None, Query(description="同审核队列")] = None,
) -> dict[str, Any]:
    """The queue as the console shows it for the same search and filters, as an `.xlsx` file (masked
    as on screen): `{"file_name", "media_type", "rows", "truncated", "content_base64"}`, at most
    2,000 cases (`truncated` then true). Whoever may read the queue may take it."""
    w = season_wiring(season)
    staff = caller(app)
    params = {"status": status, "reason": reason, "grade": grade, "category": category, "school": school}
    flt = queue_search.queue_filter(
        params | {"q": q}, season=season, schools=w.config.school_index, keyer=w.keyer
    )

    def page(after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        return _queue_rows(w, staff, season, district, review.QueuePage(after, review.QUEUE_PAGE_MAX), flt)

    rows, truncated = views.collect(page)
    name = w.config.district_index[district].name if district in w.config.district_index else district
    day = clock.now().astimezone(w.config.tz).date()
    made = views.workbook(views.QUEUE, name, rows, day, views.queue_summary(w.config, params | {"q": q}))
    logger.info("review queue exported", extra={"district": district, "rows": made["rows"]})
    content = made.pop("content")
    return {**made, "truncated": truncated, "content_base64": base64.b64encode(content).decode()}


Q = Annotated[str | None, Query(description="查找：报名编号、身份证号（或后四位）、监护人手机号或儿童姓名")]
CATEGORY = Annotated[str | None, Query(description="报名类别")]
ORDER = Annotated[str | None, Query(description="排序方向：asc 升序（默认）/ desc 降序")]


def _registrations_view(
    season: str, district: str, params: dict[str, str | None], sort: str | None, order: str | None
) -> DistrictView:
    """The registrations list as its page and its export read it, once the caller may read the district."""
    w = season_wiring(season)
    staff = caller(app)
    require_read(staff, district)
    reads = console_reads(w)[0]
    flt = lists.registration_filter(params, season=season, schools=w.config.school_index, keyer=w.keyer)
    by = search.sort_request(sort, order, lists.REGISTRATION_SORTS)
    take = lists.registration_rows(w.config, flt, reads.verdicts_of)
    return DistrictView(
        w, staff, district, partial(reads.district_registrations, season, district), flt, take, by
    )


@app.get(f"{PREFIX}/districts/<district>/registrations")
def registrations(
    season: str,
    district: str,
    q: Q = None,
    status: Annotated[
        str | None,
        Query(
            description="审核状态：eligible 审核通过 / not-eligible 审核未通过 / review 待人工复核 / pending 待核查"
        ),
    ] = None,
    reason: Annotated[str | None, Query(description="审核原因（如 deed-address-mismatch）")] = None,
    category: CATEGORY = None,
    school: Annotated[str | None, Query(description="志愿学校（学校编号）")] = None,
    sort: Annotated[
        str | None, Query(description=f"排序列：{' / '.join(lists.REGISTRATION_SORTS)}（默认按报名编号）")
    ] = None,
    order: ORDER = None,
) -> dict[str, Any]:
    """The district's registrations, masked (R-DATA-2), with their verification state.

    Paged: `?grade=1|7&limit=1..500&cursor=` (the `next` cursor of the previous page). Searched and
    filtered (`q`, `status`, `reason`, `category`, `school`: enrollment/people/lists.py) keeping those
    pages; sorted by `sort` (`order=asc|desc`), the cursor is then the sorted list's (at most 5,000
    matching registrations are sorted: more, 422 naming `sort`)."""
    params = {"q": q, "status": status, "reason": reason, "category": category, "school": school}
    rows, cursor = district_list(app, _registrations_view(season, district, params, sort, order))
    return {"district": district, "registrations": rows, "next": cursor}


@app.get(f"{PREFIX}/districts/<district>/registrations/export")
def registrations_export(
    season: str,
    district: str,
    grade: Annotated[str | None, Query(description="年级：1 或 7（同报名学生列表）")] = None,
    q: Q = None,
    status: Annotated[str | None, Query(description="同报名学生列表")] = None,
    reason: Annotated[str | None, Query(description="同报名学生列表")] = None,
    category: CATEGORY = None,
    school: Annotated[str | None, Query(description="同报名学生列表")] = None,
    sort: Annotated[str | None, Query(description="同报名学生列表")] = None,
    order: ORDER = None,
) -> dict[str, Any]:
    """The registrations list's current view as an `.xlsx` file: every registration the list gives
    for the same `grade`, search, filters and sort (all its pages), masked as the list is, under the
    sheet's title and the filters in words: `{"file_name", "media_type", "rows", "truncated",
    "content_base64"}`. At most 5,000 rows: more, 422 naming `sort` (sorted) or `q`. Whoever may read
    the list may take it."""
    params = {"q": q, "status": status, "reason": reason, "category": category, "school": school}
    v = _registrations_view(season, district, params, sort, order)
    return district_export(app, v, views.REGISTRATIONS, partial(views.registrations_summary, v.w.config))


@app.post(f"{PREFIX}/registrations/<registration_id>/decisions", responses={201: {"description": "已签字"}})
def decide(season: str, registration_id: str, body: Annotated[DecisionRequest, Body()]) -> Response[str]:
    w = season_wiring(season)
    decision = review.decide(
        w.verification,
        caller(app),
        registration_id,
        body.action,
        body.outcome,
        body.reason,
        clock.now(),
        zone_id=body.zone_id,
        priority_verified=body.priority_verified,
    )
    logger.info("verification decision", extra={"registration_id": registration_id, "action": body.action})
    return json_response(201, decision.model_dump(mode="json"))


@app.get(f"{PREFIX}/decision-presets")
def decision_presets(season: str) -> dict[str, Any]:
    """The preset reasons a clerk picks from when signing several cases at once, and the verification
    reasons the review queue is filtered by, each in Chinese (any staff role)."""
    season_wiring(season)
    caller(app)
    reasons = [{"id": key, "text_zh": text} for key, text in REASON_ZH.items()]
    return {"presets": bulk.presets(), "max_cases": bulk.BULK_MAX, "reasons": reasons}


@app.post(f"{PREFIX}/districts/<district>/decisions")
def decide_many(season: str, district: str, body: Annotated[BulkDecisionRequest, Body()]) -> dict[str, Any]:
    """Sign several of the district's cases at once with one reason (a preset, a note, or both).

    Each case is signed by itself as `POST …/registrations/{id}/decisions` would sign it: its own
    decision record with who, when and why; a case that cannot be signed so (under review and asked
    to be confirmed, another district's, not found) is reported in `results` with why, and the others
    stand. A request wrong as a whole (unknown preset, no reason, an id twice) signs nothing (422)."""
    w = season_wiring(season)
    answer = bulk.decide_many(
        w.verification,
        caller(app),
        district,
        body.registration_ids,
        body.action,
        body.outcome,
        body.preset,
        body.note,
        clock.now(),
    )
    logger.info(
        "verification decisions in bulk",
        extra={
            "district": district,
            "action": body.action,
            "signed": answer["signed"],
            "refused": answer["refused"],
        },
    )
    return answer


@app.get(f"{PREFIX}/registrations/<registration_id>/history")
def history(season: str, registration_id: str) -> dict[str, Any]:
    w = season_wiring(season)
    decisions = review.history(w.verification, caller(app), registration_id)
    return {"registration_id": registration_id, "decisions": [d.model_dump(mode="json") for d in decisions]}


@app.post(
    f"{PREFIX}/districts/<district>/spot-checks/<registration_id>", responses={201: {"description": "已记录"}}
)
def spot_check(
    season: str, district: str, registration_id: str, body: Annotated[SpotCheckRequest, Body()]
) -> Response[str]:
    w = season_wiring(season)
    outcome = spotcheck.record_outcome(
        w.verification,
        caller(app),
        season,
        district,
        registration_id,
        body.outcome,
        body.note,
        clock.now(),
    )
    return json_response(201, outcome.model_dump(mode="json"))


@app.get(f"{PREFIX}/districts/<district>/spot-checks")
def spot_check_summary(season: str, district: str) -> dict[str, Any]:
    w = season_wiring(season)
    staff = caller(app)
    require_read(staff, district)
    summary = spotcheck.district_summary(w.verification, staff, season, district)
    sample = w.verification.spot_check_sample(season, district)
    outcomes = w.verification.spot_checks(season, district)
    return {
        "summary": summary.model_dump(mode="json"),
        "sample": sample.model_dump(mode="json") if sample else None,
        "outcomes": [o.model_dump(mode="json") for o in outcomes],
    }


@app.post(f"{PREFIX}/agencies/<agency>/outbox", responses={201: {"description": "已生成本轮核查请求文件"}})
def agency_outbox(season: str, agency: str) -> Response[str]:
    """A new round of an agency's open requests as files (docs/AGENCY-FILES.md): requests.xlsx,
    requests.csv (GB18030) and manifest.json, each behind a download link for the agency's clerk.
    City staff only; no open request: no round (`round` is null)."""
    w = season_wiring(season)
    exchanged = agency_files.files_agency(w.config, caller(app), agency)
    result = agency_files.write_outbox(
        w.config,
        exchanged,
        store=w.store,
        vstore=w.verification,
        requests=w.file_worklists,
        files=w.work,
        now=clock.now(),
    )
    logger.info("agency outbox written", extra={"agency": exchanged, "rows": result["rows"]})
    return json_response(201, result)


@app.get(f"{PREFIX}/agencies/<agency>/outbox/<round_id>")
def agency_outbox_round(season: str, agency: str, round_id: str) -> dict[str, Any]:
    """A round written before, its download links signed again (a link does not outlive its signer)."""
    w = season_wiring(season)
    exchanged = agency_files.files_agency(w.config, caller(app), agency)
    return agency_files.round_links(w.config, exchanged, round_id, w.work)


@app.post(f"{PREFIX}/agencies/<agency>/answers/parts", responses={201: {"description": "已收到该段"}})
def agency_answer_part(season: str, agency: str, body: Annotated[AnswerPart, Body()]) -> Response[str]:
    """One part of an answer file being uploaded (each request within the API's body limit)."""
    w = season_wiring(season)
    exchanged = agency_files.files_agency(w.config, caller(app), agency)
    try:
        data = base64.b64decode(body.content_base64, validate=True)
    except binascii.Error:
        raise agency_files.AnswerFileRefused(
            "文件内容不是有效的 Base64", "content_base64: not Base64"
        ) from None
    return json_response(
        201, agency_files.put_part(w.config, exchanged, body.upload, body.part, data, w.work)
    )


@app.post(f"{PREFIX}/agencies/<agency>/answers")
def agency_answers(season: str, agency: str, body: Annotated[AnswerUpload, Body()]) -> dict[str, Any]:
    """An agency's answer file (.xlsx, or .csv in GB18030), its uploaded parts joined and checked
    against the file's SHA-256, then read row by row: the good rows are recorded, each bad one reported
    by its row number and column. A file that cannot be read at all is refused (422) and nothing of it
    recorded; the same file uploaded again records nothing twice."""
    w = season_wiring(season)
    exchanged = agency_files.files_agency(w.config, caller(app), agency)
    data = agency_files.joined_parts(w.config, exchanged, body.upload, body.parts, body.sha256, w.work)
    report = agency_files.upload_answer_file(
        w.config,
        exchanged,
        body.name,
        data,
        files=w.work,
        store=w.store,
        vstore=w.verification,
        requests=w.file_worklists,
        now=clock.now(),
    )
    logger.info(
        "agency answer file",
        extra={"agency": exchanged, "recorded": report["recorded"], "problems": len(report["problems"])},
    )
    return report


@app.post("/agency/community/visits", responses={201: {"description": "已记录"}})
def community_visit(body: Annotated[VisitAnswer, Body()]) -> Response[str]:
    """The community office's system answers a requested home visit (R-VER-2: source, time, who)."""
    staff = caller(app)
    if staff.role != "community":
        raise Forbidden("只有街道社区可以提交入户核查结果", "only the community office answers home visits")
    w = wiring()
    result = record_visit(
        w.config,
        body.registration_id,
        body.lives_there,
        f"{staff.principal} {body.visitor} {body.visited_on}",
        store=w.store,
        vstore=w.verification,
        now=clock.now(),
        district=staff.district,
    )
    if result["judged"] and w.store.get_registration(body.registration_id).get("late_registration"):
        # a late child's verdict is in (补录, issue 18): placed by it now, not at the daily seal
        w.late_checks.ask(w.config.season, [body.registration_id])
    return json_response(201, result)


@app.get("/agency/community/visits")
def community_worklist(
    district: Annotated[
        str | None, Query(description="所在区（区代码）；本辖区的街道社区可省略，全市的须指定")
    ] = None,
    limit: Annotated[
        str | None,
        Query(description=f"每页件数，1 到 {visits.VISITS_PAGE_MAX}（默认 {visits.VISITS_PAGE_DEFAULT}）"),
    ] = None,
    cursor: Annotated[str | None, Query(description="上一页答复中的 next（该页最后一件的报名编号）")] = None,
) -> dict[str, Any]:
    """The community office's open home visits (R-VER-2), its own district's only, by registration id:
    each with the address to visit, the child's masked name, when it was requested and the home-visit
    deadline. Answering a visit (POST) takes it off the list."""
    office = visits.office_district(caller(app), district)
    page = review.queue_page_request(cursor, limit)
    w = wiring()
    return visits.visits_page(
        w.verification, w.config, w.store.season_state(w.config.season), office, page.after, page.limit
    )


handler = handler_for(app)
