"""Abuse controls on the synthesized templates (both partitions): the web ACL in front of the API
stage (per-client rate rules, managed groups, size and method rules, logs, the alarm), and API
Gateway's request models, derived from the pydantic models, with the refusal for a body they refuse."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.api import BODY_LIMIT
from functions.openapi import document
from infra.api import BAD_BODY_ZH, PROXY_BODY_ROUTES
from infra.context import (
    DEFAULT_WAF_PROOF_RATE_LIMIT,
    DEFAULT_WAF_RATE_LIMIT,
    DEFAULT_WAF_REGISTRATION_RATE_LIMIT,
    AppOptions,
)
from infra.schemas import request_schemas
from infra.waf import AGENCY_PATH, ALLOWED_METHODS, PROOF_PATH, REGISTRATIONS_PATH, RESPONSES
from tests.infra.helpers import api_methods, only, resources

pytestmark = pytest.mark.xdist_group("infra")

PARTITIONS = ["synth", "cn"]
MANAGED = {
    "AmazonIpReputation": "AWSManagedRulesAmazonIpReputationList",
    "KnownBadInputs": "AWSManagedRulesKnownBadInputsRuleSet",
    "CommonRuleSet": "AWSManagedRulesCommonRuleSet",
    "BotControl": "AWSManagedRulesBotControlRuleSet",
}


def _raw(request: pytest.FixtureRequest, name: str) -> dict[str, Any]:
    raw: dict[str, Any] = request.getfixturevalue(name).raw
    return raw


def _acl(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    logical_id, acl = only(raw, "AWS::WAFv2::WebACL")
    return logical_id, acl["Properties"]


def _rules(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in _acl(raw)[1]["Rules"]}


def _method_of(statement: dict[str, Any]) -> str:
    match = statement["ByteMatchStatement"]
    assert match["FieldToMatch"] == {"Method": {}} and match["PositionalConstraint"] == "EXACTLY"
    return str(match["SearchString"])


@pytest.mark.parametrize("partition", PARTITIONS)
def test_a_regional_web_acl_that_allows_by_default_is_associated_with_the_stage(request, partition):
    raw = _raw(request, partition)
    acl_id, acl = _acl(raw)
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    stage_id, _ = only(raw, "AWS::ApiGateway::Stage")
    api_id, _ = only(raw, "AWS::ApiGateway::RestApi")
    _, association = only(raw, "AWS::WAFv2::WebACLAssociation")
    props = association["Properties"]
    assert props["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    parts = props["ResourceArn"]["Fn::Join"][1]
    assert {"Ref": api_id} in parts and {"Ref": stage_id} in parts
    assert any(isinstance(p, str) and p.endswith("::/restapis/") for p in parts)
    # every rule has its own metric and samples; rule names are unique, priorities in order
    rules = acl["Rules"]
    assert [r["Priority"] for r in rules] == list(range(len(rules)))
    assert all(r["VisibilityConfig"]["CloudWatchMetricsEnabled"] for r in rules)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_rate_rules_per_client_ip_with_their_limits_and_routes(request, partition):
    rules = _rules(_raw(request, partition))
    expected = {
        "ProofsPerClient": (DEFAULT_WAF_PROOF_RATE_LIMIT, PROOF_PATH),
        "RegistrationsPerClient": (DEFAULT_WAF_REGISTRATION_RATE_LIMIT, REGISTRATIONS_PATH),
        "RequestsPerClient": (DEFAULT_WAF_RATE_LIMIT, None),
    }
    for name, (limit, path) in expected.items():
        rule = rules[name]
        rate = rule["Statement"]["RateBasedStatement"]
        assert (rate["Limit"], rate["AggregateKeyType"]) == (limit, "IP"), name
        block = rule["Action"]["Block"]["CustomResponse"]
        assert (block["ResponseCode"], block["CustomResponseBodyKey"]) == (429, "RateLimited")
        assert {"Name": "Retry-After", "Value": "300"} in block["ResponseHeaders"]
        if path is None:
            assert "ScopeDownStatement" not in rate
            continue
        method, uri = rate["ScopeDownStatement"]["AndStatement"]["Statements"]
        assert _method_of(method) == "POST"
        assert uri["RegexMatchStatement"]["FieldToMatch"] == {"UriPath": {}}
        assert uri["RegexMatchStatement"]["RegexString"] == path
    # the tighter limits are the proofs' and new registrations'
    assert DEFAULT_WAF_PROOF_RATE_LIMIT < DEFAULT_WAF_RATE_LIMIT
    assert DEFAULT_WAF_REGISTRATION_RATE_LIMIT < DEFAULT_WAF_RATE_LIMIT


@pytest.mark.parametrize(
    ("path", "proof", "registrations"),
    [
        ("/prod/api/registrations/R-ABCD-EFGH-JKLM-NPQR/code", True, False),
        ("/api/registrations/R-ABCD-EFGH-JKLM-NPQR/session", True, False),  # on a custom domain
        ("/prod/api/registrations/R-ABCD-EFGH-JKLM-NPQR/notice", False, False),
        ("/prod/api/registrations/R-ABCD-EFGH-JKLM-NPQR/code/extra", False, False),
        ("/prod/api/registrations", False, True),
        ("/api/registrations/", False, True),
        ("/prod/api/season", False, False),
        ("/prod/api/recovery/code", True, False),  # a lost id's code and session (issue 19)
        ("/api/recovery/session", True, False),
        ("/prod/api/recovery/other", False, False),
    ],
)
def test_the_scope_down_paths_match_the_routes_with_or_without_the_stage(path, proof, registrations):
    assert bool(re.search(PROOF_PATH, path)) is proof
    assert bool(re.search(REGISTRATIONS_PATH, path)) is registrations


def test_limits_are_context_with_defaults():
    class Node:
        def __init__(self, context: dict[str, str]) -> None:
            self.context = context

        def try_get_context(self, key: str) -> str | None:
            return self.context.get(key)

    base = {"alarm_email": "ops@example.org"}
    limits = AppOptions.from_node(Node(base), {}).waf_limits  # type: ignore[arg-type]
    assert (limits.general, limits.registration, limits.proof) == (
        DEFAULT_WAF_RATE_LIMIT,
        DEFAULT_WAF_REGISTRATION_RATE_LIMIT,
        DEFAULT_WAF_PROOF_RATE_LIMIT,
    )
    context = {**base, "waf_rate_limit": "5000", "waf_proof_rate_limit": "300"}
    limits = AppOptions.from_node(Node(context), {}).waf_limits  # type: ignore[arg-type]
    assert (limits.general, limits.registration, limits.proof) == (
        5000,
        DEFAULT_WAF_REGISTRATION_RATE_LIMIT,
        300,
    )
    for bad in ("5", "lots", "-1", "2000000001"):
        with pytest.raises(ValueError, match="waf_registration_rate_limit"):
            AppOptions.from_node(Node({**base, "waf_registration_rate_limit": bad}), {})  # type: ignore[arg-type]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_managed_rule_groups_in_both_partitions(request, partition):
    # every group is offered in the China regions too (Bot Control at the COMMON level): docs/DEPLOY-CHINA.md
    rules = _rules(_raw(request, partition))
    for name, group in MANAGED.items():
        statement = rules[name]["Statement"]["ManagedRuleGroupStatement"]
        assert (statement["VendorName"], statement["Name"]) == ("AWS", group)
        assert rules[name]["OverrideAction"] == {"None": {}}
    bot = rules["BotControl"]["Statement"]["ManagedRuleGroupStatement"]
    assert bot["ManagedRuleGroupConfigs"] == [
        {"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "COMMON"}}
    ]
    assert (
        bot["ScopeDownStatement"]["NotStatement"]["Statement"]["RegexMatchStatement"]["RegexString"]
        == AGENCY_PATH
    )
    # the common rule set's 8 KB body limit only counts: the web ACL's own size rule is the API's limit
    common = rules["CommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_size_and_method_rules(request, partition):
    raw = _raw(request, partition)
    _, acl = _acl(raw)
    rules = _rules(raw)
    size = rules["BodyTooLarge"]["Statement"]["SizeConstraintStatement"]
    assert (size["ComparisonOperator"], size["Size"]) == ("GT", BODY_LIMIT)
    assert size["FieldToMatch"] == {"Body": {"OversizeHandling": "MATCH"}}
    # WAF inspects as much of an API Gateway body as the API takes
    assert acl["AssociationConfig"]["RequestBody"]["API_GATEWAY"] == {"DefaultSizeInspectionLimit": "KB_64"}
    assert BODY_LIMIT == 64 * 1024
    assert rules["BodyTooLarge"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 413
    statements = rules["MethodNotServed"]["Statement"]["NotStatement"]["Statement"]["OrStatement"][
        "Statements"
    ]
    assert {_method_of(s) for s in statements} == set(ALLOWED_METHODS)
    assert rules["MethodNotServed"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 405
    # ...and the API serves no other method (ANY routes reach handlers serving these, documented ones)
    served = {m.upper() for ops in document()["paths"].values() for m in ops}
    explicit = {m for _, m in api_methods(raw)} - {"ANY"}
    assert served | explicit == set(ALLOWED_METHODS)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_the_web_acl_answers_in_the_refusal_shape_in_chinese(request, partition):
    _, acl = _acl(_raw(request, partition))
    bodies = acl["CustomResponseBodies"]
    assert set(bodies) == set(RESPONSES)
    for key, body in bodies.items():
        assert body["ContentType"] == "APPLICATION_JSON"
        answer = json.loads(body["Content"])
        assert set(answer) == {"message", "errors"} and re.search(r"[\u4e00-\u9fff]", answer["message"]), key
        assert set(answer["errors"][0]) == {"field", "rule", "message", "message_en"}


@pytest.mark.parametrize("partition", PARTITIONS)
def test_waf_logs_to_an_aws_waf_logs_group_with_retention_and_no_tokens(request, partition):
    raw = _raw(request, partition)
    acl_id, _ = _acl(raw)
    _, logging = only(raw, "AWS::WAFv2::LoggingConfiguration")
    props = logging["Properties"]
    assert props["ResourceArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    [destination] = props["LogDestinationConfigs"]
    parts = destination["Fn::Join"][1]
    [group_ref] = [p for p in parts if isinstance(p, dict) and not p.get("Ref", "AWS::").startswith("AWS::")]
    group = raw["Resources"][group_ref["Ref"]]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["LogGroupName"].startswith("aws-waf-logs-")
    assert group["Properties"]["RetentionInDays"] == 90
    assert not str(parts[-1]).endswith(":*")  # WAF refuses the `:*` form
    assert {"SingleHeader": {"Name": "authorization"}} in props["RedactedFields"]


@pytest.mark.parametrize("partition", PARTITIONS)
def test_an_alarm_on_requests_blocked_by_the_rate_rules(request, partition):
    raw = _raw(request, partition)
    [alarm] = [
        a["Properties"]
        for a in resources(raw, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["AlarmName"].endswith("-WafRateBlocked")
    ]
    rules = {
        m["MetricStat"]["Metric"]["Dimensions"][1]["Value"]: m["MetricStat"]["Metric"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
    }
    _, acl = _acl(raw)
    names = {r["Name"]: r["VisibilityConfig"]["MetricName"] for r in acl["Rules"]}
    rate_metrics = {names[n] for n in ("ProofsPerClient", "RegistrationsPerClient", "RequestsPerClient")}
    assert set(rules) == rate_metrics
    for metric in rules.values():
        assert (metric["Namespace"], metric["MetricName"]) == ("AWS/WAFV2", "BlockedRequests")
        dimensions = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
        assert dimensions["WebACL"] == acl["Name"]
    assert alarm["AlarmActions"] and "docs/RUNBOOK.md#waf-rate-blocked" in alarm["AlarmDescription"]


def test_the_apig3_acknowledgment_is_gone(synth):
    # cdk-nag's APIG3 (a WAF on the stage) now passes on its own: tests/infra/test_app.py
    assert "AwsSolutions-APIG3" not in json.dumps(synth.raw)


@pytest.mark.parametrize("partition", PARTITIONS)
def test_every_public_route_with_a_body_has_a_validator_and_the_converted_pydantic_model(request, partition):
    raw = _raw(request, partition)
    methods = api_methods(raw)
    expected = {
        route: model
        for route, model in request_schemas(document()).items()
        if route[0].startswith("/api/") and route not in PROXY_BODY_ROUTES
    }
    assert expected, "no public route with a body"
    # the named exception (issue 19): behind /api/{proxy+}, validated by the function, no method of its own
    assert not [r for r in PROXY_BODY_ROUTES if r in methods]
    assert set(PROXY_BODY_ROUTES) <= set(request_schemas(document())), "an exception that is no route"
    validator_id, validator = only(raw, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestBody"] is True
    for route, (name, schema) in expected.items():
        props = methods[route]
        assert props["RequestValidatorId"] == {"Ref": validator_id}, route
        model = raw["Resources"][props["RequestModels"]["application/json"]["Ref"]]["Properties"]
        assert (model["Name"], model["ContentType"]) == (name, "application/json")
        assert model["Schema"] == schema, route


@pytest.mark.parametrize("partition", PARTITIONS)
def test_a_body_api_gateway_refuses_is_answered_in_the_refusal_shape(request, partition):
    raw = _raw(request, partition)
    [response] = [
        r["Properties"]
        for r in resources(raw, "AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "BAD_REQUEST_BODY"
    ]
    assert response["StatusCode"] == "400"
    answer = json.loads(response["ResponseTemplates"]["application/json"])
    assert answer["message"] == BAD_BODY_ZH
    assert answer["errors"] == [
        {
            "field": "body",
            "rule": "HTTP-MODEL",
            "message": BAD_BODY_ZH,
            "message_en": answer["errors"][0]["message_en"],
        }
    ]
