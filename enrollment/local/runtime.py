"""The embedded backend: the season's AWS resources in moto, in this process.

It creates what the CDK stack creates (same names and settings where moto supports them), loads the
very same `statemachines/season.asl.json` with the same substitution names pointed at moto ARNs,
runs the project's Lambda handlers in-process when moto's Step Functions engine (or a schedule)
invokes them, and fires the EventBridge schedules on a simulated clock. Public security and housing
answer over the agency API (enrollment/adapters/agency_http.py) from a fake agency on loopback
(enrollment/local/fake_agency.py), as a deployed season's agencies would (`API_AGENCIES`).
"""

from __future__ import annotations

import base64
import functools
import importlib
import json
import os
import re
import sys
import tempfile
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Literal, TypedDict, Unpack
from unittest import mock
from zoneinfo import ZoneInfo

import boto3

from enrollment.adapters import seeds
from enrollment.core import clock, resources
from enrollment.core.config import SeasonConfig
from enrollment.core.deadlines import MAX_EVENT_AGE_S as SCHEDULE_MAX_EVENT_AGE_S
from enrollment.core.deadlines import RETRY_ATTEMPTS as SCHEDULE_RETRY_ATTEMPTS
from enrollment.core.launch import config_digest, start_season
from enrollment.local import calls
from enrollment.local.entropy import SeasonSeeds, seeded_kms
from enrollment.local.spill import spilled_s3_values
from enrollment.verification.registries import Registries

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_stepfunctions import SFNClient

# API Gateway's identity validation for the staff token authorizer (infra/api.py AUTHORIZATION_PATTERN)
AUTHORIZATION = re.compile(resources.AUTHORIZATION_PATTERN)

LOCAL_TASK_TIMEOUT_FACTOR = 20  # see EmbeddedSeason.definition
# a daily schedule's failed run is tried again this many times (infra/schedules.py: its target's
# retry_attempts), at once here: the clock is simulated
DAILY_RETRY_ATTEMPTS = 2

REGION = "cn-north-1"
ACCOUNT = "123456789012"  # moto's default account
PARTITION = "aws-cn"
ENGINES = ("moto", "sqlite")  # what runs the season table's requests (README: "The local embedded backend")
# the agencies asked over their API locally, at the fake agency, and the agency exchanging files, whose
# clerk (enrollment/local/fake_agency_files.py) answers the workflow's rounds while it waits
API_AGENCIES: tuple[Literal["public-security", "housing", "planning"], ...] = ("public-security", "housing")
FILE_AGENCIES: tuple[Literal["public-security", "housing", "planning"], ...] = ("planning",)
LOCAL_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


class ApiOptions(TypedDict, total=False):
    """What else an API Gateway event carries (`api_event`'s keywords): the matched resource and path
    parameters, who called, the request's headers and query string."""

    resource: str
    path_parameters: dict[str, str] | None
    caller: str | None
    authorizer: dict[str, Any] | None
    headers: dict[str, str] | None
    query: dict[str, str] | None
    source_ip: str


def _resolve(handler: str) -> Callable[[dict[str, Any], Any], Any]:
    module, func = handler.rsplit(".", 1)
    fn: Callable[[dict[str, Any], Any], Any] = getattr(importlib.import_module(module), func)
    return fn


