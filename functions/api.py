"""What every API handler answers when a request breaks a rule: 4xx JSON naming field and rule.

Every refusal has one shape, `{"message": "<中文>", "errors": [{"field", "rule", "message",
"message_en"}, ...]}` (`refusal`), whichever router or hook refuses: `resolver()` builds every
router's resolver with the same hooks (unknown route 404, wrong method 405, invalid body 422, any
`Refused` with its status) and screens each request's body before anything parses it (`screen`):
larger than `BODY_LIMIT` 413; a body that is not `application/json` 415; nesting deeper than
`DEPTH_LIMIT`, a number longer than `DIGITS_LIMIT` digits or a body that is not JSON 400 (field
`body`). The HTTP-level rules are named `HTTP-ROUTE`, `HTTP-METHOD`, `HTTP-SIZE`, `HTTP-TYPE`,
`HTTP-JSON` and `HTTP-BUSY`; in front of the handlers, API Gateway answers a body its route's model
refuses with 400 `HTTP-MODEL` (infra/api.py) and the web ACL a client over its rate with 429
`HTTP-RATE` (infra/waf.py), in the same shape: an AWS call still throttled after the clients' own retries
(StoreUnavailable, or a throttling error however wrapped: `clients.throttled`) is answered 503 with
`Retry-After` (`busy`), never a 5xx from Lambda; whatever such a request did not finish it did not
do (a registration is one conditional put: stored, or not at all).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.clients import throttled
from enrollment.adapters.observability import Handler, logger, observed
from enrollment.adapters.wiring import Wiring, wiring
from enrollment.core import clock
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Refused, StoreUnavailable
from enrollment.core.staff import StaffDirectory, StaffError, StaffMember, UnknownStaff
from enrollment.exports import views
from enrollment.people import console, lists
from enrollment.people.access import member_from_context
from enrollment.registration.form import Violation, violations_from_errors
from enrollment.verification import search


def refusal(status: int, violations: list[Violation]) -> Response[str]:
    body = {
        "message": violations[0].message_zh if violations else "请求有误",
        "errors": [v.as_dict() for v in violations],
    }
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, ensure_ascii=False))


def invalid_request(errors: list[Any]) -> list[Violation]:
    """Powertools' request validation errors, as violations of the fields they are about; an error
    about the whole body (not an object, not JSON) names the field `body`, never a character offset."""
    out = []
    for v in violations_from_errors([_whole_body(e) for e in errors], prefix=("body", "path", "query")):
        if v.field:
            out.append(v)
        else:
            out.append(Violation("body", v.rule, "请求内容须为JSON对象", "the body must be a JSON object"))
    return out


def _whole_body(error: Any) -> Any:
    if not isinstance(error, Mapping) or error.get("type") != "json_invalid":
        return error
    return {**error, "loc": ("body",)}  # Powertools puts the character offset in the location


BODY_LIMIT = 64 * 1024  # bytes: the largest body any route takes (a registration is ~2 KiB)
DEPTH_LIMIT = 32  # JSON nesting: the deepest body any route takes is 4 levels
DIGITS_LIMIT = 32  # a number literal's longest run of digits (no field needs more than 18)
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_LONG_NUMBER = re.compile(rf"\d{{{DIGITS_LIMIT + 1},}}")


def _body_violation(rule: str, zh: str, en: str) -> list[Violation]:
    return [Violation("body", rule, zh, en)]


def screen(event: Mapping[str, Any]) -> Response[str] | None:
    """The refusal for a request body no route should parse (size, content type, depth, number
    length, JSON syntax), before anything parses it; None for a body the route may read."""
    raw: str | bytes | None = event.get("body")
    if not raw:
        return None
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return refusal(
                400, _body_violation("HTTP-JSON", "请求内容无法解码", "the body cannot be decoded")
            )
    size = len(raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > BODY_LIMIT:
        zh = f"请求内容过大（不超过{BODY_LIMIT // 1024}KB）"
        return refusal(413, _body_violation("HTTP-SIZE", zh, f"the body is larger than {BODY_LIMIT} bytes"))
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != content_types.APPLICATION_JSON:
        zh = "请求内容须为JSON（Content-Type: application/json）"
        return refusal(415, [Violation("Content-Type", "HTTP-TYPE", zh, "the body must be application/json")])
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        return refusal(400, _body_violation("HTTP-JSON", "请求内容须为UTF-8编码", "the body must be UTF-8"))
    return _json_refusal(text)


def _json_refusal(text: str) -> Response[str] | None:
    bare = _STRINGS.sub('""', text)
    depth = 0
    for bracket in _BRACKETS.findall(bare):
        depth += 1 if bracket in "[{" else -1
        if depth > DEPTH_LIMIT:
            zh = f"请求内容嵌套过深（不超过{DEPTH_LIMIT}层）"
            en = f"the body nests deeper than {DEPTH_LIMIT} levels"
            return refusal(400, _body_violation("HTTP-JSON", zh, en))
    if _LONG_NUMBER.search(bare):
        zh = f"数字过长（不超过{DIGITS_LIMIT}位）"
        return refusal(400, _body_violation("HTTP-JSON", zh, f"a number longer than {DIGITS_LIMIT} digits"))
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return refusal(
            400, _body_violation("HTTP-JSON", "请求内容不是有效的JSON", "the body is not valid JSON")
        )
    return None


class GuardedResolver(APIGatewayRestResolver):
    """Powertools' REST resolver that screens each request's body (`screen`) before routing it."""

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        refused = screen(event) if isinstance(event, Mapping) else None
        if refused is None:
            return super().resolve(_without_body_type(event), context)
        return {
            "statusCode": refused.status_code,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "multiValueHeaders": {},
            "body": refused.body,
            "isBase64Encoded": False,
        }


def _without_body_type(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """Without a body its content type says nothing: Powertools would still parse "" by it (a form,
    a multipart without boundary that fails); the route then sees no body, as for JSON."""
    if event.get("body") or not isinstance(event, Mapping):
        return event

    def kept(headers: Any) -> Any:
        if not isinstance(headers, Mapping):
            return headers
        return {k: v for k, v in headers.items() if str(k).lower() != "content-type"}

    return {
        **event,
        "headers": kept(event.get("headers")),
        "multiValueHeaders": kept(event.get("multiValueHeaders")),
    }


def resolver(**options: Any) -> GuardedResolver:
    """Every router's resolver: validation on, Chinese JSON, and one refusal shape for every hook."""
    app = GuardedResolver(
        enable_validation=True,
        serializer=lambda obj: json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
        **options,
    )
    app.exception_handler(Refused)(refused_answer)
    app.exception_handler(RequestValidationError)(_invalid_body)
    app.exception_handler(Exception)(_busy_or_raise)
    app.not_found(partial(_no_route, app))
    return app


