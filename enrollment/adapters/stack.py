"""A deployed season stack, read with CloudFormation's DescribeStacks: its outputs (infra/stack.py)
name the state machine (and its `live` alias, which starts the season), the table, the schedule
group and the deployed config and its digest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

# The outputs the season's commands read (infra/stack.py writes them)
REQUIRED = ("StateMachineArn", "TableName", "ScheduleGroupName", "SeasonConfig", "ConfigDigest")


class StackNotReadable(Exception):
    """The stack is not there, or lacks an output the commands need (an older deployment)."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class StackOutputs:
    stack: str
    state_machine_arn: str
    table_name: str
    schedule_group: str
    season_config: str  # the config's path in the code asset, e.g. seasons/jilin-2023.yaml
    config_digest: str


def stack_outputs(client: Any, stack: str) -> StackOutputs:
    """The stack's outputs (`client`: a CloudFormation client, no stubs installed for its types); StackNotReadable if the stack or one of `REQUIRED` is missing."""
    try:
        found = client.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ValidationError":  # CloudFormation's "does not exist"
            raise StackNotReadable(f"找不到堆栈 {stack}", f"no stack {stack!r}: {e}") from None
        raise
    if not found:
        raise StackNotReadable(f"找不到堆栈 {stack}", f"no stack {stack!r}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in found[0].get("Outputs", []) if "OutputKey" in o}
    missing = [k for k in REQUIRED if not outputs.get(k)]
    if missing:
        raise StackNotReadable(
            f"堆栈 {stack} 缺少输出 {'、'.join(missing)}：请用当前版本重新部署",
            f"stack {stack!r} has no output(s) {', '.join(missing)}: deploy it with this version",
        )
    return StackOutputs(
        stack=stack,
        # the `live` alias (a season started through it keeps its version, docs/RUNBOOK.md); a stack
        # deployed before versions were published has only the state machine's own ARN
        state_machine_arn=outputs.get("StateMachineAliasArn") or outputs["StateMachineArn"],
        table_name=outputs["TableName"],
        schedule_group=outputs["ScheduleGroupName"],
        season_config=outputs["SeasonConfig"],
        config_digest=outputs["ConfigDigest"],
    )
