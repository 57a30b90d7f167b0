"""Alarms with an owner (issue 16): a required destination, every alarm on the synthesized template
(both partitions), the season watch, the pauses, gate-advance's on-failure destination, the dashboard;
every custom metric watched under the season's dimension."""

from __future__ import annotations

import ast
import re
from typing import Any

import aws_cdk as cdk
import pytest

from enrollment.core.pauses import METRIC_PAUSED
from enrollment.core.resources import FUNCTIONS, ROOT, SEASON_DIMENSION, SERVICE
from enrollment.core.watch import METRIC_NOT_STARTED, METRIC_OVERDUE
from infra.context import SYNTH_ONLY_ALARM_EMAIL, AppOptions, cdk_json_context
from infra.nag import ref
from infra.observability import RUNBOOK_PREFIX, SMS_CAP_METRIC, TABLE_OPERATIONS
from infra.schedules import ADVANCE_RETRY_ATTEMPTS
from tests.infra.conftest import ALARM_EMAIL, CN_ALARM_TOPIC
from tests.infra.helpers import Template as Tpl
from tests.infra.helpers import denies_insecure_transport, dumps, getatt, live_alias, only, resources

pytestmark = pytest.mark.xdist_group("infra")

BOTH = ["synth", "cn"]  # the environment-agnostic stack (aws) and the cn-north-1 one (aws-cn)


@pytest.fixture(params=BOTH)
def stack(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


def _alarms(raw: Tpl) -> list[dict[str, Any]]:
    return [a["Properties"] for a in resources(raw, "AWS::CloudWatch::Alarm").values()]


def _alarm(raw: Tpl, config_name: str, name: str) -> dict[str, Any]:
    [alarm] = [a for a in _alarms(raw) if a["AlarmName"] == f"enrollment-{config_name}-{name}"]
    return alarm


def test_topic_is_encrypted_with_a_rotating_cmk_cloudwatch_can_use(synth, raw):
    topic_id, topic = only(raw, "AWS::SNS::Topic")
    key_id = ref(synth.stack.observability.key)
    assert topic["Properties"]["KmsMasterKeyId"] == getatt(key_id)
    key = raw["Resources"][key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    assert any(
        s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(s["Action"])
        for s in key["KeyPolicy"]["Statement"]
    )
    _, policy = only(raw, "AWS::SNS::TopicPolicy")
    assert denies_insecure_transport(policy["Properties"]["PolicyDocument"])
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]


def test_every_alarm_reaches_its_owner_and_names_its_runbook_entry(synth, cn):
    # aws: the address is subscribed to the season's topic; aws-cn: the alarms also go to the bureau's topic
    topic_id, _ = only(synth.raw, "AWS::SNS::Topic")
    [subscription] = resources(synth.raw, "AWS::SNS::Subscription").values()
    assert subscription["Properties"] | {"TopicArn": None} == {
        "Protocol": "email",
        "Endpoint": ALARM_EMAIL,
        "TopicArn": None,
    }
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    assert all(a["AlarmActions"] == [{"Ref": topic_id}] for a in _alarms(synth.raw))
    cn_topic, _ = only(cn.raw, "AWS::SNS::Topic")
    assert resources(cn.raw, "AWS::SNS::Subscription") == {}
    assert all(a["AlarmActions"] == [{"Ref": cn_topic}, CN_ALARM_TOPIC] for a in _alarms(cn.raw))
    for s in (synth, cn):
        assert all(RUNBOOK_PREFIX in a["AlarmDescription"] for a in _alarms(s.raw))
        assert all(a["TreatMissingData"] == "notBreaching" for a in _alarms(s.raw))


def test_state_machine_failures_and_timeouts_alarm(stack):
    sm = {"Ref": ref(stack.stack.workflow.state_machine)}
    watched = {
        a["MetricName"]
        for a in _alarms(stack.raw)
        if a.get("Namespace") == "AWS/States"
        and a["Dimensions"] == [{"Name": "StateMachineArn", "Value": sm}]
    }
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}


