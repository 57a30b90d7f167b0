"""Parents' registration API and web form (API Gateway REST → Lambda proxy)."""

from __future__ import annotations

import json
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.observability import count_metric, logger, mask_text, metrics, tracer
from enrollment.adapters.wiring import wiring
from enrollment.core import clock, sms_caps
from enrollment.core.staff import StaffError
from enrollment.lottery import ceremony
from enrollment.people import parents
from enrollment.registration import catchment, demand, receipt_sms, registrar
from enrollment.registration.demand import WITHDRAWN
from enrollment.registration.form import RegistrationRefused, RegistrationRequest, Violation
from functions.api import invalid_request, refusal, resolver, with_refusals
from functions.register.family import router
from functions.register.public import season_info

app = resolver()
# whether this request registered (True) or got the answer stored for the same body (False)
_registered_now: ContextVar[bool] = ContextVar("registered_now", default=False)
HERE = Path(__file__).parent
WEB = HERE.parent / "web"  # what the portal shares with the console's pages


@app.exception_handler(RequestValidationError)
def _invalid(e: RequestValidationError) -> Response[str]:
    violations = invalid_request(list(e.errors()))
    logger.info("registration refused", extra={"rules": [v.rule for v in violations], "status": 422})
    return refusal(422, violations)


@app.exception_handler(RegistrationRefused)
def _refused(e: RegistrationRefused) -> Response[str]:
    logger.info("registration refused", extra={"rules": [v.rule for v in e.violations], "status": e.status})
    return refusal(e.status, e.violations)


def _file(path: Path, content_type: str) -> Response[str]:
    return Response(200, content_type, path.read_text(encoding="utf-8"))


@app.get("/", include_in_schema=False)
def form() -> Response[str]:
    return _file(HERE / "form.html", "text/html; charset=utf-8")


@app.get("/form.js", include_in_schema=False)
def form_script() -> Response[str]:
    return _file(HERE / "form.js", "text/javascript; charset=utf-8")


@app.get("/form.css", include_in_schema=False)
def form_style() -> Response[str]:
    return _file(HERE / "form.css", "text/css; charset=utf-8")


@app.get("/common.js", include_in_schema=False)
def common_script() -> Response[str]:
    """The date helpers the form loads first (functions/web/common.js, shared with the console)."""
    return _file(WEB / "common.js", "text/javascript; charset=utf-8")


@app.get("/api/lookup.js", include_in_schema=False)
def lookup_script() -> Response[str]:
    """The catchment lookup's script: under the public `/api/{proxy+}`, so it needs no resource of its own."""
    return _file(HERE / "lookup.js", "text/javascript; charset=utf-8")


@app.get(
    "/api/catchment",
    summary="查询片区：按门牌或小区查询所属片区的学校，以及按片区入学须具备的条件（报名前即可查询）",
)
def catchment_lookup(
    district: Annotated[str | None, Query(description="所在区（本年度报名信息中的区代码）")] = None,
    road: Annotated[str | None, Query(description="街路名称（按门牌查询）")] = None,
    number: Annotated[str | None, Query(description="门牌号（按门牌查询）")] = None,
    compound: Annotated[str | None, Query(description="小区名称（按小区查询，不填街路和门牌号）")] = None,
) -> dict[str, Any]:
    query = {"district": district, "road": road, "number": number, "compound": compound}
    return catchment.lookup(wiring().config, query)


@app.get("/api/season", summary="本年度报名信息（区、街路、学校、报名时间）")
def season() -> dict[str, Any]:
    w = wiring()
    state = w.registration_store.season_state(w.config.season)
    return season_info(w.config, clock.now(), state)


@app.post("/api/registrations", summary="网上报名", responses={201: {"description": "已报名"}})
def create(body: Annotated[RegistrationRequest, Body()]) -> Response[str]:
    answer = _submit(req=body)
    logger.info(
        "registration accepted",
        extra={
            "registration_id": answer["registration_id"],
            "grade": body.grade,
            "category": body.category,
            "child_id": answer["child"]["id_number"],
        },
    )
    metrics.add_metric(name="RegistrationAccepted", unit="Count", value=1)
    return Response(201, content_types.APPLICATION_JSON, json.dumps(answer, ensure_ascii=False))


@app.exception_handler(ceremony.CeremonyError)
def _ceremony_refused(e: ceremony.CeremonyError) -> Response[str]:
    return refusal(e.status, [Violation("registration_id", "R-LOT-5", e.message_zh, e.message_en)])


@app.exception_handler(parents.NotAuthenticated)
def _not_authenticated(e: parents.NotAuthenticated) -> Response[str]:
    """One answer for every wrong, expired, used or unknown code or token: it reveals nothing."""
    signing_in = app.current_event.http_method == "POST" and app.current_event.path.endswith("/session")
    field = "code" if signing_in else "Authorization"
    zh = "验证码不正确或已失效，请重新获取" if field == "code" else "请先凭短信验证码登录，登录有效期30分钟"
    en = "the code is wrong or no longer valid" if field == "code" else "sign in with an SMS code first"
    response = refusal(401, [Violation(field, "R-DATA-2", zh, en)])
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


