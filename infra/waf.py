"""The API stage's web ACL (AWS WAFv2, REGIONAL): per-client limits before any Lambda runs.

The stage's throttles (infra/api.py) bound all clients together and the register function counts
each client's proofs (enrollment/people/parents.py), but only after a Lambda invocation and a
DynamoDB read. The web ACL refuses the obvious abuse in front of the stage, per client IP, in this
order (the default action allows):

1. `MethodNotServed`: a method no route serves (`ALLOWED_METHODS`) → 405.
2. `BodyTooLarge`: a body larger than the API's own limit (functions/api.py `BODY_LIMIT`, 64 KiB;
   WAF inspects up to 64 KB of an API Gateway body when the web ACL asks for it, and a body larger than
   what it inspects counts as matching) → 413.
3. `AmazonIpReputation`: AWSManagedRulesAmazonIpReputationList (addresses known for bots, DDoS or
   reconnaissance).
4. `ProofsPerClient`, `RegistrationsPerClient`, `RequestsPerClient`: rate-based rules per source IP
   over `WINDOW_S` seconds: the family's proofs (`POST .../code`, `POST .../session`: a code costs an
   SMS), new registrations (`POST /api/registrations`), and every request → 429 with `Retry-After`.
   The limits are context (`-c waf_proof_rate_limit=...`, infra/context.py): mobile carriers put many
   families behind one address (CGNAT), so they are generous; the register function's own per-client
   limits still apply behind them.
5. `KnownBadInputs`, `CommonRuleSet`: AWSManagedRulesKnownBadInputsRuleSet and
   AWSManagedRulesCommonRuleSet, whose `SizeRestrictions_BODY` (8 KB) only counts: rule 2 is the limit.
6. `BotControl`: AWSManagedRulesBotControlRuleSet at the COMMON inspection level, except on the
   agency routes (`/agency/...`), where a system signs its requests with an HTTP library on purpose.

Every managed group is offered in the China regions too (Bot Control at the COMMON level only, the one
used here): docs/DEPLOY-CHINA.md. The paths are matched with or without a leading stage or base path
segment (`/prod/api/...` on the execute-api address, `/api/...` on a custom domain).

Refusals the web ACL writes itself (405, 413, 429) have the API's one refusal shape in Chinese
(functions/api.py `refusal`). Logs go to the log group `aws-waf-logs-enrollment-<season config>`
(WAF requires the prefix) with the Authorization header redacted; blocks by the rate rules raise the
`WafRateBlocked` alarm (infra/observability.py, docs/RUNBOOK.md).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import SERVICE
from enrollment.registration.form import Violation
from functions.api import BODY_LIMIT, refusal
from infra.context import WafLimits

# Every method a route of the API serves (docs/openapi.json, the portal's and console's pages); OPTIONS
# and HEAD are not (no CORS: the portal and console are served from the API's own origin).
ALLOWED_METHODS = ("GET", "POST", "PUT", "DELETE")  # PUT: a family edits its registration
WINDOW_S = 300  # the rate-based rules' evaluation window: WAF's default, left unset
BODY_INSPECTION_LIMIT = "KB_64"  # how much of an API Gateway body WAF inspects (default 16 KB)
RATE_BLOCKED_PER_PERIOD = 100  # requests refused by the rate rules in 5 minutes: the alarm
LOG_RETENTION = logs.RetentionDays.THREE_MONTHS
# the paths a rate rule is scoped down to (with an optional first segment: the stage or a base path)
_PREFIX = "^(/[^/]+)?/api/registrations"
# a registration's code and session, and a lost id's (`/api/recovery/code`, `/session`: issue 19)
PROOF_PATH = "^(/[^/]+)?/api/(registrations/[^/]+|recovery)/(code|session)/?$"
REGISTRATIONS_PATH = _PREFIX + "/?$"
AGENCY_PATH = "^(/[^/]+)?/agency/"
RATE_RULES = ("ProofsPerClient", "RegistrationsPerClient", "RequestsPerClient")
MANAGED_GROUPS = {  # rule name → AWS managed rule group
    "AmazonIpReputation": "AWSManagedRulesAmazonIpReputationList",
    "KnownBadInputs": "AWSManagedRulesKnownBadInputsRuleSet",
    "CommonRuleSet": "AWSManagedRulesCommonRuleSet",
    "BotControl": "AWSManagedRulesBotControlRuleSet",
}


def _refused(rule: str, zh: str, en: str) -> str:
    """A refusal's body as the handlers write it (the status is the web ACL's rule's, below)."""
    return refusal(400, [Violation("body", rule, zh, en)]).body or ""