def test_every_function_alarms_on_errors_throttles_and_duration_near_its_timeout(stack, config):
    for spec in FUNCTIONS:
        fn = {"Ref": ref(stack.stack.functions[spec.key])}
        by_metric = {
            a["MetricName"]: a
            for a in _alarms(stack.raw)
            if a.get("Namespace") == "AWS/Lambda"
            and a["Dimensions"] == [{"Name": "FunctionName", "Value": fn}]
        }
        assert set(by_metric) == {"Errors", "Throttles", "Duration"}, spec.key
        assert by_metric["Errors"]["Threshold"] == by_metric["Throttles"]["Threshold"] == 1
        duration = by_metric["Duration"]
        assert duration["Statistic"] == "Maximum"
        assert duration["Threshold"] == round(spec.timeout_s * 1000 * 0.8)
        assert duration["ComparisonOperator"] == "GreaterThanThreshold"


def test_dynamodb_throttled_requests_alarm_per_table(stack, config):
    for table in (stack.stack.storage.table, stack.stack.storage.idempotency_table):
        alarm = _alarm(stack.raw, config.name, f"{table.node.id}-throttled")
        stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
        assert {m["MetricName"] for m in stats} == {"ThrottledRequests"}
        assert {m["Namespace"] for m in stats} == {"AWS/DynamoDB"}
        operations = set()
        for m in stats:
            dims = {d["Name"]: d["Value"] for d in m["Dimensions"]}
            assert dims["TableName"] == {"Ref": ref(table)}
            operations.add(dims["Operation"])
        assert len(operations) == len(TABLE_OPERATIONS)
        assert operations == {
            *("GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem"),
            *("BatchWriteItem", "TransactWriteItems"),
        }
        [expression] = [m for m in alarm["Metrics"] if "Expression" in m]
        assert expression["ReturnData"] is True


