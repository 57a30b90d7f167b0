"""The family's routes after registration: SMS code, session, status, notice, decline, complaints.

A lost registration id is recovered with the child's ID number (`/api/recovery/code`, then
`/api/recovery/session` with the code): the id is derived from the number as at registration, so the
answers, limits and caps are exactly those of the id's own code and session routes, and tell nothing
about whether the child is registered; the code SMS, to the phones given at registration, names the id.

Everything about one child needs that child's parent session (`Authorization: Bearer <token>`),
issued for a one-time SMS code (enrollment/people/parents.py). The child's ID number proves nothing
after registration (it is guessable from a masked one): a body that carries one is refused like any
request without a session. Every refusal about who the caller is is one uniform 401; every proof
(code request, code, token) is counted per client (its source IP) and per registration id, and a
client past its limits is answered 429 with `Retry-After` (`parents.admit`, `count_failure`).

Code SMS are capped (enrollment/core/sms_caps.py): every cap that refuses a code is logged (the phone
masked) and counted as `SmsCapReached` with its `cap` (registration, client, phone, global) for the
alarms (infra/observability.py). Which caps answer 429 and which do not is decided in `send_code`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from enrollment.adapters.observability import count_metric, logger, mask_text, metrics
from enrollment.adapters.wiring import wiring
from enrollment.core import clock, idcard, sms_caps, sms_delivery
from enrollment.core.ports import NotFound
from enrollment.corrections.family import place_history
from enrollment.lottery import ceremony
from enrollment.notices.corrected import family_notice
from enrollment.notices.notice import format_code
from enrollment.people import complaints, family, parents
from enrollment.people.headline import headline
from enrollment.placement import routes
from enrollment.registration import changes, registrar
from enrollment.registration.demand import WITHDRAWN
from enrollment.registration.form import RegistrationRefused, RegistrationRequest, Violation
from functions.api import json_response

RECOVERY_SENT_ZH = (
    "若该儿童已报名，验证码已发送至报名时登记的监护人手机（短信中写有报名编号），10分钟内有效。"
)
router = APIGatewayRouter()  # type: ignore[no-untyped-call]
RegistrationId = Annotated[str, PathParam(pattern=r"^R(-[A-Z2-7]{4}){4}$")]
SESSION: list[dict[str, list[str]]] = [
    {"parentSession": []}
]  # OpenAPI: these routes take the parent session's bearer token


class CodeSentResponse(BaseModel):
    message: str
    message_en: str
    expires_in: int
    resend_after: int


class SessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\d{6}$", description="短信验证码（6位数字）")


# Unknown fields are let through validation only to be refused after the session check (`_family`):
# an old client's `id_number` then gets the same 401 as any request without a session, not a 422
# that would tell it apart. The published schema stays closed.
_CLOSED = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": False})


class RecoveryCodeRequest(BaseModel):
    """A lost registration id: the child's ID number, to which the id is derived (never looked up)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id_type: Literal["resident-id", "passport"] = Field(default="resident-id", description="儿童证件类型")
    id_number: str = Field(min_length=5, max_length=18, description="儿童身份证号或护照号（报名时填写的）")

    @field_validator("id_number")
    @classmethod
    def _well_formed(cls, number: str, info: ValidationInfo) -> str:
        """One spelling per number, as at registration, and a number that can be one at all."""
        folded = idcard.fold(number)
        try:
            if info.data.get("id_type") == "passport":
                idcard.parse_passport(folded)
            else:
                idcard.parse(folded)
        except idcard.IdNumberError as e:
            raise ValueError(e.message_zh) from None
        return folded


class RecoverySessionRequest(RecoveryCodeRequest):
    code: str = Field(pattern=r"^\d{6}$", description="短信验证码（6位数字）")


class DeclineRequest(BaseModel):
    model_config = _CLOSED
    reason: str = Field(default="", max_length=200, description="放弃原因（可不填）")


class NoticeRequest(BaseModel):
    model_config = _CLOSED


class WithdrawRequest(BaseModel):
    """Withdrawing the registration (issue 19): served through `{registration_id}/{proxy+}` with no
    model of its own (infra/api.py PROXY_BODY_ROUTES), so everything here is checked here."""

    model_config = _CLOSED
    confirm: bool = Field(default=False, description="确认撤回本次报名（须为 true）")
    reason: str | None = Field(default=None, max_length=200, description="撤回原因（可不填，200字以内）")


