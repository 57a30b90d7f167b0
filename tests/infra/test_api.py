"""REST API: public form and /api (Lambda proxy), IAM-only admin and agency routes; logged, validated,
throttled."""

from __future__ import annotations

from typing import Any

import pytest

from infra.api import (
    ADMIN_PATH,
    ADMIN_RATE_LIMIT,
    BURST_LIMIT,
    EXTEND_PATH,
    LOTTERY_PATH,
    PLACEMENT_PATH,
    RATE_LIMIT,
    VERIFICATION_PATH,
    VISITS_PATH,
)
from infra.nag import ref
from tests.infra.helpers import api_methods, dumps, only, resources

pytestmark = pytest.mark.xdist_group("infra")

PUBLIC = {("/", "GET"), ("/api/{proxy+}", "ANY")}
ADMIN = (ADMIN_PATH, "POST")
EXTEND = (EXTEND_PATH, "POST")
VERIFICATION = ("/admin/verification/{proxy+}", "ANY")
VISITS = ("/agency/community/visits", "POST")
LOTTERY = ("/admin/lottery/{proxy+}", "ANY")
PLACEMENT = ("/admin/placement/{proxy+}", "ANY")


def _targets(props: dict[str, Any], fn_id: str) -> bool:
    integration = props["Integration"]
    return integration["Type"] == "AWS_PROXY" and f'"{fn_id}"' in dumps(integration["Uri"])


def test_exactly_the_eight_routes(raw):
    assert (VERIFICATION[0], VISITS[0], LOTTERY[0], PLACEMENT[0]) == (
        VERIFICATION_PATH,
        VISITS_PATH,
        LOTTERY_PATH,
        PLACEMENT_PATH,
    )
    assert set(api_methods(raw)) == {*PUBLIC, ADMIN, EXTEND, VERIFICATION, VISITS, LOTTERY, PLACEMENT}


def test_placement_decision_routes_require_iam_and_reach_place_api(synth, raw):
    props = api_methods(raw)[PLACEMENT]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, ref(synth.stack.functions["place-api"]))


def test_lottery_ceremony_routes_require_iam_and_reach_lottery_api(synth, raw):
    props = api_methods(raw)[LOTTERY]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, ref(synth.stack.functions["lottery-api"]))


def test_staff_verification_routes_require_iam_and_reach_verify_api(synth, raw):
    props = api_methods(raw)[VERIFICATION]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, ref(synth.stack.functions["verify-api"]))
    assert props["RequestParameters"] == {"method.request.path.proxy": True}


def test_community_visits_route_requires_iam_validates_the_answer_and_reaches_verify_api(synth, raw):
    props = api_methods(raw)[VISITS]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, ref(synth.stack.functions["verify-api"]))
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


def test_api_gateway_may_invoke_verify_api_only_through_its_two_routes(synth, raw):
    verify_api = ref(synth.stack.functions["verify-api"])
    permissions = [
        p["Properties"]
        for p in resources(raw, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [verify_api, "Arn"]}
    ]
    assert {p["Principal"] for p in permissions} == {"apigateway.amazonaws.com"}
    source_arns = sorted(dumps(p["SourceArn"]) for p in permissions)
    assert len(source_arns) == 2
    assert any("/*/admin/verification/*" in arn for arn in source_arns)
    assert any("/POST/agency/community/visits" in arn for arn in source_arns)


def test_window_extension_route_requires_iam_and_reaches_gate_advance(synth, raw):
    props = api_methods(raw)[EXTEND]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, ref(synth.stack.functions["gate-advance"]))
    assert props["RequestParameters"] == {
        "method.request.path.season": True,
        "method.request.path.grade": True,
    }


def test_admin_route_requires_iam_and_reaches_gate_advance(synth, raw):
    props = api_methods(raw)[ADMIN]
    assert props["AuthorizationType"] == "AWS_IAM"
    assert _targets(props, ref(synth.stack.functions["gate-advance"]))
    assert props["RequestParameters"] == {
        "method.request.path.season": True,
        "method.request.path.phase": True,
    }
    assert set(props["RequestModels"]) == {"application/json"}


def test_public_routes_reach_register_and_nothing_else_is_open(synth, raw):
    register = ref(synth.stack.functions["register"])
    for route, props in api_methods(raw).items():
        if route in PUBLIC:
            assert props["AuthorizationType"] == "NONE"
            assert _targets(props, register), route
        else:
            assert props["AuthorizationType"] == "AWS_IAM", route


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
    _, account = only(raw, "AWS::ApiGateway::Account")  # access logging needs the account's log role
    assert account["Properties"]["CloudWatchRoleArn"]