class EmbeddedSeason:
    """A season's stack in moto. Use as a context manager; everything is gone when it exits."""

    def __init__(
        self,
        config: SeasonConfig,
        sim_clock: clock.SimulatedClock,
        log_level: str = "WARNING",
        config_path: str | None = None,
        registries: Registries | None = None,
        seed: int | str = 0,
        engine: str = "moto",
    ) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.engine = engine
        self.config = config
        self.registries = registries or Registries()
        # every key, seed and typed input of the season derives from it (enrollment/local/entropy.py)
        self.seeds = SeasonSeeds(seed, config.name, config.season)
        self.config_path = config_path or f"seasons/{config.name}.yaml"
        self.clock = sim_clock
        self.log_level = log_level
        self.name = config.name
        self._stack = ExitStack()
        self.fired: set[str] = set()
        self.invocations: list[tuple[str, bool]] = []
        # each run of a daily schedule (the corrections' seal): {"schedule", "at", "error", "result"}
        self.daily_runs: list[dict[str, Any]] = []
        self.env: dict[str, str] = {}
        self._clients: dict[str, Any] = {}  # one boto3 client per service for the runtime's own calls
        self._clients_lock = threading.Lock()

    # Lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> EmbeddedSeason:
        try:
            return self._enter()
        except BaseException:
            self._stack.close()  # leave no mock, patch or environment behind for whoever runs next
            raise

    def _enter(self) -> EmbeddedSeason:
        from moto import mock_aws
        from moto.awslambda.models import LambdaFunction

        self._stack.enter_context(mock.patch.dict(os.environ, LOCAL_ENV))
        self._stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self._stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        self._stack.callback(self._clients.clear)  # they belong to this moto world
        self._stack.enter_context(seeded_kms(self.seeds))
        self._stack.enter_context(seeds.installed(self.seeds))
        runtime = self

        def invoke(fn: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            return runtime._invoke(fn.function_name, str(fn.handler), event)

        self._stack.enter_context(mock.patch.object(LambdaFunction, "_invoke_lambda", invoke))
        if calls.counting():  # `enroll demo --budget`: every AWS call counted by who made it
            self._stack.enter_context(_counted_calls(self))
        self._stack.enter_context(_no_real_waiting(self.clock, before=self._while_waiting))
        self._stack.enter_context(_long_map_workers())
        self._stack.enter_context(_partition_queries())
        self._stack.enter_context(_lean_requests())
        self._stack.enter_context(_parsed_once())
        self._stack.enter_context(_plain_dynamodb_json())
        self._stack.enter_context(clock.use(self.clock))
        registries_dir = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="agency-registries-"))
        # S3 objects' bytes on disk, not in memory: a city's notices are gigabytes (enrollment/local/spill.py)
        self._stack.enter_context(spilled_s3_values(registries_dir))
        self.registries.write(registries_dir)
        self._serve_agencies(Path(registries_dir))
        self._create_resources()
        if self.engine == "sqlite":
            self._use_sqlite()
        self.env["AGENCY_REGISTRIES"] = registries_dir
        self.sms_outbox = str(Path(registries_dir) / "sms-outbox.jsonl")  # SNS stand-in (R-NOTE-1)
        self.env["SMS_OUTBOX"] = self.sms_outbox
        # Cognito stand-in: the development issuer and its users (enrollment/local/oidc.py)
        from enrollment.core.staff import StaffDirectory
        from enrollment.local.oidc import CLIENT_ID, GROUPS_CLAIM, DevIssuer

        self.oidc = DevIssuer(StaffDirectory.load(resources.ROOT / self.env["STAFF_DIRECTORY"]))
        self.jwks_file = str(Path(registries_dir) / "dev-oidc-jwks.json")
        self.oidc.write_jwks(self.jwks_file)
        self.env |= {
            "OIDC_ISSUER": self.oidc.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_GROUPS_CLAIM": GROUPS_CLAIM,
            "OIDC_JWKS_FILE": self.jwks_file,
        }
        self._stack.enter_context(mock.patch.dict(os.environ, self.env))
        _reset_cached_wiring()
        self._stack.callback(_reset_cached_wiring)
        if calls.counting():
            _load_agency_stand_in()
        self.deploy("Create")
        return self

    def _serve_agencies(self, folder: Path) -> None:
        """Public security and housing behind the agency API: each a fake agency on 127.0.0.1
        (`agency_servers`) answering from the registries on the simulated clock, its HMAC key in
        Secrets Manager, and the season's config as the functions read it (SEASON_CONFIG, a copy in
        `folder`) naming their endpoints in `verification.agencies`, as a bureau's config would; and
        planning exchanging files, its clerk played from the registries (`clerk`). An agency the
        season's own config already names keeps its settings (a test's files agency, say)."""
        import yaml

        from enrollment.core.config import AgencyEndpoint, AgencyFiles
        from enrollment.local.fake_agency import FakeAgency
        from enrollment.local.fake_agency_files import Clerk
        from enrollment.verification.checks import LocalRegistries

        secrets = boto3.client("secretsmanager")
        answers = LocalRegistries(self.registries)
        self.agency_servers: dict[str, FakeAgency] = {}
        settings = self.config.verification
        endpoints: dict[str, AgencyEndpoint | AgencyFiles] = {
            a: AgencyFiles(kind="files") for a in FILE_AGENCIES if a not in settings.agencies
        }
        for agency in API_AGENCIES:
            if agency in settings.agencies:
                continue
            key_id, key = f"{self.name}-{agency}", self.seeds.derive(f"agency-api-key/{agency}").hex()
            server = FakeAgency(answers, {key_id: key.encode()}, clock=self.clock.now)
            self.agency_servers[agency] = self._stack.enter_context(server)
            secret = secrets.create_secret(
                Name=f"{self.name}/agencies/{agency}", SecretString=json.dumps({"key_id": key_id, "key": key})
            )
            endpoints[agency] = AgencyEndpoint(base_url=server.base_url, credentials_secret_arn=secret["ARN"])
        self.config = self.config.model_copy(
            update={
                "verification": settings.model_copy(update={"agencies": {**endpoints, **settings.agencies}})
            }
        )
        self.clerk = Clerk(self, answers, tuple(sorted(self.config.verification.agency_files())))
        path = folder / f"{self.name}.yaml"
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when the wheel has it: 10x faster
        path.write_text(
            yaml.dump(self.config.model_dump(mode="json"), Dumper=dumper, allow_unicode=True),
            encoding="utf-8",
        )
        self.config_path = str(path)

    def _while_waiting(self) -> None:
        """While the workflow waits (a Wait state): the files agencies' clerks answer their rounds."""
        clerk = getattr(self, "clerk", None)
        if clerk is not None:
            with calls.people():  # the clerk is a person: the engine's thread, not its calls
                clerk.answer_rounds()

    def deploy(self, request: Literal["Create", "Update", "Delete"] = "Update") -> dict[str, Any]:
        """What a `cdk deploy` does to the deadline schedules: the custom resource's request to the
        `deadlines` function (infra/schedules.py), which puts each gate's schedule at its stored
        deadline (enrollment/core/deadlines.py). Returns the function's answer."""
        queue_arn = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.schedule_dead_letters, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        properties = {
            "ServiceToken": "local",
            "Season": self.config.season,
            "GroupName": self.schedule_group,
            "TargetArn": self.function_arns["gate-advance"],
            "RoleArn": self.schedule_role,
            "DeadLetterArn": queue_arn,
            # as CloudFormation passes them: every value a string
            "MaximumRetryAttempts": str(SCHEDULE_RETRY_ATTEMPTS),
            "MaximumEventAgeInSeconds": str(SCHEDULE_MAX_EVENT_AGE_S),
        }
        event: dict[str, Any] = {"RequestType": request, "ResourceProperties": properties}
        if request != "Create":
            event["PhysicalResourceId"] = self.schedule_group
        out = self._lambda.invoke(
            FunctionName=self.function_arns["deadlines"], Payload=json.dumps(event).encode()
        )
        answer: dict[str, Any] = json.loads(out["Payload"].read() or b"null")
        if "FunctionError" in out:
            raise RuntimeError(f"the deadline schedules' {request} failed: {answer}")
        return answer

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _use_sqlite(self) -> None:
        """The season table's requests go to an embedded SQLite engine (enrollment/local/sqlite_dynamo.py)
        for the season's lifetime, and the idempotency table's too; the tables made in moto stay, empty."""
        from enrollment.adapters import table
        from enrollment.local.sqlite_dynamo import SqliteDynamo

        engine = self._stack.enter_context(SqliteDynamo())
        engine.create_table(self.table_name)
        previous = table.ENGINE
        table.ENGINE = engine.resource
        self._stack.callback(setattr, table, "ENGINE", previous)
        # ...and so do the idempotency table's, through the engine's low-level client
        engine.create_table(self.idempotency_table_name, hash_key="id", range_key=None)
        previous_client = table.ENGINE_CLIENT
        table.ENGINE_CLIENT = engine.client
        self._stack.callback(setattr, table, "ENGINE_CLIENT", previous_client)

    def serve_issuer_at(self, base: str) -> None:
        """The local server listens at `base`: the development issuer's URL (and tokens' `iss`) is there."""
        self.oidc.issuer = base.rstrip("/") + "/dev-oidc"
        self.env["OIDC_ISSUER"] = os.environ["OIDC_ISSUER"] = self.oidc.issuer
        _reset_cached_wiring()

    # Resources (mirrors infra/) --------------------------------------------------------------

    def _create_resources(self) -> None:
        kms = boto3.client("kms")
        self.table_key = kms.create_key(Description=f"{self.name} table key")["KeyMetadata"]["Arn"]
        self.child_key = kms.create_key(
            Description=f"{self.name} child key (HMAC of ID numbers)",
            KeySpec="HMAC_256",
            KeyUsage="GENERATE_VERIFY_MAC",
        )["KeyMetadata"]["Arn"]
        self.signing_key = kms.create_key(
            Description=f"{self.name} archive signing key", KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"
        )["KeyMetadata"]["Arn"]

        ddb = boto3.client("dynamodb")
        self.table_name = resources.table_name(self.name)
        self.idempotency_table_name = resources.idempotency_table_name(self.name)
        sse: Any = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": self.table_key}
        create_season_table(ddb, self.table_name, SSESpecification=sse)
        ddb.update_time_to_live(
            TableName=self.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": resources.TTL_ATTRIBUTE},
        )
        ddb.create_table(
            TableName=self.idempotency_table_name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            SSESpecification=sse,
        )

        s3 = boto3.client("s3")
        self.bucket = resources.archive_bucket_name(self.name, ACCOUNT, REGION)
        s3.create_bucket(
            Bucket=self.bucket,
            CreateBucketConfiguration={"LocationConstraint": REGION},  # type: ignore[typeddict-item]
            ObjectLockEnabledForBucket=True,
        )
        s3.put_object_lock_configuration(
            Bucket=self.bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 3650}},
            },
        )

        self.work_bucket = resources.work_bucket_name(self.name, ACCOUNT, REGION)
        s3.create_bucket(
            Bucket=self.work_bucket,
            CreateBucketConfiguration={"LocationConstraint": REGION},  # type: ignore[typeddict-item]
        )

        iam = boto3.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName=f"{self.name}-local", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]

        self.env = {
            "SEASON_CONFIG": self.config_path,
            "SEASON_CONFIG_DIGEST": config_digest(self.config),  # as the stack deploys it (infra/stack.py)
            "TABLE_NAME": self.table_name,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table_name,
            "CHILD_KEY_ID": self.child_key,
            "SCHEDULE_GROUP": resources.schedule_group_name(self.name),
            "WORK_BUCKET": self.work_bucket,
            "ARCHIVE_BUCKET": self.bucket,
            "SIGNING_KEY_ID": self.signing_key,
            # a late registration's checks (issue 18): the place API invokes it, in-process here
            "VERIFY_BATCH_FUNCTION": resources.function_name(self.name, "verify-batch"),
            "STAFF_DIRECTORY": f"seasons/{self.name}.staff.yaml",
            "POWERTOOLS_SERVICE_NAME": resources.SERVICE,
            "POWERTOOLS_LOG_LEVEL": self.log_level,
            "LOG_LEVEL": self.log_level,
        }
        lam = boto3.client("lambda")
        self.function_arns: dict[str, str] = {}
        for spec in resources.FUNCTIONS:
            fn = lam.create_function(
                FunctionName=resources.function_name(self.name, spec.key),
                Runtime=resources.LAMBDA_RUNTIME,  # type: ignore[arg-type]
                Role=role,
                Handler=spec.handler,
                Code={"ZipFile": b"in-process: see enrollment/local/runtime.py"},
                Environment={"Variables": self.env},
                Timeout=spec.timeout_s,
                MemorySize=spec.memory_mb,
            )
            self.function_arns[spec.key] = fn["FunctionArn"]

        sfn = boto3.client("stepfunctions")
        self.state_machine_arn = sfn.create_state_machine(
            name=resources.state_machine_name(self.name),
            definition=self.definition(),
            roleArn=role,
            type="STANDARD",
        )["stateMachineArn"]
        self.env["STATE_MACHINE_ARN"] = self.state_machine_arn

        scheduler = boto3.client("scheduler")
        self.schedule_group = resources.schedule_group_name(self.name)
        scheduler.create_schedule_group(Name=self.schedule_group)
        # the deadline schedules' dead-letter queue and role, as infra/schedules.py makes them; the
        # schedules themselves are put by the `deadlines` function (`deploy`), as a deploy does
        self.schedule_dead_letters = boto3.client("sqs").create_queue(QueueName=f"{self.name}-deadline-dlq")[
            "QueueUrl"
        ]
        self.schedule_role = role
        # the daily schedule the stack puts in the same group (infra/schedules.py): the corrections' seal
        self.env["SEAL_FUNCTION"] = self.function_arns["seal"]  # the place API seals on demand through it
        daily = resources.SEAL_CORRECTIONS_AT
        scheduler.create_schedule(
            Name=resources.SEAL_CORRECTIONS_SCHEDULE,
            GroupName=self.schedule_group,
            ScheduleExpression=f"cron({int(daily['minute'])} {int(daily['hour'])} * * ? *)",
            ScheduleExpressionTimezone=self.config.timezone,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": self.function_arns["seal"],
                "RoleArn": role,
                "Input": json.dumps(resources.seal_corrections_event(self.config.season)),
            },
        )
        self._daily_since: dict[str, datetime] = {resources.SEAL_CORRECTIONS_SCHEDULE: self.clock.now()}

    def definition(self) -> str:
        """The ASL file with the same substitutions CDK makes, pointed at moto's ARNs."""
        subs = {
            resources.ASL_SEASON: self.config.season,
            resources.ASL_PARTITION: PARTITION,
            **{spec.asl_placeholder: self.function_arns[spec.key] for spec in resources.FUNCTIONS},
        }
        text = resources.STATE_MACHINE_FILE.read_text(encoding="utf-8")
        for name, value in subs.items():
            text = text.replace("${" + name + "}", value)
        if "${" in text:
            raise RuntimeError(f"unsubstituted placeholder in {resources.STATE_MACHINE_FILE.name}")
        # A Lambda task's TimeoutSeconds is its function's timeout plus a minute: in AWS, Lambda stops
        # the function first. Here the handler runs in-process, is never stopped, and shares this
        # machine's cores with every other task, so its state waits LOCAL_TASK_TIMEOUT_FACTOR times
        # as long (moto's engine enforces it in real seconds); the gates' and the season's own
        # timeouts (90 days and more) are left as they are.
        text = re.sub(
            r'"TimeoutSeconds": (\d+)',
            lambda m: (
                f'"TimeoutSeconds": {int(m[1]) * LOCAL_TASK_TIMEOUT_FACTOR}' if int(m[1]) < 86_400 else m[0]
            ),
            text,
        )
        if calls.counting():
            # the time budget measures an invocation's own memory while it runs alone: every Map
            # (registration shards, verification and notice batches, placement chunks, schools,
            # districts) runs its iterations one at a time; their calls and CPU are the same. Not the
            # lotteries: each waits for its ceremony, which staff hold only once its wait is open
            text = re.sub(r'"MaxConcurrency": \d+', '"MaxConcurrency": 1', text)
            text = re.sub(r'"MaxConcurrencyPath": "(?!\$\.lotteries\.)[^"]*"', '"MaxConcurrency": 1', text)
        return text

    # Lambda, in-process ----------------------------------------------------------------------

    def _invoke(self, function_name: str, handler: str, event: Any) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
        context = LambdaContext(
            function_name=function_name,
            memory_limit_in_mb=512,
            invoked_function_arn=f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{function_name}",
            aws_request_id=str(uuid.uuid4()),
        )
        # the calls it makes are this function's (enrollment/local/calls.py), and while counting the
        # invocation is measured: its thread's CPU (Map iterations run in threads) and wall time
        with calls.invocation(function_name.removeprefix(resources.function_name(self.name, ""))) as record:
            try:
                result = _resolve(handler)(payload, context)
            except Exception as e:  # the engine turns this into a Lambda error of that name
                self.invocations.append((function_name, False))
                if record is not None:
                    record.ok = False
                error = {
                    "errorType": type(e).__name__,
                    "errorMessage": str(e),
                    "trace": traceback.format_exc(limit=5),
                }
                return json.dumps(error), True, ""
            self.invocations.append((function_name, True))
            _drop_unpublished_metrics()
            return json.dumps(result, ensure_ascii=False, default=str), False, ""

    def _context(self, function_key: str) -> LambdaContext:
        return LambdaContext(
            resources.function_name(self.name, function_key),
            512,
            self.function_arns[function_key],
            str(uuid.uuid4()),
        )

    def call_api(
        self, function_key: str, method: str, path: str, body: Any = None, **options: Unpack[ApiOptions]
    ) -> dict[str, Any]:
        """Send an API Gateway (REST, proxy) event (`api_event`) to a function's handler, as API Gateway
        would. `caller`: the IAM identity (SigV4 routes); `authorizer`: the staff token authorizer's context."""
        event = api_event(method, path, body, **options)
        spec = resources.FUNCTION_INDEX[function_key]
        response: dict[str, Any] = _resolve(spec.handler)(event, self._context(function_key))
        _drop_unpublished_metrics()
        return response

    def authorize(self, authorization: str | None, method: str, path: str) -> tuple[int, dict[str, Any]]:
        """What API Gateway's token authorizer does with a staff request's Authorization header:
        (200, the authorizer's context) to let it through, else (401 or 403, API Gateway's body)."""
        if not authorization or not AUTHORIZATION.fullmatch(authorization):
            return 401, {"message": "Unauthorized"}  # the identity source check, before any Lambda
        event = {
            "type": "TOKEN",
            "authorizationToken": authorization,
            "methodArn": f"arn:{PARTITION}:execute-api:{REGION}:{ACCOUNT}:local/local/{method}{path}",
        }
        spec = resources.FUNCTION_INDEX["authorize"]
        try:
            answer: dict[str, Any] = _resolve(spec.handler)(event, self._context("authorize"))
        except Exception as e:
            if str(e) == "Unauthorized":
                return 401, {"message": "Unauthorized"}
            raise
        finally:
            _drop_unpublished_metrics()
        if any(st["Effect"] == "Deny" for st in answer["policyDocument"]["Statement"]):
            return 403, {"message": "User is not authorized to access this resource with an explicit deny"}
        return 200, {**answer.get("context", {}), "principalId": answer["principalId"]}

    # Workflow --------------------------------------------------------------------------------

    def _client(self, service: str) -> Any:
        """The runtime's own boto3 client for `service`, made once in this moto world (building a
        client costs milliseconds: made on every poll, it was a tenth of a season's CPU)."""
        with self._clients_lock:
            made = self._clients.get(service)
            if made is None:
                made = self._clients[service] = boto3.client(service)  # type: ignore[call-overload]
            return made

    def s3_object(self, bucket: str, key: str) -> dict[str, Any]:
        """boto3 `get_object` of one object in this moto world (the local server's S3 stand-in)."""
        found: dict[str, Any] = self._client("s3").get_object(Bucket=bucket, Key=key)
        return found

    @property
    def _sfn(self) -> SFNClient:
        client: SFNClient = self._client("stepfunctions")
        return client

    @property
    def _scheduler(self) -> EventBridgeSchedulerClient:
        client: EventBridgeSchedulerClient = self._client("scheduler")
        return client

    @property
    def _lambda(self) -> LambdaClient:
        client: LambdaClient = self._client("lambda")
        return client

    def start(self, actor: str = "enroll (local runtime)") -> str:
        """Start the season through the same use case as the console and `enroll season start`
        (enrollment/core/launch.py): its execution's ARN, the existing one if it was started before."""
        from enrollment.adapters.sfn import SfnWorkflow

        self.start_result = start_season(
            self.config,
            SfnWorkflow(self.state_machine_arn, self._sfn),
            self.env["SEASON_CONFIG_DIGEST"],
            actor=actor,
            now=self.clock.now(),
        )
        self.execution_arn = str(self.start_result["execution_arn"])
        return self.execution_arn

    def describe(self) -> dict[str, Any]:
        return dict(self._sfn.describe_execution(executionArn=self.execution_arn))

    def wait_for_gate(self, phase: str, timeout: float = 180) -> dict[str, Any]:
        """Wait until the workflow is waiting at a gate (its token is stored)."""
        from enrollment.adapters.dynamodb import DynamoStore

        store = DynamoStore(self.table_name)
        for _ in _polls(timeout):
            gate = store.get_gate(self.config.season, phase)
            if gate and gate.get("status") == "open":
                return gate
            status = self.describe()["status"]
            if status != "RUNNING":
                raise RuntimeError(f"the workflow is {status}, not waiting at {phase}: {self.describe()}")
        raise TimeoutError(f"the workflow did not reach gate {phase} in {timeout}s")

    def wait_for_end(self, timeout: float = 180) -> dict[str, Any]:
        for _ in _polls(timeout):
            d = self.describe()
            if d["status"] != "RUNNING":
                return d
        raise TimeoutError(f"the workflow still runs after {timeout}s")

    def history(self) -> list[dict[str, Any]]:
        sfn = self._sfn
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": self.execution_arn}
        while True:
            page = sfn.get_execution_history(**kwargs)
            events += [dict(e) for e in page["events"]]
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    def state_output(self, state: str) -> dict[str, Any]:
        """The output of the last time the workflow left `state` (from the execution history)."""
        for e in reversed(self.history()):
            details = e.get("stateExitedEventDetails")
            if details and details["name"] == state:
                out: dict[str, Any] = json.loads(details["output"])
                return out
        raise KeyError(f"the workflow has not left state {state!r}")

    # Simulated time and schedules ------------------------------------------------------------

    def advance_clock(self, to: datetime) -> list[dict[str, Any]]:
        """Move the clock; fire every schedule now due, as EventBridge Scheduler would. Returns their results."""
        self.clock.set(to)
        return self.fire_due_schedules()

    def fire_due_schedules(self) -> list[dict[str, Any]]:
        """Every schedule of the season's group now due, invoked as EventBridge Scheduler would. Returns
        the one-time (deadline) schedules' results; the daily ones' runs go to `daily_runs`."""
        scheduler = self._scheduler
        results = []
        for summary in scheduler.list_schedules(GroupName=self.schedule_group)["Schedules"]:
            s = scheduler.get_schedule(GroupName=self.schedule_group, Name=summary["Name"])
            if s.get("State") == "DISABLED":
                continue
            tz = s.get("ScheduleExpressionTimezone", "UTC")
            if s["ScheduleExpression"].startswith("cron("):
                self._fire_daily(s, tz)
                continue
            # a one-time schedule fires once at each time it is given (a moved one fires again)
            key = f"{s['Name']}@{s['ScheduleExpression']}"
            if key in self.fired:
                continue
            due = _at(s["ScheduleExpression"], tz)
            if due is None or self.clock.now() < due:
                continue
            self.fired.add(key)
            results.append(self._fire(s))
        return results

    def _fire(self, s: Any) -> dict[str, Any]:
        out = self._lambda.invoke(FunctionName=s["Target"]["Arn"], Payload=s["Target"]["Input"].encode())
        result = json.loads(out["Payload"].read() or b"null")
        return {"schedule": s["Name"], "error": out.get("FunctionError"), "result": result}

    def _fire_daily(self, s: Any, tz: str) -> None:
        """A daily schedule (`cron(M H * * ? *)`) fires at its latest time passed since it last fired
        (or was created). When the clock jumps over several days it fires once, for the latest: each
        run of the corrections' seal seals whatever is pending then, so the skipped runs would have
        found nothing the last one does not seal."""
        due = _daily(s["ScheduleExpression"], tz, self.clock.now())
        since = self._daily_since.get(s["Name"])
        if due is None or since is None or due <= since:
            return
        self._daily_since[s["Name"]] = due
        for _ in range(1 + DAILY_RETRY_ATTEMPTS):  # a failed run is retried, as the stack's target is
            run = self._fire(s)
            if run["error"] is None:
                break
        self.daily_runs.append({**run, "at": due.isoformat()})


