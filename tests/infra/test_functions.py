"""One factory, one least-privilege role per function (STYLE.md: CDK)."""

from __future__ import annotations

from json import dumps
from typing import Any

import aws_cdk as cdk
import pytest

from enrollment.core.launch import config_digest, execution_name
from enrollment.core.phases import phases, schedule_name
from enrollment.core.resources import (
    FUNCTIONS,
    LAMBDA_RUNTIME,
    SERVICE,
    function_name,
    schedule_group_name,
    state_machine_name,
)
from infra.archive import Archive
from infra.functions import ACCESS, Functions
from infra.nag import ref
from infra.storage import Storage
from infra.work import Work
from tests.infra.conftest import Synth
from tests.infra.helpers import (
    DDB_READ,
    DDB_WRITE,
    KMS_TABLE,
    KMS_TABLE_READ,
    LOGS,
    S3_PUT,
    S3_READ,
    XRAY,
    allowed_actions,
    as_list,
    function_by_name,
    function_role,
    getatt,
    resources,
    resources_for,
    role_statements,
)

pytestmark = pytest.mark.xdist_group("infra")

KMS_WORK_PUT = {"kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}  # the work bucket's key, to put

EXPECTED_ACTIONS = {
    # staff sign-in: the authorizer checks tokens against the issuer's public keys; the console
    # serves pages and says who is signed in; neither touches the season's data
    "authorize": LOGS | XRAY,
    "console": LOGS | XRAY,
    # complaints: read and answered in the table, nothing else
    "complaints-api": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    # the exports: read the table and the archive, record downloads, put the files in the work
    # bucket and read them back through the links the role signs (docs/EXPORTS.md)
    "exports-api": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY | S3_READ | S3_PUT,
    "register": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY | {"kms:GenerateMac", "sns:Publish"} | S3_READ,
    "gate-open": DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    "gate-advance": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | {"states:SendTaskSuccess", "states:SendTaskFailure"}
    | {"scheduler:GetSchedule", "scheduler:UpdateSchedule", "iam:PassRole"}  # window extensions
    | {"states:StartExecution", "states:DescribeExecution"}  # the season started and watched
    # its on-failure destination (an asynchronous invocation that failed): the deadlines' dead letters
    | {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"},
    "close-registration": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    # verification: reads the season's registrations, writes each shard's ids and reads them back
    # into the batches file, nothing else
    "verify-prepare": DDB_READ | KMS_TABLE_READ | LOGS | XRAY | S3_READ | S3_PUT | KMS_WORK_PUT,
    # also a late registration's checks (issue 18), then the child placed by its verdict: the archive read
    "verify-batch": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY | S3_READ,
    "verify-close": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    "spotcheck-draw": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    # and, a late child's home visit answered, has it placed by its verdict (verify-batch invoked);
    # the review queue's search by a full ID number keys it as the form does (kms:GenerateMac)
    "verify-api": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | {"lambda:InvokeFunction", "kms:GenerateMac"},
    # the lottery: pools and ceremonies in the table; only the record function touches the archive
    "lottery-prepare": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    "lottery-wait": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | {"states:SendTaskSuccess", "states:SendTaskFailure"},
    "lottery-record": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY | S3_READ | S3_PUT,
    # placement: reads everything, archives placements.jsonl; its API records staff decisions and
    # corrections (a late registration keys its child as the form does: kms:GenerateMac)
    "place": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY | S3_READ | S3_PUT,
    # and has a late registration's checks asked (verify-batch's alias invoked), and the corrections
    # sealed now by city staff: the seal function invoked, which alone signs
    "place-api": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | S3_READ
    | {"kms:GenerateMac", "lambda:InvokeFunction"},
    # a StorePlacements item: its chunk read from the work bucket, the children's places written
    "place-store": DDB_WRITE | KMS_TABLE | LOGS | XRAY | S3_READ,
    # the sunshine classes: the groups listed from the archived placements (their ids staged in the
    # work bucket), each drawn from the table and staged, then sealed: only the seal writes and signs
    # (kms:Decrypt and DescribeKey on the archive's key: its objects are encrypted with it)
    "classes": KMS_TABLE_READ | LOGS | XRAY | S3_READ | S3_PUT | KMS_WORK_PUT,
    "classes-school": DDB_READ | KMS_TABLE_READ | LOGS | XRAY | S3_READ | S3_PUT | KMS_WORK_PUT,
    "classes-seal": KMS_TABLE_READ
    | LOGS
    | XRAY
    | S3_READ
    | S3_PUT
    | {"kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:Sign", "kms:GetPublicKey"},
    # the archive's seal: reads the archive, writes the manifest, its signature and the public key
    # notices: the prepare step reads the archived placements and writes the batches; a batch reads
    # registrations, derives the code secret in KMS, stores PDFs and sends SMS
    "notify-prepare": DDB_READ | KMS_TABLE_READ | LOGS | XRAY | S3_READ | S3_PUT | KMS_WORK_PUT,
    "notify-batch": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | S3_PUT
    | {"kms:GenerateMac", "sns:Publish"},
    # and, daily, the corrections after the results: the pending ones read, marked sealed (issue 18)
    "seal": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | S3_READ
    | S3_PUT
    | {"kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:Sign", "kms:GetPublicKey"}
    | {"lambda:InvokeFunction"},  # verify-batch: a late child's checks whose ask was lost, asked again
    # the season report: reads the table and the sealed archive, puts its page under reports/ only
    "report": DDB_READ
    | KMS_TABLE_READ
    | LOGS
    | XRAY
    | S3_READ
    | S3_PUT
    | {"kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"},
    "lottery-api": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | {"states:SendTaskSuccess", "states:SendTaskFailure"},
    # the workflow's dead letters: reads the failed batch's registrations, writes one record per district
    "dead-letter": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    # the deadline schedules' custom resource: reads gates and extensions, puts and removes the
    # gates' schedules and passes them their invoke role (tests/infra/test_schedules.py: scoped)
    "deadlines": DDB_READ
    | KMS_TABLE_READ
    | LOGS
    | XRAY
    | {
        "scheduler:GetSchedule",
        "scheduler:CreateSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
        "iam:PassRole",
    },
    # the season watch: reads gates and extensions, describes the season's execution
    "watch": DDB_READ | KMS_TABLE_READ | LOGS | XRAY | {"states:DescribeExecution"},
    # the erasure (docs/RETENTION.md): rewrites the season's items without their personal fields,
    # deletes its work files (list and delete under two prefixes), reads the archive to see it sealed
    "erase": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY | S3_READ | {"s3:DeleteObject*", "s3:ListBucket"},
}


def _statements(synth: Synth, key: str) -> list[dict[str, Any]]:
    return role_statements(synth.raw, function_role(synth.raw, ref(synth.stack.functions[key])))


def test_every_function_in_the_spec_list_is_built_the_same_way(synth, raw, config):
    assert set(EXPECTED_ACTIONS) == {spec.key for spec in FUNCTIONS} == set(ACCESS)
    # and the custom resource Provider's framework function (infra/schedules.py), not built here
    provider = ref(synth.stack.schedules.provider.node.find_child("framework-onEvent"))
    assert set(resources(raw, "AWS::Lambda::Function")) - {provider} == {
        ref(fn) for _, fn in synth.stack.functions
    }
    assert len(resources(raw, "AWS::Lambda::Function")) == len(FUNCTIONS) + 1
    layer = ref(synth.stack.functions.layer)
    # the extra layers go where their packages are imported (tests/unit/test_handler_imports.py)
    assert {key for key, access in ACCESS.items() if access.solver} == {"place"}
    assert {key for key, access in ACCESS.items() if access.notice} == {"notify-batch"}
    for spec in FUNCTIONS:
        fn_id = function_by_name(raw, function_name(config.name, spec.key))
        props = raw["Resources"][fn_id]["Properties"]
        assert props["Runtime"] == LAMBDA_RUNTIME == "python3.12"
        assert props["Handler"] == spec.handler
        assert props["MemorySize"] == spec.memory_mb
        assert props["Timeout"] == spec.timeout_s
        assert props["Architectures"] == ["x86_64"]
        # environment-agnostic: Active, but PassThrough where the partition is aws-cn (no Lambda X-Ray)
        china = synth.stack.get_logical_id(synth.stack.functions._china())
        assert props["TracingConfig"] == {"Mode": {"Fn::If": [china, "PassThrough", "Active"]}}
        # the OR-Tools layer only where the min-cost flow runs, the fpdf2 layer only where notices
        # are drawn (Lambda's 250 MB limit)
        solver = [{"Ref": ref(synth.stack.functions.solver_layer)}] if ACCESS[spec.key].solver else []
        notice = [{"Ref": ref(synth.stack.functions.notice_layer)}] if ACCESS[spec.key].notice else []
        assert props["Layers"] == [{"Ref": layer}, *solver, *notice]
        log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        log_group = raw["Resources"][log_group_id]["Properties"]
        assert log_group["LogGroupName"] == f"/aws/lambda/{function_name(config.name, spec.key)}"
        assert log_group["RetentionInDays"] == 180
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == SERVICE
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Enrollment"
        assert env["LOG_LEVEL"] == "INFO"
        assert env["SEASON_CONFIG"] == f"seasons/{config.name}.yaml"
        assert env["TABLE_NAME"] == {"Ref": ref(synth.stack.storage.table)}


OIDC = {"OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_AUDIENCE", "OIDC_GROUPS_CLAIM", "OIDC_SCOPES"}


def test_environment_carries_only_what_each_function_uses(synth, raw):
    def env(key: str) -> dict[str, Any]:
        variables: dict[str, Any] = raw["Resources"][ref(synth.stack.functions[key])]["Properties"][
            "Environment"
        ]["Variables"]
        return variables

    assert env("register")["IDEMPOTENCY_TABLE_NAME"] == {"Ref": ref(synth.stack.storage.idempotency_table)}
    assert env("register")["CHILD_KEY_ID"] == {"Ref": ref(synth.stack.storage.child_key)}
    # the `live` alias's ARN: a season started through it keeps its state machine version
    assert env("gate-advance")["STATE_MACHINE_ARN"] == synth.stack.resolve(synth.stack.workflow.alias_arn)
    assert env("lottery-record")["ARCHIVE_BUCKET"] == {"Ref": ref(synth.stack.archive.bucket)}
    assert env("verify-prepare")["WORK_BUCKET"] == {"Ref": ref(synth.stack.work.bucket)}
    assert env("verify-api")["STAFF_DIRECTORY"] == f"seasons/{synth.stack.config.name}.staff.yaml"
    # the seal's `live` alias: the corrections sealed on demand run the version the schedule runs
    assert env("place-api")["SEAL_FUNCTION"] == synth.stack.resolve(
        synth.stack.functions.alias("seal").function_arn
    )
    optional = {
        "IDEMPOTENCY_TABLE_NAME",
        "CHILD_KEY_ID",
        "STATE_MACHINE_ARN",
        "SCHEDULE_GROUP",
        "WORK_BUCKET",
        "STAFF_DIRECTORY",
        "ARCHIVE_BUCKET",
        "SIGNING_KEY_ID",
        "VERIFY_BATCH_FUNCTION",
        "SEAL_FUNCTION",
        *OIDC,
    }
    expected = {
        "authorize": OIDC,
        "console": OIDC,
        "complaints-api": {"STAFF_DIRECTORY"},
        "exports-api": {"ARCHIVE_BUCKET", "WORK_BUCKET"},
        "register": {"IDEMPOTENCY_TABLE_NAME", "CHILD_KEY_ID", "WORK_BUCKET"},
        "gate-open": set(),
        "gate-advance": {"STATE_MACHINE_ARN", "SCHEDULE_GROUP"},
        "deadlines": set(),  # the group, target and role come in the custom resource's properties
        "close-registration": set(),
        "verify-prepare": {"WORK_BUCKET"},
        "verify-batch": {"ARCHIVE_BUCKET"},
        "verify-close": set(),
        "spotcheck-draw": set(),
        "verify-api": {"STAFF_DIRECTORY", "VERIFY_BATCH_FUNCTION", "CHILD_KEY_ID"},  # the search by ID number
        "lottery-prepare": set(),
        "lottery-wait": {"STATE_MACHINE_ARN"},
        "lottery-record": {"ARCHIVE_BUCKET"},
        "lottery-api": {"STAFF_DIRECTORY", "STATE_MACHINE_ARN"},
        "place": {"ARCHIVE_BUCKET", "WORK_BUCKET"},
        "place-store": {"WORK_BUCKET"},
        "place-api": {
            "STAFF_DIRECTORY",
            "ARCHIVE_BUCKET",
            "CHILD_KEY_ID",
            "VERIFY_BATCH_FUNCTION",
            "SEAL_FUNCTION",
        },
        "classes": {"ARCHIVE_BUCKET", "WORK_BUCKET"},
        "classes-school": {"WORK_BUCKET"},
        "classes-seal": {"ARCHIVE_BUCKET", "WORK_BUCKET", "SIGNING_KEY_ID"},
        "seal": {"ARCHIVE_BUCKET", "SIGNING_KEY_ID", "VERIFY_BATCH_FUNCTION"},
        "report": {"ARCHIVE_BUCKET"},
        "notify-prepare": {"ARCHIVE_BUCKET", "WORK_BUCKET"},
        "notify-batch": {"WORK_BUCKET", "CHILD_KEY_ID"},
        "dead-letter": set(),
        "watch": {"STATE_MACHINE_ARN"},
        "erase": {"ARCHIVE_BUCKET", "WORK_BUCKET"},
    }
    assert set(expected) == set(ACCESS)
    for key, names in expected.items():
        assert optional & set(env(key)) == names, key


def test_one_role_per_function_without_managed_policies(synth, raw):
    roles = {key: function_role(raw, ref(synth.stack.functions[key])) for key in EXPECTED_ACTIONS}
    assert len(set(roles.values())) == len(roles)
    for role_id in roles.values():
        role = raw["Resources"][role_id]["Properties"]
        assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole (IAM4)
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}


@pytest.mark.parametrize("key", sorted(EXPECTED_ACTIONS))
def test_role_allows_exactly_the_expected_actions(synth, key):
    assert allowed_actions(_statements(synth, key)) == EXPECTED_ACTIONS[key]


def test_register_cannot_touch_the_workflow_the_archive_or_other_functions(synth):
    statements = _statements(synth, "register")
    actions = allowed_actions(statements)
    assert not any(a.startswith(("states:", "lambda:", "iam:")) for a in actions)
    # it only reads the work bucket, to sign a family's link to its notice (R-NOTE-1)
    assert {a for a in actions if a.startswith("s3:")} == S3_READ
    work = ref(synth.stack.work.bucket)
    assert all(work in dumps(r) for a in S3_READ for r in resources_for(statements, a))


def test_only_the_functions_that_need_s3_touch_it_and_only_the_erasure_deletes(synth):
    # Given every function's role
    touching = {
        key
        for key in EXPECTED_ACTIONS
        if any(a.startswith("s3:") for a in allowed_actions(_statements(synth, key)))
    }
    # Then only these have S3 actions (work bucket: batches, notices; archive: records, placements,
    # the seal, the classes addition; read-only: the family's link, reporting day), and none but the
    # erasure deletes (tests/infra/test_retention.py: the work bucket's season files only)
    assert all(
        "Delete" not in a
        for key in touching - {"erase"}
        for a in allowed_actions(_statements(synth, key))
        if a.startswith("s3:")
    )
    assert touching == {
        "verify-prepare",
        "verify-batch",  # a late registration placed by its verdict: the sealed placements, read
        "lottery-record",
        "place",
        "place-store",
        "place-api",
        "classes",
        "classes-school",
        "classes-seal",
        "seal",
        "report",
        "notify-prepare",
        "notify-batch",
        "register",
        "exports-api",  # the exports' files (work bucket) and the archive's lists, read
        "erase",  # the season's work files deleted once the retention period is over
    }
    # lottery-record reads and puts archive objects (write once, compare on a rerun), never deletes
    record = _statements(synth, "lottery-record")
    archive = getatt(ref(synth.stack.archive.bucket))
    archive_objects = {"Fn::Join": ["", [archive, "/*"]]}
    assert {a for a in allowed_actions(record) if a.startswith("s3:")} == S3_READ | S3_PUT
    for action in S3_PUT:
        assert resources_for(record, action) == [archive_objects], action
    # verify-prepare reads and puts (never deletes) the work bucket's objects: each shard's ids
    # written by a Map iteration, then gathered into the batches file
    statements = _statements(synth, "verify-prepare")
    assert {a for a in allowed_actions(statements) if a.startswith("s3:")} == S3_READ | S3_PUT
    objects = {"Fn::Join": ["", [getatt(ref(synth.stack.work.bucket)), "/*"]]}
    for action in S3_PUT:
        assert resources_for(statements, action) == [objects], action
    for action in S3_READ:
        assert objects in resources_for(statements, action), action


def test_only_xray_is_granted_on_every_resource(synth):
    for key in EXPECTED_ACTIONS:
        for statement in _statements(synth, key):
            if "*" in as_list(statement["Resource"]):
                sms = {"sns:Publish"} if ACCESS[key].sms else set()  # SMS to a phone number: no ARN
                assert set(as_list(statement["Action"])) <= XRAY | sms, (key, statement)


def test_table_actions_are_scoped_to_the_tables_and_index(synth):
    storage = synth.stack.storage
    table, idem = ref(storage.table), ref(storage.idempotency_table)
    index = {"Fn::Join": ["", [getatt(table), "/index/*"]]}
    for key, access in ACCESS.items():
        statements = _statements(synth, key)
        if access.table is None:  # the sign-in functions, and the classes' steps that read only S3
            assert key in ("authorize", "console", "classes", "classes-seal"), key
            assert not any(a.startswith("dynamodb:") for st in statements for a in as_list(st["Action"]))
            # no key of the table's: only the archive's, to read (and for the seal write) the archive,
            # and the work bucket's for the steps that stage files there
            keys = {
                dumps(r)
                for st in statements
                if any(a.startswith("kms:") for a in as_list(st["Action"]))
                for r in as_list(st["Resource"])
            }
            archive_key = dumps(getatt(ref(synth.stack.archive.key)))
            signing_key = dumps(getatt(ref(synth.stack.archive.signing_key)))
            allowed = {archive_key, signing_key} if access.archive else set()
            if access.work_bucket:
                allowed.add(dumps(getatt(ref(synth.stack.work.key))))
            assert keys <= allowed, key
            continue
        # a read action and, for writers, a write action: on the table and its index, plus the
        # idempotency table for the idempotent function only
        probes = {"read": ["dynamodb:Query"], "write": ["dynamodb:PutItem"]}
        probes["read-write"] = probes["read"] + probes["write"]
        for action in probes[access.table]:
            targets = resources_for(statements, action)
            plain = [t for t in targets if "Fn::GetAtt" in t]
            expected = [getatt(table)] + ([getatt(idem)] if access.idempotency else [])
            assert sorted(map(str, plain)) == sorted(map(str, expected)), (key, action)
            assert [t for t in targets if "Fn::Join" in t] == [index], (key, action)
        dynamodb = [
            r
            for s in statements
            if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))
            for r in as_list(s["Resource"])
        ]
        assert {dumps(r) for r in dynamodb} <= {dumps(getatt(table)), dumps(getatt(idem)), dumps(index)}, key
        # the data key: decrypt for every reader, encrypt only for writers (and the archive's and the
        # work bucket's keys for the functions that read or write those buckets)
        archive_key = [getatt(ref(synth.stack.archive.key))] if access.archive else []
        work_keys = [getatt(ref(synth.stack.work.key))] if access.work_bucket else []
        decrypt = set(map(dumps, resources_for(statements, "kms:Decrypt")))
        # (grant_put decrypts too: a multipart upload reads its parts back)
        assert decrypt == set(map(dumps, [getatt(ref(storage.data_key)), *archive_key, *work_keys])), key
        writes = access.table != "read" or access.idempotency
        encrypt = set(map(dumps, resources_for(statements, "kms:Encrypt")))
        data_key = [getatt(ref(storage.data_key))] if writes else []
        archive_write = archive_key if access.archive == "write" else []
        work_write = work_keys if access.work_bucket in ("write", "read-write") else []
        assert encrypt == set(map(dumps, [*data_key, *archive_write, *work_write])), key


