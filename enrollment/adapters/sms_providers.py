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
from typing import Any

from enrollment.adapters.clients import Client

ALIYUN_REGION = "cn-hangzhou"
ALIYUN_ENDPOINT = "dysmsapi.aliyuncs.com"
TENCENT_REGION = "ap-guangzhou"
TENCENT_ENDPOINT = "sms.tencentcloudapi.com"


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
