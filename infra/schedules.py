"""Phase deadlines: one one-time EventBridge schedule per gate, resuming it at the published time;
and the season watch, every 15 minutes.

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

from aws_cdk import Duration, RemovalPolicy, Stack, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.phases import phases, schedule_expression, schedule_input, schedule_name
from enrollment.core.resources import schedule_group_name
from infra.nag import acknowledge

RETRY_ATTEMPTS = 48
MAX_EVENT_AGE = Duration.hours(12)
# gate-advance invoked asynchronously: Lambda's own retries (the most it allows), then the DLQ
ADVANCE_RETRY_ATTEMPTS = 2
ADVANCE_MAX_EVENT_AGE = Duration.hours(6)
WATCH_EVERY = Duration.minutes(15)


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        gate_advance: lambda_.Alias,
        watch: lambda_.IFunction,
    ) -> None:
        """`gate_advance` and `watch`: the functions' `live` aliases (infra/functions.py), which is
        what the schedules, the watch rule and gate-advance's on-failure destination name."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
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
        # the season watch: a season not started by its notice date, gates overdue (metrics, alarms)
        self.watch_rule = events.Rule(
            self,
            "Watch",
            description=f"Enrollment {config.name}: watch the season's start and deadlines",
            schedule=events.Schedule.rate(WATCH_EVERY),
            targets=[
                events_targets.LambdaFunction(
                    watch,
                    event=events.RuleTargetInput.from_object({"season": config.season}),
                    retry_attempts=2,
                )
            ],
        )
        # One role for all deadlines: invoke gate-advance (and deliver to the DLQ), nothing else.
        self.role = iam.Role(
            self,
            "InvokeRole",
            description=f"EventBridge Scheduler: resume enrollment {config.name} gates at their deadlines",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "aws:SourceArn": self.group.schedule_group_arn,
                    }
                },
            ),
        )
        self.group_name = schedule_group_name(config.name)
        self.schedule_names = [schedule_name(p) for p in phases(config)]
        self.schedules: dict[str, scheduler.Schedule] = {}
        for phase in phases(config):
            self.schedules[phase.name] = scheduler.Schedule(
                self,
                phase.name,
                schedule_name=schedule_name(phase),
                schedule_group=self.group,
                description=f"{phase.title_zh}: deadline, resume the {phase.name} gate",
                schedule=scheduler.ScheduleExpression.expression(
                    schedule_expression(phase), TimeZone.of(config.timezone)
                ),
                target=targets.LambdaInvoke(
                    gate_advance,
                    input=scheduler.ScheduleTargetInput.from_object(schedule_input(config.season, phase)),
                    role=self.role,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                ),
            )

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