def test_gate_advance_resumes_only_this_state_machine(synth):
    statements = _statements(synth, "gate-advance")
    sm = synth.stack.resolve(synth.stack.workflow.arn)
    assert resources_for(statements, "states:SendTaskSuccess") == [sm]
    assert resources_for(statements, "states:SendTaskFailure") == [sm]


def test_only_the_corrections_functions_invoke_and_only_the_live_aliases_of_seal_and_verify_batch(synth):
    """City staff seal the corrections now through the place API: it may invoke the seal function's
    `live` alias (no kms:Sign, no archive write of its own); a late registration's checks are asked of
    verify-batch's `live` alias by the place API, the verification API (a home visit answered) and the
    daily seal (an ask lost). No other function invokes any function."""
    seal = synth.stack.resolve(synth.stack.functions.alias("seal").function_arn)
    verify = synth.stack.resolve(synth.stack.functions.alias("verify-batch").function_arn)
    expected = {"place-api": [seal, verify], "verify-api": [verify], "seal": [verify]}
    for spec in FUNCTIONS:
        invoked = resources_for(_statements(synth, spec.key), "lambda:InvokeFunction")
        assert sorted(map(dumps, invoked)) == sorted(map(dumps, expected.get(spec.key, []))), spec.key


def test_gate_advance_starts_only_this_state_machine_and_describes_only_its_one_execution(synth):
    statements = _statements(synth, "gate-advance")
    config = synth.stack.config
    # the state machine and its `live` alias, through which the season is started (test_versions.py)
    assert resources_for(statements, "states:StartExecution") == [
        synth.stack.resolve(synth.stack.workflow.arn),
        synth.stack.resolve(synth.stack.workflow.alias_arn),
    ]
    (execution,) = resources_for(statements, "states:DescribeExecution")
    text = dumps(execution)
    assert text.endswith(
        f':execution:{state_machine_name(config.name)}:{execution_name(config.season)}"]]}}'
    ), text
    assert "*" not in text


