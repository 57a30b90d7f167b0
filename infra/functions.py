"""One factory for every Lambda in `enrollment.core.resources.FUNCTIONS`.

Each function gets the same runtime, dependency layer, code asset, tracing, log group and
environment, and its own role holding only what its `Access` entry below grants. A function added
to FUNCTIONS without an `Access` entry is an error: someone has to decide what it may touch.

Two more layers go only to the functions that import them, so that each function, its layers and
the code stay under Lambda's 250 MB unzipped limit: the solver layer (OR-Tools, requirements/solver.txt)
for `place`, the notice layer (fpdf2 and fontTools, requirements/notice.txt) for `notify-batch`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aws_cdk import ArnFormat, Aws, CfnCondition, Duration, Fn, IgnoreMode, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.launch import config_digest, execution_name
from enrollment.core.resources import (
    FUNCTIONS,
    LAMBDA_RUNTIME,
    ROOT,
    SERVICE,
    FunctionSpec,
    function_name,
    state_machine_name,
)
from infra.archive import Archive
from infra.context import LAYER_DIR, SOLVER_LAYER_DIR
from infra.nag import acknowledge, checkov_skip, ref
from infra.sign_in import StaffSignIn
from infra.storage import Storage
from infra.work import EXPORTS_PREFIX, WORK_SEASONS_PREFIX, Work

METRICS_NAMESPACE = "Enrollment"  # as enrollment/adapters/observability.py's Metrics(namespace=...)
# CloudWatch's retention periods by days (enrollment/core/config.py LOG_RETENTION_DAYS)
LOG_RETENTIONS = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
}


def log_retention(config: SeasonConfig) -> logs.RetentionDays:
    """How long the season's log groups keep their (masked) lines: its `retention.log_days`."""
    return LOG_RETENTIONS[config.retention.log_days]


# every function's alias that its invokers name; moved by each deploy, and by an operator rolling back
LIVE_ALIAS = "live"
NOTICE_LAYER_DIR = ROOT / "build" / "notice-layer"  # fpdf2 for the notices' PDF (make layer)
SMS_LAYER_DIR = ROOT / "build" / "sms-layer"  # Alibaba Cloud's SMS SDK, for a season that sends by it

# Code asset: the project root, keeping only enrollment/, functions/ and seasons/ (Docker-ignore
# semantics: exclude everything, re-include those three, then drop bytecode caches).
CODE_EXCLUDES = ("*", "!enrollment", "!functions", "!seasons", "**/__pycache__", "**/*.pyc")


# Why a function does without what checkov asks of every Lambda (infra/nag.py checkov_skip).
NO_RESERVED_CONCURRENCY = (
    "No reserved concurrency: a reservation is taken from the account's pool, of which Lambda keeps "
    "100 unreserved (all 10 in a new account), so a reservation per function fails to deploy in a new "
    "account and elsewhere holds capacity back from every other function and season. Calls are "
    "bounded where they come from: the API stage's throttles, the workflow's Map MaxConcurrency, one "
    "schedule per deadline, one watch every 15 minutes."
)
NO_VPC = (
    "No VPC: nothing the function reaches is in one. It calls DynamoDB, S3, KMS, SNS, Step Functions, "
    "Scheduler and CloudWatch at their regional endpoints (TLS, SigV4-signed, IAM-scoped) and the "
    "authorizer fetches the OIDC issuer's public keys; a VPC would add NAT or an endpoint per service."
)
PLAIN_ENVIRONMENT = (
    "The environment holds no secret, only names and ids (table, buckets, keys' ids, state machine "
    "ARN, verify-batch's alias ARN, schedule group, season config path and digest, the OIDC issuer and "
    "public client id); "
    "Lambda encrypts it at rest with its AWS managed key. tests/infra/test_checkov.py lists the names."
)
SYNC_INVOKED = (
    "Invoked synchronously only (API Gateway, the authorizer, or the workflow's lambda:invoke tasks "
    "with their Retry and Catch): the caller gets the error, so there is no asynchronous event a "
    "dead-letter queue could keep."
)
# their asynchronous failures: infra/schedules.py (notify-batch: the SMS receipts' rule, issue 17)
# (verify-batch: a late registration's checks, by the place API, `_connect_late_checks`)
ASYNC_INVOKED = ("gate-advance", "watch", "notify-batch", "seal", "verify-batch")


