"""The three SMS adapters through their real SDKs (issue 17): Alibaba Cloud and Tencent Cloud against
loopback fakes of their HTTP APIs (tests/integration/sms_fakes.py), SNS on moto; the China providers'
keys read from Secrets Manager (moto). Each: the message goes out as its template and parameters and
the provider's message id comes back; throttling is SmsThrottled, an unregistered template or a wrong
number SmsRejected with the provider's code."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from enrollment.adapters.notifications import OutboxSms, SnsSms
from enrollment.adapters.sms_aliyun import AliyunSms
from enrollment.adapters.sms_providers import SmsCredentials
from enrollment.adapters.sms_tencent import TencentSms
from enrollment.core import idcard
from enrollment.core.config import SMS_TEMPLATE_FIELDS, SmsProvider, load_season
from enrollment.core.ports import SmsRejected, SmsThrottled
from enrollment.notices import notice as notices
from enrollment.people import parents
from tests.integration.sms_fakes import BUSY, THROTTLED, serve

PHONE = "13812345678"
REGION = "cn-north-1"
ALIYUN_CODES = {
    "code_template": "SMS_462115010",
    "notice_template": "SMS_462115011",
    "notice_short_template": "SMS_462115012",
    "notice_shortest_template": "SMS_462115013",
    "registered_template": "SMS_462115014",
}
TENCENT_CODES = {
    "code_template": "1840001",
    "notice_template": "1840002",
    "notice_short_template": "1840003",
    "notice_shortest_template": "1840004",
    "registered_template": "1840005",
}
CODE = parents.sms_message("R2023-000042", "123456")


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws(), mock.patch.dict("os.environ", {"AWS_DEFAULT_REGION": REGION}):
        yield boto3.client("secretsmanager", region_name=REGION)


def secret(client: Any, value: dict[str, str]) -> str:
    return str(client.create_secret(Name="sms-provider", SecretString=json.dumps(value))["ARN"])


def aliyun(fake_url: str, arn: str, **changes: str) -> AliyunSms:
    settings = SmsProvider.model_validate(
        {
            "provider": "aliyun",
            "sign_name": "吉林市教育局",
            "credentials_secret_arn": arn,
            "endpoint": fake_url,
        }
        | ALIYUN_CODES
        | changes
    )
    return AliyunSms(settings)


def tencent(fake_url: str, arn: str, **changes: str) -> TencentSms:
    settings = SmsProvider.model_validate(
        {
            "provider": "tencent",
            "sign_name": "吉林市教育局",
            "credentials_secret_arn": arn,
            "endpoint": fake_url,
            "sdk_app_id": "1400787878",
        }
        | TENCENT_CODES
        | changes
    )
    return TencentSms(settings)


# --- Alibaba Cloud ----------------------------------------------------------------------------


def test_aliyun_sends_the_template_and_its_parameters(secrets: Any) -> None:
    arn = secret(secrets, {"access_key_id": "LTAI5tSynthetic", "access_key_secret": "synthetic-secret"})
    with serve("aliyun", set(ALIYUN_CODES.values())) as fake:
        message_id = aliyun(fake.url, arn).send(PHONE, CODE)
    [request] = fake.requests
    assert message_id == request["answer"]["BizId"]
    params = request["params"]
    assert params["Action"] == "SendSms" and params["PhoneNumbers"] == PHONE
    assert params["SignName"] == "吉林市教育局" and params["TemplateCode"] == "SMS_462115010"
    assert json.loads(params["TemplateParam"]) == {
        "registration_id": "R2023-000042",
        "code": "123456",
        "minutes": "10",
    }
    assert "LTAI5tSynthetic" in request["authorization"] and "synthetic-secret" not in json.dumps(request)


def test_aliyun_throttling_is_retryable(secrets: Any) -> None:
    arn = secret(secrets, {"access_key_id": "LTAI5tSynthetic", "access_key_secret": "synthetic-secret"})
    with serve("aliyun", set(ALIYUN_CODES.values())) as fake:
        sms = aliyun(fake.url, arn)
        with pytest.raises(SmsThrottled, match=re.escape("isv.BUSINESS_LIMIT_CONTROL")):
            sms.send(THROTTLED, CODE)
        with pytest.raises(SmsThrottled, match=re.escape("Throttling.User")):
            sms.send(BUSY, CODE)


def test_aliyun_refuses_an_unregistered_template_and_a_wrong_number(secrets: Any) -> None:
    arn = secret(secrets, {"access_key_id": "LTAI5tSynthetic", "access_key_secret": "synthetic-secret"})
    with serve("aliyun", set(ALIYUN_CODES.values()) - {"SMS_462115010"}) as fake:
        sms = aliyun(fake.url, arn)
        with pytest.raises(SmsRejected) as rejected:
            sms.send(PHONE, CODE)
        assert rejected.value.code == "isv.SMS_TEMPLATE_ILLEGAL"
        notice = replace_notice()
        with pytest.raises(SmsRejected) as wrong:
            sms.send("1381234567", notices.sms_message(notice))
        assert wrong.value.code == "isv.MOBILE_NUMBER_ILLEGAL"


def test_aliyun_keys_must_be_in_the_secret(secrets: Any) -> None:
    arn = secret(secrets, {"access_key_id": "LTAI5tSynthetic"})
    with serve("aliyun", set(ALIYUN_CODES.values())) as fake:
        with pytest.raises(ValueError, match="access_key_secret"):
            aliyun(fake.url, arn).send(PHONE, CODE)
        assert fake.requests == []


# --- Tencent Cloud ----------------------------------------------------------------------------


def test_tencent_sends_the_template_and_its_parameters_in_order(secrets: Any) -> None:
    arn = secret(secrets, {"secret_id": "AKIDSynthetic", "secret_key": "synthetic-key"})
    notice = notices.sms_message(replace_notice())
    with serve("tencent", set(TENCENT_CODES.values())) as fake:
        message_id = tencent(fake.url, arn).send(PHONE, notice)
    [request] = fake.requests
    assert message_id == request["answer"]["Response"]["SendStatusSet"][0]["SerialNo"]
    body, headers = request["body"], request["headers"]
    assert headers["X-TC-Action"] == "SendSms" and headers["X-TC-Region"] == "ap-guangzhou"
    assert "Credential=AKIDSynthetic/" in headers["Authorization"]
    assert body["SmsSdkAppId"] == "1400787878" and body["SignName"] == "吉林市教育局"
    assert body["PhoneNumberSet"] == [f"+86{PHONE}"]
    assert body["TemplateId"] == TENCENT_CODES[SMS_TEMPLATE_FIELDS[notice.template]]
    assert body["TemplateParamSet"] == notice.ordered() and notice.ordered()[0] == "R2023-000042"


def test_tencent_throttling_is_retryable(secrets: Any) -> None:
    arn = secret(secrets, {"secret_id": "AKIDSynthetic", "secret_key": "synthetic-key"})
    with serve("tencent", set(TENCENT_CODES.values())) as fake:
        sms = tencent(fake.url, arn, region="ap-beijing")
        with pytest.raises(SmsThrottled, match=re.escape("LimitExceeded.PhoneNumberThirtySecondLimit")):
            sms.send(THROTTLED, CODE)
        with pytest.raises(SmsThrottled, match="RequestLimitExceeded"):
            sms.send(BUSY, CODE)
    assert fake.requests[0]["headers"]["X-TC-Region"] == "ap-beijing"


def test_tencent_refuses_an_unregistered_template_and_a_wrong_number(secrets: Any) -> None:
    arn = secret(secrets, {"secret_id": "AKIDSynthetic", "secret_key": "synthetic-key"})
    with serve("tencent", set(TENCENT_CODES.values()) - {"1840001"}) as fake:
        sms = tencent(fake.url, arn)
        with pytest.raises(SmsRejected) as rejected:
            sms.send(PHONE, CODE)
        assert rejected.value.code == "FailedOperation.TemplateIncorrectOrUnapproved"
        with pytest.raises(SmsRejected) as wrong:
            sms.send("23812345678", notices.sms_message(replace_notice()))
        assert wrong.value.code == "InvalidParameterValue.IncorrectPhoneNumber"


# --- SNS and the outbox ------------------------------------------------------------------------


def test_sns_sends_the_rendered_template() -> None:
    with mock_aws(), mock.patch.dict("os.environ", {"AWS_DEFAULT_REGION": "ap-southeast-1"}):
        message_id = SnsSms().send(PHONE, CODE)
        sent = sns_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-1"].sms_messages[message_id]
    assert sent == (f"+86{PHONE}", CODE.text)
    assert CODE.text.startswith(
        "【义务教育招生】您正在查询报名编号R2023-000042的招生进度，验证码123456，10分钟内有效"
    )


def test_sns_refuses_a_wrong_number() -> None:
    with (
        mock_aws(),
        mock.patch.dict("os.environ", {"AWS_DEFAULT_REGION": "ap-southeast-1"}),
        pytest.raises(SmsRejected) as wrong,
    ):
        SnsSms().send("1381234567x", CODE)
    assert wrong.value.code == "InvalidParameter"


def test_sns_throttling_is_retryable() -> None:
    sms = SnsSms()
    sms.client = boto3.client(
        "sns", region_name="ap-southeast-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(sms.client) as stub:
        stub.add_client_error("publish", "Throttling", "Rate exceeded", 400)
        with pytest.raises(SmsThrottled, match="Throttling"):
            sms.send(PHONE, CODE)


def test_the_outbox_keeps_template_and_text(tmp_path: Any) -> None:
    path = tmp_path / "outbox.jsonl"
    message_id = OutboxSms(str(path)).send(PHONE, CODE)
    [line] = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert line == {"id": message_id, "to": "138****5678", "template": "parent-code", "text": CODE.text}


def test_credentials_come_from_the_secret(secrets: Any) -> None:
    arn = secret(secrets, {"secret_id": "AKIDSynthetic", "secret_key": "synthetic-key"})
    assert SmsCredentials(arn).read("secret_id", "secret_key") == ("AKIDSynthetic", "synthetic-key")


# --- helpers ----------------------------------------------------------------------------------


def replace_notice() -> notices.Notice:
    """A synthetic child's admission notice in the synthetic season."""
    return notices.build_notice(
        load_season("jilin-2023"),
        registration_id="R2023-000042",
        child_name="王梓涵",
        id_number=idcard.make("220204", date(2016, 10, 3), 123),
        grade=1,
        school_id="S-CY-01",
        route="catchment",
        secret=b"test-secret-for-sms-providers-0123",
    )
