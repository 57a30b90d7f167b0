"""SMS through a provider licensed in China: Alibaba Cloud SMS and Tencent Cloud SMS (issue 17).

Amazon SNS sends no SMS from the China regions; a season there sends through one of these, chosen by
`sms_provider.provider` in its config (enrollment/core/config.py, SmsProvider). Each sends a template
the bureau registered (docs/SMS-TEMPLATES.md) by the code the provider assigned, under the registered
sign name, and answers the provider's message id. Each maps the provider's refusals onto the port's:
too fast (or a passing fault on the provider's side) is SmsThrottled, safe to send again later; a
refused template, sign or number is SmsRejected with the provider's own code, which the runbook lists.

The keys come from the Secrets Manager secret `sms_provider.credentials_secret_arn`, read once on the
first send (a Lambda's cold start), never from the config or the environment.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from alibabacloud_dysmsapi20170525.client import Client as DysmsClient
from alibabacloud_dysmsapi20170525.models import SendSmsRequest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config as AliyunConfig
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111.models import SendSmsRequest as TencentSendSmsRequest
from tencentcloud.sms.v20210111.sms_client import SmsClient

from enrollment.adapters.clients import Client
from enrollment.core.config import SmsProvider
from enrollment.core.ports import SmsRejected, SmsThrottled
from enrollment.core.sms_templates import SmsMessage

ALIYUN_REGION = "cn-hangzhou"
ALIYUN_ENDPOINT = "dysmsapi.aliyuncs.com"
TENCENT_REGION = "ap-guangzhou"
TENCENT_ENDPOINT = "sms.tencentcloudapi.com"
# Alibaba Cloud's answers that mean "not now": a number's or the account's frequency limit
ALIYUN_LATER = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User", "Throttling"}
)


class SmsCredentials:
    """The provider's keys: the JSON object in a Secrets Manager secret."""

    client: Client[Any] = Client("secretsmanager")

    def __init__(self, secret_arn: str) -> None:
        self.secret_arn = secret_arn

    def read(self, *names: str) -> tuple[str, ...]:
        value = json.loads(self.client.get_secret_value(SecretId=self.secret_arn)["SecretString"])
        missing = [n for n in names if not isinstance(value.get(n), str) or not value[n]]
        if missing:
            raise ValueError(f"secret {self.secret_arn}: needs {', '.join(missing)} (JSON strings)")
        return tuple(value[n] for n in names)


def _host(endpoint: str) -> tuple[str, str]:
    """`http://127.0.0.1:8080` -> ("http", "127.0.0.1:8080"); empty -> the provider's default over HTTPS."""
    scheme, _, host = endpoint.partition("://")
    return (scheme, host) if host else ("https", "")


class AliyunSms:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25, SendSms). Its templates name variables (${code}), so the
    parameters go as a JSON object; a mainland number goes without +86."""

    def __init__(self, settings: SmsProvider, credentials: SmsCredentials | None = None) -> None:
        self.settings = settings
        self.credentials = credentials or SmsCredentials(settings.credentials_secret_arn)

    @cached_property
    def client(self) -> DysmsClient:
        key_id, key_secret = self.credentials.read("access_key_id", "access_key_secret")
        scheme, host = _host(self.settings.endpoint)
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


class TencentSms:
    """Tencent Cloud SMS (sms 2021-01-11, SendSms). Its templates number variables ({1}, {2}), so the
    parameters go as a list in the template's order; numbers in E.164 form (+86)."""

    def __init__(self, settings: SmsProvider, credentials: SmsCredentials | None = None) -> None:
        self.settings = settings
        self.credentials = credentials or SmsCredentials(settings.credentials_secret_arn)

    @cached_property
    def client(self) -> SmsClient:
        secret_id, secret_key = self.credentials.read("secret_id", "secret_key")
        scheme, host = _host(self.settings.endpoint)
        http = HttpProfile(endpoint=host or TENCENT_ENDPOINT, protocol=scheme)
        return SmsClient(
            Credential(secret_id, secret_key),
            self.settings.region or TENCENT_REGION,
            ClientProfile(httpProfile=http),
        )

    def send(self, phone: str, message: SmsMessage) -> str:
        request = TencentSendSmsRequest()
        request.SmsSdkAppId = self.settings.sdk_app_id
        request.SignName = self.settings.sign_name
        request.TemplateId = self.settings.template_codes[message.template]
        request.TemplateParamSet = message.ordered()
        request.PhoneNumberSet = [f"+86{phone}"]
        try:
            answer = self.client.SendSms(request)
        except TencentCloudSDKException as e:
            code = str(e.get_code())
            if _tencent_later(code):
                raise SmsThrottled(f"{code}: {e.get_message()}") from e
            raise SmsRejected(code, str(e.get_message())) from e
        statuses = answer.SendStatusSet or []
        if not statuses:
            raise SmsRejected("NoSendStatus", "the answer names no number")
        status = statuses[0]
        code = str(status.Code)
        if code == "Ok":
            return str(status.SerialNo)
        if _tencent_later(code):
            raise SmsThrottled(f"{code}: {status.Message}")
        raise SmsRejected(code, str(status.Message))


def _tencent_later(code: str) -> bool:
    """Tencent Cloud's "not now": the API's rate limit, a number's frequency limits, its own faults."""
    return code in ("RequestLimitExceeded", "InternalError") or code.startswith(
        ("LimitExceeded.", "InternalError.", "ClientNetworkError", "ServerNetworkError")
    )