@dataclass(frozen=True)
class Access:
    """What one function may touch; turned into grant_* calls on its own role."""

    table: Literal["read", "write", "read-write"] | None = None
    idempotency: bool = False  # Powertools idempotency table, read/write
    child_key: bool = False  # kms:GenerateMac with the HMAC key (CHILD_KEY_ID)
    resume_gates: bool = False  # states:SendTaskSuccess/SendTaskFailure on the season's workflow
    # the workflow's work bucket (WORK_BUCKET): "read" gets objects, "write" only puts them (no
    # delete: the bucket's lifecycle rule expires them), "read-write" both
    work_bucket: Literal["read", "write", "read-write"] | None = None
    staff_directory: bool = False  # STAFF_DIRECTORY: who may review, sign and spot-check (in the asset)
    # the Object Lock archive (ARCHIVE_BUCKET): "write" reads and puts objects (it writes once and
    # compares on a rerun); nothing may delete, and compliance retention forbids overwriting versions
    archive: Literal["read", "write"] | None = None
    archive_put: str = "*"  # with archive="write": the keys it may put (a pattern under the bucket)
    solver: bool = False  # the OR-Tools layer (requirements/solver.txt), for the min-cost flow
    # the fpdf2 layer (requirements/notice.txt), for the admission notices' PDF (enrollment/notices/pdf.py)
    notice: bool = False
    agencies: bool = False  # asks the agencies over their API: each named agency's HMAC key secret
    sms: bool = False  # sends SMS (codes, notices' SMS, R-NOTE-1): sns:Publish, or the provider's secret
    signing: bool = False  # kms:Sign and kms:GetPublicKey with the archive's signing key (SIGNING_KEY_ID)
    sign_in: bool = False  # the staff OIDC issuer and console client (OIDC_*), no AWS permission
    # start the season's one execution and describe it (POST /admin/seasons/{season}/start, status)
    start_season: bool = False
    describe_season: bool = False  # only describe the season's one execution (the watch)
    # list the work bucket and delete the season's files there (its prefixes seasons/ and exports/):
    # the erasure at the end of the retention period, and nothing else deletes
    erase_work: bool = False
    # the files agencies' exchange (docs/AGENCY-FILES.md): gets and puts the season's outbox and inbox
    # objects in the work bucket (and signs the outbox's download links), only where a season has one
    agency_files: bool = False
    # may invoke the seal function's `live` alias (SEAL_FUNCTION): the corrections sealed on demand
    # (enrollment/adapters/sealer.py says why this, not the archive's write and the signing key)
    invoke_seal: bool = False