# key → (status, body): the refusals the web ACL answers itself
RESPONSES: dict[str, tuple[int, str]] = {
    "MethodNotServed": (
        405,
        _refused("HTTP-METHOD", "不支持该请求方法", "this method is not served"),
    ),
    "BodyTooLarge": (
        413,
        _refused(
            "HTTP-SIZE",
            f"请求内容过大（不超过{BODY_LIMIT // 1024}KB）",
            f"the body is larger than {BODY_LIMIT} bytes",
        ),
    ),
    "RateLimited": (
        429,
        _refused(
            "HTTP-RATE",
            "请求过于频繁，请几分钟后再试",
            f"too many requests from this address; retry in {WINDOW_S} s",
        ),
    ),
}


class Waf(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        stage: apigw.Stage,
        limits: WafLimits,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = f"{SERVICE}-{config.name}"
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=self.name,
            description=f"Enrollment season {config.name}: per-client limits and managed rules on the API",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(self.name),
            custom_response_bodies={
                key: wafv2.CfnWebACL.CustomResponseBodyProperty(content_type="APPLICATION_JSON", content=body)
                for key, (_, body) in RESPONSES.items()
            },
            association_config=wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={
                    "API_GATEWAY": wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                        default_size_inspection_limit=BODY_INSPECTION_LIMIT
                    )
                }
            ),
        )
        # the rules as CloudFormation spells them (the WAF API's own names, one to one)
        self.web_acl.add_property_override("Rules", self.rules(limits))
        self.association = wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"aws-waf-logs-{self.name}",  # WAF logs only to groups with this prefix
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,  # named: a retained group would block a redeploy
        )
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            # the group's ARN without the `:*` CloudWatch Logs appends (WAF refuses it)
            log_destination_configs=[
                Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=self.log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            # staff tokens and the families' session tokens travel in it
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"})
            ],
        )
        logging.node.add_dependency(self.log_group)

    def rules(self, limits: WafLimits) -> list[dict[str, Any]]:
        rate = {"Block": _block("RateLimited", headers={"Retry-After": str(WINDOW_S)})}
        rules: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
            (
                "MethodNotServed",
                {"NotStatement": {"Statement": _any_of([_method(m) for m in ALLOWED_METHODS])}},
                {"Block": _block("MethodNotServed")},
            ),
            (
                "BodyTooLarge",
                {
                    "SizeConstraintStatement": {
                        "FieldToMatch": {"Body": {"OversizeHandling": "MATCH"}},
                        "ComparisonOperator": "GT",
                        "Size": BODY_LIMIT,
                        "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
                    }
                },
                {"Block": _block("BodyTooLarge")},
            ),
            _managed("AmazonIpReputation"),
            (
                "ProofsPerClient",
                _per_client(
                    limits.proof, {"AndStatement": {"Statements": [_method("POST"), _path(PROOF_PATH)]}}
                ),
                rate,
            ),
            (
                "RegistrationsPerClient",
                _per_client(
                    limits.registration,
                    {"AndStatement": {"Statements": [_method("POST"), _path(REGISTRATIONS_PATH)]}},
                ),
                rate,
            ),
            ("RequestsPerClient", _per_client(limits.general, None), rate),
            _managed("KnownBadInputs"),
            _managed("CommonRuleSet", overrides={"SizeRestrictions_BODY": "Count"}),
            _managed(
                "BotControl",
                config=[{"AWSManagedRulesBotControlRuleSet": {"InspectionLevel": "COMMON"}}],
                scope_down={"NotStatement": {"Statement": _path(AGENCY_PATH)}},
            ),
        ]
        out = []
        for priority, (name, statement, action) in enumerate(rules):
            managed = "ManagedRuleGroupStatement" in statement
            out.append(
                {
                    "Name": name,
                    "Priority": priority,
                    "Statement": statement,
                    **({"OverrideAction": {"None": {}}} if managed else {"Action": action}),
                    "VisibilityConfig": _visibility(f"{self.name}-{name}", raw=True),
                }
            )
        return out

    def metric_rate_blocked(self) -> cloudwatch.IMetric:
        """Requests the rate rules refused, all three summed (AWS/WAFV2 `BlockedRequests` per rule)."""
        stack = Stack.of(self)
        return cloudwatch.MathExpression(
            expression=" + ".join(f"FILL(r{i}, 0)" for i in range(len(RATE_RULES))),
            using_metrics={
                f"r{i}": cloudwatch.Metric(
                    namespace="AWS/WAFV2",
                    metric_name="BlockedRequests",
                    dimensions_map={
                        "WebACL": self.name,
                        "Region": stack.region,
                        "Rule": f"{self.name}-{rule}",
                    },
                    statistic="Sum",
                )
                for i, rule in enumerate(RATE_RULES)
            },
            label="Blocked by the rate rules",
            period=Duration.minutes(5),
        )


