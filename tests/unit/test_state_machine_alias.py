"""The season is started through the state machine's `live` alias (docs/RUNBOOK.md, "Redeploying
mid-season"): the commands read the alias from the stack's outputs, and an execution started through
it is still named after the state machine alone."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from enrollment.adapters.sfn import execution_arn
from enrollment.adapters.stack import stack_outputs

MACHINE = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:enrollment-test-2031-season"
EXECUTION = "arn:aws-cn:states:cn-north-1:123456789012:execution:enrollment-test-2031-season:season-2031"


@pytest.mark.parametrize("arn", [MACHINE, f"{MACHINE}:live", f"{MACHINE}:7"])
def test_an_execution_is_named_after_the_state_machine_whichever_arn_started_it(arn: str) -> None:
    assert execution_arn(arn, "season-2031") == EXECUTION


def test_not_a_state_machine_arn_is_refused() -> None:
    with pytest.raises(ValueError, match="not a state machine ARN"):
        execution_arn("arn:aws-cn:lambda:cn-north-1:123456789012:function:x", "season-2031")


OUTPUTS = {
    "StateMachineArn": MACHINE,
    "TableName": "enrollment-test-2031",
    "ScheduleGroupName": "enrollment-test-2031",
    "SeasonConfig": "seasons/test-2031.yaml",
    "ConfigDigest": "0" * 64,
}


def _deployed(outputs: dict[str, str]) -> str:
    """A stack in moto's CloudFormation with these outputs, as infra/stack.py writes them."""
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    boto3.client("cloudformation", region_name="cn-north-1").create_stack(
        StackName="Enrollment-test-2031", TemplateBody=json.dumps(template)
    )
    return "Enrollment-test-2031"


@mock_aws
def test_the_commands_start_through_the_alias_a_stack_publishes() -> None:
    stack = _deployed({**OUTPUTS, "StateMachineAliasArn": f"{MACHINE}:live"})
    assert (
        stack_outputs(boto3.client("cloudformation", region_name="cn-north-1"), stack).state_machine_arn
        == f"{MACHINE}:live"
    )


@mock_aws
def test_a_stack_deployed_before_aliases_is_started_through_its_state_machine() -> None:
    stack = _deployed(OUTPUTS)
    assert (
        stack_outputs(boto3.client("cloudformation", region_name="cn-north-1"), stack).state_machine_arn
        == MACHINE
    )
