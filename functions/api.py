"""What every API handler answers when a request breaks a rule: 4xx JSON naming field and rule."""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrollment.adapters.observability import Handler, observed
from enrollment.adapters.wiring import Wiring, wiring
from enrollment.core.config import SeasonConfig
from enrollment.core.staff import StaffDirectory, StaffError, StaffMember, UnknownStaff
from enrollment.people import console
from enrollment.people.access import member_from_context
from enrollment.registration.form import Violation, violations_from_errors

if TYPE_CHECKING:
    from enrollment.adapters.console_reads import ConsoleReads


def refusal(status: int, violations: list[Violation]) -> Response[str]:
    body = {
        "message": violations[0].message_zh if violations else "请求有误",
        "errors": [v.as_dict() for v in violations],
    }
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, ensure_ascii=False))


def invalid_request(errors: list[Any]) -> list[Violation]:
    """Powertools' request validation errors, as violations of the fields they are about."""
    return violations_from_errors(errors, prefix=("body", "path", "query"))


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status, content_types.APPLICATION_JSON, json.dumps(body, ensure_ascii=False, default=str))


def staff_resolver() -> APIGatewayRestResolver:
    """A resolver for IAM-authorised staff routes: staff refusals and invalid bodies as 4xx JSON."""
    app = APIGatewayRestResolver(
        enable_validation=True,
        serializer=lambda obj: json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
    )

    app.exception_handler(StaffError)(_staff_refusal)
    app.exception_handler(RequestValidationError)(_invalid_body)
    return app


def handler_for(app: APIGatewayRestResolver) -> Handler:
    """The Lambda handler that answers API Gateway's events with `app`'s routes, `observed`."""

    @observed
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return handler


def _staff_refusal(e: StaffError) -> Response[str]:
    return json_response(e.status, {"message": e.message_zh, "message_en": e.message_en})


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


def district_page(
    app: APIGatewayRestResolver, reads: ConsoleReads, season: str, district: str, staff: StaffMember
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the district's registrations as `?grade=1|7&limit=1..500&cursor=` asks, and the
    next cursor; an item whose stored district is not `district` is refused (not only the path's)."""
    query = app.current_event.get_query_string_value
    page = console.page_request(query("grade"), query("cursor"), query("limit"))
    items, cursor = console.district_page(partial(reads.district_registrations, season, district), page)
    return console.own_items(items, staff, district), cursor
