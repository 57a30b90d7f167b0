"""The public REST API: parents' form and registration API, and the IAM-only staff and agency routes.

- `GET /` and `ANY /api/{proxy+}` → register (Lambda proxy; Powertools validates bodies).
- `POST /admin/seasons/{season}/phases/{phase}/advance` → gate-advance, AWS_IAM (SigV4) only.
- `POST /admin/seasons/{season}/windows/{grade}/extend` → gate-advance, AWS_IAM (SigV4) only.
- `ANY /admin/verification/{proxy+}` → verify-api, AWS_IAM only: district and city staff's review
  queue, decisions, history and spot-check outcomes (the staff directory says who may do what).
- `ANY /admin/lottery/{proxy+}` → lottery-api, AWS_IAM only: the private-school lottery ceremony
  (R-LOT-3) and its big-screen page; district staff run their own district's, city and auditors watch.
- `ANY /admin/placement/{proxy+}` → place-api, AWS_IAM only: committee decisions (R-DIS-1),
  deferrals (R-DEFER-1) and overrides with reasons, entered by the child's district before placement.
- `POST /agency/community/visits` → verify-api, AWS_IAM only: the community office's system posts
  home-visit answers.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from enrollment.config import SeasonConfig
from enrollment.resources import SERVICE
from infra.nag import acknowledge

STAGE = "prod"
ADMIN_PATH = "/admin/seasons/{season}/phases/{phase}/advance"
EXTEND_PATH = "/admin/seasons/{season}/windows/{grade}/extend"
VERIFICATION_PATH = "/admin/verification/{proxy+}"
VISITS_PATH = "/agency/community/visits"
LOTTERY_PATH = "/admin/lottery/{proxy+}"
PLACEMENT_PATH = "/admin/placement/{proxy+}"
# Registration peaks when a window opens; a city's season is tens of thousands of children.
RATE_LIMIT, BURST_LIMIT = 200, 400
ADMIN_RATE_LIMIT, ADMIN_BURST_LIMIT = 1, 5

PUBLIC_REASON = (
    "Parents register without accounts (R-REG-1: anyone may register a child); the form and "
    "/api routes are public on purpose, protected by stage throttling, request validation and "
    "per-child idempotency instead of an authorizer."
)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        register: lambda_.IFunction,
        gate_advance: lambda_.IFunction,
        verify_api: lambda_.IFunction,
        lottery_api: lambda_.IFunction,
        place_api: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.SIX_MONTHS,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{SERVICE}-{config.name}",
            description=f"Enrollment season {config.name}: registration form, API and bureau admin",
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.REGIONAL]),
            # Access logging needs the account-level API Gateway → CloudWatch Logs role.
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                # Execution logs at ERROR without data trace: bodies carry personal data (R-DATA-2).
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=RATE_LIMIT,
                throttling_burst_limit=BURST_LIMIT,
                method_options={
                    f"{ADMIN_PATH}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=ADMIN_RATE_LIMIT, throttling_burst_limit=ADMIN_BURST_LIMIT
                    )
                },
            ),
        )
        api = self.rest_api
        self.validator = api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )

        public = apigw.LambdaIntegration(register, proxy=True, allow_test_invoke=False)
        form = api.root.add_method("GET", public, request_validator=self.validator)
        proxy = api.root.add_resource("api").add_resource("{proxy+}")
        public_api = proxy.add_method(
            "ANY",
            public,
            request_validator=self.validator,
            request_parameters={"method.request.path.proxy": True},
        )
        for method in (form, public_api):
            acknowledge(method, "AwsSolutions-APIG4", PUBLIC_REASON)
            acknowledge(method, "AwsSolutions-COG4", PUBLIC_REASON)

        text = apigw.JsonSchemaType.STRING
        day = apigw.JsonSchema(type=text, pattern=r"^\d{4}-\d{2}-\d{2}$")
        reason = apigw.JsonSchema(type=text, min_length=2, max_length=200)
        advancing = apigw.LambdaIntegration(gate_advance, proxy=True, allow_test_invoke=False)
        verification = apigw.LambdaIntegration(verify_api, proxy=True, allow_test_invoke=False)
        # as functions/gates/handler.py AdvanceRequest: who advances says why (R-VER-3)
        advance = self._iam_route(
            ADMIN_PATH,
            "POST",
            advancing,
            ("season", "phase"),
            self._body("AdvanceRequest", {"reason": reason}),
        )
        # as functions/gates/handler.py ExtendRequest (R-REG-1: extensions are recorded)
        extend = self._iam_route(
            EXTEND_PATH,
            "POST",
            advancing,
            ("season", "grade"),
            self._body("ExtendRequest", {"until": day, "reason": reason}),
        )
        staff = self._iam_route(VERIFICATION_PATH, "ANY", verification, ("proxy",))
        ceremonies = apigw.LambdaIntegration(lottery_api, proxy=True, allow_test_invoke=False)
        lottery = self._iam_route(LOTTERY_PATH, "ANY", ceremonies, ("proxy",))
        placing = apigw.LambdaIntegration(place_api, proxy=True, allow_test_invoke=False)
        placement = self._iam_route(PLACEMENT_PATH, "ANY", placing, ("proxy",))
        # the community office's answer to one home visit (实际居住, R-VER-1)
        visit_body = self._body(
            "HomeVisitAnswer",
            {
                "registration_id": apigw.JsonSchema(type=text, min_length=1, max_length=64),
                "lives_there": apigw.JsonSchema(type=apigw.JsonSchemaType.BOOLEAN),
                "visited_on": day,
                "visitor": apigw.JsonSchema(type=text, min_length=1, max_length=100),
            },
        )
        visits = self._iam_route(VISITS_PATH, "POST", verification, (), visit_body)
        for method in (advance, extend, staff, lottery, placement):
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "Bureau staff call the admin routes with SigV4 (AWS_IAM authorization) from their IAM "
                "identities; there is no Cognito user pool, and IAM is the stronger control here.",
            )
        acknowledge(
            visits,
            "AwsSolutions-COG4",
            "The community office's system posts home-visit answers with SigV4 (AWS_IAM authorization) "
            "from an IAM identity granted execute-api:Invoke on this route; there are no end users here, "
            "so a Cognito user pool would add nothing.",
        )
        acknowledge(
            api.deployment_stage,
            "AwsSolutions-APIG3",
            "No WAF web ACL in this stack: stage throttling bounds the public routes and the admin "
            "route needs SigV4. A regional WAF (managed rules + rate rule) is an account decision, "
            "to be associated with this stage where the city's network policy requires it.",
        )
        acknowledge(
            api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role; this AWS-managed policy is the documented one "
            "and only allows writing CloudWatch Logs.",
        )

    def _body(self, name: str, properties: dict[str, apigw.JsonSchema]) -> apigw.Model:
        """A JSON body model requiring every property listed (API Gateway validates it first)."""
        return self.rest_api.add_model(
            name,
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                title=name,
                type=apigw.JsonSchemaType.OBJECT,
                required=list(properties),
                properties=properties,
            ),
        )

    def _iam_route(
        self,
        path: str,
        http_method: str,
        integration: apigw.Integration,
        path_parameters: tuple[str, ...],
        body: apigw.Model | None = None,
    ) -> apigw.Method:
        """A route only SigV4-signed callers reach (AWS_IAM), with its parameters and body validated."""
        return self.rest_api.root.resource_for_path(path).add_method(
            http_method,
            integration,
            authorization_type=apigw.AuthorizationType.IAM,
            request_validator=self.validator,
            request_parameters={f"method.request.path.{p}": True for p in path_parameters} or None,
            request_models={"application/json": body} if body else None,
        )

    @property
    def url(self) -> str:
        return self.rest_api.url
