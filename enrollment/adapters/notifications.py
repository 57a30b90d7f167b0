"""Notices' adapters: the notice record (DynamoDB), SMS by SNS or, locally, an outbox file."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr

from enrollment.adapters.clients import Client
from enrollment.adapters.kms import hmac_sha256
from enrollment.adapters.table import DynamoTable
from enrollment.core.idcard import mask_phone

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

_lock = threading.Lock()


class DynamoNoticeStore(DynamoTable):
    """`REG#{id}` / `NOTICE`: where the PDF is, its verification code, when the SMS went out."""

    def notice(self, registration_id: str) -> dict[str, Any] | None:
        return self._record(f"REG#{registration_id}", "NOTICE")

    def start_notice(self, item: dict[str, Any]) -> bool:
        return self._put_new(
            {"pk": f"REG#{item['registration_id']}", "sk": "NOTICE", "type": "notice", **item}
        )

    def notice_sent(self, registration_id: str, message_id: str, at: str) -> None:
        self._update_if(
            {"pk": f"REG#{registration_id}", "sk": "NOTICE"},
            {"sms_message_id": message_id, "sms_sent_at": at},
            Attr("pk").exists(),
        )


class SnsSms:
    """SMS through Amazon SNS (transactional), to mainland numbers in E.164 form."""

    client: Client[Any] = Client("sns")

    def send(self, phone: str, text: str) -> str:
        answer = self.client.publish(
            PhoneNumber=f"+86{phone}",
            Message=text,
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
        return str(answer["MessageId"])


class OutboxSms:
    """The embedded backend's SMS: one JSON line per message in a local file (the phone masked)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def send(self, phone: str, text: str) -> str:
        message_id = f"outbox-{uuid.uuid4().hex[:12]}"
        line = {"id": message_id, "to": mask_phone(phone), "text": text}
        with _lock, self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return message_id


def notice_secret(client: KMSClient, key_id: str, season: str) -> bytes:
    """The secret behind notices' verification codes, derived in KMS (the HMAC key never leaves it)."""
    return hmac_sha256(client, key_id, f"enrollment-notice-secret/1|{season}".encode())
