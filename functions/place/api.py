"""Placement decisions by district staff, before the coordination gate closes (R-DIS-1, R-DEFER-1, R-VER-3).

- `POST /admin/placement/{season}/registrations/{id}/decisions`: `{"kind": "committee" | "defer" |
  "override", "reason", "plan"?, "school_id"?}`; only the child's district signs; kept append-only.
- `GET /admin/placement/{season}/districts/{district}/decisions`: the district's current decisions.
- `POST /admin/placement/{season}/schools/{school}/arrivals`, `GET …/no-shows`: reporting day (R-NOTE-1).
- `GET /admin/placement/{season}/districts/{district}/placements`: the district's children's places.
- `GET /admin/placement/{season}/districts/{district}/placements/export`: the same view as an `.xlsx` file.
- `GET /admin/placement/{season}/districts/{district}/manual-notices`: the district's admission notices
  that could not be drawn (a name character no bundled font has), to issue by hand (R-NOTE-1).
- `GET /admin/placement/{season}/districts/{district}/sms-failures`: the district's admission notice SMS
  (and, with the staff fallback, sign-in codes) that did not reach the family after their sends, to
  phone it; `POST …/sms-failures/{registration_id}/phoned` records who phoned when (issue 17).
- `POST /admin/placement/{season}/corrections`: a correction after the results (issue 18): `{"kind":
  "late-registration" | "re-verification" | "decline" | "committee-plan" | "deferral" | "override" |
  "transfer", "reason", ...}`; the child's district (the city: any) only, computed by placement's rules
  and the whole season self-checked before it is written (`enrollment.corrections.season`); answers
  the correction and each seat it passed on; a late registration's agency checks are then asked by
  the verify-batch function (asynchronously), which places the child by its verdict
  (`enrollment.corrections.late`). `GET …/districts/{district}/corrections`: the district's.
  A correction answering a complaint names it (`complaint_id`: the season's, about the same child).
- `GET /admin/placement/{season}/districts/{district}/notices/{registration_id}/codes/{code}`: a
  school checks a notice of the district's schools: valid, or revoked by a correction and replaced by
  the notice of a given date (issue 18), or not the district's.
  `POST …/corrections/seal`: city staff seal the pending corrections now, as the daily 03:00 run
  would (the seal function's `seal-corrections` task, invoked: `enrollment.adapters.sealer` says why);
  answers the batches sealed, each with its number and count, and the chain's head.
- `GET /admin/placement/{season}/archive`: the sealed archive's files with short-lived download links,
  and the season report (`reports/{season}/report.html`) once the workflow has written it.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator

from enrollment.adapters.console_reads import console_reads
from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring, wiring
from enrollment.core import clock
from enrollment.core.ports import NotFound
from enrollment.core.staff import Forbidden, StaffError, StaffMember, require_decide, require_read
from enrollment.corrections import season as corrections
from enrollment.corrections.model import Correction
from enrollment.exports import views
from enrollment.notices import corrected as corrected_notices
from enrollment.people import console, lists
from enrollment.people import sms_failures as sms_failures_room
from enrollment.placement import place
from enrollment.registration.form import RegistrationRefused
from enrollment.report import report_key
from enrollment.term import reporting
from enrollment.verification import search
from functions.api import (
    DistrictView,
    caller,
    district_export,
    district_list,
    handler_for,
    json_response,
    refusal,
    season_wiring,
    staff_resolver,
)

app = staff_resolver()
PREFIX = "/admin/placement/<season>"
LINK_SECONDS = 300  # archive download links: five minutes


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: place.DecisionKind = Field(description="committee 专家委员会安置 / defer 缓学 / override 调整")
    reason: str = Field(min_length=2, max_length=500, description="理由（谁审谁签字）")
    plan: place.CommitteePlan | None = Field(default=None, description="随班就读 / 特教学校 / 送教上门")
    school_id: str | None = None


@app.post(f"{PREFIX}/registrations/<registration_id>/decisions", responses={201: {"description": "已录入"}})
def decide(season: str, registration_id: str, body: Annotated[DecisionRequest, Body()]) -> Response[str]:
    w = season_wiring(season)
    staff = caller(app)  # first: nobody unknown learns whether an id exists
    try:
        item = w.store.get_registration(registration_id)
    except NotFound:
        raise StaffError("未找到该报名编号", "no such registration") from None
    require_decide(staff, str(item["district"]))  # whose child, before anything about its state
    # placement is done once placements.jsonl is archived: the children's places are then stored by
    # the workflow's StorePlacements Map, chunk by chunk, so a child's own place may not be there yet
    _, archived = console_reads(w)
    if w.placements.placed(registration_id) is not None or archived.exists(
        f"seasons/{season}/placements.jsonl"
    ):
        raise place.DecisionRefused("安置结果已经公布，不能再录入", "placement has run; decisions are closed")
    made = place.decision(
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


@app.exception_handler(RegistrationRefused)
def _late_form_refused(e: RegistrationRefused) -> Response[str]:
    """A late registration's form, refused by the form's own checks: each field named, as the form's."""
    return refusal(e.status, e.violations)