def _family(registration_id: str, body: BaseModel) -> None:
    """The caller is the child's family by its parent session, and nothing else. The child's ID number
    is no proof (it was, once): sent without a session it is counted as a failed proof and refused
    like a bad session; any field the model does not name is refused after the session check."""
    extra = dict(body.model_extra or {})
    if "id_number" in extra and parents.bearer(router.current_event.headers.get("Authorization")) is None:
        client = client_ip()
        parents.admit(client, store=wiring().parents, now=clock.now())
        _failed(client, registration_id, "id number")
        raise parents.NotAuthenticated
    _session(registration_id)
    if extra:
        raise RegistrationRefused(
            [
                Violation(
                    name, "R-DATA-1", f"未知字段“{name}”，不予接收", f"unknown field {name!r} is not accepted"
                )
                for name in sorted(extra)
            ],
            status=422,
        )


def client_ip() -> str:
    """The caller's address as API Gateway saw it (`requestContext.identity.sourceIp`)."""
    identity = router.current_event.request_context.identity
    return str(identity.source_ip or "unknown")


def _session(registration_id: str) -> parents.ParentSession:
    """The parent session of the request's bearer token. A token presented is a proof: a locked-out
    client gets 429, a bad token counts against the client and the registration id."""
    w = wiring()
    authorization = router.current_event.headers.get("Authorization")
    if parents.bearer(authorization) is None:
        raise parents.NotAuthenticated  # no proof at all: nothing to count
    now, client = clock.now(), client_ip()
    parents.admit(client, store=w.parents, now=now)
    try:
        return parents.authenticate(
            registration_id, authorization, store=w.parents, secret=w.parent_secret, now=now
        )
    except parents.NotAuthenticated:
        _failed(client, registration_id, "session token")
        raise


def _failed(client: str, registration_id: str, proof: str) -> None:
    w = wiring()
    locked = parents.count_failure(client, registration_id, store=w.parents, now=clock.now())
    if locked:
        logger.warning(
            "parent proofs locked out",
            extra={"client_ip": client, "registration_id": registration_id, "proof": proof},
        )
        metrics.add_metric(name="ParentProofLockout", unit="Count", value=1)
    else:
        logger.info("parent proof refused", extra={"registration_id": registration_id, "proof": proof})


@router.post(
    "/api/registrations/<registration_id>/code",
    summary="获取查询验证码（短信发送至报名时登记的监护人手机）",
    responses={
        202: {"description": "若报名编号正确，验证码已发送"},
        429: {"description": "发送过于频繁，或验证码短信暂停发送"},
    },
)
def send_code(registration_id: RegistrationId) -> Response[str]:
    return _send_code(registration_id)


def _send_code(registration_id: str, sent_zh: str = parents.CODE_SENT_ZH) -> Response[str]:
    """How each cap answers, and why:
    - client (its source IP asked for too many codes) and registration (this id asked too soon or too
      often): 429 with Retry-After, as before; the same for every id, so they reveal nothing;
    - global (the season's code SMS of the last hour at their cap): 429 with Retry-After, checked
      before the id is looked up, so the same for every id; the caller can do nothing but wait, and
      a 202 would have them wait for a code that never comes;
    - phone (a phone past its codes per hour or per day): the same 202 as any other request, the
      phone skipped. A 429 there would tell a stranger that the id exists and names a phone being
      flooded, and would let a flood of fake registrations shut the family out of its own code; a
      parent who gets no code asks again later, as the 202's text already allows for.
    """
    w = wiring()
    now = clock.now()
    try:
        parents.count_code_request(client_ip(), store=w.parents, now=now)
    except parents.RateLimited:
        _cap_reached(sms_caps.CLIENT, registration_id)
        raise
    try:
        item = w.store.get_registration(registration_id)
        phones: list[str] | None = parents.guardian_phones(item)
        district = str(item.get("district", ""))
    except NotFound:
        phones, district = None, ""  # the same answer and the same limit as for a registration that exists
    try:
        result = parents.request_code(
            registration_id,
            phones,
            store=w.parents,
            sms=w.sms,
            secret=w.parent_secret,
            caps=w.code_caps,
            now=now,
            tracking=w.sms_tracking,  # each code SMS recorded; a failed one as the season's fallback says
            season=w.config.season,
            district=district,
        )
    except parents.RateLimited:
        _cap_reached(sms_caps.REGISTRATION, registration_id)
        raise
    except sms_caps.CircuitOpen as e:
        _cap_reached(sms_caps.GLOBAL, registration_id, sent_within_hour=e.sent)
        raise
    for cap, phone in result.capped:
        _cap_reached(cap, registration_id, phone=phone)
    logger.info("parent code requested", extra={"sms_sent": result.sent, "sms_failed": result.failed})
    for _ in range(result.failed):
        count_metric(sms_delivery.METRIC_FAILED, {sms_delivery.PURPOSE_DIMENSION: sms_delivery.CODE})
    message, message_en = parents.code_answer(w.config, result, district)
    message = message.replace(parents.CODE_SENT_ZH, sent_zh)  # the recovery's words for the same answer
    body = CodeSentResponse(
        message=message,
        message_en=message_en,
        expires_in=int(parents.CODE_TTL.total_seconds()),
        resend_after=int(parents.RESEND_AFTER.total_seconds()),
    )
    return json_response(202, body.model_dump())