ACCESS: Mapping[str, Access] = {
    "authorize": Access(sign_in=True),  # verifies tokens with the issuer's public keys; touches no data
    "console": Access(sign_in=True),  # serves the console's pages and who is signed in; no data
    "complaints-api": Access(table="read-write", staff_directory=True),
    # the lists as files (docs/EXPORTS.md): read the table and archive, record each download, put the
    # file under the work bucket's exports/ (SSE-KMS, a day's life) behind a link its role signs (read)
    "exports-api": Access(table="read-write", archive="read", work_bucket="read-write"),
    # the parents' one-time codes go by SMS (R-DATA-2: the status opens with a code to the guardian's phone)
    "register": Access(table="read-write", idempotency=True, child_key=True, work_bucket="read", sms=True),
    "gate-open": Access(table="write"),
    "gate-advance": Access(table="read-write", resume_gates=True, start_season=True),
    "close-registration": Access(table="read-write"),
    # shards' ids written, then gathered; the files agencies' rounds written (their objects only)
    "verify-prepare": Access(table="read", work_bucket="read-write", agency_files=True),
    # also a late registration's checks (issue 18): then the child placed by its verdict, which reads
    # the sealed placements and the private records (archive read)
    "verify-batch": Access(table="read-write", agencies=True, archive="read"),
    "verify-close": Access(table="read-write"),
    "spotcheck-draw": Access(table="read-write"),
    # the review queue's search by a full ID number keys it as the form does (child_key, issue 19)
    "verify-api": Access(table="read-write", staff_directory=True, agency_files=True, child_key=True),
    "lottery-prepare": Access(table="read-write"),
    "lottery-wait": Access(table="read-write", resume_gates=True),
    "lottery-record": Access(table="read-write", archive="write"),
    "lottery-api": Access(table="read-write", staff_directory=True, resume_gates=True),
    "place": Access(table="read-write", archive="write", work_bucket="write", solver=True),
    # a StorePlacements item: its chunk read from the work bucket, the children's places written
    "place-store": Access(table="write", work_bucket="read"),
    # corrections (issue 18): a late registration keys its child as the form does (child_key)
    # and city staff's seal now: it invokes the seal function (invoke_seal), which alone signs
    "place-api": Access(
        table="read-write", staff_directory=True, archive="read", child_key=True, invoke_seal=True
    ),
    # also the corrections after the results, daily (`task: seal-corrections`, issue 18): the pending
    # ones read and marked sealed in the table; the same archive and signing grants, no function of
    # its own (the stack's 500 resources)
    "seal": Access(table="read-write", archive="write", signing=True),
    # the season report: the sealed season read (demand, verdicts, registrations; archived records),
    # the page put once at reports/{season}/report.html beside the archive
    "report": Access(table="read", archive="write", archive_put="reports/*"),
    # the sunshine classes: the groups listed from the archived placements, each drawn from its
    # school's arrivals and registrations, the drawn lists sealed (only this step signs and writes)
    "classes": Access(archive="read", work_bucket="write"),
    "classes-school": Access(table="read", work_bucket="read-write"),
    "classes-seal": Access(archive="write", work_bucket="read", signing=True),
    # only the batches draw PDFs; prepare imports the notices room but not its drawing (no fpdf2)
    "notify-prepare": Access(table="read", archive="read", work_bucket="write"),
    # also the SMS receipts every 15 minutes (functions/notify/receipts.py, issue 17): the same table
    # and SMS provider grants, so the poller costs no function of its own (the stack's 500 resources)
    "notify-batch": Access(table="read-write", work_bucket="write", child_key=True, sms=True, notice=True),
    # a Map item that failed for good: its registrations' districts read, the dead letter written
    "dead-letter": Access(table="read-write"),
    # the deadline schedules' custom resource: reads the gates and extensions; its scheduler and
    # iam:PassRole grants are the schedule group's (Schedules.allow_syncing, infra/schedules.py)
    "deadlines": Access(table="read"),
    # the season watch: reads the gates and extensions, describes the execution, publishes metrics
    "watch": Access(table="read", describe_season=True),
    # the erasure (docs/RETENTION.md): the season's items rewritten without their personal fields,
    # its work files deleted; the archive only read, to see that it is sealed (it is never changed)
    "erase": Access(table="read-write", archive="read", erase_work=True),
}


