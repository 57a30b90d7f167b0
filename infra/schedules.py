"""Phase deadlines: one one-time EventBridge schedule per gate, resuming it at its deadline; the
season watch and the SMS receipts (functions/sms/receipts.py), every 15 minutes; and the erasure of
the season's personal data, daily.

The deadline schedules are not CloudFormation resources: a deploy would put each back at the
config's time, undoing a staff window extension (enrollment/registration/windows.py). A custom
resource owns them instead: at every deploy that changes the config, the target or the retry
policy, the `deadlines` function (functions/deadlines/handler.py) puts each gate's schedule at its
stored deadline, extensions included, and removes an advanced gate's (enrollment/core/deadlines.py).
The group, the invoke role, the DLQ and the retry policy stay here; the target ARN is a parameter.

A deadline is delivered or shouted about: a schedule that cannot invoke gate-advance (after its
retry policy) drops the event into the dead-letter queue; a gate-advance invocation that raises
(after Lambda's own asynchronous retries) goes to the same queue through its on-failure
destination; both raise the DeadlineDeadLetters alarm. A gate still open an hour after its
deadline, whatever the cause, raises GatesOverdue (the watch, enrollment/core/watch.py).

`at(...)` is the deadline's wall-clock time in the season's timezone, with that timezone set on
the schedule, exactly as the calendar publishes it (e.g. registration ends 2023-05-30T00:00:00
Asia/Shanghai). `ScheduleExpression.at()` is not used: it renders the instant in UTC.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from aws_cdk import custom_resources as cr
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.deadlines import MAX_EVENT_AGE_S, RETRY_ATTEMPTS
from enrollment.core.launch import config_digest
from enrollment.core.phases import phases, schedule_expression, schedule_name
from enrollment.core.resources import (
    SEAL_CORRECTIONS_AT,
    SEAL_CORRECTIONS_SCHEDULE,
    schedule_group_name,
    seal_corrections_event,
)
from infra.functions import NO_RESERVED_CONCURRENCY, NO_VPC
from infra.nag import acknowledge, checkov_skip

ERASE_SCHEDULE = "erase-personal-data"
ERASE_MAX_EVENT_AGE = Duration.seconds(MAX_EVENT_AGE_S)  # as the deadlines'
# gate-advance invoked asynchronously: Lambda's own retries (the most it allows), then the DLQ
ADVANCE_RETRY_ATTEMPTS = 2
ADVANCE_MAX_EVENT_AGE = Duration.hours(6)
WATCH_EVERY = Duration.minutes(15)
# the erasure (docs/RETENTION.md): every day at this time of the season's timezone, a quiet hour. It
# refuses before the retention date (the schedule has no start date: CreateSchedule refuses one in
# the past, so a redeploy after that date would fail); a run cut short goes on the next day.
ERASE_AT = {"hour": "2", "minute": "30"}
ERASE_RETRY_ATTEMPTS = 2
# the corrections' seal (issue 18): daily at SEAL_CORRECTIONS_AT of the season's timezone, a quiet
# hour (enrollment/core/resources.py: the local runtime fires the same schedule)
SYNC_LOG_RETENTION = logs.RetentionDays.SIX_MONTHS  # as the functions' (infra/functions.py)


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        gate_advance: lambda_.Alias,
        target_arn: str,
        sync: lambda_.Alias,
        watch: lambda_.IFunction,
        erase: lambda_.IFunction,
        sms_receipts: lambda_.IFunction | None = None,
        seal: lambda_.IFunction | None = None,
        resync: str = "",
    ) -> None:
        """`gate_advance`, `watch` and `erase`: the functions' `live` aliases (infra/functions.py),
        which is what the watch rule, the erasure's schedule and gate-advance's on-failure destination
        name, and the schedules' role may invoke; `target_arn`: what the deadline schedules invoke
        (gate-advance's alias ARN); `sync`: the `deadlines` function's alias, which puts the
        schedules; `resync`: a token (`-c deadlines_resync`) that, when new, runs the sync at a deploy
        that changes nothing else of the schedules."""
        super().__init__(scope, construct_id)
        self.group = scheduler.ScheduleGroup(
            self,
            "Group",
            schedule_group_name=schedule_group_name(config.name),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Deadline invocations that still fail after the retry policy land here (and raise an alarm):
        # those the scheduler could not deliver, and those gate-advance received but failed.
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the deadline schedules; it has no DLQ.",
        )
        checkov_skip(
            self.dead_letters,
            "CKV_AWS_27",
            "Encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which this check does not know: it "
            "asks for KmsMasterKeyId. The messages are deadline inputs (season, phase) and failure "
            "records of gate-advance, no personal data.",
        )
        # gate-advance's asynchronous invocations (the schedules'): a failure is kept, not dropped.
        # Lambda applies the configuration of the qualifier invoked: the alias's, not $LATEST's.
        self.advance_failures = lambda_.EventInvokeConfig(
            self,
            "AdvanceFailures",
            function=gate_advance.version.lambda_,
            qualifier=gate_advance.alias_name,
            on_failure=destinations.SqsDestination(self.dead_letters),
            retry_attempts=ADVANCE_RETRY_ATTEMPTS,
            max_event_age=ADVANCE_MAX_EVENT_AGE,
        )
        checkov_skip(
            gate_advance.version.lambda_,
            "CKV_AWS_116",
            "Its asynchronous invocations (the deadline schedules, through the live alias) go, once "
            "Lambda's retries fail, to the DeadLetters queue through the alias's on-failure destination "
            "(EventInvokeConfig), which this check does not read; the staff routes invoke it synchronously.",
        )
        checkov_skip(
            watch.version.lambda_ if isinstance(watch, lambda_.Alias) else watch,
            "CKV_AWS_116",
            "The watch runs every 15 minutes (EventBridge, Lambda's retries); a failed run raises its "
            "Errors alarm and the next run checks the same gates and start again, so a lost event "
            "loses nothing a dead-letter queue would keep.",
        )
        self._quarter_hourly: events.Rule | None = None  # one rule, a target a job
        self._quarter_hourly_jobs: list[str] = []
        # the season watch: a season not started by its notice date, gates overdue (metrics, alarms)
        self.watch_rule = self._every_quarter_hour(
            "Watch",
            f"Enrollment {config.name}: watch the season's start and deadlines",
            watch,
            {"season": config.season},
        )
        if sms_receipts is not None:
            self._poll_receipts(config, sms_receipts)
        # One role for all deadlines: invoke gate-advance (and deliver to the DLQ), nothing else.
        self.role = self._scheduler_role(
            "InvokeRole", f"EventBridge Scheduler: resume enrollment {config.name} gates at their deadlines"
        )
        # The daily schedules' role: invoke the erase function and the seal (the corrections), nothing else.
        self.erase_role = self._scheduler_role(
            "EraseRole",
            f"EventBridge Scheduler: erase enrollment {config.name}'s personal data when due, seal its corrections",
        )
        self.erase = scheduler.Schedule(
            self,
            "Erase",
            schedule_name=ERASE_SCHEDULE,
            schedule_group=self.group,
            description=f"个人信息保存期满后删除（{config.retention.erase_on(config.calendar)}起），每日一次",
            schedule=scheduler.ScheduleExpression.cron(**ERASE_AT, time_zone=TimeZone.of(config.timezone)),
            target=targets.LambdaInvoke(
                erase,
                input=scheduler.ScheduleTargetInput.from_object({"season": config.season}),
                role=self.erase_role,
                retry_attempts=ERASE_RETRY_ATTEMPTS,
                max_event_age=ERASE_MAX_EVENT_AGE,
            ),
        )
        if seal is not None:
            self._seal_corrections(config, seal)
        self.group_name = schedule_group_name(config.name)
        self.schedule_names = [schedule_name(p) for p in phases(config)]
        gate_advance.grant_invoke(self.role)
        # how the Scheduler delivers to the DLQ: with the schedule's role
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn])
        )
        self._allow_syncing(sync)
        # the Provider framework: CloudFormation's request, `sync` invoked, CloudFormation answered;
        # its own role writes its log group and invokes `sync` (the Provider's grant), nothing else
        provider_logs = logs.LogGroup(
            self, "SyncProviderLogs", retention=SYNC_LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        provider_role = iam.Role(
            self,
            "SyncProviderRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Enrollment {config.name}: the deadline schedules' custom resource provider",
        )
        provider_logs.grant_write(provider_role)
        self.provider = cr.Provider(
            self,
            "Sync",
            on_event_handler=sync,
            log_group=provider_logs,
            framework_on_event_role=provider_role,
        )
        framework = self.provider.node.find_child("framework-onEvent")
        checkov_skip(framework, "CKV_AWS_115", NO_RESERVED_CONCURRENCY)
        checkov_skip(framework, "CKV_AWS_117", NO_VPC)
        checkov_skip(
            framework,
            "CKV_AWS_173",
            "The CDK Provider framework's environment holds only the deadlines function's ARN "
            "(USER_ON_EVENT_FUNCTION_ARN); Lambda encrypts it at rest with its AWS managed key.",
        )
        checkov_skip(
            framework,
            "CKV_AWS_116",
            "Invoked by CloudFormation for the custom resource, which waits for its answer and fails the "
            "deploy (rolling back) if it errs: there is no asynchronous event to keep in a DLQ.",
        )
        self.deadlines = CustomResource(
            self,
            "Deadlines",
            service_token=self.provider.service_token,
            resource_type="Custom::DeadlineSchedules",
            properties={
                "Season": config.season,
                "GroupName": self.group.schedule_group_name,
                "TargetArn": target_arn,
                "RoleArn": self.role.role_arn,
                "DeadLetterArn": self.dead_letters.queue_arn,
                "MaximumRetryAttempts": RETRY_ATTEMPTS,
                "MaximumEventAgeInSeconds": MAX_EVENT_AGE_S,
                # what changes with the config, so that a deploy of a new config runs the sync; the
                # configured deadlines also show in `cdk diff` (the stored ones may be later)
                "ConfigDigest": config_digest(config),
                "Timezone": config.timezone,
                "ConfiguredDeadlines": {p.name: schedule_expression(p) for p in phases(config)},
                **({"Resync": resync} if resync else {}),
            },
        )
        # the schedules are put once their group exists and their role can be assumed with its policy
        self.deadlines.node.add_dependency(self.group, self.role)

    def _poll_receipts(self, config: SeasonConfig, fn: lambda_.IFunction) -> None:
        """The SMS receipts, every 15 minutes (a run with no open message reads one empty page), in
        notify-batch's function (`task: sms-receipts`, functions/notify/batch.py): it has the grants the
        poller needs (the table, the SMS provider), and a function of its own would cost a dozen of
        the stack's 500 resources."""
        checkov_skip(
            fn.version.lambda_ if isinstance(fn, lambda_.Alias) else fn,
            "CKV_AWS_116",
            "Invoked synchronously by the workflow's notice batches (Retry and Catch) and, for the SMS "
            "receipts, every 15 minutes by EventBridge (Lambda's retries); a failed receipts run raises "
            "its Errors alarm and the next run reads the same open messages and due retries, so a lost "
            "event loses nothing a dead-letter queue would keep.",
        )
        self.receipts_rule = self._every_quarter_hour(
            "SmsReceipts",
            f"Enrollment {config.name}: record SMS receipts, retry failed notice SMS",
            fn,
            {"season": config.season, "task": "sms-receipts"},
        )

    def _seal_corrections(self, config: SeasonConfig, fn: lambda_.IFunction) -> None:
        """The corrections after the results sealed daily as the next batch of the season's chain, in
        the seal function (`task: seal-corrections`, functions/archive/seal.py): it has the archive's
        write and the signing key, and a function of its own would cost a dozen of the stack's 500
        resources. A schedule beside the erasure's, with its role (an EventBridge rule would also need
        a Lambda permission: the stack is at its quota). A day with no pending correction writes nothing."""
        checkov_skip(
            fn.version.lambda_ if isinstance(fn, lambda_.Alias) else fn,
            "CKV_AWS_116",
            "Invoked synchronously by the workflow's seal task (Retry and Catch) and, for the corrections, "
            "daily by EventBridge Scheduler (its retries); a failed run raises its Errors alarm and the "
            "next day's run seals the same pending corrections, so a lost event loses nothing a "
            "dead-letter queue would keep.",
        )
        self.seal_corrections = scheduler.Schedule(
            self,
            "SealCorrections",
            schedule_name=SEAL_CORRECTIONS_SCHEDULE,
            schedule_group=self.group,
            description="结果公布后的更正每日签名封存",
            schedule=scheduler.ScheduleExpression.cron(
                **SEAL_CORRECTIONS_AT, time_zone=TimeZone.of(config.timezone)
            ),
            target=targets.LambdaInvoke(
                fn,
                input=scheduler.ScheduleTargetInput.from_object(seal_corrections_event(config.season)),
                role=self.erase_role,
                retry_attempts=ERASE_RETRY_ATTEMPTS,
                max_event_age=ERASE_MAX_EVENT_AGE,
            ),
        )

    def _every_quarter_hour(
        self, construct_id: str, description: str, target: lambda_.IFunction, event: dict[str, Any]
    ) -> events.Rule:
        """`target` invoked with `event` every WATCH_EVERY (Lambda retries twice), by one rule for all
        (the first call's `construct_id`): a rule has up to five targets, each with its own input, and
        a rule of each would cost one of the stack's 500 resources (the corrections' daily seal took
        the one this saves)."""
        invoke = events_targets.LambdaFunction(
            target, event=events.RuleTargetInput.from_object(event), retry_attempts=2
        )
        self._quarter_hourly_jobs.append(description)
        if self._quarter_hourly is None:
            self._quarter_hourly = events.Rule(
                self, construct_id, schedule=events.Schedule.rate(WATCH_EVERY), targets=[invoke]
            )
        else:
            self._quarter_hourly.add_target(invoke)
        rule = self._quarter_hourly.node.default_child
        assert isinstance(rule, events.CfnRule)
        rule.description = "; ".join(self._quarter_hourly_jobs)[:512]
        return self._quarter_hourly

    def _scheduler_role(self, construct_id: str, description: str) -> iam.Role:
        """A role only this season's schedule group may have EventBridge Scheduler assume."""
        return iam.Role(
            self,
            construct_id,
            description=description,
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": Stack.of(self).account,
                        "aws:SourceArn": self.group.schedule_group_arn,
                    }
                },
            ),
        )

    def _allow_syncing(self, fn: lambda_.Alias) -> None:
        """Let the `deadlines` function put, update and remove the gates' schedules in this group, and
        pass the invoke role to them; it reads the table through its own Access (infra/functions.py)."""
        stack = Stack.of(self)  # the group comes in the custom resource's properties, not the environment
        arns = [
            stack.format_arn(
                service="scheduler", resource="schedule", resource_name=f"{self.group_name}/{name}"
            )
            for name in self.schedule_names
        ]
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "scheduler:GetSchedule",
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                ],
                resources=arns,
            )
        )
        self.role.grant_pass_role(fn.grant_principal)

    def allow_moving(self, fn: lambda_.Function) -> None:
        """Let a function move the deadline schedules (window extensions, R-REG-1), and nothing else."""
        fn.add_environment("SCHEDULE_GROUP", self.group_name)
        # ARNs built from the names, not from the schedules (which depend on the function: a cycle)
        stack = Stack.of(self)
        arns = [
            stack.format_arn(
                service="scheduler", resource="schedule", resource_name=f"{self.group_name}/{name}"
            )
            for name in self.schedule_names
        ]
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["scheduler:GetSchedule", "scheduler:UpdateSchedule"], resources=arns)
        )
        # UpdateSchedule re-sends the target, whose role the caller must be allowed to pass.
        self.role.grant_pass_role(fn.grant_principal)