def _visibility(metric: str, *, raw: bool = False) -> Any:
    if raw:
        return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        sampled_requests_enabled=True, cloud_watch_metrics_enabled=True, metric_name=metric
    )


def _block(response: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    status, _ = RESPONSES[response]
    custom: dict[str, Any] = {"ResponseCode": status, "CustomResponseBodyKey": response}
    if headers:
        custom["ResponseHeaders"] = [{"Name": k, "Value": v} for k, v in headers.items()]
    return {"CustomResponse": custom}


def _method(method: str) -> dict[str, Any]:
    return {
        "ByteMatchStatement": {
            "FieldToMatch": {"Method": {}},
            "PositionalConstraint": "EXACTLY",
            "SearchString": method,
            "TextTransformations": [{"Priority": 0, "Type": "NONE"}],
        }
    }


def _path(pattern: str) -> dict[str, Any]:
    return {
        "RegexMatchStatement": {
            "FieldToMatch": {"UriPath": {}},
            "RegexString": pattern,
            "TextTransformations": [{"Priority": 0, "Type": "URL_DECODE"}],
        }
    }


def _any_of(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return statements[0] if len(statements) == 1 else {"OrStatement": {"Statements": statements}}


def _per_client(limit: int, scope_down: dict[str, Any] | None) -> dict[str, Any]:
    rate: dict[str, Any] = {"Limit": limit, "AggregateKeyType": "IP"}  # over WINDOW_S, WAF's default
    if scope_down is not None:
        rate["ScopeDownStatement"] = scope_down
    return {"RateBasedStatement": rate}


def _managed(
    name: str,
    *,
    overrides: dict[str, str] | None = None,
    config: list[dict[str, Any]] | None = None,
    scope_down: dict[str, Any] | None = None,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    group: dict[str, Any] = {"VendorName": "AWS", "Name": MANAGED_GROUPS[name]}
    if overrides:
        group["RuleActionOverrides"] = [
            {"Name": rule, "ActionToUse": {action: {}}} for rule, action in overrides.items()
        ]
    if config:
        group["ManagedRuleGroupConfigs"] = config
    if scope_down:
        group["ScopeDownStatement"] = scope_down
    return name, {"ManagedRuleGroupStatement": group}, {}