@app.post(f"{PREFIX}/corrections", responses={201: {"description": "已更正"}})
def correct(season: str, body: Annotated[corrections.CorrectionRequest, Body()]) -> Response[str]:
    """A correction after the results, with the seats it passed on (each its own correction)."""
    w = season_wiring(season)
    staff = caller(app)
    if body.complaint_id is not None:
        _answers_complaint(w, season, body, staff)
    made = corrections.correct_all(
        w.config,
        staff,
        body,
        archive=w.archive,
        corrections=w.corrections,
        registrations=w.store,
        verdicts=w.verification,
        lotteries=w.lotteries,
        tie_breaks=w.placements,
        keyer=w.keyer,
        now=clock.now().astimezone(w.config.tz),
        verified=w.verification,
    )
    logger.info(
        "placement corrected",
        extra={"kind": body.kind, "corrections": [c.correction_id for c in made], "role": staff.role},
    )
    answer: dict[str, Any] = {"season": season, "corrections": [c.model_dump(mode="json") for c in made]}
    if body.kind == "late-registration":  # verified as the season's were, placed by its verdict once in
        answer["checks_asked"] = _ask_late_checks(w, season, made[0].changes[0].registration_id)
    return json_response(201, answer)


def _ask_late_checks(w: Wiring, season: str, registration_id: str) -> bool:
    """Have a late child's checks asked; False when the ask could not be sent. The correction is
    written by then and stands: the clerk is told it was recorded, and the daily seal asks again for
    every late child whose checks were never asked (`enrollment.corrections.late.unasked`)."""
    try:
        w.late_checks.ask(season, [registration_id])
    except Exception:  # the invoke's own retries spent: never a 5xx over a correction that is written
        logger.exception("late registration's checks not asked", extra={"registration_id": registration_id})
        return False
    return True


def _answers_complaint(w: Any, season: str, body: corrections.CorrectionRequest, staff: StaffMember) -> None:
    """A correction answering a complaint names one of the season's complaints about its own child
    (a late registration has no complaint: its child was not registered). The complaint's answer
    then links back to the correction (functions/complaints/api.py)."""
    found = w.complaints.complaint(body.complaint_id)
    if found is not None:  # whose it is first: another district learns nothing of it
        corrections.may_correct(staff, found.district)
    if found is None or found.season != season:
        raise corrections.CorrectionRefused(
            "未找到该投诉申诉（complaint_id）", "complaint_id: no such complaint of the season"
        )
    if body.kind == "late-registration" or found.registration_id != body.registration_id:
        raise corrections.CorrectionRefused(
            "该投诉申诉不是关于本次更正的儿童的（complaint_id）",
            "complaint_id: the complaint is about another child",
        )


@app.post(f"{PREFIX}/corrections/seal", responses={200: {"description": "已封存（或没有待封存的更正）"}})
def seal_corrections(season: str) -> dict[str, Any]:
    """The pending corrections sealed now as the next batch(es) of the season's signed chain, by the
    city bureau only (the chain is the whole city's; districts wait for the daily run)."""
    w = season_wiring(season)
    staff = caller(app)
    if staff.role != "city":
        raise Forbidden(
            "只有市教育局可以立即封存更正（各区的更正每日凌晨3时自动封存）",
            "forbidden: only the city bureau seals the corrections on demand",
        )
    sealed = w.sealer.seal_corrections(season)
    logger.info("corrections sealed on demand", extra={"actor": staff.principal, **sealed})
    # the chain's head (`NNNN:sha256` of the last batch's manifest) is what a bureau publishes so an
    # auditor can tell the last batch was not withheld (docs/ARCHIVE.md); the daily task's other work
    # (late children settled, class amendments) is the seal's log, not this answer
    keys = ("season", "sealed", "batches", "corrections", "head")
    return {k: sealed[k] for k in keys if k in sealed}


