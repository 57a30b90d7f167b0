"""Alarms into one KMS-encrypted topic."""

from __future__ import annotations

from typing import Any

import pytest

from infra.nag import ref
from tests.infra.helpers import Template as Tpl
from tests.infra.helpers import denies_insecure_transport, getatt, only, resources

pytestmark = pytest.mark.xdist_group("infra")


def _alarms(raw: Tpl) -> list[dict[str, Any]]:
    return list(resources(raw, "AWS::CloudWatch::Alarm").values())


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


def test_state_machine_failures_and_timeouts_alarm(synth, raw):
    topic_id, _ = only(raw, "AWS::SNS::Topic")
    sm = {"Ref": ref(synth.stack.workflow.state_machine)}
    watched = {
        a["Properties"]["MetricName"]
        for a in _alarms(raw)
        if a["Properties"]["Namespace"] == "AWS/States"
        and a["Properties"]["Dimensions"] == [{"Name": "StateMachineArn", "Value": sm}]
        and a["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    }
    assert watched == {"ExecutionsFailed", "ExecutionsTimedOut"}


def test_every_function_has_an_errors_alarm(synth, raw):
    topic_id, _ = only(raw, "AWS::SNS::Topic")
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in _alarms(raw)
        if a["Properties"]["Namespace"] == "AWS/Lambda"
        and a["Properties"]["MetricName"] == "Errors"
        and a["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        and a["Properties"]["Threshold"] == 1
    }
    assert watched == {ref(fn) for _, fn in synth.stack.functions}


def test_failed_deadline_delivery_alarms(synth, raw):
    queue = synth.stack.schedules.dead_letters
    assert any(
        a["Properties"]["Namespace"] == "AWS/SQS"
        and a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": getatt(ref(queue), "QueueName")}]
        for a in _alarms(raw)
    )
