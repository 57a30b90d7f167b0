"""Step Functions: resuming a gate (task tokens); the season's execution, started and described."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from enrollment.adapters.clients import Client
from enrollment.core.launch import Execution, ExecutionExists
from enrollment.core.ports import TaskTokenGone

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class SfnTaskTokens:
    client: Client[SFNClient] = Client("stepfunctions")

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output, ensure_ascii=False))
        except ClientError as e:
            if e.response["Error"]["Code"] in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}:
                raise TaskTokenGone(e.response["Error"]["Code"]) from None
            raise


def execution_arn(state_machine_arn: str, name: str) -> str:
    """An execution's ARN from its state machine's and its name (Step Functions' own format).

    The state machine's ARN may be qualified by an alias or a version (`...:stateMachine:name:live`,
    the season's STATE_MACHINE_ARN since infra/workflow.py publishes one): an execution started
    through it is still named after the state machine alone (`...:execution:name:season-2023`).
    """
    prefix, _, qualified = state_machine_arn.partition(":stateMachine:")
    machine = qualified.split(":", 1)[0]
    if not machine:
        raise ValueError(f"not a state machine ARN: {state_machine_arn!r}")
    return f"{prefix}:execution:{machine}:{name}"


class SfnWorkflow:
    """`Workflow` (enrollment/core/launch.py): the season's state machine, its executions by name."""

    client: Client[SFNClient] = Client("stepfunctions")

    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        if not state_machine_arn:
            raise ValueError("no state machine ARN (STATE_MACHINE_ARN)")
        self._arn = state_machine_arn
        if client is not None:
            self.__dict__["client"] = client  # the caller's own (the CLI's session and region)

    @property
    def state_machine_arn(self) -> str:
        return self._arn

    def execution(self, name: str) -> Execution | None:
        try:
            d = self.client.describe_execution(executionArn=execution_arn(self._arn, name))
        except ClientError as e:
            if e.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise
        try:
            payload = json.loads(d.get("input") or "{}")
        except ValueError:
            payload = {}
        return Execution(
            arn=d["executionArn"],
            name=d.get("name", name),
            status=d["status"],
            started_at=d["startDate"],
            stopped_at=d.get("stopDate"),
            input=payload if isinstance(payload, dict) else {},
        )

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        try:
            answer = self.client.start_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(payload, ensure_ascii=False)
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == "ExecutionAlreadyExists":
                raise ExecutionExists(name) from None
            raise
        return answer["executionArn"]
