"""Parents' registration API and web form (API Gateway REST → Lambda proxy)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from enrollment import ceremony, clock, registrar, routes
from enrollment.adapters.wiring import wiring
from enrollment.api import invalid_request, refusal
from enrollment.observability import logger, metrics, tracer
from enrollment.registration import RegistrationRefused, RegistrationRequest, Violation
from functions.register.public import season_info

app = APIGatewayRestResolver(
    enable_validation=True, serializer=lambda obj: json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
)
FORM = Path(__file__).with_name("form.html")


@app.exception_handler(RequestValidationError)
def _invalid(e: RequestValidationError) -> Response[str]:
    violations = invalid_request(list(e.errors()))
    logger.info("registration refused", extra={"rules": [v.rule for v in violations], "status": 422})
    return refusal(422, violations)


@app.exception_handler(RegistrationRefused)
def _refused(e: RegistrationRefused) -> Response[str]:
    logger.info("registration refused", extra={"rules": [v.rule for v in e.violations], "status": e.status})
    return refusal(e.status, e.violations)


@app.get("/", include_in_schema=False)
def form() -> Response[str]:
    return Response(200, "text/html; charset=utf-8", FORM.read_text(encoding="utf-8"))


@app.get("/api/season", summary="本年度报名信息（区、街路、学校、报名时间）")
def season() -> dict[str, Any]:
    return season_info(wiring().config)


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


RegistrationId = Annotated[str, PathParam(pattern=r"^R(-[A-Z2-7]{4}){4}$")]


class DeclineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(
        min_length=6, max_length=32, description="学生身份证号（或护照号），证明是本人家庭"
    )
    reason: str = Field(default="", max_length=200, description="放弃原因（可不填）")


@app.exception_handler(ceremony.CeremonyError)
def _ceremony_refused(e: ceremony.CeremonyError) -> Response[str]:
    return refusal(e.status, [Violation("registration_id", "R-LOT-5", e.message_zh, e.message_en)])


@app.get("/api/registrations/<registration_id>", summary="查询报名状态")
def read(registration_id: RegistrationId) -> dict[str, Any]:
    w = wiring()
    answer = registrar.status(registration_id, config=w.config, store=w.store)
    answer["lottery"] = ceremony.family_view(w.config, w.lotteries, registration_id)
    answer["placement"] = routes.family_view(w.config, w.placements.placed(registration_id))
    issued = w.notices.notice(registration_id)
    answer["notice"] = (
        {"issued_at": issued["issued_at"], "sms_sent": bool(issued.get("sms_message_id"))} if issued else None
    )
    return answer


@app.post(
    "/api/registrations/<registration_id>/decline",
    summary="放弃民办学校录取（名额由候补第一位递补）",
    responses={200: {"description": "已放弃"}},
)
def decline(registration_id: RegistrationId, body: Annotated[DeclineRequest, Body()]) -> dict[str, Any]:
    w = wiring()
    registrar.require_guardian(registration_id, body.id_number, config=w.config, store=w.store, keyer=w.keyer)
    result = ceremony.decline(
        w.config, registration_id, actor="guardian", reason=body.reason, store=w.lotteries, now=clock.now()
    )
    logger.info(
        "private admission declined",
        extra={"registration_id": registration_id, "seat_went_to": result["seat_went_to"]},
    )
    return result


class NoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(
        min_length=6, max_length=32, description="学生身份证号（或护照号），证明是本人家庭"
    )


@app.post(
    "/api/registrations/<registration_id>/notice",
    summary="下载入学通知书（凭报名编号和学生身份证号）",
    responses={200: {"description": "通知书下载链接（10分钟内有效）"}},
)
def notice(registration_id: RegistrationId, body: Annotated[NoticeRequest, Body()]) -> dict[str, Any]:
    w = wiring()
    registrar.require_guardian(registration_id, body.id_number, config=w.config, store=w.store, keyer=w.keyer)
    issued = w.notices.notice(registration_id)
    if issued is None:
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
        "download_url": w.work.download_url(str(issued["key"])),
        "expires_in_seconds": 600,
    }


@app.get("/api/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title="义务教育招生入学 报名接口 / Enrollment registration API", version="1"
    )


def _submit(req: RegistrationRequest) -> dict[str, Any]:
    answer: dict[str, Any] = _idempotent_register()(req=req)
    return answer


@cache
def _idempotent_register() -> Any:
    w = wiring()

    @idempotent_function(
        data_keyword_argument="req", config=w.idempotency_config, persistence_store=w.idempotency_store
    )
    def submit(req: RegistrationRequest) -> dict[str, Any]:
        return registrar.register(req, config=w.config, now=clock.now(), store=w.store, keyer=w.keyer)

    return submit


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    wiring().idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