def _polls(timeout: float, first: float = 0.01, most: float = 0.2) -> Iterator[None]:
    """Until `timeout` (seconds, real time) passes: yield at once, then after waits that grow from
    `first` to `most`. A wait's poll competes for the GIL with the workflow's threads doing the work
    it waits for: polling often only while the answer is likely near keeps its cost small."""
    deadline = time.monotonic() + timeout
    interval = first
    while time.monotonic() < deadline:
        yield
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(most, interval * 1.5)


def create_season_table(ddb: Any, name: str, **settings: Any) -> None:
    """The season table as infra/ makes it: keys pk / sk, the index gsi1 (gsi1pk / gsi1sk, all
    attributes), on demand; `settings` adds CreateTable's other parameters (encryption)."""
    ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        **settings,
    )


_DAILY = re.compile(r"cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)")


def _daily(expression: str, tz: str, now: datetime) -> datetime | None:
    """The latest time at or before `now` of a daily cron expression in `tz` (None: not a daily one)."""
    m = _DAILY.fullmatch(expression)
    if m is None:
        return None
    local = now.astimezone(ZoneInfo(tz))
    for day in (local, local - timedelta(days=1)):  # today's time, or yesterday's if still to come
        due = day.replace(hour=int(m[2]), minute=int(m[1]), second=0, microsecond=0)
        if due <= local:
            return due
    return None