def _cap_reached(cap: str, registration_id: str, *, phone: str | None = None, **extra: int) -> None:
    """Log a code a cap refused (the phone masked) and count it as `SmsCapReached`, by cap and season."""
    fields: dict[str, object] = {"cap": cap, "registration_id": registration_id, **extra}
    if phone is not None:
        fields["phone"] = mask_text(phone)
    if cap == sms_caps.GLOBAL:
        logger.error("sms circuit open: the season's code SMS of the hour are at their cap", extra=fields)
    else:
        logger.warning("sms cap reached", extra=fields)
    count_metric("SmsCapReached", {"cap": cap})


@router.post(
    "/api/registrations/<registration_id>/session",
    summary="凭短信验证码登录（只能查看该名儿童）",
    responses={
        200: {"description": "token（Bearer）与有效秒数"},
        401: {"description": "验证码不正确或已失效"},
        429: {"description": "尝试次数过多，请稍后再试"},
    },
)
def open_session(registration_id: RegistrationId, body: Annotated[SessionRequest, Body()]) -> dict[str, Any]:
    return _open_session(registration_id, body.code, "sms code")


def _open_session(registration_id: str, code: str, proof: str) -> dict[str, Any]:
    w = wiring()
    client = client_ip()
    parents.admit(client, store=w.parents, now=clock.now())
    try:
        token, session = parents.open_session(
            registration_id, code, store=w.parents, secret=w.parent_secret, now=clock.now()
        )
    except parents.NotAuthenticated:
        _failed(client, registration_id, proof)
        raise
    return {
        "token": token,
        "token_type": "Bearer",
        "expires_in": int((session.expires_at - session.created_at).total_seconds()),
        "registration_id": registration_id,
    }


def _recovered_id(body: RecoveryCodeRequest) -> str:
    """The registration id the child's ID number gives this season: derived as at registration
    (registrar.registration_id), so nothing is looked up and no answer depends on whether it exists."""
    w = wiring()
    return registrar.registration_id(w.keyer.child_key(w.config.season, body.id_type, body.id_number))


@router.post(
    "/api/recovery/code",
    summary="找回报名编号：凭儿童证件号获取短信验证码（短信中含报名编号）",
    responses={
        202: {"description": "若该儿童已报名，验证码已发送至报名时登记的监护人手机"},
        429: {"description": "发送过于频繁，或验证码短信暂停发送"},
    },
)
def recovery_code(body: Annotated[RecoveryCodeRequest, Body()]) -> Response[str]:
    """The code request of the registration the ID number gives: the same answer, limits and caps as
    `send_code` (an ID number never registered gets the same 202), and the code SMS names the id."""
    return _send_code(_recovered_id(body), RECOVERY_SENT_ZH)