@app.get(f"{PREFIX}/districts/<district>/corrections")
def corrections_list(season: str, district: str) -> dict[str, Any]:
    """The district's corrections in the order written, each marked sealed or not (its staff, the
    city and auditors read them)."""
    w = season_wiring(season)
    require_read(caller(app), district)
    pending = {c.correction_id for c in w.corrections.pending_corrections(season)}
    return {
        "season": season,
        "district": district,
        "corrections": [
            c.model_dump(mode="json") | {"sealed": c.correction_id not in pending}
            for c in w.corrections.corrections(season)
            if c.district == district or any(ch.registration_id in _of(w, district, c) for ch in c.changes)
        ],
    }


def _of(w: Any, district: str, c: Correction) -> set[str]:
    """A city correction across districts (district None): its children of `district`."""
    if c.district is not None:
        return set()
    found = w.store.get_registrations([ch.registration_id for ch in c.changes])
    return {rid for rid, item in found.items() if item.get("district") == district}


@app.get(f"{PREFIX}/districts/<district>/decisions")
def decisions(season: str, district: str) -> dict[str, Any]:
    w = season_wiring(season)
    require_read(caller(app), district)
    return {
        "district": district,
        "decisions": [vars(d) for d in w.placements.decisions(season, district).values()],
    }


def _placements_view(
    season: str, district: str, params: dict[str, str | None], sort: str | None, order: str | None
) -> DistrictView:
    """The placements list as its page and its export read it: the caller may read the district, and
    placement has run (else 409)."""
    w = season_wiring(season)
    staff = caller(app)
    require_read(staff, district)
    reads, archived = console_reads(w)
    flt = lists.placement_filter(params, season=season, schools=w.config.school_index, keyer=w.keyer)
    by = search.sort_request(sort, order, lists.PLACEMENT_SORTS)
    if not archived.exists(f"seasons/{season}/placements.jsonl"):
        raise console.NotYet("录取结果尚未产生：统筹安排阶段结束后统一安置", "placement has not run yet")
    take = lists.placement_rows(w.config, flt, reads.placed_of)
    return DistrictView(
        w, staff, district, partial(reads.district_registrations, season, district), flt, take, by
    )


@app.get(f"{PREFIX}/districts/<district>/placements")
def placements(
    season: str,
    district: str,
    q: Annotated[
        str | None, Query(description="查找：报名编号、身份证号（或后四位）、监护人手机号或儿童姓名")
    ] = None,
    status: Annotated[
        str | None, Query(description="录取途径（如 catchment 划片入学、coordination 统筹安排）")
    ] = None,
    reason: Annotated[str | None, Query(description="统筹安排原因（如 catchment-overflow）")] = None,
    category: Annotated[str | None, Query(description="报名类别")] = None,
    school: Annotated[str | None, Query(description="录取学校（学校编号）")] = None,
    sort: Annotated[
        str | None, Query(description=f"排序列：{' / '.join(lists.PLACEMENT_SORTS)}（默认按报名编号）")
    ] = None,
    order: Annotated[str | None, Query(description="排序方向：asc 升序（默认）/ desc 降序")] = None,
) -> dict[str, Any]:
    """Where the district's children are placed and why (R-COORD-1), masked (R-DATA-2); after placement.

    Paged like the registrations: `?grade=1|7&limit=1..500&cursor=`; searched, filtered (`status` is
    the route) and sorted like them (enrollment/people/lists.py)."""
    params = {"q": q, "status": status, "reason": reason, "category": category, "school": school}
    rows, cursor = district_list(app, _placements_view(season, district, params, sort, order))
    return {"district": district, "placements": rows, "next": cursor}


@app.get(f"{PREFIX}/districts/<district>/placements/export")
def placements_export(
    season: str,
    district: str,
    grade: Annotated[str | None, Query(description="年级：1 或 7（同安置结果列表）")] = None,
    q: Annotated[str | None, Query(description="同安置结果列表")] = None,
    status: Annotated[str | None, Query(description="同安置结果列表（录取途径）")] = None,
    reason: Annotated[str | None, Query(description="同安置结果列表")] = None,
    category: Annotated[str | None, Query(description="同安置结果列表")] = None,
    school: Annotated[str | None, Query(description="同安置结果列表")] = None,
    sort: Annotated[str | None, Query(description="同安置结果列表")] = None,
    order: Annotated[str | None, Query(description="同安置结果列表")] = None,
) -> dict[str, Any]:
    """The placements list's current view as an `.xlsx` file: every child the list gives for the
    same `grade`, search, filters and sort (all its pages), masked as the list is, under the sheet's
    title and the filters in words; answered as the registrations' export is (at most 5,000 rows:
    more, 422 naming `sort` or `q`). After placement; whoever may read the list may take it."""
    params = {"q": q, "status": status, "reason": reason, "category": category, "school": school}
    v = _placements_view(season, district, params, sort, order)
    return district_export(app, v, views.PLACEMENTS, partial(views.placements_summary, v.w.config))