def _at(expression: str, tz: str) -> datetime | None:
    if not (expression.startswith("at(") and expression.endswith(")")):
        return None
    return datetime.fromisoformat(expression[3:-1]).replace(tzinfo=ZoneInfo(tz))


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    resource: str = "/{proxy+}",
    path_parameters: dict[str, str] | None = None,
    caller: str | None = None,
    authorizer: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway REST proxy event. `caller` is the IAM identity API Gateway's authoriser verified;
    `authorizer` the context the staff token authorizer returned; `source_ip` the client's address
    (`requestContext.identity.sourceIp`, what parents' proofs are counted by)."""
    raw = None if body is None else body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    sent = (
        headers if headers is not None else {"Content-Type": "application/json", "Accept": "application/json"}
    )
    context: dict[str, Any] = {
        "resourcePath": resource,
        "httpMethod": method,
        "path": f"/local{path}",
        "stage": "local",
        "requestId": str(uuid.uuid4()),
        "identity": {"sourceIp": source_ip, "userArn": caller, "caller": caller},
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": dict(sent),
        "multiValueHeaders": {k: [v] for k, v in sent.items()},
        "queryStringParameters": dict(query) if query else None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": context,
        "body": raw,
        "isBase64Encoded": False,
    }


@contextmanager
def _no_real_waiting(sim_clock: clock.SimulatedClock, before: Callable[[], None]) -> Iterator[None]:
    """Wait states and Retry intervals in moto's engine return at once: the clock here is simulated.
    A Wait until a timestamp (the verification re-ask's) moves the simulated clock there first, never
    back: the workflow waits in simulated time, as it would wait in real time in AWS. What happens
    meanwhile (`before`: the files agencies' clerks answer) happens first."""
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    def no_wait(self: WaitFunction, env: Any, wait_seconds: int) -> None:
        return None

    def until(self: Timestamp, env: Any) -> int:
        self.string.eval(env=env)
        text = env.stack.pop()
        when = self._from_timestamp_string(text)  # naive UTC, as Step Functions reads it
        if when is None:
            raise FailureEventException(self._create_failure_event(env, text))
        before()
        sim_clock.advance_to(when.replace(tzinfo=UTC))
        return 0

    with (
        mock.patch.object(WaitFunction, "_wait_interval", no_wait),
        mock.patch.object(Timestamp, "_get_wait_seconds", until),
        mock.patch.object(retrier_decl, "time", SimpleNamespace(sleep=lambda _seconds: None)),
    ):
        yield


# A Map worker of moto's engine runs its next item by calling itself (`IterationWorker._eval_pool` and
# its distributed variants): one Python frame per item a worker runs. A Map of more items than the
# recursion limit per worker (1,000 by default: 300,000 applicants' 3,000 verification batches with
# MaxConcurrency 1, as `--budget` runs them) dies with RecursionError in the worker thread and the
# execution waits forever. Python 3.11 calls Python from Python without the C stack, so a higher limit
# costs only the frames' memory (about half a kilobyte each).
MAP_ITEMS_PER_WORKER = 100_000


@contextmanager
def _long_map_workers() -> Iterator[None]:
    """A Map worker of moto's engine runs up to MAP_ITEMS_PER_WORKER items, not 1,000."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, MAP_ITEMS_PER_WORKER))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


@contextmanager
def _partition_queries() -> Iterator[None]:
    """A base-table query reads one partition, and each request is atomic, as in DynamoDB.

    moto's `Table.query` takes `all_items()` (every item of the table, sorted) and keeps those of the
    queried hash key, so each query costs more as the season grows. Here a base-table query of a
    table with a sort key is handed only its partition's items, and an index query only the items
    whose index hash key has the queried value (one pass, no sort of the whole table); moto then
    checks, sorts (by every key, a total order), pages and filters them exactly as before. The
    partition is passed per thread: the workflow's Map iterations query from several threads at once.

    moto's items are shared objects that a write changes in place, and moto takes no lock: a query
    reading an item while another thread's update changes it fails ("dictionary changed size during
    iteration"). DynamoDB applies each request atomically, so here one DynamoDB request runs at a
    time too.
    """
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    original_query, original_all_items = Table.query, Table.all_items
    original_call = DynamoHandler.call_action
    hint = threading.local()
    one_at_a_time = threading.RLock()

    def call_action(self: DynamoHandler) -> Any:
        with one_at_a_time:
            return original_call(self)

    def all_items(self: Table) -> list[Any]:
        partition = getattr(hint, "partition", None)
        if partition is not None and partition[0] is self:
            return list(partition[1])
        return original_all_items(self)

    def query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions")
        if index_name and conditions:  # only the items carrying the queried index key can match
            name, value = conditions[0]
            partition = [item for item in _stored_items(self) if _equals(item.attrs.get(name), value)]
        elif not index_name and hash_key is not None and self.range_key_attr:
            partition = list(self.items.get(hash_key, {}).values())
        else:
            return original_query(self, hash_key, *args, **kwargs)
        hint.partition = (self, partition)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            hint.partition = None

    with (
        mock.patch.object(Table, "all_items", all_items),
        mock.patch.object(Table, "query", query),
        mock.patch.object(DynamoHandler, "call_action", call_action),
    ):
        yield


def _equals(stored: Any, value: Any) -> bool:
    """A stored attribute (None when absent) has the queried value (moto's DynamoType compares only
    with another DynamoType)."""
    return stored is not None and bool(stored == value)


class _NotPlain(Exception):
    """A value `_plain` leaves to moto's own serializer."""


def _plain(value: Any, shape: Any) -> Any:
    """`value` as moto's JSON serializer writes it for `shape` (botocore's model), for the plain data
    DynamoDB's answers are made of (dicts of the shape's own member names, lists, strings, numbers,
    booleans, bytes); anything else raises `_NotPlain`. Members in the model's order, None left out."""
    kind = shape.type_name
    if kind == "structure":
        if shape.is_document_type:
            return value
        if type(value) is not dict:
            raise _NotPlain
        members = shape.members
        if len(value) == 1:  # an AttributeValue: one member
            ((key, item),) = value.items()
            if key not in members:
                raise _NotPlain
            if item is None:
                return {}
            member = members[key]
            return {member.serialization.get("name", key): _plain(item, member)}
        if any(key not in members for key in value):  # moto's picker might find aliases: its call
            raise _NotPlain
        out: dict[str, Any] = {}
        for key, member in members.items():
            item = value.get(key)
            if item is not None:
                out[member.serialization.get("name", key)] = _plain(item, member)
        return out
    if kind == "list":
        member = shape.member
        if type(value) is not list or "name" in member.serialization or None in value:
            raise _NotPlain
        return [_plain(item, member) for item in value]
    if kind == "map":
        target = shape.value
        if type(value) is not dict or "name" in target.serialization:
            raise _NotPlain
        return {key: _plain(item, target) for key, item in value.items()}
    if kind == "string" and type(value) is str:
        return value
    if kind == "boolean" and type(value) is bool:
        return value
    if kind in ("integer", "long") and type(value) is int:
        return value
    if kind in ("float", "double") and type(value) in (int, float):
        return float(value)
    if kind == "blob" and type(value) in (bytes, str):
        raw = value.encode("utf-8") if isinstance(value, str) else value
        return base64.b64encode(raw).strip().decode("utf-8")
    raise _NotPlain


@contextmanager
def _plain_dynamodb_json() -> Iterator[None]:
    """DynamoDB's answers written with `json.dumps` from the model, not by moto's generic serializer
    (which looks every member of every attribute up through a chain of alias providers: a third of a
    moto season's CPU). The same bytes: members in the model's order, values as moto writes them;
    whatever is not plain data (timestamps, objects, aliased keys) still goes through moto."""
    from moto import settings
    from moto.core.responses import ActionContext
    from moto.core.serialize import JSONSerializer
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(self: DynamoResult, context: ActionContext) -> Any:
        operation = context.operation_model
        shape = operation.output_shape
        if (
            context.serializer_class is not JSONSerializer
            or settings.PRETTIFY_RESPONSES
            or getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)
            or shape is None
            or operation.has_event_stream_output
            or operation.service_model.protocol != "json"
        ):
            return original(self, context)
        try:
            body = json.dumps(_plain(self.result, shape))
        except _NotPlain:
            return original(self, context)
        version = operation.service_model.metadata.get("jsonVersion", "1.0")
        status = operation.http.get("responseCode", 200)
        return status, {"Content-Type": f"application/x-amz-json-{version}"}, body

    with mock.patch.object(DynamoResult, "execute_result", execute_result):
        yield