@app.exception_handler(parents.RateLimited)
def _rate_limited(e: parents.RateLimited) -> Response[str]:
    """Too many codes for this id, or this client is locked out: the same for every id."""
    if e.lockout:
        minutes = -(-e.retry_after // 60)
        zh = f"尝试次数过多，请{minutes}分钟后再试"
        en = f"too many tries from this network; retry in {e.retry_after} s"
    else:
        zh = f"验证码发送过于频繁，请{e.retry_after}秒后再试"
        en = f"too many codes; retry in {e.retry_after} s"
    response = refusal(429, [Violation("registration_id", "R-DATA-2", zh, en)])
    response.headers["Retry-After"] = str(e.retry_after)
    return response


@app.exception_handler(sms_caps.CircuitOpen)
def _circuit_open(e: sms_caps.CircuitOpen) -> Response[str]:
    """The season's code SMS are at their hourly cap: the same for every id and every caller."""
    minutes = -(-e.retry_after // 60)
    zh = f"验证码短信发送繁忙，已暂停发送，请{minutes}分钟后再试"
    en = f"sign-in codes are paused for the season; retry in {e.retry_after} s"
    response = refusal(429, [Violation("registration_id", "R-DATA-2", zh, en)])
    response.headers["Retry-After"] = str(e.retry_after)
    return response


@app.exception_handler(StaffError)
def _complaint_refused(e: StaffError) -> Response[str]:
    return refusal(e.status, [Violation("registration_id", "R-OPEN-1", e.message_zh, e.message_en)])


@app.get("/api/warnings", summary="学位预警：各学校、多校划片片区的报名人数与招生计划（报名期间实时更新）")
def warnings() -> dict[str, Any]:
    w = wiring()
    now = clock.now().astimezone(w.config.tz).isoformat(timespec="seconds")
    return demand.warnings_view(w.config, w.store.live_counts(w.config.season), now)


app.include_router(router)


@app.get("/api/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


def openapi_json() -> str:
    """The parents' API (the whole API's document: functions/openapi.py), with every refusal."""
    doc = app.get_openapi_json_schema(
        title="义务教育招生入学 报名接口 / Enrollment registration API",
        version="1",
        security_schemes={
            "parentSession": HTTPBearer(description="凭短信验证码登录所得的 token（30分钟内有效）")
        },
    )
    return json.dumps(with_refusals(json.loads(doc)), ensure_ascii=False)


def _submit(req: RegistrationRequest) -> dict[str, Any]:
    token = _registered_now.set(False)
    try:
        answer: dict[str, Any] = _idempotent_register()(req=req)
        stored_answer = not _registered_now.get()
    finally:
        _registered_now.reset(token)
    if stored_answer and _withdrawn(answer["registration_id"]):
        # the same body as a registration since withdrawn (issue 19): the stored answer is that one's,
        # and this is a new registration, so it is made (and its receipt sent) as a new one
        answer = _register(req)
    return answer


def _withdrawn(registration_id: str) -> bool:
    """Whether the registration is withdrawn now."""
    return bool(wiring().store.get_registration(registration_id).get("status") == WITHDRAWN)


def _register(req: RegistrationRequest) -> dict[str, Any]:
    _registered_now.set(True)
    w = wiring()
    answer = registrar.register(
        req, config=w.config, now=clock.now(), store=w.registration_store, keyer=w.keyer
    )
    answer["sms_sent"] = _send_receipt(answer["registration_id"])
    return answer


@cache
def _idempotent_register() -> Any:
    w = wiring()

    @idempotent_function(
        data_keyword_argument="req", config=w.idempotency_config, persistence_store=w.idempotency_store
    )
    def submit(req: RegistrationRequest) -> dict[str, Any]:
        # inside the idempotent function: a retried request gets the stored answer, and no second SMS
        return _register(req)

    return submit


def _send_receipt(registration_id: str) -> bool:
    """The registration id by SMS to the guardian phones (receipt_sms); True if one went out. The
    registration is stored already: nothing here may turn it into a failed request."""
    w = wiring()
    provider = w.config.sms_provider
    if provider.provider in ("aliyun", "tencent") and not provider.registered_template:
        return False  # the bureau registered no such template with its provider: the page shows the id
    try:
        result = receipt_sms.send_receipt(
            w.store.get_registration(registration_id),
            sms=w.sms,
            limits=w.config.sms,
            store=w.sms_caps,
            secret=w.parent_secret,
            now=clock.now(),
        )
    except Exception:  # the SMS is a courtesy; the stored registration is the answer
        logger.exception("registration SMS not sent", extra={"registration_id": registration_id})
        count_metric("RegistrationSmsFailed", {})
        return False
    for cap, phone in result.capped:  # a phone past its caps is what the SmsCapReached alarms watch
        logger.warning("sms cap reached", extra={"cap": cap, "phone": mask_text(phone), "purpose": "receipt"})
        if cap == sms_caps.PHONE:
            count_metric("SmsCapReached", {"cap": cap})
    if result.failed:
        logger.warning("registration SMS refused", extra={"registration_id": registration_id})
    return result.sent > 0


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wiring().idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