def test_api_4xx_rate_and_429_alarms(stack, config):
    rate = _alarm(stack.raw, config.name, "Api4xxRate")
    [expression] = [m for m in rate["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "IF(requests >= 100, refused / requests, 0)"
    stats = {m["Id"]: m["MetricStat"]["Metric"] for m in rate["Metrics"] if "MetricStat" in m}
    assert {k: v["MetricName"] for k, v in stats.items()} == {"refused": "4XXError", "requests": "Count"}
    assert stats["refused"]["Dimensions"] == stats["requests"]["Dimensions"]
    assert "ApiName" in {d["Name"] for d in stats["refused"]["Dimensions"]}
    assert rate["Threshold"] == 0.25 and rate["EvaluationPeriods"] == 3
    [metric_filter] = resources(stack.raw, "AWS::Logs::MetricFilter").values()
    props = metric_filter["Properties"]
    assert props["LogGroupName"] == {"Ref": ref(stack.stack.api.access_logs)}
    assert props["FilterPattern"] == '{ $.status = "429" }'
    [transform] = props["MetricTransformations"]
    throttled = _alarm(stack.raw, config.name, "Api429")
    assert (throttled["Namespace"], throttled["MetricName"]) == (
        transform["MetricNamespace"],
        transform["MetricName"],
    )
    assert throttled["Threshold"] == 50
    assert _alarm(stack.raw, config.name, "Api5xx")["MetricName"] == "5XXError"


def test_sms_failures_and_spend_alarm_on_what_sns_publishes(stack, config):
    failed = _alarm(stack.raw, config.name, "SmsFailures")
    assert (failed["Namespace"], failed["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    assert failed["Dimensions"] == [{"Name": "PhoneNumber", "Value": "PhoneNumberDirect"}]
    spend = _alarm(stack.raw, config.name, "SmsSpend")
    assert (spend["Namespace"], spend["MetricName"]) == ("AWS/SNS", "SMSMonthToDateSpentUSD")
    assert "Dimensions" not in spend and spend["Threshold"] == 800 and spend["Statistic"] == "Maximum"


def _cap_dimensions(cap: str, config_name: str) -> list[dict[str, str]]:
    """The dimensions functions/register/family.py publishes SmsCapReached with, sorted by name."""
    return [
        {"Name": "cap", "Value": cap},
        {"Name": SEASON_DIMENSION, "Value": config_name},
        {"Name": "service", "Value": SERVICE},
    ]


def test_sms_caps_alarm_on_the_circuit_and_on_floods_of_refused_codes(stack, config):
    # the season's code circuit open: one refusal is enough
    circuit = _alarm(stack.raw, config.name, "SmsCircuitOpen")
    assert (circuit["Namespace"], circuit["MetricName"]) == ("Enrollment", "SmsCapReached")
    assert sorted(circuit["Dimensions"], key=lambda d: d["Name"]) == _cap_dimensions("global", config.name)
    assert circuit["Threshold"] == 1 and circuit["Statistic"] == "Sum" and circuit["Period"] == 300
    assert circuit["AlarmDescription"].endswith(f"{RUNBOOK_PREFIX}sms-circuit-open")
    # codes refused per phone or per client: a flood, not one impatient parent
    flood = _alarm(stack.raw, config.name, "SmsCapReached")
    [expression] = [m for m in flood["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "FILL(phone, 0) + FILL(client, 0)" and expression["ReturnData"] is True
    stats = {m["Id"]: m["MetricStat"] for m in flood["Metrics"] if "MetricStat" in m}
    for cap in ("phone", "client"):
        metric = stats[cap]["Metric"]
        assert (metric["Namespace"], metric["MetricName"]) == ("Enrollment", "SmsCapReached")
        assert sorted(metric["Dimensions"], key=lambda d: d["Name"]) == _cap_dimensions(cap, config.name)
        assert stats[cap]["Stat"] == "Sum" and stats[cap]["Period"] == 300
    assert flood["Threshold"] == 20 and flood["AlarmDescription"].endswith(f"{RUNBOOK_PREFIX}sms-cap-reached")
    # and the SMS failure and spend alarms are still there beside them
    assert {"SmsFailures", "SmsSpend"} <= {a["AlarmName"].rsplit("-", 1)[-1] for a in _alarms(stack.raw)}


def test_the_watch_runs_every_15_minutes_and_its_metrics_alarm(stack, config):
    watch = live_alias(stack.raw, ref(stack.stack.functions["watch"]))
    receipts = live_alias(stack.raw, ref(stack.stack.functions["notify-batch"]))
    # one rule, a target each: the watch's and the SMS receipts' (issue 17); a rule each would cost
    # one of the stack's 500 resources
    [rule] = resources(stack.raw, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(15 minutes)"
    by_target = {}
    for target in rule["Properties"]["Targets"]:
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2
        by_target[target["Arn"]["Ref"]] = target["Input"]
    assert by_target == {
        watch: f'{{"season":"{config.season}"}}',
        # the SMS receipts (issue 17), polled in notify-batch's function
        receipts: f'{{"season":"{config.season}","task":"sms-receipts"}}',
    }
    for name, metric in (("SeasonNotStarted", METRIC_NOT_STARTED), ("GatesOverdue", METRIC_OVERDUE)):
        alarm = _alarm(stack.raw, config.name, name)
        assert (alarm["Namespace"], alarm["MetricName"]) == ("Enrollment", metric)
        assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": SEASON_DIMENSION, "Value": config.name},
            {"Name": "service", "Value": SERVICE},
        ]
        assert alarm["Period"] == 900 and alarm["Threshold"] == 1


def test_a_pause_pages_the_operator(stack, config):
    """gate-open's SeasonPaused, under the dimensions it is published with (service and season), one
    or more in five minutes; no pause, no data, not an alarm."""
    alarm = _alarm(stack.raw, config.name, "SeasonPaused")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Enrollment", METRIC_PAUSED)
    assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
        {"Name": SEASON_DIMENSION, "Value": config.name},
        {"Name": "service", "Value": SERVICE},
    ]
    assert alarm["Statistic"] == "Sum" and alarm["Period"] == 300
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmDescription"].endswith(f"{RUNBOOK_PREFIX}season-paused")


def _published_metric_names() -> set[str]:
    """Every metric name the functions publish (`metrics.add_metric(name=...)` in functions/ and
    enrollment/), a literal or a module constant."""
    names: set[str] = set()
    constants: dict[str, str] = {}
    trees = [
        ast.parse(f.read_text(encoding="utf-8"))
        for d in ("functions", "enrollment")
        for f in (ROOT / d).rglob("*.py")
    ]
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                        constants[target.id] = node.value.value
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_metric":
                [name] = [k.value for k in node.keywords if k.arg == "name"]
                if isinstance(name, ast.Constant):
                    names.add(name.value)
                else:
                    names.add(constants[name.attr if isinstance(name, ast.Attribute) else name.id])
            # a count in its own record, with extra dimensions (`count_metric(name, {...})`)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "count_metric":
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    names.add(first.value)
                else:
                    names.add(constants[first.attr if isinstance(first, ast.Attribute) else first.id])
    return names


def test_every_custom_metric_alarm_and_graph_names_the_season(stack, config):
    """The functions publish every metric with `service` and `season` (enrollment/adapters/
    observability.py): an alarm or a graph without the season would watch a metric nobody publishes.
    The access log's 429 count (a metric filter, no dimensions) names the season in its metric name."""
    published = _published_metric_names()
    assert {
        METRIC_PAUSED,
        METRIC_OVERDUE,
        METRIC_NOT_STARTED,
        "DeadLetters",
        "RegistrationAccepted",
    } <= published
    ours = [a for a in _alarms(stack.raw) if a.get("Namespace") == "Enrollment"]
    assert {a["MetricName"] for a in ours} >= {METRIC_PAUSED, METRIC_OVERDUE, METRIC_NOT_STARTED}
    for alarm in ours:
        if alarm["MetricName"] == f"Api429-{config.name}":
            assert "Dimensions" not in alarm
            continue
        assert alarm["MetricName"] in published, alarm["AlarmName"]
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        # the SMS caps' counts say which cap besides (enrollment/core/sms_caps.py), the failed SMS
        # what they were for (enrollment/core/sms_delivery.py)
        extra = {SMS_CAP_METRIC: {"cap"}, "SmsDeliveryFailed": {"purpose"}}.get(alarm["MetricName"], set())
        assert set(dimensions) - {SEASON_DIMENSION, "service"} <= extra, alarm["AlarmName"]
        assert dimensions[SEASON_DIMENSION] == config.name and dimensions["service"] == SERVICE, alarm[
            "AlarmName"
        ]
    [dashboard] = resources(stack.raw, "AWS::CloudWatch::Dashboard").values()
    joined = dashboard["Properties"]["DashboardBody"]
    parts = joined["Fn::Join"][1] if isinstance(joined, dict) else [joined]
    body = "".join(part if isinstance(part, str) else "?" for part in parts)
    graphed = re.findall(r'\["Enrollment","([A-Za-z0-9]+)",([^\]]*)\]', body)
    assert {name for name, _ in graphed} >= {"RegistrationAccepted", "DeadLetters", METRIC_PAUSED}
    for name, rest in graphed:
        assert f'"{SEASON_DIMENSION}","{config.name}"' in rest and f'"service","{SERVICE}"' in rest, name


def test_gate_advance_failures_go_to_the_deadline_dead_letters(stack, config):
    queue = ref(stack.stack.schedules.dead_letters)
    [invoke] = resources(stack.raw, "AWS::Lambda::EventInvokeConfig").values()
    props = invoke["Properties"]
    assert props["FunctionName"] == {"Ref": ref(stack.stack.functions["gate-advance"])}
    assert props["Qualifier"] == "live"  # the alias the schedules invoke, whose configuration applies
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": getatt(queue)}}
    assert props["MaximumRetryAttempts"] == ADVANCE_RETRY_ATTEMPTS
    alarm = _alarm(stack.raw, config.name, "DeadlineDeadLetters")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": getatt(queue, "QueueName")}]


def test_one_dashboard_per_season_with_every_view(stack, config):
    [dashboard] = resources(stack.raw, "AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"enrollment-{config.name}"
    body = dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "报名（每小时）",
        "材料审核进度",
        "民办学校摇号",
        "录取安置",
        "录取通知书与短信",
        "错误",
        "告警",
    ):
        assert title in body, title
    assert "验证码短信上限" in body
    for metric in (
        "RegistrationAccepted",
        "NoticesIssued",
        "DeadLetters",
        METRIC_PAUSED,
        METRIC_OVERDUE,
        "5XXError",
        "SmsCapReached",
    ):
        assert metric in body, metric
    assert stack.raw["Outputs"]["DashboardName"]["Value"] == {"Ref": ref(stack.stack.observability.dashboard)}


def test_a_season_without_an_alarm_destination_is_not_synthesized(config):
    from infra.stack import SeasonStack

    app = cdk.App(context=cdk_json_context())
    with pytest.raises(ValueError, match=r"no alarm destination.*alarm_email.*alarm_topic_arn"):
        SeasonStack(app, "Nobody", config=config)


@pytest.mark.parametrize(
    ("context", "refusal"),
    [
        ({}, "no alarm destination: give context alarm_email .* or alarm_topic_arn"),
        ({"alarm_email": "ops"}, "alarm_email='ops' is not an e-mail address"),
        (
            {"alarm_topic_arn": "arn:aws:sqs:us-east-1:111122223333:q"},
            "alarm_topic_arn=.* is not an SNS topic",
        ),
        (
            {"alarm_email": "a@b.cn", "sms_spend_alarm_usd": "lots"},
            "sms_spend_alarm_usd='lots' is not a number",
        ),
        ({"alarm_email": "a@b.cn", "sms_spend_alarm_usd": "0"}, "sms_spend_alarm_usd=0 must be more than 0"),
    ],
)
def test_app_options_refuse_a_missing_or_bad_destination_naming_the_key(context, refusal):
    with pytest.raises(ValueError, match=refusal):
        AppOptions.from_node(cdk.App(context=context).node, environ={})


def test_app_options_take_an_address_a_topic_and_the_synth_only_placeholder():
    topic = "arn:aws-cn:sns:cn-north-1:111122223333:bureau-alarms"
    options = AppOptions.from_node(
        cdk.App(context={"alarm_topic_arn": topic, "sms_spend_alarm_usd": "120.5"}).node, environ={}
    )
    assert (options.alarm_email, options.alarm_topic_arn, options.sms_spend_alarm_usd) == (None, topic, 120.5)
    placeholder = AppOptions.from_node(
        cdk.App(context={"alarm_email": SYNTH_ONLY_ALARM_EMAIL}).node, environ={}
    )
    assert placeholder.alarm_email == SYNTH_ONLY_ALARM_EMAIL == "synth-only@example.invalid"


def test_jilin_app_synth_sends_alarms_to_the_topic_it_was_given(app_synth):
    assert app_synth.returncode == 0, app_synth.output[-3000:]
    template = app_synth.template()
    alarms = _alarms(template)
    assert alarms and all(len(a["AlarmActions"]) == 2 for a in alarms)
    assert all(a["AlarmActions"][1] == "arn:aws:sns:us-east-1:111122223333:bureau-alarms" for a in alarms)


def test_undelivered_notice_sms_page_the_operator(stack, config):
    """SmsDeliveryFailed with purpose=notice (functions/sms/receipts.py, notify-batch), under the
    season's dimensions, 50 or more in an hour: a wave points at the provider, not at a few phones."""
    alarm = _alarm(stack.raw, config.name, "SmsNoticesUndelivered")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Enrollment", "SmsDeliveryFailed")
    assert sorted(alarm["Dimensions"], key=lambda d: d["Name"]) == [
        {"Name": "purpose", "Value": "notice"},
        {"Name": SEASON_DIMENSION, "Value": config.name},
        {"Name": "service", "Value": SERVICE},
    ]
    assert alarm["Period"] == 3600 and alarm["Threshold"] == 50 and alarm["Statistic"] == "Sum"
    assert "docs/RUNBOOK.md#sms-undelivered" in alarm["AlarmDescription"]