RETRY_AFTER = 5  # seconds: what a client waits after a 503 before it tries again
BUSY_ZH = "报名人数较多，系统繁忙，请稍后再试"


def busy() -> Response[str]:
    """503 with Retry-After: AWS still throttled a call after the clients' own retries."""
    en = f"the service is busy; retry in {RETRY_AFTER} s"
    response = refusal(503, [Violation("body", "HTTP-BUSY", BUSY_ZH, en)])
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _busy_or_raise(e: Exception) -> Response[str]:
    """Any exception no other handler takes: a throttled AWS call (StoreUnavailable, or a ClientError
    with a throttling code, itself or as the cause of what an adapter or Powertools raised) is
    `busy`; anything else goes on as before (Powertools' own errors to its handling, the rest out)."""
    if isinstance(e, StoreUnavailable) or throttled(e):
        logger.warning("throttled: answered 503", extra={"error": type(e).__name__})
        return busy()
    raise e


def refused_answer(e: Refused) -> Response[str]:
    """A room's refusal (`Refused`: staff, gates, ceremonies...) in the one shape, naming its field:
    `Authorization` for who calls (401, 403), `path` for what is not there (404), else `body`."""
    field = getattr(e, "field", None) or {401: "Authorization", 403: "Authorization", 404: "path"}.get(
        e.status, "body"
    )
    rule = getattr(e, "rule", None) or {401: "R-DATA-2", 403: "R-DATA-2", 404: "HTTP-ROUTE"}.get(
        e.status, "refused"
    )
    response = refusal(e.status, [Violation(field, rule, e.message_zh, e.message_en)])
    body = json.loads(response.body or "{}")
    body["message_en"] = e.message_en
    response.body = json.dumps(body, ensure_ascii=False)
    return response