@router.post(
    "/api/recovery/session",
    summary="找回报名编号：凭儿童证件号和短信验证码登录",
    responses={
        200: {"description": "报名编号、token（Bearer）与有效秒数"},
        401: {"description": "验证码不正确或已失效"},
        429: {"description": "尝试次数过多，请稍后再试"},
    },
)
def recovery_session(body: Annotated[RecoverySessionRequest, Body()]) -> dict[str, Any]:
    """The registration id and a session for it, for the right code: one 401 for any wrong code,
    registered or not, counted against the client and the id as `open_session`'s are."""
    return _open_session(_recovered_id(body), body.code, "recovery code")


@router.delete(
    "/api/registrations/<registration_id>/session",
    summary="退出登录",
    responses={204: {"description": "已退出"}},
    security=SESSION,
)
def end_session(registration_id: RegistrationId) -> Response[str]:
    w = wiring()
    w.parents.end_session(_session(registration_id).token_hash)
    return Response(204, None, "")


@router.get(
    "/api/registrations/<registration_id>",
    summary="查询报名和录取进度（须先凭短信验证码登录）",
    security=SESSION,
)
def read(registration_id: RegistrationId) -> dict[str, Any]:
    session = _session(registration_id)
    w = wiring()
    item = w.store.get_registration(registration_id)
    answer = registrar.receipt(item, w.config)
    answer["verification"] = family.verification_view(
        w.config,
        item,
        w.verification.checks(registration_id),
        w.verification.verdict(registration_id),
        clock.now(),
    )
    answer["lottery"] = ceremony.family_view(w.config, w.lotteries, registration_id)
    placed = w.placements.placed(registration_id)
    answer["placement"] = routes.family_view(w.config, placed)
    # the place over time: the results', then each correction's, with the day and why (issue 18)
    answer["placement_history"] = (
        place_history(w.config, placed, w.correction_reads.corrections_of_child(registration_id))
        if placed
        else []
    )
    # a manual notice is issued by hand by the district bureau: None here
    answer["notice"] = family_notice(w.config, w.notices.notice(registration_id))
    # the line at the top: the furthest stage reached, never "待审核" beside a placed child's cards
    answer.update(headline(answer["verification"], answer["lottery"], answer["placement"], answer["notice"]))
    if item.get("status") == WITHDRAWN:  # withdrawn by the family (issue 19): no later stage follows
        answer.update(stage=WITHDRAWN, status_zh=registrar.STATUS_ZH[WITHDRAWN])
    answer["session_expires_at"] = session.expires_at.isoformat()
    return answer


@router.get(
    "/api/registrations/<registration_id>/form",
    summary="读取报名表：报名时间内可修改或撤回（须先凭短信验证码登录）",
    security=SESSION,
)
def read_form(registration_id: RegistrationId) -> dict[str, Any]:
    _session(registration_id)
    w = wiring()
    return changes.form_view(registration_id, config=w.config, now=clock.now(), store=w.store)


@router.put(
    "/api/registrations/<registration_id>",
    summary="修改报名信息（仅限本年级报名时间内；儿童身份证号和年级不能修改）",
    responses={
        200: {"description": "已修改，并记录修改了哪些项"},
        401: {"description": "未登录或登录已失效"},
        409: {"description": "报名已截止或已撤回，不能修改"},
    },
    security=SESSION,
)
def edit(registration_id: RegistrationId, body: Annotated[RegistrationRequest, Body()]) -> dict[str, Any]:
    """The whole form again, every rule checked again (the body has no API Gateway model here:
    PROXY_BODY_ROUTES, infra/api.py; the pydantic model refuses a bad one, 422 naming the field)."""
    _session(registration_id)
    w = wiring()
    answer = changes.edit(
        registration_id, body, config=w.config, now=clock.now(), store=w.store, keyer=w.keyer
    )
    fields = answer["changes"][-1].get("fields", []) if answer["changes"] else []
    logger.info("registration edited", extra={"registration_id": registration_id, "fields": fields})
    return answer


