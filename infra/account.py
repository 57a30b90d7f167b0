"""What is set once per account and region, not per season: API Gateway's CloudWatch Logs role.

API Gateway writes a stage's access and execution logs through one account-level role
(AWS::ApiGateway::Account). A season stack that set it would take it over for every API in the
account and region, and a second season would fight over it; so it lives here, deployed once:

    node_modules/.bin/cdk deploy -c account_setup=true Enrollment-account
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.nag import acknowledge

ACCOUNT_STACK = "Enrollment-account"
PUSH_TO_LOGS = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


class AccountStack(Stack):
    def __init__(self, scope: Construct, construct_id: str = ACCOUNT_STACK, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description="Enrollment: account-level settings (API Gateway logging role), deployed once",
            **kwargs,
        )
        role = iam.Role(
            self,
            "ApiGatewayLogsRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(PUSH_TO_LOGS)],
        )
        role.apply_removal_policy(RemovalPolicy.RETAIN)  # season stages keep logging if this goes
        account = apigw.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge(
            role,
            f"AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{PUSH_TO_LOGS}]",
            "API Gateway's account-level logging role; this AWS-managed policy is the documented one. "
            "It allows CloudWatch Logs actions only (create groups and streams, put, describe, get and "
            "filter events) on any log group, and only API Gateway assumes the role.",
        )
        CfnOutput(self, "ApiGatewayLogsRoleArn", value=role.role_arn)
