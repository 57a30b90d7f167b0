"""Notices' adapters: the notice record (DynamoDB), SMS by SNS or, locally, an outbox file."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from enrollment.adapters.clients import THROTTLED, Client
from enrollment.adapters.kms import hmac_sha256
from enrollment.adapters.table import DynamoTable
from enrollment.core.idcard import mask_phone
from enrollment.core.ports import SmsRejected, SmsThrottled
from enrollment.core.sms_delivery import Receipt, SmsRecord
from enrollment.core.sms_templates import SmsMessage

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

_lock = threading.Lock()


class DynamoNoticeStore(DynamoTable):
    """`REG#{id}` / `NOTICE`: where the PDF is, its verification code, when the SMS went out.

    A notices batch also reads its children's places here, `REG#{id}` / `PLACEMENT` (written by the
    placement run, placement_store.py), batched with BatchGetItem as the notice records are."""

    def notice(self, registration_id: str) -> dict[str, Any] | None:
        return self._record(f"REG#{registration_id}", "NOTICE")

    def notices_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several children's notice records by registration id (BatchGetItem; those without one absent)."""
        return self._records_of(registration_ids, "NOTICE")

    def placed(self, registration_id: str) -> dict[str, Any] | None:
        return self._record(f"REG#{registration_id}", "PLACEMENT")

    def placed_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several children's stored places by registration id (BatchGetItem; those not placed absent)."""
        return self._records_of(registration_ids, "PLACEMENT")

    def start_notice(self, item: dict[str, Any]) -> bool:
        return self._put_new(
            {"pk": f"REG#{item['registration_id']}", "sk": "NOTICE", "type": "notice", **item}
        )

    def notice_sent(self, registration_id: str, message_id: str, at: str) -> None:
        """Mark the SMS sent. The SMS is already out: a throttled write is tried again (`_after_the_fact`)."""
        self._after_the_fact(
            lambda: self._update_if(
                {"pk": f"REG#{registration_id}", "sk": "NOTICE"},
                {"sms_message_id": message_id, "sms_sent_at": at},
                Attr("pk").exists(),
            )
        )

    def notice_manual(self, item: dict[str, Any]) -> None:
        """The notice record marked `manual` (no PDF, no SMS; the bureau issues it by hand) and its line
        in the district's list, `SEASON#{season}#NOTICES-MANUAL#{district}` / `REG#{id}`."""
        rid, season, district = item["registration_id"], item["season"], item["district"]
        self._put_all(
            [
                {"pk": f"REG#{rid}", "sk": "NOTICE", "type": "notice", **item},
                {
                    "pk": f"SEASON#{season}#NOTICES-MANUAL#{district}",
                    "sk": f"REG#{rid}",
                    "type": "notice-manual",
                    **item,
                },
            ]
        )

    def revoked_notice(self, registration_id: str, code: str) -> dict[str, Any] | None:
        """A revoked notice of the child, `REG#{id}` / `NOTICE#REVOKED#{code}` (issue 18)."""
        return self._record(f"REG#{registration_id}", f"NOTICE#REVOKED#{code}")

    def replace_notice(self, revoked: dict[str, Any], new: dict[str, Any] | None) -> bool:
        """The old notice kept as revoked, then the child's record replaced (or marked revoked), if it
        still holds the revoked code. The revoked item is written first and the same on a retry, so a
        code is never left neither current nor revoked."""
        rid, code = revoked["registration_id"], revoked["verification_code"]
        self._put_all(
            [{"pk": f"REG#{rid}", "sk": f"NOTICE#REVOKED#{code}", "type": "notice-revoked", **revoked}]
        )
        holds = Attr("verification_code").eq(code)
        if new is None:
            changes = {"status": "revoked", "revoked_on": revoked["revoked_on"]}
            return self._update_if({"pk": f"REG#{rid}", "sk": "NOTICE"}, changes, holds)
        return self._put_if({"pk": f"REG#{rid}", "sk": "NOTICE", "type": "notice", **new}, holds)

    def claim_notice_sms(self, registration_id: str, code: str, at: str) -> bool:
        """Claim the notice's SMS once, on the record holding `code` (a retry finds it claimed)."""
        return self._update_if(
            {"pk": f"REG#{registration_id}", "sk": "NOTICE"},
            {"sms_claimed_at": at},
            Attr("verification_code").eq(code) & Attr("sms_claimed_at").not_exists(),
        )

    def release_notice_sms(self, registration_id: str, code: str) -> bool:
        """Give the SMS's claim back (the provider did not take it), unless it is marked sent."""
        return self._write_if(
            self.table.update_item,
            Key={"pk": f"REG#{registration_id}", "sk": "NOTICE"},
            UpdateExpression="REMOVE sms_claimed_at",
            ConditionExpression=Attr("verification_code").eq(code) & Attr("sms_message_id").not_exists(),
        )

    def notice_unsent_listed(self, registration_id: str, code: str, at: str) -> bool:
        """Mark a claimed, never sent SMS listed to its district, once."""
        return self._update_if(
            {"pk": f"REG#{registration_id}", "sk": "NOTICE"},
            {"sms_unsent_listed_at": at},
            Attr("verification_code").eq(code) & Attr("sms_unsent_listed_at").not_exists(),
        )

    def manual_notices(self, season: str, district: str) -> list[dict[str, Any]]:
        """The district's notices to issue by hand, by registration id."""
        return [
            {k: v for k, v in record.items() if k not in ("pk", "sk", "type")}
            for record in self._under(f"SEASON#{season}#NOTICES-MANUAL#{district}", "REG#")
        ]


class SnsSms:
    """SMS through Amazon SNS (transactional), the rendered template to a mainland number in E.164 form.
    Not from the China regions, where SNS sends no SMS (infra/stack.py refuses that season)."""

    client: Client[Any] = Client("sns")
    # SNS's delivery receipts are CloudWatch Logs delivery-status logs, which no SDK call reads back per
    # message: an SNS message's `sent` is final (enrollment/core/sms_delivery.py)
    tracks_receipts = False

    def receipts(self, pending: Sequence[tuple[SmsRecord, str]]) -> Iterator[Receipt]:
        return iter(())

    def send(self, phone: str, message: SmsMessage) -> str:
        try:
            answer = self.client.publish(
                PhoneNumber=f"+86{phone}",
                Message=message.text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
                },
            )
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code", ""))
            text = str(e.response.get("Error", {}).get("Message", ""))
            if code in THROTTLED or code in ("InternalError", "InternalFailure"):
                raise SmsThrottled(f"{code}: {text}") from e
            raise SmsRejected(code, text) from e
        return str(answer["MessageId"])


class OutboxSms:
    """The embedded backend's SMS: one JSON line per message in a local file (the phone masked), with
    the template and the rendered text."""

    tracks_receipts = False  # a file receives everything: `sent` is final

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def receipts(self, pending: Sequence[tuple[SmsRecord, str]]) -> Iterator[Receipt]:
        return iter(())

    def send(self, phone: str, message: SmsMessage) -> str:
        message_id = f"outbox-{uuid.uuid4().hex[:12]}"
        line = {"id": message_id, "to": mask_phone(phone), "template": message.template, "text": message.text}
        with _lock, self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        return message_id


def notice_secret(client: KMSClient, key_id: str, season: str) -> bytes:
    """The secret behind notices' verification codes, derived in KMS (the HMAC key never leaves it)."""
    return hmac_sha256(client, key_id, f"enrollment-notice-secret/1|{season}".encode())
