"""REST API: the public portal, /api and console pages (Lambda proxy), staff routes behind the OIDC
token authorizer, the IAM-only agency route; logged, validated, throttled."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.core.resources import AUTHORIZATION_PATTERN
from infra.api import (
    ADMIN_PATH,
    ADMIN_RATE_LIMIT,
    BURST_LIMIT,
    COMPLAINTS_PATH,
    DEAD_LETTERS_PATH,
    EXPORTS_PATH,
    EXTEND_PATH,
    LOTTERY_PATH,
    ME_PATH,
    OVERDUE_VISITS_PATH,
    PAUSES_PATH,
    PHASES_PATH,
    PLACEMENT_PATH,
    RATE_LIMIT,
    RESUME_PATH,
    SEASON_START_PATH,
    SEASON_STATUS_PATH,
    VERIFICATION_PATH,
    VISITS_PATH,
)
from infra.nag import ref
from tests.infra.helpers import api_methods, dumps, live_alias, only, resources

pytestmark = pytest.mark.xdist_group("infra")

PUBLIC = {
    ("/", "GET"),
    ("/form.js", "GET"),
    ("/form.css", "GET"),
    ("/common.js", "GET"),
    ("/api/{proxy+}", "ANY"),
    # the family's proofs, each its own resource with its own throttle, and the routes beside them
    ("/api/registrations/{registration_id}/code", "POST"),
    ("/api/registrations/{registration_id}/session", "POST"),
    ("/api/registrations/{registration_id}/session", "DELETE"),
    ("/api/registrations/{registration_id}/notice", "POST"),
    ("/api/registrations/{registration_id}/decline", "POST"),
    ("/api/registrations", "ANY"),
    ("/api/registrations/{registration_id}", "ANY"),
    ("/api/registrations/{registration_id}/complaints", "ANY"),
    ("/api/registrations/{registration_id}/{proxy+}", "ANY"),
    # the routes with a body beside them, for their models (tests/infra/test_waf.py)
    ("/api/registrations", "POST"),
    ("/api/registrations/{registration_id}/complaints", "POST"),
}
CONSOLE_PAGES = {("/console", "GET"), ("/console/{proxy+}", "GET")}
ADMIN = (ADMIN_PATH, "POST")
EXTEND = (EXTEND_PATH, "POST")
VERIFICATION = ("/admin/verification/{proxy+}", "ANY")
VISITS = ("/agency/community/visits", "POST")
WORKLIST = ("/agency/community/visits", "GET")  # issue 17: the community office lists its open visits
LOTTERY = ("/admin/lottery/{proxy+}", "ANY")
PLACEMENT = ("/admin/placement/{proxy+}", "ANY")
COMPLAINTS = ("/admin/complaints/{proxy+}", "ANY")
EXPORTS = ("/admin/exports/{proxy+}", "ANY")
PHASES = ("/admin/seasons/{season}/phases", "GET")
DEAD_LETTERS = ("/admin/seasons/{season}/districts/{district}/dead-letters", "GET")
ME = ("/admin/me", "GET")
SEASON_STATUS = ("/admin/seasons/{season}/status", "GET")  # issue 15: the season started and watched
SEASON_START = ("/admin/seasons/{season}/start", "POST")
PAUSES = ("/admin/seasons/{season}/pauses", "GET")  # issue 16: failures pause, they do not end
RESUME = ("/admin/seasons/{season}/pauses/{pause}/resume", "POST")
OVERDUE_VISITS = ("/admin/seasons/{season}/visits/overdue", "GET")  # issue 17
# every staff route and the function it reaches
STAFF = {
    ADMIN: "gate-advance",
    EXTEND: "gate-advance",
    PHASES: "gate-advance",
    DEAD_LETTERS: "gate-advance",
    SEASON_STATUS: "gate-advance",
    SEASON_START: "gate-advance",
    PAUSES: "gate-advance",
    RESUME: "gate-advance",
    OVERDUE_VISITS: "gate-advance",
    ME: "console",
    VERIFICATION: "verify-api",
    LOTTERY: "lottery-api",
    PLACEMENT: "place-api",
    COMPLAINTS: "complaints-api",
    EXPORTS: "exports-api",
}


def _live(synth: Any, raw: dict[str, Any], key: str) -> str:
    """The function's `live` alias, which every integration and the authorizer invoke."""
    return live_alias(raw, ref(synth.stack.functions[key]))


def _targets(props: dict[str, Any], fn_id: str) -> bool:
    integration = props["Integration"]
    return integration["Type"] == "AWS_PROXY" and f'"{fn_id}"' in dumps(integration["Uri"])