@app.get(f"{PREFIX}/districts/<district>/manual-notices")
def manual_notices(season: str, district: str) -> dict[str, Any]:
    """The district's children whose admission notice the batch could not draw (R-NOTE-1): the bureau
    issues these by hand. Each names the registration, the school, the verification code, the reason
    and the characters' code points (no name: the bureau looks the child up by registration id)."""
    w = season_wiring(season)
    require_read(caller(app), district)
    return {"district": district, "notices": w.notices.manual_notices(season, district)}


@app.get(f"{PREFIX}/districts/<district>/notices/<registration_id>/codes/<code>")
def notice_check(season: str, district: str, registration_id: str, code: str) -> dict[str, Any]:
    """A school checks an admission notice of one of the district's schools by its registration id and
    verification code (R-NOTE-1; any case, with or without the hyphen): valid (the school), revoked by
    a correction (since when, and the date of the notice that replaced it: issue 18) or not a notice
    of the district's. The district's own staff, the city and auditors; nothing is written."""
    w = season_wiring(season)
    require_read(caller(app), district)
    answer = corrected_notices.check(w.config, district, registration_id, code, store=w.notices)
    logger.info("notice checked", extra={"district": district, "status": answer["status"]})
    return {"season": season, "district": district, "registration_id": registration_id, **answer}


@app.get(f"{PREFIX}/districts/<district>/sms-failures")
def sms_failures(season: str, district: str) -> dict[str, Any]:
    """The district's SMS that did not reach the family after their sends: the child (masked), the
    school, the phone to call, the sends, the last error in Chinese, and whether someone phoned (the
    district's own staff, the city, auditors). Beside the manual notices: both are families the
    district reaches by hand."""
    w = season_wiring(season)
    staff = caller(app)
    require_read(staff, district)
    found = sms_failures_room.rows(w.config, w.sms_messages.failures(season, district), w.store)
    may_mark = staff.role == "district" and staff.district == district
    return {"season": season, "district": district, "may_mark_phoned": may_mark, "failures": found}


class PhonedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: Literal["notice", "code"] = Field(description="notice 录取通知短信 / code 查询验证码短信")


@app.post(f"{PREFIX}/districts/<district>/sms-failures/<registration_id>/phoned")
def sms_failure_phoned(
    season: str, district: str, registration_id: str, body: Annotated[PhonedRequest, Body()]
) -> dict[str, Any]:
    """Record that the district's staff phoned the family (who and when), once."""
    w = season_wiring(season)
    marked = sms_failures_room.mark_phoned(
        caller(app),
        season,
        district,
        registration_id,
        body.purpose,
        store=w.sms_messages,
        now=clock.now(),
        tz=w.config.tz,
    )
    logger.info(
        "sms failure marked phoned",
        extra={"registration_id": registration_id, "district": district, "purpose": body.purpose},
    )
    [row] = sms_failures_room.rows(w.config, [marked], w.store)
    return row


@app.get(f"{PREFIX}/archive")
def archive(season: str) -> dict[str, Any]:
    """The sealed archive (R-OPEN-1): its manifest's files, the signature and the public key, each with
    a five-minute download link; the sunshine classes' addition once it is sealed too."""
    w = season_wiring(season)
    if caller(app).role not in ("district", "city", "auditor"):
        raise Forbidden("无权查看归档", "forbidden: the archive is for bureau staff and auditors")

    def link(key: str) -> str:
        return console_reads(w)[1].link(key, LINK_SECONDS)

    prefix = f"seasons/{season}/"
    out = console.archive_listing(prefix, w.archive.get(prefix + "manifest.json"), link, LINK_SECONDS)
    classes = f"additions/{season}/classes/"
    manifest = w.archive.get(classes + "manifest.json")
    out["additions"] = [console.archive_listing(classes, manifest, link, LINK_SECONDS)] if manifest else []
    out["summary"] = console.placement_summary(w.config, w.archive.get(prefix + "placements.jsonl"))
    report = report_key(season)  # the season report (招生季报告), beside the archive once written
    out["report"] = (
        {"key": report, "title_zh": "招生季报告", "url": link(report)}
        if console_reads(w)[1].exists(report)
        else None
    )
    return {"season": season, **out}


