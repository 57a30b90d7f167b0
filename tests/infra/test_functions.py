"""One factory, one least-privilege role per function (STYLE.md: CDK)."""

from __future__ import annotations

from json import dumps
from typing import Any

import aws_cdk as cdk
import pytest

from enrollment.resources import FUNCTIONS, LAMBDA_RUNTIME, SERVICE, function_name
from infra.functions import ACCESS, Functions
from infra.nag import ref
from infra.storage import Storage
from tests.infra.conftest import Synth
from tests.infra.helpers import (
    DDB_READ,
    DDB_WRITE,
    KMS_TABLE,
    LOGS,
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

EXPECTED_ACTIONS = {
    "register": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY | {"kms:GenerateMac"},
    "gate-open": DDB_WRITE | KMS_TABLE | LOGS | XRAY,
    "gate-advance": DDB_READ
    | DDB_WRITE
    | KMS_TABLE
    | LOGS
    | XRAY
    | {"states:SendTaskSuccess", "states:SendTaskFailure"}
    | {"scheduler:GetSchedule", "scheduler:UpdateSchedule", "iam:PassRole"},  # window extensions
    "close-registration": DDB_READ | DDB_WRITE | KMS_TABLE | LOGS | XRAY,
}


def _statements(synth: Synth, key: str) -> list[dict[str, Any]]:
    return role_statements(synth.raw, function_role(synth.raw, ref(synth.stack.functions[key])))


def test_every_function_in_the_spec_list_is_built_the_same_way(synth, raw, config):
    assert set(EXPECTED_ACTIONS) == {spec.key for spec in FUNCTIONS} == set(ACCESS)
    assert len(resources(raw, "AWS::Lambda::Function")) == len(FUNCTIONS)
    layer = ref(synth.stack.functions.layer)
    for spec in FUNCTIONS:
        fn_id = function_by_name(raw, function_name(config.name, spec.key))
        props = raw["Resources"][fn_id]["Properties"]
        assert props["Runtime"] == LAMBDA_RUNTIME == "python3.12"
        assert props["Handler"] == spec.handler
        assert props["MemorySize"] == spec.memory_mb
        assert props["Timeout"] == spec.timeout_s
        assert props["Architectures"] == ["x86_64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Layers"] == [{"Ref": layer}]
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


def test_environment_carries_only_what_each_function_uses(synth, raw):
    def env(key: str) -> dict[str, Any]:
        variables: dict[str, Any] = raw["Resources"][ref(synth.stack.functions[key])]["Properties"][
            "Environment"
        ]["Variables"]
        return variables

    assert env("register")["IDEMPOTENCY_TABLE_NAME"] == {"Ref": ref(synth.stack.storage.idempotency_table)}
    assert env("register")["CHILD_KEY_ID"] == {"Ref": ref(synth.stack.storage.child_key)}
    assert env("gate-advance")["STATE_MACHINE_ARN"] == {"Ref": ref(synth.stack.workflow.state_machine)}
    optional = {"IDEMPOTENCY_TABLE_NAME", "CHILD_KEY_ID", "STATE_MACHINE_ARN", "SCHEDULE_GROUP"}
    assert optional & set(env("register")) == {"IDEMPOTENCY_TABLE_NAME", "CHILD_KEY_ID"}
    assert optional & set(env("gate-advance")) == {"STATE_MACHINE_ARN", "SCHEDULE_GROUP"}
    assert optional & set(env("gate-open")) == set()
    assert optional & set(env("close-registration")) == set()


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
    actions = allowed_actions(_statements(synth, "register"))
    assert not any(a.startswith(("states:", "s3:", "lambda:", "iam:")) for a in actions)


def test_only_xray_is_granted_on_every_resource(synth):
    for key in EXPECTED_ACTIONS:
        for statement in _statements(synth, key):
            if "*" in as_list(statement["Resource"]):
                assert set(as_list(statement["Action"])) <= XRAY, (key, statement)


def test_table_actions_are_scoped_to_the_tables_and_index(synth):
    storage = synth.stack.storage
    table, idem = ref(storage.table), ref(storage.idempotency_table)
    allowed = {
        "register": [getatt(table), getatt(idem)],
        "gate-open": [getatt(table)],
        "gate-advance": [getatt(table)],
        "close-registration": [getatt(table)],
    }
    for key, tables in allowed.items():
        targets = resources_for(_statements(synth, key), "dynamodb:PutItem")
        plain = [t for t in targets if "Fn::GetAtt" in t]
        index = [t for t in targets if "Fn::Join" in t]
        assert sorted(map(str, plain)) == sorted(map(str, tables)), key
        assert index == [{"Fn::Join": ["", [getatt(table), "/index/*"]]}], key
        assert resources_for(_statements(synth, key), "kms:Encrypt") == [getatt(ref(storage.data_key))]


def test_gate_advance_resumes_only_this_state_machine(synth):
    statements = _statements(synth, "gate-advance")
    sm = {"Ref": ref(synth.stack.workflow.state_machine)}
    assert resources_for(statements, "states:SendTaskSuccess") == [sm]
    assert resources_for(statements, "states:SendTaskFailure") == [sm]


def test_missing_layer_is_a_clear_error(tmp_path, config):
    stack = cdk.Stack(cdk.App(), "LayerCheck")
    with pytest.raises(FileNotFoundError, match="run `make layer`"):
        Functions(
            stack,
            "Functions",
            config=config,
            storage=Storage(stack, "Storage", config=config),
            layer_dir=tmp_path,
        )


def test_code_asset_holds_only_runtime_code(app_synth):
    # Given the app synthesized for jilin-2023, the asset all functions share
    assert app_synth.returncode == 0, app_synth.output[-3000:]
    template = app_synth.template()
    keys = {fn["Properties"]["Code"]["S3Key"] for fn in resources(template, "AWS::Lambda::Function").values()}
    [key] = keys
    asset = app_synth.outdir / f"asset.{key.removesuffix('.zip')}"
    files = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    assert {f.split("/")[0] for f in files} == {"enrollment", "functions", "seasons"}
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert "seasons/jilin-2023.yaml" in files
    for spec in FUNCTIONS:  # every handler module is in the asset
        module = spec.handler.rsplit(".", 1)[0]
        assert module.replace(".", "/") + ".py" in files, spec.handler
    # and the dependency layer is the pip-built folder, python/ only
    [layer] = resources(template, "AWS::Lambda::LayerVersion").values()
    layer_dir = app_synth.outdir / f"asset.{layer['Properties']['Content']['S3Key'].removesuffix('.zip')}"
    assert {p.name for p in layer_dir.iterdir()} == {"python"}
    assert (layer_dir / "python" / "aws_lambda_powertools").is_dir()


def test_gate_advance_may_move_only_this_seasons_deadline_schedules_and_pass_only_their_role(synth, raw):
    statements = _statements(synth, "gate-advance")
    moved = resources_for(statements, "scheduler:UpdateSchedule")
    names = sorted(dumps(r) for r in moved)
    assert len(names) == 2
    assert all("schedule/enrollment-" in n and "/deadline-grade" in n for n in names)
    assert resources_for(statements, "iam:PassRole") == [getatt(ref(synth.stack.schedules.role))]