def _stored_items(table: Any) -> Iterator[Any]:
    """Every item of a moto table, in no particular order (`Table.all_items` without its sort)."""
    if table.range_key_attr:
        for partition in table.items.values():
            yield from partition.values()
    else:
        yield from table.items.values()


@contextmanager
def _parsed_once() -> Iterator[None]:
    """moto parses a state machine's definition with its ANTLR grammar (pure Python: about two CPU
    seconds for the season's workflow) when the machine is created and again for every execution, so
    every embedded season paid for it at least twice. The syntax tree is a function of the text: it is
    parsed once per process, and each parse still gets new evaluation components from moto's own
    Preprocessor, so executions share no state. A definition that does not parse raises as before."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    moto_parse = AmazonStateLanguageParser.parse

    def parse(definition: str) -> tuple[Any, Any]:
        tree = _syntax_tree(definition, moto_parse)
        return Preprocessor().visit(tree), tree

    with mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse)):
        yield


@functools.lru_cache(maxsize=16)
def _syntax_tree(definition: str, moto_parse: Callable[[str], tuple[Any, Any]]) -> Any:
    """The definition's ANTLR tree (read only by the Preprocessor), parsed by moto; errors not cached."""
    return moto_parse(definition)[1]


@contextmanager
def _lean_requests() -> Iterator[None]:
    """moto's per-request work that gives the same answer every time, done once per season.

    - `S3Backend._url_module` reloads `moto.s3.urls` on every S3 request (its URL patterns can depend
      on environment variables, which do not change during a season): loaded once here.
    - `BaseBackend.urls`, which moto rebuilds for every request of every service from the module's
      patterns, is built once per backend class.
    - moto's Step Functions engine builds a new Lambda client for each Lambda Invoke task: one per
      region while moto intercepts the calls, as it does for the whole season.
    """
    from moto.core import base_backend
    from moto.core.models import botocore_stubber
    from moto.s3 import models as s3_models
    from moto.s3 import urls as s3_urls
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    s3_url_module = importlib.reload(s3_urls)  # as moto's first S3 request this season would
    original_urls = base_backend.BaseBackend.urls
    urls: dict[type, Any] = {}
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def backend_urls(backend: base_backend.BaseBackend) -> Any:
        made = urls.get(type(backend))
        if made is None:
            made = urls[type(backend)] = original_urls.fget(backend)  # type: ignore[attr-defined]
        return made

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if not botocore_stubber.enabled:  # moto in server mode: as moto does it
            return boto_client_for(region, service, state_credentials)
        with lock:
            made = clients.get((region, service))
            if made is None:
                made = clients[(region, service)] = boto_client_for(region, service, state_credentials)
            return made

    with (
        mock.patch.object(s3_models.S3Backend, "_url_module", property(lambda _self: s3_url_module)),
        mock.patch.object(base_backend.BaseBackend, "urls", property(backend_urls)),
        mock.patch.object(lambda_eval_utils, "boto_client_for", client_for),
    ):
        yield


