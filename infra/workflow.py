"""The season workflow: one STANDARD state machine from statemachines/season.asl.json.

The same file runs locally in moto; here its `${Placeholders}` become CloudFormation
DefinitionSubstitutions. Every placeholder in the file must have a value, and only those are passed.
"""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from enrollment.config import SeasonConfig
from enrollment.resources import (
    ASL_PARTITION,
    ASL_SEASON,
    ASL_TABLE_NAME,
    FUNCTIONS,
    STATE_MACHINE_FILE,
    state_machine_name,
)
from infra.functions import Functions
from infra.nag import acknowledge
from infra.storage import Storage

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
        definition_file: Path = STATE_MACHINE_FILE,
    ) -> None:
        super().__init__(scope, construct_id)
        name = state_machine_name(config.name)
        wanted = placeholders(definition_file)
        available: dict[str, str] = {
            ASL_SEASON: config.season,
            ASL_PARTITION: Aws.PARTITION,
            ASL_TABLE_NAME: storage.table.table_name,
        }
        for spec, fn in functions:
            available[spec.asl_placeholder] = fn.function_arn
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
        # A definition from a file is opaque to CDK, so the role gets exactly the functions it names.
        invoked = [functions[spec.key] for spec in FUNCTIONS if spec.asl_placeholder in wanted]
        if invoked:
            self.state_machine.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"], resources=[fn.function_arn for fn in invoked]
                )
            )
        acknowledge(
            self.state_machine.role,
            "AwsSolutions-IAM5[Resource::*]",
            "Step Functions log delivery (logs:CreateLogDelivery and friends) and X-Ray tracing "
            "support no resource-level permissions; CDK adds exactly those actions on '*'.",
        )