def _no_route(app: APIGatewayRestResolver, _: NotFoundError) -> Response[str]:
    """404 for a path no route has; 405 (with `Allow`) for a path a route has for other methods."""
    path = app.current_event.path
    routes = [*app._static_routes, *app._dynamic_routes]  # Powertools' route table
    allowed = sorted({r.method for r in routes if r.rule.match(path)})
    if allowed:
        zh, en = (
            f"不支持此请求方法（可用：{'、'.join(allowed)}）",
            f"method not allowed; use {', '.join(allowed)}",
        )
        response = refusal(405, [Violation("method", "HTTP-METHOD", zh, en)])
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return refusal(404, [Violation("path", "HTTP-ROUTE", "没有这个地址", "no such route")])


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, ensure_ascii=False, default=str))


def staff_resolver() -> GuardedResolver:
    """A resolver for the staff routes: staff refusals and invalid bodies as 4xx JSON (`resolver`)."""
    return resolver()


def handler_for(app: APIGatewayRestResolver) -> Handler:
    """The Lambda handler that answers API Gateway's events with `app`'s routes, `observed`."""

    @observed
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def _invalid_body(e: RequestValidationError) -> Response[str]:
    return refusal(422, invalid_request(list(e.errors())))


def staff_caller(app: APIGatewayRestResolver, directory: StaffDirectory) -> StaffMember:
    """Who calls: on staff routes the member the OIDC token authorizer verified (role and district
    from the token's groups, enrollment/people/access.py); on the IAM-signed agency route the IAM identity,
    which must be an agency listed in the staff directory. Anyone else: 403."""
    member = member_from_context(app.current_event.raw_event.get("requestContext", {}).get("authorizer"))
    if member is not None:
        return member
    identity = app.current_event.request_context.identity
    agency = directory.lookup(identity.user_arn or identity.caller)
    if agency.role != "community":  # staff sign in with OIDC; an IAM identity is never staff
        raise UnknownStaff("未授权：工作人员请登录后操作", "forbidden: staff sign in with OIDC")
    return agency


def require_season(config: SeasonConfig, season: str) -> None:
    if season != config.season:
        raise NoSuchSeason(f"没有{season}年度的招生", f"no season {season!r} here")


def caller(app: APIGatewayRestResolver) -> StaffMember:
    """Who calls the request `app` is resolving (`staff_caller`), by this cold start's staff directory."""
    return staff_caller(app, wiring().staff)


def season_wiring(season: str) -> Wiring:
    """This cold start's adapters, once the path's season is the one deployed here (else 404)."""
    w = wiring()
    require_season(w.config, season)
    return w


class NoSuchSeason(StaffError):
    status = 404
    field = "season"


@dataclass(frozen=True)
class DistrictView:
    """A district's searched, filtered and sorted list (issue 19), as its page and its `.xlsx` export
    both read it: who asks (already allowed to read the district), the district's query, the filter,
    the rows `take` keeps of each chunk, and the sort (None: the list's own order)."""

    w: Wiring
    staff: StaffMember
    district: str
    query: console.DistrictQuery
    flt: lists.ListFilter
    take: Callable[[list[dict[str, Any]]], list[dict[str, Any] | None]]
    sort: search.Sort | None


def district_list(app: APIGatewayRestResolver, v: DistrictView) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a district's list as `?grade=1|7&limit=1..500&cursor=` asks, searched and filtered
    by `v.flt` (the rows `v.take` keeps) and sorted by `v.sort`; neither: the list's own pages."""
    ask = app.current_event.get_query_string_value
    page = console.page_request(ask("grade"), None if v.sort else ask("cursor"), ask("limit"))
    if v.sort is None and v.flt.empty:
        items, cursor = console.district_page(v.query, page)
        rows = v.take(console.own_items(items, v.staff, v.district))
        return [r for r in rows if r is not None], cursor
    return lists.district_rows(v.query, page, v.staff, v.district, v.take, v.sort, ask("cursor"))