def test_exactly_these_routes(raw):
    assert (
        VERIFICATION[0],
        VISITS[0],
        LOTTERY[0],
        PLACEMENT[0],
        COMPLAINTS[0],
        EXPORTS[0],
        PHASES[0],
        DEAD_LETTERS[0],
        SEASON_STATUS[0],
        SEASON_START[0],
        PAUSES[0],
        RESUME[0],
        OVERDUE_VISITS[0],
        ME[0],
    ) == (
        VERIFICATION_PATH,
        VISITS_PATH,
        LOTTERY_PATH,
        PLACEMENT_PATH,
        COMPLAINTS_PATH,
        EXPORTS_PATH,
        PHASES_PATH,
        DEAD_LETTERS_PATH,
        SEASON_STATUS_PATH,
        SEASON_START_PATH,
        PAUSES_PATH,
        RESUME_PATH,
        OVERDUE_VISITS_PATH,
        ME_PATH,
    )
    assert set(api_methods(raw)) == {*PUBLIC, *CONSOLE_PAGES, *STAFF, VISITS, WORKLIST}


def _authorizer(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return only(raw, "AWS::ApiGateway::Authorizer")


def test_staff_routes_need_the_token_authorizer_and_reach_their_function(synth, raw):
    authorizer_id, _ = _authorizer(raw)
    methods = api_methods(raw)
    for route, key in STAFF.items():
        props = methods[route]
        assert props["AuthorizationType"] == "CUSTOM", route
        assert props["AuthorizerId"] == {"Ref": authorizer_id}, route
        assert _targets(props, _live(synth, raw, key)), route


def test_the_authorizer_checks_bearer_tokens_with_the_authorize_function_and_caches_briefly(synth, raw):
    _, authorizer = _authorizer(raw)
    props = authorizer["Properties"]
    assert props["Type"] == "TOKEN"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert props["IdentityValidationExpression"] == AUTHORIZATION_PATTERN
    assert 0 < props["AuthorizerResultTtlInSeconds"] <= 300
    assert f'"{_live(synth, raw, "authorize")}"' in dumps(props["AuthorizerUri"])


def test_the_authorizer_trusts_the_stacks_cognito_pool_and_the_console_signs_in_there(synth, raw):
    pool = ref(synth.stack.sign_in.user_pool)
    for key in ("authorize", "console"):
        env = synth.template.find_resources(
            "AWS::Lambda::Function", {"Properties": {"FunctionName": f"enrollment-test-2031-{key}"}}
        )
        (fn,) = env.values()
        variables = fn["Properties"]["Environment"]["Variables"]
        assert f'"{pool}"' in dumps(variables["OIDC_ISSUER"]), key
        assert "cognito-idp." in dumps(variables["OIDC_ISSUER"])
        assert variables["OIDC_GROUPS_CLAIM"] == "cognito:groups"
        assert variables["OIDC_CLIENT_ID"] == variables["OIDC_AUDIENCE"]


def test_cognito_pool_has_a_group_per_district_plus_city_and_auditor_and_no_self_sign_up(synth, raw, config):
    groups = {g["Properties"]["GroupName"] for g in resources(raw, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {d.code for d in config.districts} | {"city", "auditor"}
    _, pool = only(raw, "AWS::Cognito::UserPool")
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert props["MfaConfiguration"] == "ON"
    _, client = only(raw, "AWS::Cognito::UserPoolClient")
    c = client["Properties"]
    assert c["AllowedOAuthFlows"] == ["code"] and c.get("GenerateSecret") in (None, False)
    assert "/prod/console" in dumps(c["CallbackURLs"])


def test_in_a_china_region_staff_sign_in_at_the_bureaus_issuer_and_no_pool_is_built(cn):
    from tests.infra.conftest import CN_CLIENT, CN_ISSUER

    assert not resources(cn.raw, "AWS::Cognito::UserPool")
    for fn in resources(cn.raw, "AWS::Lambda::Function").values():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        if "OIDC_ISSUER" in variables:
            assert variables["OIDC_ISSUER"] == CN_ISSUER
            assert variables["OIDC_CLIENT_ID"] == variables["OIDC_AUDIENCE"] == CN_CLIENT
            assert variables["OIDC_GROUPS_CLAIM"] == "groups"


def test_a_china_region_without_an_issuer_is_refused_with_the_fix(config):
    import aws_cdk as cdk

    from infra.context import cdk_json_context
    from infra.stack import SeasonStack

    app = cdk.App(context=cdk_json_context())
    with pytest.raises(
        ValueError, match=r"Cognito user pools are not offered in cn-northwest-1.*staff_sign_in\.issuer"
    ):
        SeasonStack(app, "NoIssuer", config=config, env=cdk.Environment(region="cn-northwest-1"))


def test_community_visits_route_requires_iam_validates_the_answer_and_reaches_verify_api(synth, raw):
    props = api_methods(raw)[VISITS]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, _live(synth, raw, "verify-api"))
    # the body model: every field required, with its type
    model_id = props["RequestModels"]["application/json"]["Ref"]
    schema = raw["Resources"][model_id]["Properties"]["Schema"]
    assert schema["type"] == "object"
    assert set(schema["required"]) == {"registration_id", "lives_there", "visited_on", "visitor"}
    types = {name: field["type"] for name, field in schema["properties"].items()}
    assert types == {
        "registration_id": "string",
        "lives_there": "boolean",
        "visited_on": "string",
        "visitor": "string",
    }
    assert schema["properties"]["visited_on"]["pattern"] == r"^\d{4}-\d{2}-\d{2}$"


def test_community_worklist_route_requires_iam_and_reaches_verify_api(synth, raw):
    props = api_methods(raw)[WORKLIST]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, _live(synth, raw, "verify-api"))
    assert "RequestModels" not in props  # a GET: nothing to model


def test_api_gateway_may_invoke_verify_api_only_through_its_three_routes(synth, raw):
    verify_api = live_alias(raw, ref(synth.stack.functions["verify-api"]))
    permissions = [
        p["Properties"]
        for p in resources(raw, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Ref": verify_api}
    ]
    assert {p["Principal"] for p in permissions} == {"apigateway.amazonaws.com"}
    source_arns = sorted(dumps(p["SourceArn"]) for p in permissions)
    assert len(source_arns) == 3
    assert any("/*/admin/verification/*" in arn for arn in source_arns)
    assert any("/POST/agency/community/visits" in arn for arn in source_arns)
    assert any("/GET/agency/community/visits" in arn for arn in source_arns)


def test_window_extension_and_advance_routes_carry_their_parameters_and_body_model(raw):
    methods = api_methods(raw)
    assert methods[EXTEND]["RequestParameters"] == {
        "method.request.path.season": True,
        "method.request.path.grade": True,
    }
    assert methods[ADMIN]["RequestParameters"] == {
        "method.request.path.season": True,
        "method.request.path.phase": True,
    }
    assert set(methods[ADMIN]["RequestModels"]) == {"application/json"}


def test_the_season_start_route_takes_the_confirmed_digest_and_is_throttled_as_advancing(raw):
    methods = api_methods(raw)
    for route in (SEASON_STATUS, SEASON_START):
        assert methods[route]["RequestParameters"] == {"method.request.path.season": True}, route
    model_id = methods[SEASON_START]["RequestModels"]["application/json"]["Ref"]
    schema = raw["Resources"][model_id]["Properties"]["Schema"]
    assert schema["required"] == ["config_digest"]
    assert schema["properties"]["config_digest"] == {"type": "string", "pattern": "^[0-9a-f]{64}$"}
    _, stage = only(raw, "AWS::ApiGateway::Stage")
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["Properties"]["MethodSettings"]}
    assert settings[("/~1admin~1seasons~1{season}~1start", "POST")]["ThrottlingRateLimit"] == ADMIN_RATE_LIMIT


def test_public_routes_reach_register_or_the_console_pages_and_nothing_else_is_open(synth, raw):
    register = _live(synth, raw, "register")
    console = _live(synth, raw, "console")
    for route, props in api_methods(raw).items():
        if route in PUBLIC:
            assert props["AuthorizationType"] == "NONE"
            assert _targets(props, register), route
        elif route in CONSOLE_PAGES:
            assert props["AuthorizationType"] == "NONE"
            assert _targets(props, console), route
        elif route in (VISITS, WORKLIST):
            assert props["AuthorizationType"] == "AWS_IAM"
        else:
            assert props["AuthorizationType"] == "CUSTOM", route


def test_every_method_is_validated(raw):
    validator_id, validator = only(raw, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    for route, props in api_methods(raw).items():
        assert props["RequestValidatorId"] == {"Ref": validator_id}, route


def test_regional_endpoint(raw):
    _, api = only(raw, "AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_stage_logs_access_traces_and_throttles(synth, raw):
    _, stage = only(raw, "AWS::ApiGateway::Stage")
    props = stage["Properties"]
    # the flag logGroupDestinationArnWithoutWildcard renders the ARN without ':*', from the group's name
    assert {"Ref": ref(synth.stack.api.access_logs)} in props["AccessLogSetting"]["DestinationArn"][
        "Fn::Join"
    ][1]
    assert '"requestId"' in props["AccessLogSetting"]["Format"]
    assert props["TracingEnabled"] is True
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in props["MethodSettings"]}
    everything = settings[("/*", "*")]
    assert everything["ThrottlingRateLimit"] == RATE_LIMIT
    assert everything["ThrottlingBurstLimit"] == BURST_LIMIT
    assert everything["LoggingLevel"] == "ERROR"
    assert everything["DataTraceEnabled"] is False  # bodies carry personal data (R-DATA-2)
    admin = settings[("/~1admin~1seasons~1{season}~1phases~1{phase}~1advance", "POST")]
    assert admin["ThrottlingRateLimit"] == ADMIN_RATE_LIMIT
    # every proof a family presents has its own, lower throttle (docs/ACCESS.md)
    proofs = {"code": ("POST",), "session": ("POST", "DELETE"), "notice": ("POST",), "decline": ("POST",)}
    for proof, methods in proofs.items():
        for method in methods:
            path = "/~1api~1registrations~1{registration_id}~1" + proof
            setting = settings[(path, method)]
            rate, burst = setting["ThrottlingRateLimit"], setting["ThrottlingBurstLimit"]
            assert 0 < rate <= 20 and rate <= burst <= 40 and rate < RATE_LIMIT, (proof, method)
            assert (path[1:].replace("~1", "/"), method) in api_methods(raw)  # a real method
    # access logging needs the account's log role, set once by the account stack (infra/account.py),
    # never by a season: a season's deploy would take the account-wide setting over
    assert not resources(raw, "AWS::ApiGateway::Account")
