"""The SMS templates (issue 17): docs/SMS-TEMPLATES.md lists each as the code renders it, every
template's code has its config setting, and a message names exactly its template's variables."""

from __future__ import annotations

import pytest

from enrollment.core.config import SMS_TEMPLATE_FIELDS, SmsProvider
from enrollment.core.resources import ROOT
from enrollment.core.sms_templates import TEMPLATES, SmsMessage
from enrollment.people import parents

DOC = (ROOT / "docs" / "SMS-TEMPLATES.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("template", list(TEMPLATES.values()), ids=list(TEMPLATES))
def test_the_doc_lists_each_template_as_the_code_sends_it(template):
    assert f"## `{template.id}`" in DOC
    assert f"```text\n{template.body}\n```" in DOC
    assert f"```text\n{template.tencent_body()}\n```" in DOC
    assert f"`sms_provider.{SMS_TEMPLATE_FIELDS[template.id]}`" in DOC
    for variable in template.variables:
        assert f"| `{variable}` |" in DOC


def test_every_template_has_a_config_setting_and_no_more():
    assert set(SMS_TEMPLATE_FIELDS) == set(TEMPLATES)
    assert set(SMS_TEMPLATE_FIELDS.values()) <= set(SmsProvider.model_fields)


def test_the_code_sms_reads_as_before():
    assert parents.sms_text("R2023-000042", "123456") == (
        "【义务教育招生】您正在查询报名编号R2023-000042的招生进度，验证码123456，10分钟内有效。"
        "请勿告诉他人；如非本人操作，请忽略本短信。"
    )


def test_a_message_names_exactly_its_templates_variables():
    with pytest.raises(ValueError, match=r"params: template 'parent-code' takes"):
        SmsMessage("parent-code", {"registration_id": "R2023-000042", "code": "123456"})
    with pytest.raises(ValueError, match="template: no SMS template 'welcome'"):
        SmsMessage("welcome", {})


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"provider": "aliyun"}, "sign_name"),
        ({"provider": "aliyun", "sign_name": "吉林市教育局"}, "credentials_secret_arn"),
        (
            {
                "provider": "tencent",
                "sign_name": "吉林市教育局",
                "credentials_secret_arn": "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:s",
            },
            "code_template",
        ),
    ],
)
def test_a_china_provider_needs_its_sign_secret_and_codes(changes, field):
    with pytest.raises(ValueError, match=f"{field}: provider"):
        SmsProvider.model_validate(changes)


def test_tencent_needs_its_sdk_app_id():
    codes = dict.fromkeys(SMS_TEMPLATE_FIELDS.values(), "1840001")
    arn = "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:s"
    with pytest.raises(ValueError, match="sdk_app_id: provider tencent"):
        SmsProvider.model_validate(
            {"provider": "tencent", "sign_name": "局", "credentials_secret_arn": arn} | codes
        )
    assert SmsProvider.model_validate(
        {"provider": "aliyun", "sign_name": "局", "credentials_secret_arn": arn} | codes
    )


def test_a_china_provider_config_written_before_the_registration_sms_stays_valid():
    """`registered_template` is the one optional code: a season configured before the template existed
    validates, and sends no such SMS (functions/register/handler.py); every other code is required."""
    base = {
        "provider": "aliyun",
        "sign_name": "某市教育局",
        "credentials_secret_arn": "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:sms",
        "code_template": "SMS_1",
        "notice_template": "SMS_2",
        "notice_short_template": "SMS_3",
        "notice_shortest_template": "SMS_4",
    }
    assert SmsProvider.model_validate(base).registered_template == ""
    with pytest.raises(ValueError, match="notice_template"):
        SmsProvider.model_validate({**base, "notice_template": ""})