class NoticeArrival(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registration_id: str = Field(
        pattern=r"^R(-[A-Z2-7]{4}){4}$", description="通知书上的报名编号（R-XXXX-XXXX-XXXX-XXXX）"
    )
    code: str = Field(
        min_length=1, max_length=20, description="通知书上的核验码（不分大小写，可带或不带连字符）"
    )

    @field_validator("registration_id", mode="before")
    @classmethod
    def _as_printed(cls, value: object) -> object:
        """As printed on the notice whatever the case typed or scanned."""
        return value.strip().upper() if isinstance(value, str) else value


class ArrivalsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    registration_ids: list[str] | None = Field(
        default=None, min_length=1, max_length=500, description="已持通知书报到的学生报名编号"
    )
    notices: list[NoticeArrival] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="报到学生的通知书（报名编号与核验码）：逐份核验后登记报到（与 registration_ids 二选一）",
    )


def _placement_done(season: str) -> None:
    """Reporting day needs the published places: refused before placement has run."""
    if not console_reads(wiring())[1].exists(f"seasons/{season}/placements.jsonl"):
        raise place.DecisionRefused("录取结果尚未公布", "placement has not run")


@app.post(f"{PREFIX}/schools/<school_id>/arrivals", responses={201: {"description": "已登记报到"}})
def arrivals(season: str, school_id: str, body: Annotated[ArrivalsRequest, Body()]) -> Response[str]:
    """Reporting day (R-NOTE-1): the school's children who came with their notice, recorded once.

    Either `registration_ids` (all refused when one is not the school's) or `notices`, each a notice's
    registration id and code as typed or scanned at the desk: each checked as `GET …/notices/{id}/codes/
    {code}` checks it and recorded in the same step, or refused with why (`results`: a wrong code, a
    revoked notice, another school's child, reported already), nothing recorded for a refused one."""
    w = season_wiring(season)
    staff = caller(app)
    if (body.registration_ids is None) == (body.notices is None):
        raise reporting.ArrivalRefused(
            "请提交 registration_ids 或 notices 其中之一", "body: exactly one of registration_ids and notices"
        )
    _placement_done(season)
    at = clock.now().astimezone(w.config.tz).isoformat()
    if body.notices is not None:
        district = reporting.school_of(w.config, school_id, staff).district  # before any read
        rows = [(n.registration_id, n.code) for n in body.notices]
        ids = [rid for rid, _ in rows]

        def check(rid: str, code: str) -> dict[str, Any]:
            return corrected_notices.check(w.config, district, rid, code, store=w.notices)

        out = reporting.mark_notices(
            w.config,
            season,
            school_id,
            rows,
            check,
            w.placements.placed_at(ids),
            w.store.get_registrations(ids),
            staff=staff,
            store=w.placements,
            at=at,
        )
        logger.info(
            "arrivals by notice",
            extra={"school_id": school_id, **{k: out[k] for k in ("arrived", "already", "refused")}},
        )
        return json_response(201, out)
    out = reporting.mark_arrivals(
        w.config,
        season,
        school_id,
        body.registration_ids or [],
        w.placements.placed_at(body.registration_ids or []),  # these children's places, not the season's
        staff=staff,
        store=w.placements,
        at=at,
    )
    return json_response(201, out)


@app.get(f"{PREFIX}/schools/<school_id>/no-shows")
def missing(season: str, school_id: str) -> dict[str, Any]:
    """Children placed at the school who have not reported: the school follows them up. With the
    school's arrivals so far (the reporting-day screen's list: who, when), each child named as
    published lists do (张*明), and the counts."""
    w = season_wiring(season)
    school = w.config.school_index.get(school_id)
    require_read(caller(app), school.district if school else "")
    _placement_done(season)
    placed = w.placements.placed_at_school(season, school_id)
    came = w.placements.arrival_times(season, school_id)
    absent = reporting.no_shows(placed, set(came))
    names = reporting.child_names(w.store.get_registrations([*absent, *came]))
    arrived = sorted(came.items(), key=lambda a: (a[1], a[0]), reverse=True)
    return {
        "school_id": school_id,
        "school_name": school.name if school else None,
        "no_shows": absent,
        "missing": [{"registration_id": rid, "child_name": names.get(rid, "")} for rid in absent],
        "arrived": [
            {"registration_id": rid, "child_name": names.get(rid, ""), "at": at} for rid, at in arrived
        ],
        "counts": {"placed": len(placed), "arrived": len(came), "no_shows": len(absent)},
        "today": clock.now().astimezone(w.config.tz).date().isoformat(),
    }


handler = handler_for(app)
