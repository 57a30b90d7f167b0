"""The REST API: the parents' portal, the staff console and its API, and the agency route.

Public (no authorizer; throttled, behind the web ACL of infra/waf.py; every route that takes a body
validated by API Gateway against its model, the draft 4 form of the pydantic model docs/openapi.json
names (infra/schemas.py), and again by the handler; a body API Gateway refuses is answered 400 in the
API's refusal shape, `BAD_REQUEST_BODY`):
- `GET /`, its script and style (`GET /form.js`, `/form.css`, `/common.js`) and `ANY /api/{proxy+}`
  → register: the parents' portal and registration API.
- The family's proof routes, each its own resource so that it has its own (lower) throttle:
  `POST /api/registrations/{registration_id}/code`, `POST|DELETE .../session`, `POST .../notice`,
  `POST .../decline` → register; beside them `ANY /api/registrations`, `ANY .../{registration_id}`,
  `ANY .../{registration_id}/complaints` and `ANY .../{registration_id}/{proxy+}` keep every other
  family route where it was, and `POST /api/registrations` and `POST .../complaints` have their own
  methods for their bodies' models.
- `GET /console` and `GET /console/{proxy+}` → console: the staff console's pages (no data in them).

Staff (the OIDC token authorizer, functions/authorize; docs/ACCESS.md). The authorizer admits a
valid token with one staff role; every handler then checks the caller's district on the data:
- `GET /admin/me` → console: who is signed in.
- `GET /admin/seasons/{season}/phases`, `POST .../phases/{phase}/advance`,
  `POST .../windows/{grade}/extend` → gate-advance (advancing and extending: city staff only).
- `GET /admin/seasons/{season}/districts/{district}/dead-letters` → gate-advance: the workflow's
  items that failed for good (the district's staff, the city, auditors).
- `GET /admin/seasons/{season}/status`, `POST .../start` → gate-advance: where the season stands
  (every staff role; district staff see their own district's dead letters) and starting it (city).
- `GET /admin/seasons/{season}/visits/overdue` → gate-advance: home visits past their deadline per
  district (district staff their own district, city staff and auditors every one).
- `ANY /admin/verification/{proxy+}` → verify-api: registrations, review queue, decisions, spot-checks,
  and the files agencies' request rounds and answer files (city staff, docs/AGENCY-FILES.md).
- `ANY /admin/lottery/{proxy+}` → lottery-api: the private-school lottery ceremonies (R-LOT-3).
- `ANY /admin/placement/{proxy+}` → place-api: placement results, committee decisions (R-DIS-1),
  deferrals (R-DEFER-1) and overrides, arrivals, the archive's files.
- `ANY /admin/complaints/{proxy+}` → complaints-api: complaints and appeals to answer (R-OPEN-1).
- `ANY /admin/exports/{proxy+}` → exports-api: the season's lists as files (docs/EXPORTS.md).

Agency (AWS_IAM, SigV4):
- `POST /agency/community/visits` → verify-api: the community office's system posts home visits;
  `GET` on the same path lists its open visits (its worklist).

Every integration and the authorizer invoke the function's `live` alias (infra/functions.py), which
each deploy moves to the version it published and an operator may move back (docs/RUNBOOK.md).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import AUTHORIZATION_PATTERN, SERVICE
from enrollment.registration.form import Violation
from functions.api import refusal
from functions.openapi import document
from infra.functions import Functions, log_retention
from infra.nag import acknowledge, checkov_skip
from infra.schemas import request_schemas

STAGE = "prod"
ADMIN_PATH = "/admin/seasons/{season}/phases/{phase}/advance"
EXTEND_PATH = "/admin/seasons/{season}/windows/{grade}/extend"
VERIFICATION_PATH = "/admin/verification/{proxy+}"
VISITS_PATH = "/agency/community/visits"
LOTTERY_PATH = "/admin/lottery/{proxy+}"
PLACEMENT_PATH = "/admin/placement/{proxy+}"
COMPLAINTS_PATH = "/admin/complaints/{proxy+}"
EXPORTS_PATH = "/admin/exports/{proxy+}"
PHASES_PATH = "/admin/seasons/{season}/phases"
DEAD_LETTERS_PATH = "/admin/seasons/{season}/districts/{district}/dead-letters"
SEASON_STATUS_PATH = "/admin/seasons/{season}/status"  # issue 15: the season started and watched
SEASON_START_PATH = "/admin/seasons/{season}/start"
OVERDUE_VISITS_PATH = "/admin/seasons/{season}/visits/overdue"  # issue 17: unanswered home visits
PAUSES_PATH = "/admin/seasons/{season}/pauses"  # issue 16: failures pause, they do not end
RESUME_PATH = "/admin/seasons/{season}/pauses/{pause}/resume"
ME_PATH = "/admin/me"
CONSOLE_PATH = "/console"
CONSOLE_PAGES_PATH = "/console/{proxy+}"
# The portal's files beside its page at `/`: its script and style, and the helpers shared with the console.
PORTAL_FILES = ("/form.js", "/form.css", "/common.js")
AUTHORIZER_CACHE = Duration.minutes(5)  # a token's answer is reused this long (per token)
# Registration peaks when a window opens; a city's season is tens of thousands of children.
RATE_LIMIT, BURST_LIMIT = 200, 400
ADMIN_RATE_LIMIT, ADMIN_BURST_LIMIT = 1, 5
# The family's proofs (docs/ACCESS.md): per method, for every client together (per-client limits
# and lockouts are the register function's, enrollment/people/parents.py). A city's families sign in
# mostly on results days; 20 a second is 72,000 an hour.
REGISTRATION_PATH = "/api/registrations/{registration_id}"
PROOF_ROUTES: dict[str, tuple[tuple[str, ...], int, int]] = {  # path: (methods, rate, burst)
    f"{REGISTRATION_PATH}/code": (("POST",), 20, 40),
    f"{REGISTRATION_PATH}/session": (("POST", "DELETE"), 20, 40),
    f"{REGISTRATION_PATH}/notice": (("POST",), 20, 40),
    f"{REGISTRATION_PATH}/decline": (("POST",), 5, 10),
}
# the resources beside them that keep the rest of the family's routes on the register function
REGISTRATION_RESOURCES = (
    "/api/registrations",
    REGISTRATION_PATH,
    f"{REGISTRATION_PATH}/complaints",
    f"{REGISTRATION_PATH}/{{proxy+}}",
)
# the family's other routes that take a body: a method of their own beside the resource's ANY, so that
# API Gateway checks the body against the route's model (every public route with a body has one)
BODY_ROUTES = (("/api/registrations", "POST"), (f"{REGISTRATION_PATH}/complaints", "POST"))
# The documented exceptions: public routes that take a body but have no method (and model) of their
# own, because a resource and a method each with a model would take the stack past CloudFormation's
# 500 resources. The function validates each body itself (pydantic, 422 naming the field). Issue 19:
# - a lost registration id's code and session (the child's ID number, and the code), served through
#   `/api/{proxy+}`; the web ACL's proof rate rule (infra/waf.py PROOF_PATH) covers them as the id's
#   own routes;
# - the family's edit (`PUT {REGISTRATION_PATH}`, the whole form again, through that resource's ANY)
#   and withdrawal (`POST .../withdraw`, through `{REGISTRATION_PATH}/{proxy+}`), each behind the
#   parent session checked before anything is stored.
PROXY_BODY_ROUTES = (
    ("/api/recovery/code", "POST"),
    ("/api/recovery/session", "POST"),
    (REGISTRATION_PATH, "PUT"),
    (f"{REGISTRATION_PATH}/withdraw", "POST"),
)
# API Gateway's answer to a body its model refuses, in the API's refusal shape (functions/api.py)
BAD_BODY_ZH = "请求内容不符合要求，请检查填写的内容"
BAD_BODY_EN = "the request body does not match the route's model"
BAD_BODY = refusal(400, [Violation("body", "HTTP-MODEL", BAD_BODY_ZH, BAD_BODY_EN)]).body or ""

STAFF_REASON = (
    "Staff routes use a Lambda TOKEN authorizer (functions/authorize) that verifies OIDC access tokens: "
    "the stack's Cognito user pool's by default, or the bureau's own OIDC issuer, which a "
    "COGNITO_USER_POOLS authorizer cannot trust. It checks signature, issuer, client, expiry and the "
    "staff group; handlers then check the district on the data."
)
PUBLIC_REASON = (
    "Parents register without accounts (R-REG-1: anyone may register a child); the form and "
    "/api routes are public on purpose, protected by the web ACL's per-client rate rules, stage "
    "throttling, request models, per-child idempotency and per-client lockouts on the family's proofs "
    "instead of an authorizer."
)
CONSOLE_REASON = (
    "The staff console's pages (its HTML and script) hold no data: staff sign in inside the page at "
    "the OIDC issuer, and every route that reads or changes data (/admin/...) needs the token "
    "authorizer."
)
NO_CACHE_REASON = (
    "No stage cache: answers are per caller (a family's registration, a district's queues) and change "
    "with every write; a cache keyed by path would serve one caller's answer to another or a stale one."
)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        functions: Functions,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(config),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{SERVICE}-{config.name}",
            description=f"Enrollment season {config.name}: registration form, API and bureau admin",
            endpoint_configuration=apigw.EndpointConfiguration(types=[apigw.EndpointType.REGIONAL]),
            # Access logging needs the account-level API Gateway → CloudWatch Logs role, which is one
            # per account and region: the account stack sets it once (infra/account.py), no season does.
            cloud_watch_role=False,
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
                    ),
                    f"{SEASON_START_PATH}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=ADMIN_RATE_LIMIT, throttling_burst_limit=ADMIN_BURST_LIMIT
                    ),
                    f"{RESUME_PATH}/POST": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=ADMIN_RATE_LIMIT, throttling_burst_limit=ADMIN_BURST_LIMIT
                    ),
                    **{
                        f"{path}/{method}": apigw.MethodDeploymentOptions(
                            throttling_rate_limit=rate, throttling_burst_limit=burst
                        )
                        for path, (methods, rate, burst) in PROOF_ROUTES.items()
                        for method in methods
                    },
                },
            ),
        )
        api = self.rest_api
        self.validator = api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )

        self.public_models = self._public_models()
        api.add_gateway_response(
            "BadRequestBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={"application/json": BAD_BODY},
        )

        public = apigw.LambdaIntegration(functions.alias("register"), proxy=True, allow_test_invoke=False)
        form = api.root.add_method("GET", public, request_validator=self.validator)
        form_files = [
            api.root.resource_for_path(path).add_method("GET", public, request_validator=self.validator)
            for path in PORTAL_FILES
        ]
        proxy = api.root.add_resource("api").add_resource("{proxy+}")
        public_api = proxy.add_method(
            "ANY",
            public,
            request_validator=self.validator,
            request_parameters={"method.request.path.proxy": True},
        )
        family = [
            api.root.resource_for_path(path).add_method(
                method,
                public,
                request_validator=self.validator,
                request_parameters={
                    f"method.request.path.{p}": True for p in ("registration_id", "proxy") if f"{{{p}" in path
                }
                or None,
                request_models=self._json(self.public_models.get((path, method))),
            )
            for path, method in [
                *((path, m) for path, (methods, _, _) in PROOF_ROUTES.items() for m in methods),
                *((path, "ANY") for path in REGISTRATION_RESOURCES),
                *BODY_ROUTES,
            ]
        ]
        console = apigw.LambdaIntegration(functions.alias("console"), proxy=True, allow_test_invoke=False)
        console_page = api.root.resource_for_path(CONSOLE_PATH).add_method(
            "GET", console, request_validator=self.validator
        )
        console_pages = api.root.resource_for_path(CONSOLE_PAGES_PATH).add_method(
            "GET",
            console,
            request_validator=self.validator,
            request_parameters={"method.request.path.proxy": True},
        )
        for method, why in (
            *((m, PUBLIC_REASON) for m in (form, *form_files, public_api, *family)),
            *((m, CONSOLE_REASON) for m in (console_page, console_pages)),
        ):
            acknowledge(method, "AwsSolutions-APIG4", why)
            acknowledge(method, "AwsSolutions-COG4", why)
            checkov_skip(method, "CKV_AWS_59", why)

        self.authorizer = apigw.TokenAuthorizer(
            self,
            "StaffTokens",
            handler=functions.alias("authorize"),
            authorizer_name=f"{SERVICE}-{config.name}-staff",
            identity_source=apigw.IdentitySource.header("Authorization"),
            validation_regex=AUTHORIZATION_PATTERN,
            results_cache_ttl=AUTHORIZER_CACHE,
        )

        text = apigw.JsonSchemaType.STRING
        day = apigw.JsonSchema(type=text, pattern=r"^\d{4}-\d{2}-\d{2}$")
        reason = apigw.JsonSchema(type=text, min_length=2, max_length=200)
        advancing = apigw.LambdaIntegration(
            functions.alias("gate-advance"), proxy=True, allow_test_invoke=False
        )
        verification = apigw.LambdaIntegration(
            functions.alias("verify-api"), proxy=True, allow_test_invoke=False
        )
        # as functions/gates/handler.py AdvanceRequest: who advances says why (R-VER-3)
        advance = self._route(
            ADMIN_PATH,
            "POST",
            advancing,
            ("season", "phase"),
            self._body("AdvanceRequest", {"reason": reason}),
        )
        # as functions/gates/handler.py ExtendRequest (R-REG-1: extensions are recorded)
        extend = self._route(
            EXTEND_PATH,
            "POST",
            advancing,
            ("season", "grade"),
            self._body("ExtendRequest", {"until": day, "reason": reason}),
        )
        phases = self._route(PHASES_PATH, "GET", advancing, ("season",))
        dead_letters = self._route(DEAD_LETTERS_PATH, "GET", advancing, ("season", "district"))
        # as functions/gates/handler.py StartRequest: the digest the confirmation showed (city staff only)
        digest = apigw.JsonSchema(type=text, pattern=r"^[0-9a-f]{64}$")
        season_status = self._route(SEASON_STATUS_PATH, "GET", advancing, ("season",))
        season_start = self._route(
            SEASON_START_PATH,
            "POST",
            advancing,
            ("season",),
            self._body("StartRequest", {"config_digest": digest}),
        )
        season_pauses = self._route(PAUSES_PATH, "GET", advancing, ("season",))
        overdue_visits = self._route(OVERDUE_VISITS_PATH, "GET", advancing, ("season",))
        # as functions/gates/handler.py ResumeRequest: who resumes a paused step says why
        resume = self._route(
            RESUME_PATH,
            "POST",
            advancing,
            ("season", "pause"),
            self._body("ResumeRequest", {"reason": reason}),
        )
        me = self._route(ME_PATH, "GET", console, ())
        staff = self._route(VERIFICATION_PATH, "ANY", verification, ("proxy",))
        ceremonies = apigw.LambdaIntegration(
            functions.alias("lottery-api"), proxy=True, allow_test_invoke=False
        )
        lottery = self._route(LOTTERY_PATH, "ANY", ceremonies, ("proxy",))
        placing = apigw.LambdaIntegration(functions.alias("place-api"), proxy=True, allow_test_invoke=False)
        placement = self._route(PLACEMENT_PATH, "ANY", placing, ("proxy",))
        answering = apigw.LambdaIntegration(
            functions.alias("complaints-api"), proxy=True, allow_test_invoke=False
        )
        complaints = self._route(COMPLAINTS_PATH, "ANY", answering, ("proxy",))
        exporting = apigw.LambdaIntegration(
            functions.alias("exports-api"), proxy=True, allow_test_invoke=False
        )
        exports = self._route(EXPORTS_PATH, "ANY", exporting, ("proxy",))
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
        visits = self._route(VISITS_PATH, "POST", verification, (), visit_body, staff=False)
        worklist = self._route(VISITS_PATH, "GET", verification, (), staff=False)
        for method in (
            *(advance, extend, phases, dead_letters, season_status, season_start, season_pauses, resume),
            overdue_visits,
            *(me, staff, lottery, placement, complaints, exports),
        ):
            acknowledge(method, "AwsSolutions-COG4", STAFF_REASON)
        for agency_method in (visits, worklist):
            acknowledge(
                agency_method,
                "AwsSolutions-COG4",
                "The community office's system lists and answers home visits with SigV4 (AWS_IAM "
                "authorization) from an IAM identity granted execute-api:Invoke on this route; there are "
                "no end users here, so a Cognito user pool would add nothing.",
            )
        checkov_skip(api.deployment_stage, "CKV_AWS_120", NO_CACHE_REASON)

    def _public_models(self) -> dict[tuple[str, str], apigw.Model]:
        """(path, METHOD) → the model of each public route that takes a JSON body: the draft 4 form of
        the pydantic model docs/openapi.json names for it. A public route with a body and no method
        of its own here (`PROOF_ROUTES`, `BODY_ROUTES`) fails synth, naming it."""
        served = {(p, m) for p, (methods, _, _) in PROOF_ROUTES.items() for m in methods} | set(BODY_ROUTES)
        out: dict[tuple[str, str], apigw.Model] = {}
        for route, (name, schema) in request_schemas(document()).items():
            if not route[0].startswith("/api/") or route in PROXY_BODY_ROUTES:
                continue  # the staff and agency routes keep their models below; PROXY_BODY_ROUTES: none
            if route not in served:
                raise ValueError(
                    f"{route[1]} {route[0]} takes a body ({name}) but has no method of its own for its "
                    "model: add it to BODY_ROUTES in infra/api.py"
                )
            model = self.rest_api.add_model(
                name, content_type="application/json", model_name=name, schema=apigw.JsonSchema()
            )
            # the converted document as it is (the L2's JsonSchema has no place for every keyword)
            _cfn(model).add_property_override("Schema", schema)
            out[route] = model
        return out

    @staticmethod
    def _json(model: apigw.IModel | None) -> dict[str, apigw.IModel] | None:
        return {"application/json": model} if model else None

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

    def _route(
        self,
        path: str,
        http_method: str,
        integration: apigw.Integration,
        path_parameters: tuple[str, ...],
        body: apigw.Model | None = None,
        *,
        staff: bool = True,
    ) -> apigw.Method:
        """A route only signed-in staff reach (the OIDC token authorizer), or with `staff=False` only
        SigV4-signed agencies (AWS_IAM); its path parameters and body validated."""
        return self.rest_api.root.resource_for_path(path).add_method(
            http_method,
            integration,
            authorizer=self.authorizer if staff else None,
            authorization_type=apigw.AuthorizationType.CUSTOM if staff else apigw.AuthorizationType.IAM,
            request_validator=self.validator,
            request_parameters={f"method.request.path.{p}": True for p in path_parameters} or None,
            request_models={"application/json": body} if body else None,
        )

    @property
    def url(self) -> str:
        return self.rest_api.url

    @property
    def console_url(self) -> str:
        """The console's address, built from the API's id (not its stage: the sign-in client that
        lists it as callback feeds the authorizer, which the stage's deployment depends on)."""
        return Fn.join(
            "",
            [
                "https://",
                self.rest_api.rest_api_id,
                ".execute-api.",
                Aws.REGION,
                ".",
                Aws.URL_SUFFIX,
                f"/{STAGE}/console",
            ],
        )


def _cfn(model: apigw.Model) -> apigw.CfnModel:
    child = model.node.default_child
    if not isinstance(child, apigw.CfnModel):
        raise TypeError(f"{model.node.path} has no AWS::ApiGateway::Model")
    return child
