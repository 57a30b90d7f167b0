"""Alarms into one KMS-encrypted SNS topic: workflow failures, function errors, missed deadlines, 5XX."""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from enrollment.core.config import SeasonConfig
from infra.baseline import customer_key

PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        state_machine: sfn.StateMachine,
        functions: Iterable[tuple[str, lambda_.IFunction]],
        dead_letters: sqs.IQueue,
        rest_api: apigw.RestApi,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = customer_key(self, "TopicKey", config, "alarm topic")
        # CloudWatch publishes alarms into the encrypted topic with this key.
        self.key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.topic = sns.Topic(
            self,
            "Alarms",
            display_name=f"Enrollment {config.name} alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        self._alarm(
            "WorkflowFailed",
            state_machine.metric_failed(period=PERIOD),
            "The season workflow failed: a phase did not complete.",
        )
        self._alarm(
            "WorkflowTimedOut",
            state_machine.metric_timed_out(period=PERIOD),
            "The season workflow timed out: a gate was not resumed in time.",
        )
        for key, fn in functions:
            self._alarm(f"{key}-errors", fn.metric_errors(period=PERIOD), f"Function {key} raised errors.")
        self._alarm(
            "DeadlineDeadLetters",
            dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            "A phase deadline could not resume its gate: advance it by hand (admin API).",
        )
        self._alarm(
            "Api5xx",
            rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            "The registration API answered with server errors.",
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.Metric, description: str) -> None:
        alarm = metric.create_alarm(
            self,
            construct_id,
            alarm_description=description,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
