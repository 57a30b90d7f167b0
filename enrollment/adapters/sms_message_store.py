"""`SmsMessageStore` on the season's single table: the message records of enrollment/core/sms_delivery.py.

Keys, beside the SMS caps' counts (sms_cap_store.py):
- a message:          `SMS#{provider's message id}` / `MESSAGE`: the record (status, error code, times;
  the phone only masked, never the number).
- open messages:      `SEASON#{season}#SMS-OPEN` / `{sent at, UTC}#{message id}`: a copy of each tracked
  message still `sent`, oldest first, which the receipts task reads (a Query, no scan) and deletes
  once the message is settled. A notice day writes a few a second here, far below a partition's
  1,000.
- retries:            `SEASON#{season}#SMS-RETRY` / `{due, UTC}#{message id}`: failed notice SMS waiting
  for their next send, read up to now.
- a district's list:  `SEASON#{season}#SMS-FAILED#{district}` / `REG#{registration id}#{purpose}`: the
  family to phone (the latest failure of its notice, or code), and who phoned when.

Every item carries `expires_epoch` (the table's TTL) at the season's erasure date when the store is
given it (`expires_epoch`, wiring.py): a message record names a registration and a masked phone, and
outlives neither the season's personal data nor its purpose.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from enrollment.adapters.table import DynamoTable
from enrollment.core.resources import TTL_ATTRIBUTE
from enrollment.core.sms_delivery import SmsFailure, SmsRecord

UTC_KEY = "%Y-%m-%dT%H:%M:%S.%fZ"


def _key_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime(UTC_KEY)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _open_pk(season: str) -> str:
    return f"SEASON#{season}#SMS-OPEN"


def _open_sk(record: SmsRecord) -> str:
    """An open message's place: when it was last asked about without an answer, or sent."""
    return f"{_key_time(record.asked_at or record.sent_at)}#{record.message_id}"


def _retry_pk(season: str) -> str:
    return f"SEASON#{season}#SMS-RETRY"


def _failed_pk(season: str, district: str) -> str:
    return f"SEASON#{season}#SMS-FAILED#{district}"


def item_of(record: SmsRecord) -> dict[str, Any]:
    return {
        "message_id": record.message_id,
        "season": record.season,
        "purpose": record.purpose,
        "template": record.template,
        "phone_masked": record.phone_masked,
        "guardian": record.guardian,
        "sent_at": record.sent_at.isoformat(),
        "registration_id": record.registration_id,
        "district": record.district,
        "school_id": record.school_id,
        "params": dict(record.params),
        "attempt": record.attempt,
        "tracked": record.tracked,
        "status": record.status,
        "error_code": record.error_code,
        "status_at": record.status_at.isoformat() if record.status_at else "",
        "retry_at": record.retry_at.isoformat() if record.retry_at else "",
        "asked_at": record.asked_at.isoformat() if record.asked_at else "",
    }


def record_of(item: dict[str, Any]) -> SmsRecord:
    sent_at = _time(item["sent_at"])
    assert sent_at is not None
    return SmsRecord(
        message_id=str(item["message_id"]),
        season=str(item["season"]),
        purpose=item["purpose"],
        template=str(item["template"]),
        phone_masked=str(item["phone_masked"]),
        guardian=int(item["guardian"]),
        sent_at=sent_at,
        registration_id=str(item.get("registration_id", "")),
        district=str(item.get("district", "")),
        school_id=str(item.get("school_id", "")),
        params={str(k): str(v) for k, v in (item.get("params") or {}).items()},
        attempt=int(item.get("attempt", 1)),
        tracked=bool(item.get("tracked", True)),
        status=item["status"],
        error_code=str(item.get("error_code", "")),
        status_at=_time(item.get("status_at")),
        retry_at=_time(item.get("retry_at")),
        asked_at=_time(item.get("asked_at")),
    )


def _failure_item(failure: SmsFailure) -> dict[str, Any]:
    return {
        "pk": _failed_pk(failure.season, failure.district),
        "sk": f"REG#{failure.registration_id}#{failure.purpose}",
        "type": "sms-failure",
        "season": failure.season,
        "district": failure.district,
        "registration_id": failure.registration_id,
        "purpose": failure.purpose,
        "school_id": failure.school_id,
        "phone_masked": failure.phone_masked,
        "guardian": failure.guardian,
        "attempts": failure.attempts,
        "error_code": failure.error_code,
        "failed_at": failure.failed_at.isoformat(),
        "message_id": failure.message_id,
        "phoned_by": failure.phoned_by,
        "phoned_at": failure.phoned_at.isoformat() if failure.phoned_at else "",
    }


