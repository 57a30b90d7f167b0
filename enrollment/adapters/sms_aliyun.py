"""Alibaba Cloud SMS (dysmsapi 2017-05-25): the SMS port for a season whose sms_provider.provider is
aliyun (enrollment/adapters/sms_providers.py says how the China providers work)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cached_property, partial

from alibabacloud_dysmsapi20170525.client import Client as DysmsClient
from alibabacloud_dysmsapi20170525.models import QuerySendDetailsRequest, SendSmsRequest
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.utils_models import Config as AliyunConfig

from enrollment.adapters.sms_providers import (
    ALIYUN_ENDPOINT,
    ALIYUN_REGION,
    PROVIDER_TZ,
    SmsCredentials,
    asked_again,
    host_of,
    provider_time,
)
from enrollment.core.config import SmsProvider
from enrollment.core.ports import SmsRejected, SmsThrottled
from enrollment.core.sms_delivery import Receipt, SmsRecord
from enrollment.core.sms_templates import SmsMessage

# Alibaba Cloud's answers that mean "not now": a number's or the account's frequency limit
ALIYUN_LATER = frozenset(
    {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "Throttling.User", "Throttling"}
)
# QuerySendDetails' SendStatus: 1 waiting for the carrier's receipt, 2 failed, 3 delivered
ALIYUN_FAILED, ALIYUN_DELIVERED = 2, 3


class AliyunSms:
    """Alibaba Cloud SMS (dysmsapi 2017-05-25, SendSms). Its templates name variables (${code}), so the
    parameters go as a JSON object; a mainland number goes without +86. Receipts: QuerySendDetails,
    one message at a time by its number, its send date (Beijing time) and its BizId."""

    tracks_receipts = True

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

    def receipts(self, pending: Sequence[tuple[SmsRecord, str]]) -> Iterator[Receipt]:
        for record, phone in pending:
            receipt = asked_again(partial(self._detail, record, phone), _throttled)
            if receipt is not None:
                yield receipt

    def _detail(self, record: SmsRecord, phone: str) -> Receipt | None:
        """The message's receipt, or None while the carrier has given none (SendStatus 1)."""
        request = QuerySendDetailsRequest(
            phone_number=phone,
            biz_id=record.message_id,
            send_date=record.sent_at.astimezone(PROVIDER_TZ).strftime("%Y%m%d"),
            page_size=10,
            current_page=1,
        )
        try:
            body = self.client.query_send_details(request).body
        except (ThrottlingException, ServerException) as e:
            raise SmsThrottled(f"{e.code}: {e.message}") from e
        except AlibabaCloudException as e:
            if e.code in ALIYUN_LATER:
                raise SmsThrottled(f"{e.code}: {e.message}") from e
            raise
        if str(body.code) in ALIYUN_LATER:
            raise SmsThrottled(f"{body.code}: {body.message}")
        if str(body.code) != "OK":
            raise RuntimeError(f"QuerySendDetails {body.code}: {body.message}")
        details = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
        for detail in details or []:
            status = int(detail.send_status or 0)
            if status not in (ALIYUN_FAILED, ALIYUN_DELIVERED):
                continue
            at = provider_time(detail.receive_date) if detail.receive_date else record.sent_at
            delivered = status == ALIYUN_DELIVERED
            return Receipt(record.message_id, delivered, "" if delivered else str(detail.err_code or ""), at)
        return None


def _throttled(e: Exception) -> bool:
    return isinstance(e, SmsThrottled)