def test_the_watch_only_describes_the_seasons_one_execution_and_gate_advance_fails_into_the_dlq(synth):
    watch = _statements(synth, "watch")
    advance = _statements(synth, "gate-advance")
    assert resources_for(watch, "states:DescribeExecution") == resources_for(
        advance, "states:DescribeExecution"
    )
    assert resources_for(watch, "states:StartExecution") == []
    queue = getatt(ref(synth.stack.schedules.dead_letters))
    assert resources_for(advance, "sqs:SendMessage") == [queue]


def test_every_function_knows_the_deployed_config_digest_and_the_stack_outputs_it(synth, raw):
    digest = config_digest(synth.stack.config)
    for spec in FUNCTIONS:
        props = raw["Resources"][ref(synth.stack.functions[spec.key])]["Properties"]
        assert props["Environment"]["Variables"]["SEASON_CONFIG_DIGEST"] == digest, spec.key
    outputs = raw["Outputs"]
    assert outputs["ConfigDigest"]["Value"] == digest
    assert outputs["SeasonConfig"]["Value"] == f"seasons/{synth.stack.config.name}.yaml"
    assert outputs["ScheduleGroupName"]["Value"] == schedule_group_name(synth.stack.config.name)


def test_only_the_seal_and_the_classes_addition_sign_and_only_with_the_archive_signing_key(synth):
    signing_key = getatt(ref(synth.stack.archive.signing_key))
    for key in EXPECTED_ACTIONS:
        statements = _statements(synth, key)
        expected = [signing_key] if key in ("seal", "classes-seal") else []
        assert resources_for(statements, "kms:Sign") == expected, key


