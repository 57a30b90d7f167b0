"""`LotteryStore` on the season's single DynamoDB table.

Keys:
- a school and grade's admission: `LOTTERY#{season}` / `{school_id}#g{grade}` (frozen pools, the
  workflow's task token, status, and after the record the ranking and the waitlist pointer)
- a ceremony input:   `LOTTERY#{season}#{school_id}#g{grade}` / `STEP#{index:02d}` (written once)
- an event:           `LOTTERY#{season}#{school_id}#g{grade}` / `EVENT#{UTC instant}#{n}` (append-only)
- an applicant's result: `REG#{id}` / `LOTTERY`
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from enrollment.adapters.table import DynamoTable, record_of


def _school_key(season: str, school_id: str, grade: int) -> dict[str, str]:
    return {"pk": f"LOTTERY#{season}", "sk": f"{school_id}#g{grade}"}


def _ceremony(season: str, school_id: str, grade: int) -> str:
    return f"LOTTERY#{season}#{school_id}#g{grade}"


class DynamoLotteryStore(DynamoTable):
    def put_school(self, item: dict[str, Any]) -> bool:
        key = _school_key(item["season"], item["school_id"], int(item["grade"]))
        return self._put_new({**key, "type": "lottery", **item})

    def school(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None:
        key = _school_key(season, school_id, grade)
        return self._record(key["pk"], key["sk"])

    def schools(self, season: str) -> list[dict[str, Any]]:
        items = self._query(KeyConditionExpression=Key("pk").eq(f"LOTTERY#{season}"), ConsistentRead=True)
        return [record_of(i) for i in items]

    def set_school(self, season: str, school_id: str, grade: int, changes: dict[str, Any]) -> None:
        self._update_if(_school_key(season, school_id, grade), changes, Attr("pk").exists())

    def finish_school(
        self, season: str, school_id: str, grade: int, status: str, changes: dict[str, Any]
    ) -> bool:
        return self._update_if(
            _school_key(season, school_id, grade),
            {"status": status, **changes},
            Attr("pk").exists() & Attr("status").ne(status),
        )

    def steps(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]:
        return [record_of(i) for i in self._under(_ceremony(season, school_id, grade), "STEP#")]

    def put_step(self, season: str, school_id: str, grade: int, step: dict[str, Any]) -> bool:
        return self._put_new(
            {"pk": _ceremony(season, school_id, grade), "sk": f"STEP#{int(step['index']):02d}", **step}
        )

    def put_outcome(self, item: dict[str, Any]) -> bool:
        return self._put_new(
            {"pk": f"REG#{item['registration_id']}", "sk": "LOTTERY", "type": "lottery-outcome", **item}
        )

    def outcome(self, registration_id: str) -> dict[str, Any] | None:
        return self._record(f"REG#{registration_id}", "LOTTERY")

    def change_outcome(self, registration_id: str, expected: str, changes: dict[str, Any]) -> bool:
        return self._update_if(
            {"pk": f"REG#{registration_id}", "sk": "LOTTERY"}, changes, Attr("outcome").eq(expected)
        )

    def claim_next(self, season: str, school_id: str, grade: int, expected_next: int) -> bool:
        return self._update_if(
            _school_key(season, school_id, grade),
            {"next_waitlist_rank": expected_next + 1},
            Attr("next_waitlist_rank").eq(expected_next),
        )

    def append_event(self, season: str, school_id: str, grade: int, event: dict[str, Any]) -> None:
        instant = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        item = {
            "pk": _ceremony(season, school_id, grade),
            "sk": f"EVENT#{instant}#{uuid.uuid4().hex[:8]}",
            **event,
        }
        self._put_new(item)

    def events(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]:
        return [record_of(i) for i in self._under(_ceremony(season, school_id, grade), "EVENT#")]