class Functions(Construct):
    """Every function of the season, by FunctionSpec.key: `functions["register"]`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        storage: Storage,
        work: Work,
        archive: Archive,
        layer_dir: Path = LAYER_DIR,
        solver_layer_dir: Path = SOLVER_LAYER_DIR,
        notice_layer_dir: Path = NOTICE_LAYER_DIR,
        sms_layer_dir: Path = SMS_LAYER_DIR,
    ) -> None:
        super().__init__(scope, construct_id)
        missing = [spec.key for spec in FUNCTIONS if spec.key not in ACCESS]
        if missing:
            raise ValueError(f"infra/functions.py: no Access entry for function(s) {missing}")
        if not (layer_dir / "python").is_dir():
            raise FileNotFoundError(
                f"Lambda dependency layer not found at {layer_dir / 'python'}: run `make layer` first "
                f"(pip installs requirements/lambda.txt for {LAMBDA_RUNTIME} manylinux, no Docker needed)"
            )
        self._config = config
        self._storage = storage
        self._work = work
        self._archive = archive
        self.runtime = lambda_.Runtime(LAMBDA_RUNTIME, lambda_.RuntimeFamily.PYTHON)
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(layer_dir), exclude=[".built"]),
            compatible_runtimes=[self.runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description=f"{SERVICE}: requirements/lambda.txt",
        )
        self.solver_layer: lambda_.LayerVersion | None = None
        if any(a.solver for a in ACCESS.values()):
            if not (solver_layer_dir / "python").is_dir():
                raise FileNotFoundError(
                    f"Solver layer not found at {solver_layer_dir / 'python'}: run `make layer` first"
                )
            self.solver_layer = lambda_.LayerVersion(
                self,
                "Solver",
                code=lambda_.Code.from_asset(str(solver_layer_dir), exclude=[".built"]),
                compatible_runtimes=[self.runtime],
                compatible_architectures=[lambda_.Architecture.X86_64],
                description=f"{SERVICE}: requirements/solver.txt (OR-Tools, for place)",
            )
        self.notice_layer: lambda_.LayerVersion | None = None
        if any(a.notice for a in ACCESS.values()):
            if not (notice_layer_dir / "python").is_dir():
                raise FileNotFoundError(
                    f"Notice layer not found at {notice_layer_dir / 'python'}: run `make layer` first"
                )
            self.notice_layer = lambda_.LayerVersion(
                self,
                "Notice",
                code=lambda_.Code.from_asset(str(notice_layer_dir), exclude=[".built"]),
                compatible_runtimes=[self.runtime],
                compatible_architectures=[lambda_.Architecture.X86_64],
                description=f"{SERVICE}: requirements/notice.txt (fpdf2, for the notices' PDF)",
            )
        self.sms_layer: lambda_.LayerVersion | None = None
        if config.sms_provider.provider == "aliyun":
            if not (sms_layer_dir / "python").is_dir():
                raise FileNotFoundError(
                    f"SMS layer not found at {sms_layer_dir / 'python'}: run `make layer` first"
                )
            self.sms_layer = lambda_.LayerVersion(
                self,
                "Sms",
                code=lambda_.Code.from_asset(str(sms_layer_dir), exclude=[".built"]),
                compatible_runtimes=[self.runtime],
                compatible_architectures=[lambda_.Architecture.X86_64],
                description=f"{SERVICE}: requirements/sms.txt (Alibaba Cloud SMS, for the SMS senders)",
            )
        self.code = lambda_.Code.from_asset(
            str(ROOT), exclude=list(CODE_EXCLUDES), ignore_mode=IgnoreMode.DOCKER
        )
        self._functions: dict[str, lambda_.Function] = {}
        self._aliases: dict[str, lambda_.Alias] = {}
        for spec in FUNCTIONS:
            self._functions[spec.key] = self._build(spec, ACCESS[spec.key])
            self._aliases[spec.key] = self._publish(spec, self._functions[spec.key])
        for spec in FUNCTIONS:
            if ACCESS[spec.key].invoke_seal:  # a statement on its role; no resource of its own
                seal = self._aliases["seal"]
                seal.grant_invoke(self._functions[spec.key])
                self._functions[spec.key].add_environment("SEAL_FUNCTION", seal.function_arn)
        self._connect_late_checks()

    def _connect_late_checks(self) -> None:
        """The place API has a late registration's agency checks asked (issue 18): it invokes
        verify-batch's `live` alias asynchronously (VERIFY_BATCH_FUNCTION), which asks the agencies
        as the workflow's batches do and then places the child by its verdict (its archive read); the
        verification API does the same when a late child's home visit is answered (its verdict in)."""
        verify = self._aliases["verify-batch"]
        # the late registration; its home visit answered; the daily seal asking again an ask lost
        for key in ("place-api", "verify-api", "seal"):
            self._functions[key].add_environment("VERIFY_BATCH_FUNCTION", verify.function_arn)
            verify.grant_invoke(self._functions[key])
        checkov_skip(
            self._functions["verify-batch"],
            "CKV_AWS_116",
            "Invoked synchronously by the workflow's VerifyRegistrations Map (Retry and Catch) and "
            "asynchronously by the place and verification APIs for one late registration (Lambda's two "
            "retries); the daily seal settles every late child whose verdict is in all the same, and asks "
            "again every late child with no check stored. An event lost after them leaves the late "
            "child on the coordination seat its correction gave, a valid place, until the next daily "
            "seal asks again; a dead-letter queue or on-failure destination would cost resources of "
            "the stack's 500.",
        )

    def __getitem__(self, key: str) -> lambda_.Function:
        return self._functions[key]

    def alias(self, key: str) -> lambda_.Alias:
        """The function's `live` alias: what API Gateway, the schedules and the watch invoke."""
        return self._aliases[key]

    def version(self, key: str) -> lambda_.IVersion:
        """The version this deploy published: what the state machine's definition names (pinned)."""
        return self._functions[key].current_version

    def _publish(self, spec: FunctionSpec, fn: lambda_.Function) -> lambda_.Alias:
        """Publish a version of `fn` and point its `live` alias at it (docs/RUNBOOK.md, "Redeploying
        mid-season").

        `current_version` is a new AWS::Lambda::Version whenever anything that shapes the function
        changes: its logical id carries a hash of the function's properties (code asset hash,
        environment, layers, as recognizeLayerVersion asks, memory, timeout, role), computed at synth,
        so environment added later (`connect_workflow`, `connect_sign_in`) counts too. Old versions
        are retained: a running execution's state machine version names them, and they are what an
        operator rolls the alias back to.
        """
        version = fn.current_version
        version.apply_removal_policy(RemovalPolicy.RETAIN)
        return lambda_.Alias(
            self,
            f"{spec.key}-{LIVE_ALIAS}",
            alias_name=LIVE_ALIAS,
            version=version,
            description=f"{spec.key}: the version its invokers outside the workflow call (docs/RUNBOOK.md)",
        )

    def __iter__(self) -> Iterator[tuple[FunctionSpec, lambda_.Function]]:
        return ((spec, self._functions[spec.key]) for spec in FUNCTIONS)

    def _build(self, spec: FunctionSpec, access: Access) -> lambda_.Function:
        name = function_name(self._config.name, spec.key)
        storage = self._storage
        log_group = logs.LogGroup(
            self,
            f"{spec.key}-logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=log_retention(self._config),
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            f"{spec.key}-role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{name}: only what this function needs",
        )
        log_group.grant_write(role)

        environment = {
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "LOG_LEVEL": "INFO",
            "SEASON_CONFIG": f"seasons/{self._config.name}.yaml",
            # the deployed config's digest (enrollment/core/launch.py): a start with another config is refused
            "SEASON_CONFIG_DIGEST": config_digest(self._config),
            "TABLE_NAME": storage.table.table_name,
        }
        if access.table == "read":
            storage.table.grant_read_data(role)
        elif access.table == "write":
            storage.table.grant_write_data(role)
        elif access.table == "read-write":
            storage.table.grant_read_write_data(role)
        if access.idempotency:
            storage.idempotency_table.grant_read_write_data(role)
            environment["IDEMPOTENCY_TABLE_NAME"] = storage.idempotency_table.table_name
        if access.child_key:
            storage.child_key.grant_generate_mac(role)
            environment["CHILD_KEY_ID"] = storage.child_key.key_id
        if access.work_bucket is not None:
            bucket = self._work.bucket
            if access.work_bucket in ("read", "read-write"):
                bucket.grant_read(role)
            if access.work_bucket in ("write", "read-write"):
                bucket.grant_put(role)
            environment["WORK_BUCKET"] = bucket.bucket_name
        if access.erase_work:
            bucket = self._work.bucket
            bucket.grant_delete(role, f"{WORK_SEASONS_PREFIX}*")
            bucket.grant_delete(role, f"{EXPORTS_PREFIX}*")
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={
                        "StringLike": {"s3:prefix": [f"{WORK_SEASONS_PREFIX}*", f"{EXPORTS_PREFIX}*"]}
                    },
                )
            )
            environment["WORK_BUCKET"] = bucket.bucket_name
        if access.agency_files and self._config.verification.agency_files():
            bucket = self._work.bucket
            boxes = [f"{WORK_SEASONS_PREFIX}{self._config.season}/{box}/*" for box in ("outbox", "inbox")]
            # the objects themselves only: no listing of the bucket (grant_read's s3:List*), no delete
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:PutObject"],
                    resources=[bucket.arn_for_objects(b) for b in boxes],
                )
            )
            self._work.key.grant(role, "kms:Decrypt", "kms:GenerateDataKey")
            environment["WORK_BUCKET"] = bucket.bucket_name
        if access.archive is not None:
            self._archive.bucket.grant_read(role)
            if access.archive == "write":
                self._archive.bucket.grant_put(role, access.archive_put)
            environment["ARCHIVE_BUCKET"] = self._archive.bucket.bucket_name
        secrets = sorted({a.credentials_secret_arn for a in self._config.verification.agency_apis().values()})
        if access.agencies and secrets:
            # the agencies' HMAC keys, read on the first call (enrollment/adapters/agency_http.py)
            role.add_to_policy(
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=secrets)
            )
        if access.sms and self._config.sms_provider.provider in ("aliyun", "tencent"):
            # a China provider's keys, read on the first send (enrollment/adapters/sms_providers.py)
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[self._config.sms_provider.credentials_secret_arn],
                )
            )
        if self._sns_sms(access):
            # SMS to a phone number has no resource ARN, so Publish is allowed on "*"; every topic is
            # denied, so the SMS is all the function can publish (it publishes to no topic)
            role.add_to_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="NoTopicPublish",
                    effect=iam.Effect.DENY,
                    actions=["sns:Publish"],
                    resources=[f"arn:{Aws.PARTITION}:sns:*:*:*"],
                )
            )
        if access.signing:
            self._archive.signing_key.grant(role, "kms:Sign", "kms:GetPublicKey")
            environment["SIGNING_KEY_ID"] = self._archive.signing_key.key_id
        if access.staff_directory:
            environment["STAFF_DIRECTORY"] = f"seasons/{self._config.name}.staff.yaml"

        fn = lambda_.Function(
            self,
            spec.key,
            function_name=name,
            description=spec.description,
            runtime=self.runtime,
            architecture=lambda_.Architecture.X86_64,
            handler=spec.handler,
            code=self.code,
            layers=self._layers(access),
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_s),
            role=role,
            log_group=log_group,
            tracing=self._tracing(),
            environment=environment,
        )
        if self._tracing_unknown():
            # environment-agnostic: the partition decides at deploy time (no X-Ray for Lambda in aws-cn)
            fn.node.default_child.add_property_override(  # type: ignore[union-attr]
                "TracingConfig.Mode", Fn.condition_if(self._china().logical_id, "PassThrough", "Active")
            )
        self._acknowledge(fn, role, access)
        self._harden(spec, fn, role, access)
        return fn

    def _tracing_unknown(self) -> bool:
        return Token.is_unresolved(Stack.of(self).region)

    def _tracing(self) -> lambda_.Tracing:
        """Active X-Ray tracing, except in China regions, where Lambda does not offer X-Ray."""
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and region.startswith("cn-"):
            return lambda_.Tracing.DISABLED
        return lambda_.Tracing.ACTIVE

    def _china(self) -> CfnCondition:
        found = self.node.try_find_child("ChinaPartition")
        if isinstance(found, CfnCondition):
            return found
        return CfnCondition(self, "ChinaPartition", expression=Fn.condition_equals(Aws.PARTITION, "aws-cn"))

    def _layers(self, access: Access) -> list[lambda_.ILayerVersion]:
        """The common layer, then the solver, the notice and the SMS layers where `access` asks for them."""
        layers: list[lambda_.ILayerVersion] = [self.layer]
        if access.solver and self.solver_layer:
            layers.append(self.solver_layer)
        if access.notice and self.notice_layer:
            layers.append(self.notice_layer)
        if access.sms and self.sms_layer:
            layers.append(self.sms_layer)
        return layers

    def connect_workflow(self, state_machine_arn: str, alias_arn: str) -> None:
        """Functions that resume gates learn the state machine ARN and may answer its task tokens;
        the one that starts the season may start it and describe its one execution (`season-{season}`).

        The ARNs are built from the state machine's name, not taken from the resource: the workflow
        invokes some of these functions (lottery-wait), and a reference back would be a cycle.
        STATE_MACHINE_ARN is the `live` alias's ARN (infra/workflow.py): a season started through it
        keeps the state machine version, and so the function versions, it started with. Step Functions
        authorizes a qualified ARN against the state machine's own ARN; the alias's is listed as well.
        """
        for spec, fn in self:
            if ACCESS[spec.key].resume_gates:
                fn.add_environment("STATE_MACHINE_ARN", alias_arn)
                fn.add_to_role_policy(
                    iam.PolicyStatement(
                        actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                        resources=[state_machine_arn],
                    )
                )
            access = ACCESS[spec.key]
            if access.start_season or access.describe_season:  # the season's one execution
                fn.add_environment("STATE_MACHINE_ARN", alias_arn)
                # an execution's ARN names the state machine, never the alias or version it ran through
                execution = Stack.of(self).format_arn(
                    service="states",
                    resource="execution",
                    resource_name=f"{state_machine_name(self._config.name)}:{execution_name(self._config.season)}",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
                if access.start_season:
                    fn.add_to_role_policy(
                        iam.PolicyStatement(
                            actions=["states:StartExecution"], resources=[state_machine_arn, alias_arn]
                        )
                    )
                fn.add_to_role_policy(
                    iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[execution])
                )

    def connect_sign_in(self, sign_in: StaffSignIn) -> None:
        """The authorizer and the console learn the staff OIDC issuer and the console's client."""
        for spec, fn in self:
            if ACCESS[spec.key].sign_in:
                fn.add_environment("OIDC_ISSUER", sign_in.issuer)
                fn.add_environment("OIDC_CLIENT_ID", sign_in.client_id)
                fn.add_environment("OIDC_AUDIENCE", sign_in.audience)
                fn.add_environment("OIDC_GROUPS_CLAIM", sign_in.groups_claim)
                fn.add_environment("OIDC_SCOPES", sign_in.scopes)

    def _sns_sms(self, access: Access) -> bool:
        """Whether the function sends SMS through SNS (sns:Publish), not a China provider (a secret)."""
        return access.sms and self._config.sms_provider.provider == "sns"

    def _harden(self, spec: FunctionSpec, fn: lambda_.Function, role: iam.Role, access: Access) -> None:
        """What checkov asks of every function and this stack does otherwise, each with its reason."""
        checkov_skip(fn, "CKV_AWS_115", NO_RESERVED_CONCURRENCY)
        checkov_skip(fn, "CKV_AWS_117", NO_VPC)
        checkov_skip(fn, "CKV_AWS_173", PLAIN_ENVIRONMENT)
        if spec.key not in ASYNC_INVOKED:  # infra/schedules.py says where their failures go
            checkov_skip(fn, "CKV_AWS_116", SYNC_INVOKED)
        if self._sns_sms(access):
            checkov_skip(
                role.node.find_child("DefaultPolicy"),
                "CKV_AWS_111",
                "sns:Publish on '*' is the SMS to a phone number (the parents' codes, the notices), which "
                "has no resource ARN; the same policy denies sns:Publish on every topic ARN.",
            )

    def _acknowledge(self, fn: lambda_.Function, role: iam.Role, access: Access) -> None:
        star = []
        if self._tracing() == lambda_.Tracing.ACTIVE:
            star.append(
                "X-Ray's PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "
                "Lambda active tracing needs them on '*'."
            )
        if self._sns_sms(access):
            star.append(
                "sns:Publish to a phone number (the notices' SMS) has no resource ARN either; a Deny on "
                "every topic ARN keeps the function from publishing to any topic."
            )
        if star:
            acknowledge(role, "AwsSolutions-IAM5[Resource::*]", " ".join(star))
        if access.table is not None:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{ref(self._storage.table)}.Arn>/index/*]",
                "grant_*_data adds the table's indexes (ARN/index/*) to the table ARN; the table's only "
                "index is gsi1.",
            )
        if access.work_bucket is not None:
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{ref(self._work.bucket)}.Arn>/*]",
                "Object grants on the work bucket (notice PDFs, exports, workflow files: personal data, "
                "on the bucket's own CMK); keys are made per season at run time.",
            )
        if access.work_bucket in ("write", "read-write"):
            acknowledge(
                role,
                "AwsSolutions-IAM5[Action::s3:Abort*]",
                "grant_put on the work bucket's objects: s3:AbortMultipartUpload (an interrupted upload "
                "of the batches file is abandoned, not left behind); no delete.",
            )
        if access.work_bucket in ("read", "read-write"):
            for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*"):
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Action::{action}]",
                    "grant_read on the work bucket: read-only actions, scoped to that bucket and its objects.",
                )
        if access.erase_work:
            work_ref = ref(self._work.bucket)
            for prefix in (WORK_SEASONS_PREFIX, EXPORTS_PREFIX):
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::<{work_ref}.Arn>/{prefix}*]",
                    "The erasure deletes the season's files under this prefix of the work bucket (keys made "
                    "per season and registration at run time) once the retention period is over "
                    "(docs/RETENTION.md); it may delete nothing else, in no other bucket.",
                )
            acknowledge(
                role,
                "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
                "grant_delete on the work bucket's seasons/ and exports/ objects only: DeleteObject and "
                "DeleteObjectVersion (the bucket is unversioned); the erasure at the end of retention.",
            )
        if access.agency_files and self._config.verification.agency_files():
            for box in ("outbox", "inbox"):
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::<{ref(self._work.bucket)}.Arn>/"
                    f"{WORK_SEASONS_PREFIX}{self._config.season}/{box}/*]",
                    "Get and put on this season's agency-file objects only (docs/AGENCY-FILES.md): each "
                    "round and each uploaded answer file is named at run time; no listing, no delete.",
                )
        if access.archive is not None:
            bucket_ref = ref(self._archive.bucket)
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::<{bucket_ref}.Arn>/*]",
                (
                    "Read and put on the archive's objects: season prefixes and school keys are made at "
                    "run time; Object Lock (compliance) keeps every written version, and no delete is granted."
                    if access.archive == "write"
                    else "Read only on the archive's objects (season prefixes and school keys are made at "
                    "run time); nothing is put or deleted."
                ),
            )
            if access.archive == "write" and access.archive_put != "*":
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Resource::<{bucket_ref}.Arn>/{access.archive_put}]",
                    "Put only under this prefix of the archive bucket (keys made per season at run time); "
                    "Object Lock (compliance) keeps every written version, and no delete is granted.",
                )
            writes = access.archive == "write"
            for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", *(["s3:Abort*"] if writes else [])):
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Action::{action}]",
                    "grant_read/grant_put on the archive bucket: read to compare a rerun's bytes with the "
                    "archived ones, put to write once; scoped to that bucket and its objects."
                    if writes
                    else "grant_read on the archive bucket: read-only actions, scoped to that bucket and "
                    "its objects.",
                )
        encrypting = [
            *(
                ["the table grant on the data CMK"]
                if access.table in ("read-write", "write") or access.idempotency
                else []
            ),
            *(["the archive bucket's SSE-KMS grant on its key"] if access.archive == "write" else []),
            *(
                ["the work bucket's SSE-KMS grant on its key"]
                if access.work_bucket in ("write", "read-write")
                else []
            ),
        ]
        if encrypting:
            for action in ("kms:GenerateDataKey*", "kms:ReEncrypt*"):
                acknowledge(
                    role,
                    f"AwsSolutions-IAM5[Action::{action}]",
                    f"Encryption grants scoped to each key's ARN ({'; '.join(encrypting)}); the service "
                    "picks the GenerateDataKey variant and re-encrypts (ReEncryptFrom/To).",
                )
        acknowledge(
            fn,
            "AwsSolutions-L1",
            f"{LAMBDA_RUNTIME} is pinned in enrollment/core/resources.py and the layer's compiled wheels "
            "(pydantic-core, PyYAML) are built for it (Makefile `layer`); runtime and layer move together.",
        )
