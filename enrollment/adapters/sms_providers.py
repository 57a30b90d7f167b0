"""SMS through a provider licensed in China: Alibaba Cloud SMS (sms_aliyun.py) and Tencent Cloud SMS
(sms_tencent.py), issue 17. Each in its own module, since a season's Lambdas carry only its own
provider's SDK (Alibaba Cloud's in the SMS layer, requirements/sms.txt).

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
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from enrollment.adapters.clients import Client

ALIYUN_REGION = "cn-hangzhou"
ALIYUN_ENDPOINT = "dysmsapi.aliyuncs.com"
TENCENT_REGION = "ap-guangzhou"
TENCENT_ENDPOINT = "sms.tencentcloudapi.com"
# Both China providers give their receipts' times, and take Alibaba Cloud's SendDate, in Beijing time
PROVIDER_TZ = ZoneInfo("Asia/Shanghai")
RECEIPT_ATTEMPTS = (
    4  # a throttled receipt query asked again, 0.5 s, 1 s, 2 s apart, then left for the next run
)
RECEIPT_BACKOFF_S = 0.5

T = TypeVar("T")


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


def host_of(endpoint: str) -> tuple[str, str]:
    """`http://127.0.0.1:8080` -> ("http", "127.0.0.1:8080"); empty -> the provider's default over HTTPS."""
    scheme, _, host = endpoint.partition("://")
    return (scheme, host) if host else ("https", "")


def provider_time(text: str) -> datetime:
    """`2026-06-20 18:01:07` (Beijing time, as both providers write it) -> an aware datetime."""
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=PROVIDER_TZ)


def asked_again(
    call: Callable[[], T], later: Callable[[Exception], bool], sleep: Callable[[float], None] = time.sleep
) -> T:
    """A receipt query, asked again with backoff while the provider says "not now" (`later`); the last
    refusal is raised. Receipts wait without harm, so the task only slows down here."""
    for attempt in range(RECEIPT_ATTEMPTS):
        try:
            return call()
        except Exception as e:
            if not later(e) or attempt == RECEIPT_ATTEMPTS - 1:
                raise
            sleep(RECEIPT_BACKOFF_S * 2**attempt)
    raise AssertionError("unreachable")
