"""Safe redeploys (issue 16): a mid-season deploy does not change the code a running execution calls.

Read from the synthesized templates (both partitions): every function publishes a version (kept
when replaced) behind a `live` alias; whatever invokes a function names the alias (API Gateway, the
authorizer, the schedules, the watch, gate-advance's asynchronous configuration) or, in the state
machine's definition, the published version, and never the bare function; the state machine
publishes a version per revision, behind a `live` alias that starts the season (docs/RUNBOOK.md,
"Redeploying mid-season").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from enrollment.core.resources import FUNCTIONS
from infra.functions import LIVE_ALIAS
from infra.nag import ref
from infra.schedules import ERASE_SCHEDULE, SEAL_CORRECTIONS_SCHEDULE
from tests.infra.helpers import as_list, getatt, live_alias, only, published_version, resources

pytestmark = pytest.mark.xdist_group("infra")

BOTH = ["synth", "cn"]  # the environment-agnostic stack (aws) and the cn-north-1 one (aws-cn)


@pytest.fixture(params=BOTH)
def stack(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


def _function_ids(stack: Any) -> dict[str, str]:
    return {spec.key: ref(stack.stack.functions[spec.key]) for spec in FUNCTIONS}


def _references(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every `Ref` / `Fn::GetAtt` in a template fragment, with where it is."""
    if isinstance(node, dict):
        if len(node) == 1 and ("Ref" in node or "Fn::GetAtt" in node):
            yield path, node
        else:
            for key, value in node.items():
                yield from _references(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _references(value, f"{path}/{i}")


def test_every_function_publishes_a_retained_version_behind_a_live_alias(stack):
    raw = stack.raw
    for key, function_id in _function_ids(stack).items():
        version_id = published_version(raw, function_id)
        version = raw["Resources"][version_id]
        # a replaced version stays: a running execution's state machine version still names it
        assert version["DeletionPolicy"] == "Retain", key
        assert version["UpdateReplacePolicy"] == "Retain", key
        alias = raw["Resources"][live_alias(raw, function_id)]["Properties"]
        assert alias["Name"] == LIVE_ALIAS
        assert alias["FunctionVersion"] == getatt(version_id, "Version"), key
    assert len(resources(raw, "AWS::Lambda::Alias")) == len(FUNCTIONS)
    assert len(resources(raw, "AWS::Lambda::Version")) == len(FUNCTIONS)


def test_a_version_changes_with_what_the_function_runs(synth, cn):
    # the version's logical id carries a hash of the function's properties (code, environment,
    # layers, tracing): the two stacks differ in tracing and environment, so do their versions
    for spec in FUNCTIONS:
        ids = {published_version(s.raw, ref(s.stack.functions[spec.key])) for s in (synth, cn)}
        assert len(ids) == 2, spec.key


def test_the_definition_names_published_versions_never_a_bare_function(stack):
    raw = stack.raw
    ids = _function_ids(stack)
    _, sm = only(raw, "AWS::StepFunctions::StateMachine")
    subs = sm["Properties"]["DefinitionSubstitutions"]
    named = 0
    for spec in FUNCTIONS:
        if spec.asl_placeholder in subs:
            assert subs[spec.asl_placeholder] == {"Ref": published_version(raw, ids[spec.key])}, spec.key
            named += 1
    assert named > 10  # the workflow's tasks
    functions = set(ids.values())
    for where, reference in _references(subs):
        target = reference.get("Ref") or reference["Fn::GetAtt"][0]
        assert target not in functions, where


def test_api_integrations_and_the_authorizer_invoke_live_aliases(stack):
    raw = stack.raw
    ids = _function_ids(stack)
    aliases = {live_alias(raw, function_id) for function_id in ids.values()}
    uris = [
        m["Properties"]["Integration"]["Uri"]
        for m in resources(raw, "AWS::ApiGateway::Method").values()
        if m["Properties"].get("Integration", {}).get("Type") == "AWS_PROXY"
    ]
    [authorizer] = resources(raw, "AWS::ApiGateway::Authorizer").values()
    uris.append(authorizer["Properties"]["AuthorizerUri"])
    assert len(uris) > 20
    for uri in uris:
        refs = {r["Ref"] for _, r in _references(uri) if "Ref" in r and not r["Ref"].startswith("AWS::")}
        assert len(refs) == 1 and refs <= aliases, uri
    # and API Gateway (and the watch's rule) may invoke the alias only, not the function
    for permission in resources(raw, "AWS::Lambda::Permission").values():
        target = permission["Properties"]["FunctionName"]
        assert "Ref" in target and target["Ref"] in aliases, target


def test_the_schedules_the_watch_and_the_on_failure_destination_use_the_live_alias(stack):
    raw = stack.raw
    ids = _function_ids(stack)
    gate_advance = live_alias(raw, ids["gate-advance"])
    # the deadline schedules are put by a custom resource (infra/schedules.py), with this target
    [deadlines] = resources(raw, "Custom::DeadlineSchedules").values()
    assert deadlines["Properties"]["TargetArn"] == {"Ref": gate_advance}
    # the one CloudFormation schedule left: the daily erasure (docs/RETENTION.md), its own function's
    # and the daily corrections' seal (issue 18), the seal function's
    by_name = {s["Properties"]["Name"]: s for s in resources(raw, "AWS::Scheduler::Schedule").values()}
    assert sorted(by_name) == sorted([ERASE_SCHEDULE, SEAL_CORRECTIONS_SCHEDULE])
    erase = by_name[ERASE_SCHEDULE]
    assert erase["Properties"]["Target"]["Arn"] == {"Ref": live_alias(raw, ids["erase"])}
    seal = by_name[SEAL_CORRECTIONS_SCHEDULE]
    assert seal["Properties"]["Target"]["Arn"] == {"Ref": live_alias(raw, ids["seal"])}
    targets = [
        t["Arn"] for r in resources(raw, "AWS::Events::Rule").values() for t in r["Properties"]["Targets"]
    ]
    assert sorted(targets, key=str) == sorted(
        [{"Ref": live_alias(raw, ids["watch"])}, {"Ref": live_alias(raw, ids["notify-batch"])}], key=str
    )
    [invoke] = resources(raw, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke["Properties"]["FunctionName"] == {"Ref": ids["gate-advance"]}
    assert invoke["Properties"]["Qualifier"] == LIVE_ALIAS


def test_no_invocation_path_names_a_bare_function(stack):
    """A function's own ARN appears only in IAM policies (as its versions, `ARN:*`) and in what
    belongs to the function (its versions, alias, log subscription...): nothing invokes it bare."""
    raw = stack.raw
    functions = set(_function_ids(stack).values())
    owned = {"AWS::Lambda::Version", "AWS::Lambda::Alias", "AWS::Lambda::EventInvokeConfig"}
    for logical_id, resource in raw["Resources"].items():
        if resource["Type"] in owned or resource["Type"] == "AWS::IAM::Policy":
            continue
        for where, reference in _references(resource.get("Properties", {})):
            if "Fn::GetAtt" in reference and reference["Fn::GetAtt"][0] in functions:
                raise AssertionError(f"{logical_id}{where}: {reference} (a bare function's ARN)")
    for policy in resources(raw, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "lambda:InvokeFunction" not in json.dumps(statement["Action"]):
                continue
            for resource in as_list(statement["Resource"]):
                assert resource not in [getatt(f) for f in functions], resource


def test_the_state_machine_publishes_a_version_behind_a_live_alias(stack):
    raw = stack.raw
    sm_id, _ = only(raw, "AWS::StepFunctions::StateMachine")
    version_id, version = only(raw, "AWS::StepFunctions::StateMachineVersion")
    assert version["Properties"]["StateMachineArn"] == {"Ref": sm_id}
    # a new revision (definition, role, logging) replaces it: a new version per deploy that changes one
    assert version["Properties"]["StateMachineRevisionId"] == getatt(sm_id, "StateMachineRevisionId")
    assert version["DeletionPolicy"] == "Retain" and version["UpdateReplacePolicy"] == "Retain"
    alias_id, alias = only(raw, "AWS::StepFunctions::StateMachineAlias")
    assert alias["Properties"]["Name"] == LIVE_ALIAS
    assert alias["Properties"]["RoutingConfiguration"] == [
        {"StateMachineVersionArn": getatt(version_id), "Weight": 100}
    ]
    outputs = raw["Outputs"]
    assert outputs["StateMachineAliasArn"]["Value"] == {"Ref": alias_id}
    assert outputs["StateMachineArn"]["Value"] == {"Ref": sm_id}


def test_what_starts_the_season_names_the_state_machine_alias(stack):
    raw = stack.raw
    alias_arn = stack.stack.resolve(stack.stack.workflow.alias_arn)
    assert json.dumps(alias_arn).endswith(':live"]]}')
    for spec, fn in stack.stack.functions:
        variables = raw["Resources"][ref(fn)]["Properties"]["Environment"]["Variables"]
        if "STATE_MACHINE_ARN" in variables:
            assert variables["STATE_MACHINE_ARN"] == alias_arn, spec.key
