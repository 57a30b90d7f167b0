"""Tencent Cloud SMS (sms 2021-01-11): the SMS port for a season whose sms_provider.provider is
tencent (enrollment/adapters/sms_providers.py says how the China providers work)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111.models import PullSmsSendStatusRequest, SendSmsRequest
from tencentcloud.sms.v20210111.sms_client import SmsClient

from enrollment.adapters.sms_providers import (
    TENCENT_ENDPOINT,
    TENCENT_REGION,
    SmsCredentials,
    asked_again,
    host_of,
    provider_time,
)
from enrollment.core.config import SmsProvider
from enrollment.core.ports import SmsRejected, SmsThrottled
from enrollment.core.sms_delivery import Receipt, SmsRecord
from enrollment.core.sms_templates import SmsMessage

PULL_LIMIT = 100  # PullSmsSendStatus's most receipts a call


class TencentSms:
    """Tencent Cloud SMS (sms 2021-01-11, SendSms). Its templates number variables ({1}, {2}), so the
    parameters go as a list in the template's order; numbers in E.164 form (+86). Receipts:
    PullSmsSendStatus, the application's queue of receipts, each handed out once (the bureau asks
    Tencent Cloud to enable pulling for its SdkAppId, docs/SMS-TEMPLATES.md)."""

    tracks_receipts = True

    def __init__(self, settings: SmsProvider, credentials: SmsCredentials | None = None) -> None:
        self.settings = settings
        self.credentials = credentials or SmsCredentials(settings.credentials_secret_arn)

    @cached_property
    def client(self) -> SmsClient:
        secret_id, secret_key = self.credentials.read("secret_id", "secret_key")
        scheme, host = host_of(self.settings.endpoint)
        http = HttpProfile(endpoint=host or TENCENT_ENDPOINT, protocol=scheme)
        return SmsClient(
            Credential(secret_id, secret_key),
            self.settings.region or TENCENT_REGION,
            ClientProfile(httpProfile=http),
        )

    def send(self, phone: str, message: SmsMessage) -> str:
        request = SendSmsRequest()
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

    def receipts(self, pending: Sequence[tuple[SmsRecord, str]]) -> Iterator[Receipt]:
        """The queue's receipts, 100 a call, until it is empty or has given as many pages as the open
        messages need (receipts of messages settled already are dropped by the caller)."""
        for _ in range(len(pending) // PULL_LIMIT + 1):
            page = asked_again(self._pull, lambda e: isinstance(e, SmsThrottled))
            for status in page:
                delivered = str(status.ReportStatus) == "SUCCESS"
                yield Receipt(
                    str(status.SerialNo),
                    delivered,
                    "" if delivered else str(status.Description or status.ReportStatus),
                    provider_time(str(status.UserReceiveTime)),
                )
            if len(page) < PULL_LIMIT:
                return

    def _pull(self) -> list[Any]:
        request = PullSmsSendStatusRequest()
        request.SmsSdkAppId = self.settings.sdk_app_id
        request.Limit = PULL_LIMIT
        try:
            answer = self.client.PullSmsSendStatus(request)
        except TencentCloudSDKException as e:
            code = str(e.get_code())
            if _tencent_later(code):
                raise SmsThrottled(f"{code}: {e.get_message()}") from e
            raise
        return list(answer.PullSmsSendStatusSet or [])


def _tencent_later(code: str) -> bool:
    """Tencent Cloud's "not now": the API's rate limit, a number's frequency limits, its own faults."""
    return code in ("RequestLimitExceeded", "InternalError") or code.startswith(
        ("LimitExceeded.", "InternalError.", "ClientNetworkError", "ServerNetworkError")
    )