def district_export(
    app: APIGatewayRestResolver,
    v: DistrictView,
    view: views.View,
    filters: Callable[[Mapping[str, str | None]], str],
) -> dict[str, Any]:
    """A district's list as an `.xlsx` file (issue 19): every row of the view `?grade=` and the
    list's search, filters and sort give (not one page: `lists.district_view`, bounded as sorting
    is), masked as the list answers them, the sheet titled and headed by `filters` (the list's
    parameters in words). In the JSON answer as `content_base64`, with `file_name` and `rows`."""
    ask = app.current_event.get_query_string_value
    grades = console.page_request(ask("grade"), None, None).grades
    rows = lists.district_view(v.query, grades, v.staff, v.district, v.take, v.sort)
    params = app.current_event.query_string_parameters or {}
    config = v.w.config
    name = config.district_index[v.district].name if v.district in config.district_index else v.district
    day = clock.now().astimezone(config.tz).date()
    made = views.workbook(view, name, rows, day, filters(params))
    logger.info("list exported", extra={"district": v.district, "view": view.title, "rows": made["rows"]})
    content = made.pop("content")
    return {**made, "truncated": False, "content_base64": base64.b64encode(content).decode()}


# OpenAPI: every operation documents the refusals it can answer, all in the one shape (`refusal`).
REFUSAL_STATUSES = {
    400: "请求内容不是有效的JSON、不符合接口的请求模型、嵌套过深或数字过长 (body)",
    401: "未登录或登录已失效 (Authorization)",
    403: "无权操作 (Authorization)",
    404: "没有这个地址、年度或记录",
    409: "与当前状态冲突（例如已办理、阶段未到）",
    413: f"请求内容过大（不超过{BODY_LIMIT // 1024}KB）",
    415: "请求内容须为 application/json",
    422: "请求内容不符合规则（逐项指出字段和规则）",
    429: "请求过于频繁（见 Retry-After）",
    503: f"{BUSY_ZH}（见 Retry-After）",
}
RETRY_AFTER_HEADER = {
    "Retry-After": {"description": "几秒后再试", "schema": {"type": "integer", "minimum": 1}}
}
_REFUSAL_SCHEMAS: dict[str, Any] = {
    "Refusal": {
        "title": "Refusal",
        "description": "每一种拒绝的统一格式：message（中文）与逐项的 errors（字段与规则）",
        "type": "object",
        "required": ["message", "errors"],
        "properties": {
            "message": {"type": "string", "description": "给家长和工作人员看的中文说明"},
            "message_en": {"type": "string"},
            "errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Violation"}},
        },
    },
    "Violation": {
        "title": "Violation",
        "type": "object",
        "required": ["field", "rule", "message", "message_en"],
        "properties": {
            "field": {"type": "string", "description": "字段；body 指整个请求内容"},
            "rule": {"type": "string", "description": "规则编号（R-…）或 HTTP-…"},
            "message": {"type": "string"},
            "message_en": {"type": "string"},
        },
    },
}
_POWERTOOLS_ERRORS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def with_refusals(doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` (Powertools' OpenAPI document) with the refusals of `REFUSAL_STATUSES` on every operation
    in the `Refusal` schema (instead of Powertools' own 422), and a JSON object for each answer the
    handlers write themselves (`json_response`), which Powertools documents as a string."""
    refused = {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, answer in list(responses.items()):
                if not str(code).startswith("2") or str(code) == "204":
                    continue
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema is None or schema.get("type") == "string":
                    answer["content"] = {"application/json": {"schema": {"type": "object"}}}
            for status, description in REFUSAL_STATUSES.items():
                kept = responses.get(str(status), {}).get("description")
                if status == 422 or not kept:
                    kept = description
                responses[str(status)] = {"description": kept, "content": refused}
                if status in (429, 503):
                    responses[str(status)]["headers"] = RETRY_AFTER_HEADER
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_ERRORS:
        schemas.pop(name, None)
    schemas.update(_REFUSAL_SCHEMAS)
    return doc
