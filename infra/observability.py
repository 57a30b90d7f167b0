"""Alarms with an owner, and one dashboard per season.

Every alarm goes to the season's KMS-encrypted topic and, when given, to an existing topic of the
operator's (`alarm_topic_arn`); the topic has an e-mail subscriber when `alarm_email` is given. One
of the two is required: a season whose alarms reach nobody is not synthesized.

Every alarm's description ends with its entry in docs/RUNBOOK.md (`RUNBOOK_PREFIX` + anchor): what the
operator sees and does. tests/infra/test_runbook.py fails on an alarm without an entry.

Metrics, as AWS publishes them:
- Lambda `Errors`, `Throttles`, `Duration` (Maximum, against 80 % of the function's timeout);
- DynamoDB `ThrottledRequests` per operation (TableName, Operation), summed per table;
- API Gateway `4XXError` and `Count` (a rate, once there is traffic), `5XXError`; 429 answers are
  counted from the access log by a metric filter (API Gateway publishes no 429 metric of its own);
- SNS, for SMS published to phone numbers: `NumberOfNotificationsFailed` with dimension
  PhoneNumber=PhoneNumberDirect, and the account's `SMSMonthToDateSpentUSD` (no dimension);
- Step Functions `ExecutionsFailed`, `ExecutionsTimedOut`; SQS `ApproximateNumberOfMessagesVisible`;
- the watch's `SeasonNotStarted` and `GatesOverdue` (enrollment/core/watch.py) and gate-open's
  `SeasonPaused` (enrollment/core/pauses.py), namespace Enrollment. Every metric the functions publish
  carries the dimensions `service` and `season` (enrollment/adapters/observability.py), and every
  alarm and graph on them names both: without `season` they would watch a metric nobody publishes,
  and two seasons in one account would count into each other's;
- the register function's `SmsCapReached` (functions/register/family.py), dimensions service, season
  and `cap`: the season's code SMS circuit open (cap global), and phones or clients past their caps;
- `SmsDeliveryFailed` (functions/sms/receipts.py, notify-batch, register), dimensions service, season
  and `purpose` (notice, code): each SMS the provider said failed (or refused when sent).
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.pauses import METRIC_PAUSED
from enrollment.core.resources import SEASON_DIMENSION, SERVICE, FunctionSpec
from enrollment.core.sms_caps import CAPS, CLIENT, GLOBAL, PHONE
from enrollment.core.sms_delivery import METRIC_FAILED as METRIC_SMS_FAILED
from enrollment.core.sms_delivery import NOTICE
from enrollment.core.watch import METRIC_NOT_STARTED, METRIC_OVERDUE
from infra.baseline import customer_key
from infra.context import DEFAULT_SMS_SPEND_ALARM_USD

PERIOD = Duration.minutes(5)
WATCH_PERIOD = Duration.minutes(15)  # the watch runs every 15 minutes (infra/schedules.py)
NAMESPACE = "Enrollment"  # Powertools Metrics (enrollment/adapters/observability.py)
RUNBOOK_PREFIX = "Runbook: docs/RUNBOOK.md#"
DURATION_SHARE = 0.8  # a function whose slowest run takes 80 % of its timeout is close to timing out
# Operations the season's tables serve (never a Scan: tests/unit/test_no_scans.py)
TABLE_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.BATCH_GET_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.DELETE_ITEM,
    dynamodb.Operation.BATCH_WRITE_ITEM,
    dynamodb.Operation.TRANSACT_WRITE_ITEMS,
)
API_4XX_RATE = 0.25  # a quarter of the answers refused, three periods running
API_4XX_MIN_REQUESTS = 100  # ...out of at least this many requests in the period
API_429_PER_PERIOD = 50  # callers throttled by the stage's rate limit
SMS_FAILURES_PER_PERIOD = 10
SMS_DIRECT = {"PhoneNumber": "PhoneNumberDirect"}  # SNS's dimension for SMS published to a number
SMS_CAP_METRIC = "SmsCapReached"
SMS_CAPS_PER_PERIOD = 20  # codes refused per phone or per client in 5 minutes: someone is flooding
# admission notice SMS whose receipt said failed (or refused when sent) in an hour: a wave, not a few
# phones switched off, points at the provider, the template or the sign (enrollment/core/sms_delivery.py)
SMS_UNDELIVERED_PER_HOUR = 50


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        state_machine: sfn.StateMachine,
        functions: Iterable[tuple[FunctionSpec, lambda_.IFunction]],
        tables: Iterable[dynamodb.Table],
        dead_letters: sqs.IQueue,
        rest_api: apigw.RestApi,
        access_logs: logs.ILogGroup,
        alarm_email: str | None = None,
        alarm_topic_arn: str | None = None,
        sms_spend_alarm_usd: float = DEFAULT_SMS_SPEND_ALARM_USD,
    ) -> None:
        super().__init__(scope, construct_id)
        if not alarm_email and not alarm_topic_arn:
            raise ValueError(
                f"season {config.name}: no alarm destination; give context alarm_email (an address to "
                "subscribe) or alarm_topic_arn (an existing SNS topic), e.g. -c alarm_email=ops@example.org"
            )
        self.config = config
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
        self.owner_topic = (
            sns.Topic.from_topic_arn(self, "OwnerTopic", alarm_topic_arn) if alarm_topic_arn else None
        )
        self.alarms: list[cloudwatch.Alarm] = []
        functions = list(functions)

        self._alarm(
            "WorkflowFailed",
            state_machine.metric_failed(period=PERIOD),
            "招生流程执行失败：某一阶段未能完成。",
            "workflow-failed",
        )
        self._alarm(
            "WorkflowTimedOut",
            state_machine.metric_timed_out(period=PERIOD),
            "招生流程执行超时。",
            "workflow-timed-out",
        )
        # The function alarms watch the function, not its `live` alias: Lambda's FunctionName
        # dimension counts every invocation of every version, so they also see a running execution
        # calling the versions an earlier deploy published (the alias's own Resource dimension would
        # see only what API Gateway and the schedules invoke, and the alias moves with each deploy).
        for spec, fn in functions:
            self._alarm(
                f"{spec.key}-errors",
                fn.metric_errors(period=PERIOD),
                f"函数 {spec.key} 出错。",
                "function-errors",
            )
            self._alarm(
                f"{spec.key}-throttles",
                fn.metric_throttles(period=PERIOD),
                f"函数 {spec.key} 被限流（并发不足）。",
                "function-throttles",
            )
            limit_ms = round(spec.timeout_s * 1000 * DURATION_SHARE)
            self._alarm(
                f"{spec.key}-duration",
                fn.metric_duration(period=PERIOD, statistic="Maximum"),
                f"函数 {spec.key} 最长运行时间超过超时时间的 80%（{limit_ms} 毫秒）。",
                "function-duration",
                threshold=limit_ms,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )
        for table in tables:
            name = table.node.id
            self._alarm(
                f"{name}-throttled",
                table.metric_throttled_requests_for_operations(
                    operations=list(TABLE_OPERATIONS), period=PERIOD, statistic="Sum"
                ),
                f"DynamoDB 表 {name} 的请求被限流。",
                "dynamodb-throttled",
            )
        self._alarm(
            "DeadlineDeadLetters",
            dead_letters.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            "阶段截止时间未能自动推进（已进入死信队列）。",
            "deadline-dead-letters",
        )
        self._alarm(
            "Api5xx",
            rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            "报名接口返回服务器错误（5XX）。",
            "api-5xx",
        )
        self.client_error_rate = cloudwatch.MathExpression(
            expression=f"IF(requests >= {API_4XX_MIN_REQUESTS}, refused / requests, 0)",
            using_metrics={
                "refused": rest_api.metric_client_error(period=PERIOD, statistic="Sum"),
                "requests": rest_api.metric_count(period=PERIOD, statistic="Sum"),
            },
            label="4XX rate",
            period=PERIOD,
        )
        self._alarm(
            "Api4xxRate",
            self.client_error_rate,
            f"报名接口拒绝的请求（4XX）超过 {API_4XX_RATE:.0%}，持续 15 分钟。",
            "api-4xx-rate",
            threshold=API_4XX_RATE,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            periods=3,
        )
        self.throttled_answers = logs.MetricFilter(
            self,
            "Api429Filter",
            log_group=access_logs,
            filter_pattern=logs.FilterPattern.string_value("$.status", "=", "429"),
            metric_namespace=NAMESPACE,
            metric_name=f"Api429-{config.name}",
            metric_value="1",
            default_value=0,
        )
        self._alarm(
            "Api429",
            self.throttled_answers.metric(period=PERIOD, statistic="Sum"),
            f"报名接口 5 分钟内限流（429）达 {API_429_PER_PERIOD} 次。",
            "api-429",
            threshold=API_429_PER_PERIOD,
        )
        self._alarm(
            "SmsFailures",
            _sms_metric("NumberOfNotificationsFailed", "Sum", SMS_DIRECT),
            f"短信 5 分钟内发送失败达 {SMS_FAILURES_PER_PERIOD} 条。",
            "sms-failures",
            threshold=SMS_FAILURES_PER_PERIOD,
        )
        self._alarm(
            "SmsSpend",
            _sms_metric("SMSMonthToDateSpentUSD", "Maximum", None),
            f"本月短信费用已达 {sms_spend_alarm_usd:g} 美元。",
            "sms-spend",
            threshold=sms_spend_alarm_usd,
        )
        self._alarm(
            "SmsCircuitOpen",
            self.sms_cap_metric(GLOBAL),
            "全市验证码短信已达每小时上限，验证码暂停发送（录取通知短信不受影响）。",
            "sms-circuit-open",
        )
        self._alarm(
            "SmsCapReached",
            cloudwatch.MathExpression(
                expression="FILL(phone, 0) + FILL(client, 0)",  # a cap with no refusals has no data
                using_metrics={"phone": self.sms_cap_metric(PHONE), "client": self.sms_cap_metric(CLIENT)},
                label="codes refused per phone or client",
                period=PERIOD,
            ),
            f"5 分钟内有 {SMS_CAPS_PER_PERIOD} 次验证码因同一手机号或同一来源超过上限未发送。",
            "sms-cap-reached",
            threshold=SMS_CAPS_PER_PERIOD,
        )
        self._alarm(
            "SmsNoticesUndelivered",
            self.custom_metric(METRIC_SMS_FAILED, Duration.hours(1), "Sum", purpose=NOTICE),
            f"一小时内录取通知短信未送达达 {SMS_UNDELIVERED_PER_HOUR} 条（逐条重发，仍未送达的列入各区电话联系名单）。",
            "sms-undelivered",
            threshold=SMS_UNDELIVERED_PER_HOUR,
        )
        self._alarm(
            "SeasonPaused",
            self.custom_metric(METRIC_PAUSED, PERIOD, "Sum"),
            "招生流程暂停：某一步骤重试后仍失败，等待市教育局排除故障后恢复。",
            "season-paused",
        )
        self._alarm(
            "SeasonNotStarted",
            self.watch_metric(METRIC_NOT_STARTED),
            "招生公告日已到，招生流程尚未启动。",
            "season-not-started",
        )
        self._alarm(
            "GatesOverdue",
            self.watch_metric(METRIC_OVERDUE),
            "有阶段在截止时间一小时后仍未推进。",
            "gates-overdue",
        )
        self.dashboard = self._dashboard(config, functions, rest_api)

    def custom_metric(
        self, name: str, period: Duration, statistic: str, label: str | None = None, **dimensions: str
    ) -> cloudwatch.Metric:
        """A metric the season's functions publish, under the dimensions they publish it with
        (`service` and `season`, and any the metric adds, e.g. the SMS caps' `cap`)."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={"service": SERVICE, SEASON_DIMENSION: self.config.name, **dimensions},
            period=period,
            statistic=statistic,
            label=label,
        )

    def watch_metric(self, name: str) -> cloudwatch.Metric:
        return self.custom_metric(name, WATCH_PERIOD, "Maximum")

    def add_alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        runbook: str,
        *,
        threshold: float = 1,
    ) -> None:
        """An alarm of another construct's metric (the web ACL's), owned and documented as these are."""
        self._alarm(construct_id, metric, description, runbook, threshold=threshold)

    def sms_cap_metric(
        self, cap: str, period: Duration = PERIOD, label: str | None = None
    ) -> cloudwatch.Metric:
        """Codes one cap refused (`SmsCapReached`, dimension `cap`), this season's only."""
        return self.custom_metric(SMS_CAP_METRIC, period, "Sum", label, cap=cap)

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        runbook: str,
        *,
        threshold: float = 1,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
        periods: int = 1,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            alarm_name=f"enrollment-{self.config.name}-{construct_id}",
            alarm_description=f"{description} {RUNBOOK_PREFIX}{runbook}",
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        if self.owner_topic is not None:
            alarm.add_alarm_action(actions.SnsAction(self.owner_topic))
        self.alarms.append(alarm)

    def _dashboard(
        self,
        config: SeasonConfig,
        functions: list[tuple[FunctionSpec, lambda_.IFunction]],
        rest_api: apigw.RestApi,
    ) -> cloudwatch.Dashboard:
        """One page per season: registrations per hour, verification, lotteries, placement, notices, errors."""
        fn = {spec.key: f for spec, f in functions}
        hour = Duration.hours(1)

        def ours(name: str) -> cloudwatch.Metric:
            return self.custom_metric(name, hour, "Sum")

        def runs(*keys: str) -> list[cloudwatch.IMetric]:
            return [fn[k].metric_invocations(period=hour, label=k) for k in keys if k in fn]

        def graph(title: str, left: list[cloudwatch.IMetric], width: int = 12) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=left, width=width, height=6)

        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"enrollment-{config.name}",
            default_interval=Duration.days(7),
        )
        dashboard.add_widgets(
            cloudwatch.TextWidget(
                markdown=f"# {config.city} {config.season} 年义务教育招生（{config.name}）\n"
                "告警处理见 docs/RUNBOOK.md。",
                width=24,
                height=2,
            )
        )
        dashboard.add_widgets(
            graph("报名（每小时）", [ours("RegistrationAccepted")]),
            graph(
                "材料审核进度（每小时批次）",
                runs("verify-prepare", "verify-batch", "verify-close", "verify-api"),
            ),
        )
        dashboard.add_widgets(
            graph(
                "民办学校摇号", [ours("PrivateAdmissionsArchived"), *runs("lottery-api", "lottery-record")]
            ),
            graph("录取安置", runs("place", "place-store", "place-api")),
        )
        dashboard.add_widgets(
            graph(
                "录取通知书与短信",
                [
                    ours("NoticesIssued"),
                    ours("NoticesManual"),
                    _sms_metric("NumberOfNotificationsDelivered", "Sum", SMS_DIRECT, hour),
                    _sms_metric("NumberOfNotificationsFailed", "Sum", SMS_DIRECT, hour),
                ],
            ),
            graph(
                "错误",
                [
                    rest_api.metric_server_error(period=hour, statistic="Sum"),
                    rest_api.metric_client_error(period=hour, statistic="Sum"),
                    ours("DeadLetters"),
                    ours(METRIC_PAUSED),
                    self.watch_metric(METRIC_OVERDUE),
                    self.watch_metric(METRIC_NOT_STARTED),
                    *[f.metric_errors(period=hour, label=k) for k, f in fn.items()],
                ],
            ),
        )
        dashboard.add_widgets(
            graph(
                "验证码短信上限（每小时拒发，按上限类别）",
                [self.sms_cap_metric(c, hour, c) for c in CAPS],
                24,
            )
        )
        dashboard.add_widgets(cloudwatch.AlarmStatusWidget(title="告警", alarms=self.alarms, width=24))
        return dashboard


def _sms_metric(
    name: str, statistic: str, dimensions: dict[str, str] | None, period: Duration = PERIOD
) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/SNS", metric_name=name, dimensions_map=dimensions, period=period, statistic=statistic
    )