@contextmanager
def _counted_calls(runtime: EmbeddedSeason) -> Iterator[None]:
    """While counting (`enroll demo --budget`, enrollment/local/calls.py): every botocore call, counted
    under whoever made it, and each API request's handler and authorizer measured as an invocation.

    Calls are counted where botocore makes them (`BaseClient._make_api_call`, once per API call, so
    also for clients made before this and for those moto's Step Functions engine makes for each Lambda
    Invoke); a botocore event handler would reach only the clients made after it was registered.
    moto's own work serving a call (`BotocoreStubber`, what AWS does on its side) is not counted as
    the function's CPU, and each DynamoDB request's read or write request units are estimated from
    the items it read or wrote (enrollment/local/budget.py; the SQLite engine reports its own). The
    notice render workers' CPU is notify-batch's own (`render.cpu_listener`: Lambda draws in-process).
    When the runtime closes, the season's Step Functions execution history is tallied by event type
    (`calls.HISTORY`, its state transitions).
    """
    from botocore.client import BaseClient
    from moto.core.botocore_stubber import BotocoreStubber

    from enrollment.local.budget import dynamodb_units, written_items
    from functions.notify import render

    make_api_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # not in botocore's stubs
    serve = BotocoreStubber.__call__
    call_api, authorize = runtime.call_api, runtime.authorize

    def counted(client: BaseClient, operation_name: str, api_params: Any) -> Any:
        calls.count(client.meta.service_model.service_name, operation_name)
        return make_api_call(client, operation_name, api_params)

    def stored(table_name: str, item_or_key: dict[str, Any]) -> dict[str, Any] | None:
        """The item DynamoDB (moto) holds under the key of `item_or_key`, as DynamoDB JSON."""
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[ACCOUNT][REGION]
        try:
            table = backend.get_table(table_name)
            key_names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
            item = backend.get_item(table_name, {n: item_or_key[n] for n in key_names})
            return None if item is None else dict(item.to_json()["Attributes"])
        except (KeyError, RuntimeError, ValueError):  # no such table or key; changed while read
            return None

    def served(stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        if not stubber.enabled:
            return serve(stubber, event_name, request, **kwargs)
        with calls.serving():
            operation = event_name.rsplit(".", 1)[-1]  # before-send.dynamodb.PutItem
            if not event_name.startswith("before-send.dynamodb."):
                response = serve(stubber, event_name, request, **kwargs)
                if response is not None:  # never `.content`: it would drain an S3 object's stream
                    calls.received(int(response.headers.get("Content-Length") or 0))
                return response
            body = json.loads(request.body or b"{}")
            before = written_items(operation, body, stored)
            response = serve(stubber, event_name, request, **kwargs)
            if response is not None:  # a refused conditional write is charged as a write too
                after = written_items(operation, body, stored)
                answer = json.loads(response.content or b"{}")
                kind, units = dynamodb_units(operation, body, answer, before, after)
                calls.capacity(kind, units)
                calls.received(len(response.content or b""))
            return response

    def api(function_key: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with calls.invocation(function_key, "api"):
            return call_api(function_key, *args, **kwargs)

    def authorizer(*args: Any, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        with calls.invocation("authorize", "authorizer"):
            return authorize(*args, **kwargs)

    with ExitStack() as patches:
        patches.enter_context(mock.patch.object(BaseClient, "_make_api_call", counted))
        patches.enter_context(mock.patch.object(BotocoreStubber, "__call__", served))
        patches.enter_context(mock.patch.object(runtime, "call_api", api))
        patches.enter_context(mock.patch.object(runtime, "authorize", authorizer))
        patches.enter_context(mock.patch.object(render, "cpu_listener", calls.worker_cpu))
        try:
            yield
        finally:
            patches.close()
            if calls.counting() and getattr(runtime, "execution_arn", None):
                calls.HISTORY.update(str(e["type"]) for e in runtime.history())


def _drop_unpublished_metrics() -> None:
    """Metrics are not published locally (POWERTOOLS_METRICS_DISABLED); without this they would pile
    up across invocations and Powertools would print them when 100 accumulate."""
    from enrollment.adapters.observability import metrics

    metrics.clear_metrics()


def _load_agency_stand_in() -> None:
    """The agencies' local stand-in (every registry record, indexed) loaded before the season, not by
    the first verification batch: in AWS the agencies answer from their own systems, so their records
    are no function's memory (the time budget measures each invocation's)."""
    from enrollment.adapters.wiring import wiring

    registries = wiring().local_agencies.registries
    for lookup in (registries.hukou, registries.deed, registries.planned_use, registries.residence):
        lookup("")  # builds the index it answers from


def _reset_cached_wiring() -> None:
    """Adapters cached per 'cold start' belong to one moto world: forget them between worlds."""
    from enrollment.adapters.wiring import wiring

    wiring.cache_clear()
    handler = importlib.import_module("functions.register.handler")
    handler._idempotent_register.cache_clear()
