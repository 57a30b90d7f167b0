"""The season workflow: one STANDARD state machine from statemachines/season.asl.json.

The same file runs locally in moto; here its `${Placeholders}` become CloudFormation
DefinitionSubstitutions. Every placeholder in the file must have a value, and only those are passed.

The definition's Distributed Map (VerifyRegistrations) reads its items from the work bucket and runs
each batch as a child execution of this same state machine, so the role may read the work bucket's
objects, start executions of this state machine, and describe/stop its executions.

Safe redeploys (docs/RUNBOOK.md, "Redeploying mid-season"): each deploy publishes a state machine
version (StateMachineVersion, one per revision) and points the `live` alias at it; the season is
started through the alias, so its execution keeps the version it started with, whatever is deployed
later. The definition names each function's published Lambda version (`function:N`), not its alias:
an alias moves with every deploy, so a definition naming it would run new code in an old execution;
a version number is fixed, so a state machine version is one snapshot of the workflow and its code.
The Distributed Map's child executions run the parent's version (the ItemProcessor is inline).
"""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import ArnFormat, Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import (
    ASL_PARTITION,
    ASL_SEASON,
    ASL_TABLE_NAME,
    FUNCTIONS,
    STATE_MACHINE_FILE,
    state_machine_name,
)
from infra.functions import LIVE_ALIAS, Functions
from infra.nag import acknowledge, flatten, ref
from infra.storage import Storage
from infra.work import Work

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def placeholders(path: Path = STATE_MACHINE_FILE) -> set[str]:
    """The `${Name}` substitutions an ASL file expects."""
    return set(PLACEHOLDER.findall(path.read_text(encoding="utf-8")))


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        functions: Functions,
        storage: Storage,
        work: Work,
        definition_file: Path = STATE_MACHINE_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        name = state_machine_name(config.name)
        # its ARN from the known name, for grants that must not depend on the resource itself
        self.arn = Stack.of(self).format_arn(
            service="states",
            resource="stateMachine",
            resource_name=name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # the `live` alias's ARN, from the known name too: what starts the season (StateMachineAliasArn)
        self.alias_arn = f"{self.arn}:{LIVE_ALIAS}"
        wanted = placeholders(definition_file)
        available: dict[str, str] = {
            ASL_SEASON: config.season,
            ASL_PARTITION: Aws.PARTITION,
            ASL_TABLE_NAME: storage.table.table_name,
        }
        for spec, _ in functions:
            # the version this deploy published (`function:N`): fixed for the state machine version
            available[spec.asl_placeholder] = functions.version(spec.key).function_arn
        unknown = sorted(wanted - available.keys())
        if unknown:
            raise ValueError(f"{definition_file.name}: no value for placeholder(s) {unknown}")

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{name}",
            retention=logs.RetentionDays.SIX_MONTHS,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_file(str(definition_file)),
            definition_substitutions={key: available[key] for key in sorted(wanted)},
            # Execution data carries task tokens and per-school counts today, personal data tomorrow.
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            tracing_enabled=True,
        )
        # A definition from a file is opaque to CDK, so the role gets exactly the functions it names:
        # their versions (ARN:*), since the role is shared by every state machine version, and an
        # execution started before this deploy still calls the versions published before it.
        invoked = [functions[spec.key] for spec in FUNCTIONS if spec.asl_placeholder in wanted]
        if invoked:
            self.state_machine.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[f"{fn.function_arn}:*" for fn in invoked]
                )
            )
            for fn in invoked:
                acknowledge(
                    self.state_machine.role,
                    f"AwsSolutions-IAM5[Resource::<{ref(fn)}.Arn>:*]",
                    "The definition names this function's published versions (function:N); the role "
                    "serves every state machine version, so it may invoke any version of this one "
                    "function (an execution started before a deploy keeps the versions it started with).",
                )
        self._publish(name)
        self._allow_distributed_map(name, work)
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing "
            "support no resource-level permissions; CDK adds exactly those actions on '*'.",
        )

    def _publish(self, name: str) -> None:
        """A version of the state machine for this deploy's revision, and the `live` alias on it.

        A StateMachineVersion is replaced (a new version published) when the state machine's
        revision id changes, i.e. when the definition (the function versions in it), role or logging
        changes. Old versions are retained: a running execution keeps its own, and an operator may
        point the alias back at one (docs/RUNBOOK.md). Step Functions keeps up to 1000 versions.
        """
        cfn = self.state_machine.node.default_child
        if not isinstance(cfn, sfn.CfnStateMachine):
            raise TypeError(f"{self.state_machine.node.path} has no AWS::StepFunctions::StateMachine")
        self.version = sfn.CfnStateMachineVersion(
            self,
            "Version",
            state_machine_arn=self.state_machine.state_machine_arn,
            state_machine_revision_id=cfn.attr_state_machine_revision_id,
            description=f"{name}: published by a deploy",
        )
        self.version.apply_removal_policy(RemovalPolicy.RETAIN)
        self.alias = sfn.CfnStateMachineAlias(
            self,
            "Alias",
            name=LIVE_ALIAS,
            description=f"{name}: the version a season is started with (moved by each deploy)",
            routing_configuration=[
                sfn.CfnStateMachineAlias.RoutingConfigurationVersionProperty(
                    state_machine_version_arn=self.version.attr_arn, weight=100
                )
            ],
        )

    def _allow_distributed_map(self, name: str, work: Work) -> None:
        """ItemReader (s3:getObject) on the work bucket; child executions of this state machine.

        The ARNs are built from the known name, not from the state machine (whose role policy would
        then reference it while it depends on that policy: a circular dependency).
        """
        stack = Stack.of(self)
        role = self.state_machine.role
        itself = self.arn
        executions = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{name}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        work.bucket.grant_read(role)
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[itself])
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions]
            )
        )
        bucket = ref(work.bucket)
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{flatten(self, executions)}]",
            "The Distributed Map describes and stops the child executions it starts; their ARNs are "
            "made at run time, so the statement names this state machine's executions (execution:"
            f"{name}:*), as the Step Functions documentation prescribes, and no other state machine.",
        )
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/*]",
            "The ItemReader reads the batches file whose key verify-prepare returns at run time; the "
            "grant covers the objects of the work bucket only, which holds nothing but workflow files.",
        )
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*"):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Action::{action}]",
                "grant_read on the work bucket (read-only actions, scoped to that bucket and its "
                "objects); the Distributed Map's ItemReader uses s3:GetObject.",
            )