@router.post(
    "/api/registrations/<registration_id>/withdraw",
    summary="撤回报名（仅限本年级报名时间内；撤回后报名时间内可重新报名）",
    responses={
        200: {"description": "已撤回"},
        401: {"description": "未登录或登录已失效"},
        409: {"description": "报名已截止或已撤回"},
    },
    security=SESSION,
)
def withdraw(registration_id: RegistrationId, body: Annotated[WithdrawRequest, Body()]) -> dict[str, Any]:
    _family(registration_id, body)
    if body.confirm is not True:
        raise RegistrationRefused(
            [
                Violation(
                    "confirm",
                    "R-REG-1",
                    "请确认撤回本次报名：撤回后本次报名不再参加审核、摇号和派位",
                    "confirm must be true to withdraw",
                )
            ],
            status=422,
        )
    w = wiring()
    answer = changes.withdraw(registration_id, body.reason, config=w.config, now=clock.now(), store=w.store)
    logger.info("registration withdrawn", extra={"registration_id": registration_id})
    return answer


@router.post(
    "/api/registrations/<registration_id>/decline",
    summary="放弃民办学校录取（名额由候补第一位递补）",
    responses={200: {"description": "已放弃"}, 401: {"description": "未登录或登录已失效"}},
    security=SESSION,
)
def decline(registration_id: RegistrationId, body: Annotated[DeclineRequest, Body()]) -> dict[str, Any]:
    _family(registration_id, body)
    w = wiring()
    result = ceremony.decline(
        w.config, registration_id, actor="guardian", reason=body.reason, store=w.lotteries, now=clock.now()
    )
    logger.info(
        "private admission declined",
        extra={"registration_id": registration_id, "seat_went_to": result["seat_went_to"]},
    )
    return result


@router.post(
    "/api/registrations/<registration_id>/notice",
    summary="下载入学通知书（须先凭短信验证码登录）",
    responses={
        200: {"description": "通知书下载链接（10分钟内有效）"},
        401: {"description": "未登录或登录已失效"},
    },
    security=SESSION,
)
def notice(registration_id: RegistrationId, body: Annotated[NoticeRequest, Body()]) -> dict[str, Any]:
    _family(registration_id, body)
    w = wiring()
    issued = w.notices.notice(registration_id)
    if issued is not None and issued.get("status") == "revoked":  # a correction took the place away
        raise RegistrationRefused(
            [
                Violation(
                    "registration_id",
                    "R-NOTE-1",
                    "安置结果已更正，原入学通知书已作废",
                    "the admission notice was revoked by a correction",
                )
            ],
            status=404,
        )
    if issued is None or issued.get("status") == "manual":  # a manual notice comes from the bureau
        raise RegistrationRefused(
            [
                Violation(
                    "registration_id",
                    "R-NOTE-1",
                    "入学通知书尚未发放",
                    "the admission notice is not issued yet",
                )
            ],
            status=404,
        )
    return {
        "registration_id": registration_id,
        "school_id": issued["school_id"],
        "verification_code": issued["verification_code"],
        # as the PDF prints it (核验码, the one word for this code wherever a family reads it)
        "verification_code_printed": format_code(str(issued["verification_code"])),
        "download_url": w.work.download_url(str(issued["key"])),
        "expires_in_seconds": 600,
    }


@router.post(
    "/api/registrations/<registration_id>/complaints",
    summary="投诉申诉（由儿童所在区教育局答复）",
    responses={201: {"description": "已受理"}},
    security=SESSION,
)
def complain(
    registration_id: RegistrationId, body: Annotated[complaints.ComplaintRequest, Body()]
) -> Response[str]:
    _session(registration_id)
    w = wiring()
    item = w.store.get_registration(registration_id)
    filed = complaints.file_complaint(item, body, store=w.complaints, now=clock.now().astimezone(w.config.tz))
    logger.info("complaint filed", extra={"complaint_id": filed.complaint_id, "kind": filed.kind})
    return json_response(201, complaints.family_view(filed, _district_name(filed.district)))


@router.get("/api/registrations/<registration_id>/complaints", summary="我的投诉申诉及答复", security=SESSION)
def my_complaints(registration_id: RegistrationId) -> dict[str, Any]:
    _session(registration_id)
    w = wiring()
    item = w.store.get_registration(registration_id)
    found = w.complaints.complaints_of_child(w.config.season, str(item["district"]), registration_id)
    newest_first = sorted(found, key=lambda c: c.created_at, reverse=True)
    return {
        "registration_id": registration_id,
        "complaints": [complaints.family_view(c, _district_name(c.district)) for c in newest_first],
    }


def _district_name(code: str) -> str:
    district = wiring().config.district_index.get(code)
    return district.name if district else code
