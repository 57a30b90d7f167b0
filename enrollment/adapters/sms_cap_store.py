"""`SmsCapStore` on the season's single table: the SMS caps' counts (enrollment/core/sms_caps.py).

Keys, beside the parents' codes and sessions (parent_store.py):
- a phone's codes:  `SMSCAP#phone#{keyed hash of the number}` / `PHONE`: the times of the codes sent to
  it within the last day, versioned (writes are conditional on the version); never the number.
- a minute's SMS:   `SMSCAP#minute#{YYYY-MM-DDTHH:MM, UTC}` / `COUNT`: `codes` and `notices`, added to
  with ADD (codes only while the hour stays within its cap: a condition on `codes`). One item a
  minute: the season's SMS are never one hot key, and a minute's item sees a few writes a second at
  the cap's rate (10,000 an hour), far below a partition's 1,000.

Every item carries `expires_epoch` (seconds) for the table's TTL: a phone's record a day after its
last code, a minute's counter a day after it left the hour's window (kept for staff to see).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr

from enrollment.adapters.table import DynamoTable
from enrollment.core.resources import TTL_ATTRIBUTE
from enrollment.core.sms_caps import PHONE_DAY, WINDOW, MinuteCount, PhoneSends

KEPT = timedelta(days=1)


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _minute_pk(minute: datetime) -> str:
    return f"SMSCAP#minute#{minute.strftime('%Y-%m-%dT%H:%M')}"


class DynamoSmsCapStore(DynamoTable):
    def phone_sends(self, phone_key: str) -> PhoneSends | None:
        item = self._get(f"SMSCAP#phone#{phone_key}", "PHONE")
        if item is None:
            return None
        return PhoneSends(
            phone_key=phone_key,
            sends=tuple(datetime.fromisoformat(str(t)) for t in item.get("sends", [])),
            version=int(item["version"]),
        )

    def put_phone_sends(self, record: PhoneSends, expected_version: int | None) -> bool:
        last = max(record.sends, default=None)
        item: dict[str, Any] = {
            "pk": f"SMSCAP#phone#{record.phone_key}",
            "sk": "PHONE",
            "type": "sms-cap-phone",
            "sends": [t.isoformat() for t in record.sends],
            "version": record.version,
            TTL_ATTRIBUTE: _epoch(last + PHONE_DAY) if last else 0,
        }
        condition = (
            Attr("pk").not_exists() if expected_version is None else Attr("version").eq(expected_version)
        )
        return self._put_if(item, condition)

    def minute_counts(self, minutes: Sequence[datetime]) -> dict[datetime, MinuteCount]:
        by_pk = {_minute_pk(m): m for m in minutes}
        found = self._get_many((pk, "COUNT") for pk in by_pk)
        return {
            by_pk[pk]: MinuteCount(by_pk[pk], int(item.get("codes", 0)), int(item.get("notices", 0)))
            for (pk, _), item in found.items()
        }

    def _add(self, minute: datetime, field: str, count: int, condition: str | None, most: int) -> bool:
        values: dict[str, Any] = {
            ":n": count,
            ":type": "sms-cap-minute",
            ":minute": minute.isoformat(),
            ":ttl": _epoch(minute + WINDOW + KEPT),
        }
        kwargs: dict[str, Any] = {
            "Key": {"pk": _minute_pk(minute), "sk": "COUNT"},
            "UpdateExpression": "ADD #field :n SET #type = :type, #minute = :minute, #ttl = :ttl",
            "ExpressionAttributeNames": {
                "#field": field,
                "#type": "type",
                "#minute": "minute",
                "#ttl": TTL_ATTRIBUTE,
            },
            "ExpressionAttributeValues": values,
        }
        if condition is None:
            self._call(self.table.update_item, **kwargs)
            return True
        values[":most"] = most - count
        return self._write_if(self.table.update_item, **kwargs, ConditionExpression=condition)

    def add_codes(self, minute: datetime, count: int, most: int) -> bool:
        if most - count < 0:
            return False
        return self._add(minute, "codes", count, "attribute_not_exists(#field) OR #field <= :most", most)

    def add_notices(self, minute: datetime, count: int) -> None:
        self._add(minute, "notices", count, None, 0)
