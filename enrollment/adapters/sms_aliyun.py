"""Alibaba Cloud SMS (dysmsapi 2017-05-25): the SMS port for a season whose sms_provider.provider is
aliyun (enrollment/adapters/sms_providers.py says how the China providers work)."""

from __future__ import annotations

import json
from functools import cached_property

from alibabacloud_dysmsapi20170525.client import Client as DysmsClient
from alibabacloud_dysmsapi20170525.models import SendSmsRequest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config as AliyunConfig

from enrollment.adapters.sms_providers import ALIYUN_ENDPOINT, ALIYUN_REGION, SmsCredentials, host_of
from enrollment.core.config import SmsProvider
from enrollment.core.ports import SmsRejected, SmsThrottled
from enrollment.core.sms_templates import SmsMessage

# Alibaba Cloud's answers that mean "not now": a number's or the account's frequency limit
ALIYUN_LATER = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User", "Throttling"}
)


class AliyunSms:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25, SendSms). Its templates name variables (${code}), so the
    parameters go as a JSON object; a mainland number goes without +86."""

    def __init__(self, settings: SmsProvider, credentials: SmsCredentials | None = None) -> None:
        self.settings = settings
        self.credentials = credentials or SmsCredentials(settings.credentials_secret_arn)

    @cached_property
    def client(self) -> DysmsClient:
        key_id, key_secret = self.credentials.read("access_key_id", "access_key_secret")
        scheme, host = host_of(self.settings.endpoint)
        return DysmsClient(
            AliyunConfig(
                access_key_id=key_id,
                access_key_secret=key_secret,
                region_id=self.settings.region or ALIYUN_REGION,
                endpoint=host or ALIYUN_ENDPOINT,
                protocol=scheme,
            )
        )

    def send(self, phone: str, message: SmsMessage) -> str:
        request = SendSmsRequest(
            phone_numbers=phone,
            sign_name=self.settings.sign_name,
            template_code=self.settings.template_codes[message.template],
            template_param=json.dumps(dict(message.params), ensure_ascii=False),
        )
        try:
            body = self.client.send_sms(request).body
        except (ThrottlingException, ServerException) as e:
            raise SmsThrottled(f"{e.code}: {e.message}") from e
        except AlibabaCloudException as e:
            if e.code in ALIYUN_LATER:
                raise SmsThrottled(f"{e.code}: {e.message}") from e
            raise SmsRejected(str(e.code), str(e.message)) from e
        code = str(body.code)
        if code == "OK":
            return str(body.biz_id)
        if code in ALIYUN_LATER:
            raise SmsThrottled(f"{code}: {body.message}")
        raise SmsRejected(code, str(body.message))