def _failure_of(item: dict[str, Any]) -> SmsFailure:
    failed_at = _time(item["failed_at"])
    assert failed_at is not None
    return SmsFailure(
        season=str(item["season"]),
        district=str(item["district"]),
        registration_id=str(item["registration_id"]),
        purpose=item["purpose"],
        school_id=str(item.get("school_id", "")),
        phone_masked=str(item["phone_masked"]),
        guardian=int(item["guardian"]),
        attempts=int(item["attempts"]),
        error_code=str(item.get("error_code", "")),
        failed_at=failed_at,
        message_id=str(item["message_id"]),
        phoned_by=str(item.get("phoned_by", "")),
        phoned_at=_time(item.get("phoned_at")),
    )


class DynamoSmsMessageStore(DynamoTable):
    def __init__(self, table_name: str, expires_epoch: int | None = None) -> None:
        super().__init__(table_name)
        self.expires = {TTL_ATTRIBUTE: expires_epoch} if expires_epoch else {}

    def put_message(self, record: SmsRecord) -> None:
        """The message's record, written once the SMS is out (or refused): a throttled write is tried
        again here (`_after_the_fact`), not by the batch, whose retry would text the family again."""
        message = {
            "pk": f"SMS#{record.message_id}",
            "sk": "MESSAGE",
            "type": "sms-message",
            **item_of(record),
        }
        items = [message | self.expires]
        if record.tracked and record.status == "sent":
            items.append(self._open_item(record))
        self._after_the_fact(lambda: self._put_all(items))

    def _open_item(self, record: SmsRecord) -> dict[str, Any]:
        item = {"pk": _open_pk(record.season), "sk": _open_sk(record), "type": "sms-open", **item_of(record)}
        return item | self.expires

    def message(self, message_id: str) -> SmsRecord | None:
        item = self._get(f"SMS#{message_id}", "MESSAGE")
        return record_of(item) if item else None

    def open_messages(self, season: str, limit: int) -> list[SmsRecord]:
        page = self._call(
            self.table.query,
            KeyConditionExpression=Key("pk").eq(_open_pk(season)),
            ConsistentRead=True,
            Limit=limit,
        )
        return [record_of(dict(i)) for i in page["Items"]]

    def settle(self, record: SmsRecord) -> bool:
        changed = self._update_if(
            {"pk": f"SMS#{record.message_id}", "sk": "MESSAGE"},
            {
                "status": record.status,
                "error_code": record.error_code,
                "status_at": record.status_at.isoformat() if record.status_at else "",
            },
            Attr("status").eq("sent"),
        )
        self.close(record)
        return changed

    def close(self, record: SmsRecord) -> None:
        self._call(self.table.delete_item, Key={"pk": _open_pk(record.season), "sk": _open_sk(record)})

    def defer(self, record: SmsRecord, asked_at: datetime) -> None:
        """The message's `asked_at` too, which names its open item for `settle` and `close`."""
        if not self._update_if(
            {"pk": f"SMS#{record.message_id}", "sk": "MESSAGE"},
            {"asked_at": asked_at.isoformat()},
            Attr("status").eq("sent"),
        ):
            return  # settled meanwhile (a concurrent run): its open item is gone
        self.close(record)
        self._call(self.table.put_item, Item=self._open_item(replace(record, asked_at=asked_at)))

    def put_retry(self, record: SmsRecord) -> None:
        assert record.retry_at is not None
        self._call(
            self.table.put_item,
            Item={
                "pk": _retry_pk(record.season),
                "sk": f"{_key_time(record.retry_at)}#{record.message_id}",
                "type": "sms-retry",
                **item_of(record),
                **self.expires,
            },
        )

    def due_retries(self, season: str, now: datetime, limit: int) -> list[SmsRecord]:
        page = self._call(
            self.table.query,
            KeyConditionExpression=Key("pk").eq(_retry_pk(season)) & Key("sk").lte(f"{_key_time(now)}#~"),
            ConsistentRead=True,
            Limit=limit,
        )
        return [record_of(dict(i)) for i in page["Items"]]

    def drop_retry(self, record: SmsRecord) -> None:
        assert record.retry_at is not None
        self._call(
            self.table.delete_item,
            Key={"pk": _retry_pk(record.season), "sk": f"{_key_time(record.retry_at)}#{record.message_id}"},
        )

    def put_failure(self, failure: SmsFailure) -> None:
        self._call(self.table.put_item, Item=_failure_item(failure) | self.expires)

    def failures(self, season: str, district: str) -> list[SmsFailure]:
        return [_failure_of(i) for i in self._under(_failed_pk(season, district), "REG#")]

    def failure(self, season: str, district: str, registration_id: str, purpose: str) -> SmsFailure | None:
        item = self._get(_failed_pk(season, district), f"REG#{registration_id}#{purpose}")
        return _failure_of(item) if item else None

    def mark_phoned(self, failure: SmsFailure, by: str, at: datetime) -> bool:
        return self._update_if(
            {
                "pk": _failed_pk(failure.season, failure.district),
                "sk": f"REG#{failure.registration_id}#{failure.purpose}",
            },
            {"phoned_by": by, "phoned_at": at.isoformat()},
            Attr("pk").exists() & Attr("message_id").eq(failure.message_id) & Attr("phoned_by").eq(""),
        )