def test_missing_layer_is_a_clear_error(tmp_path, config):
    # (the bucket-policy form of server access logs, as cdk.json sets it for the app)
    app = cdk.App(context={"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True})
    stack = cdk.Stack(app, "LayerCheck")
    archive = Archive(stack, "Archive", config=config, retention_days=1)
    with pytest.raises(FileNotFoundError, match="run `make layer`"):
        Functions(
            stack,
            "Functions",
            config=config,
            storage=Storage(stack, "Storage", config=config),
            work=Work(stack, "Work", config=config, access_logs=archive.access_logs),
            archive=archive,
            layer_dir=tmp_path,
        )


def test_code_asset_holds_only_runtime_code(app_synth):
    # Given the app synthesized for jilin-2023, the asset all functions share
    assert app_synth.returncode == 0, app_synth.output[-3000:]
    template = app_synth.template()
    keys = {
        fn["Properties"]["Code"]["S3Key"]
        for fn in resources(template, "AWS::Lambda::Function").values()
        if fn["Properties"]["Handler"].startswith("functions.")  # not the Provider framework's own
    }
    [key] = keys
    asset = app_synth.outdir / f"asset.{key.removesuffix('.zip')}"
    files = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    assert {f.split("/")[0] for f in files} == {"enrollment", "functions", "seasons"}
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert "seasons/jilin-2023.yaml" in files
    for spec in FUNCTIONS:  # every handler module is in the asset
        module = spec.handler.rsplit(".", 1)[0]
        assert module.replace(".", "/") + ".py" in files, spec.handler
    # and the dependency layers are the pip-built folders, python/ only: the common one, the solver
    # (OR-Tools, no pandas) for the place function and the notice layer (fpdf2) for notify-batch
    dirs = {
        layer_id: app_synth.outdir / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
        for layer_id, layer in resources(template, "AWS::Lambda::LayerVersion").items()
    }
    assert len(dirs) == 3
    assert all({p.name for p in d.iterdir()} == {"python"} for d in dirs.values())
    [common] = [d for d in dirs.values() if (d / "python" / "aws_lambda_powertools").is_dir()]
    [solver] = [d for d in dirs.values() if (d / "python" / "ortools").is_dir()]
    [notice] = [d for d in dirs.values() if (d / "python" / "fpdf").is_dir()]
    assert not (solver / "python" / "pandas").exists()
    assert not (common / "python" / "fpdf").exists() and not (common / "python" / "fontTools").exists()
    # each function with its layers and the code under Lambda's 250 MB unzipped: `place` (common and
    # solver layers) and `notify-batch` (common and notice layers) are the largest
    size = {d: sum(f.stat().st_size for f in d.rglob("*") if f.is_file()) for d in (*dirs.values(), asset)}
    totals: dict[str, int] = {}
    for spec in FUNCTIONS:
        fn_id = function_by_name(template, function_name("jilin-2023", spec.key))
        layers = [dirs[layer["Ref"]] for layer in template["Resources"][fn_id]["Properties"]["Layers"]]
        access = ACCESS[spec.key]
        assert layers == [common, *([solver] if access.solver else []), *([notice] if access.notice else [])]
        totals[spec.key] = size[asset] + sum(size[d] for d in layers)
    assert all(total < 250 * 1024 * 1024 for total in totals.values()), totals


def test_gate_advance_may_move_only_this_seasons_deadline_schedules_and_pass_only_their_role(
    synth, raw, config
):
    statements = _statements(synth, "gate-advance")
    moved = resources_for(statements, "scheduler:UpdateSchedule")
    # one ARN per phase's deadline schedule, in this season's group (format_arn: the name ends the join)
    tails = sorted(arn["Fn::Join"][1][-1] for arn in moved)
    assert len(phases(config)) == 8
    assert tails == sorted(
        f":schedule/{schedule_group_name(config.name)}/{schedule_name(p)}" for p in phases(config)
    )
    assert resources_for(statements, "scheduler:GetSchedule") == moved
    assert resources_for(statements, "iam:PassRole") == [getatt(ref(synth.stack.schedules.role))]


def test_staff_directory_is_in_the_code_asset(app_synth):
    # verify-api reads STAFF_DIRECTORY from its code asset: the file must ship with it
    assert app_synth.returncode == 0, app_synth.output[-3000:]
    template = app_synth.template()
    fn_id = function_by_name(template, function_name("jilin-2023", "verify-api"))
    props = template["Resources"][fn_id]["Properties"]
    path = props["Environment"]["Variables"]["STAFF_DIRECTORY"]
    assert path == "seasons/jilin-2023.staff.yaml"
    asset = app_synth.outdir / f"asset.{props['Code']['S3Key'].removesuffix('.zip')}"
    assert (asset / path).is_file()


def test_the_report_reads_the_archive_and_puts_only_its_page_beside_it(synth):
    # the season report (WriteSeasonReport) reads the sealed archive and the table, and puts only
    # under reports/ (reports/{season}/report.html): never into the sealed seasons/ prefix
    statements = _statements(synth, "report")
    archive = getatt(ref(synth.stack.archive.bucket))
    assert {a for a in allowed_actions(statements) if a.startswith("s3:")} == S3_READ | S3_PUT
    for action in S3_PUT:
        assert resources_for(statements, action) == [{"Fn::Join": ["", [archive, "/reports/*"]]}], action
    assert not any(
        a.startswith(("dynamodb:Put", "dynamodb:Update", "dynamodb:Delete"))
        for a in allowed_actions(statements)
    )
