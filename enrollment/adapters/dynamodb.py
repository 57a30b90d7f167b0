"""DynamoDB single-table adapter.

Keys: `REG#{id}`/`REG` registrations, where the id is derived from the keyed hash of the child's ID
number, so one conditional put is the one-child-one-registration check (R-REG-2); GSI1
`SEASON#{season}#REG` → `{grade}#{district}#{id}` lists a season; `SEASON#{season}`/`GATE#{phase}` gates,
`SEASON#{season}`/`WINDOW#{grade}` window extensions, `SEASON#{season}`/`DEMAND#…` demand recorded at
close; `SEASON#{season}#LIVE`/`{scope}#{id}#g{grade}` the live demand counters (R-WARN-1), added to
right after a registration is stored, so a refused registration counts nowhere (see
`create_registration`). Their own partition key keeps them out of `season_items`, which every
registration reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from enrollment.core.ports import Conflict, DuplicateChild, NotFound, StoreUnavailable
from enrollment.registration.demand import CounterKey, counter_keys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


def _unavailable(e: ClientError) -> bool:
    return e.response["Error"]["Code"] in _RETRYABLE


class DynamoStore:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @cached_property
    def table(self) -> Table:  # created lazily: mocks first, clients after
        return boto3.resource("dynamodb").Table(self.table_name)

    def create_registration(self, item: dict[str, Any]) -> None:
        """The registration if its child is new (R-REG-2), then +1 on each of its demand counters
        (R-WARN-1).

        Not one transaction, on purpose: when a window opens thousands of families register for the
        same few schools, and transactions touching the same counter item cancel each other
        (TransactionConflict), while a plain ADD on a hot item never conflicts. A refused registration
        counts nowhere (the conditional put fails first). Should a counter write fail after the put
        (throttling), the registration stands and that count is one short until registration closes,
        when demand is recounted from the registrations themselves (functions/register/close.py).
        """
        rid = item["registration_id"]
        try:
            self.table.put_item(
                Item={"pk": f"REG#{rid}", "sk": "REG", **item}, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise DuplicateChild(rid) from None
            if _unavailable(e):
                raise StoreUnavailable(str(e)) from None
            raise
        live = _live_pk(str(item["season"]))
        for key in counter_keys(item):
            try:
                self.table.update_item(
                    Key={"pk": live, "sk": _live_sk(key)},
                    UpdateExpression="ADD applicants :one SET #scope = :scope, #id = :id, grade = :grade",
                    ExpressionAttributeNames={"#scope": "scope", "#id": "id"},
                    ExpressionAttributeValues={":one": 1, ":scope": key[0], ":id": key[1], ":grade": key[2]},
                )
            except ClientError as e:
                if not _unavailable(e):
                    raise
                # the registration is stored: a warning count short by one until close beats refusing it

    def live_counts(self, season: str) -> dict[CounterKey, int]:
        out: dict[CounterKey, int] = {}
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(_live_pk(season))}
        while True:
            page = self.table.query(**kwargs)
            for i in page["Items"]:
                out[(str(i["scope"]), str(i["id"]), int(str(i["grade"])))] = int(str(i["applicants"]))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_registration(self, registration_id: str) -> dict[str, Any]:
        item = self.table.get_item(Key={"pk": f"REG#{registration_id}", "sk": "REG"}).get("Item")
        if item is None:
            raise NotFound(registration_id)
        return dict(item)

    def registrations(self, season: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": Key("gsi1pk").eq(f"SEASON#{season}#REG"),
        }
        while True:
            page = self.table.query(**kwargs)
            yield from (dict(i) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def season_items(self, season: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(f"SEASON#{season}")}
        while True:
            page = self.table.query(**kwargs)
            out += [dict(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get_gate(self, season: str, phase: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": f"SEASON#{season}", "sk": f"GATE#{phase}"}, ConsistentRead=True)
        return dict(item["Item"]) if "Item" in item else None

    def put_gate_open(self, season: str, phase: str, item: dict[str, Any]) -> None:
        try:
            self.table.put_item(
                Item={"pk": f"SEASON#{season}", "sk": f"GATE#{phase}", **item},
                ConditionExpression="attribute_not_exists(pk) OR #s = :open",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":open": "open"},
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(f"gate {phase} was already advanced") from None
            if _unavailable(e):
                raise StoreUnavailable(str(e)) from None
            raise

    def close_gate(self, season: str, phase: str, changes: dict[str, Any]) -> None:
        names = {f"#k{i}": k for i, k in enumerate(changes)}
        values = {f":v{i}": v for i, v in enumerate(changes.values())}
        sets = ", ".join(f"#k{i} = :v{i}" for i in range(len(changes)))
        try:
            self.table.update_item(
                Key={"pk": f"SEASON#{season}", "sk": f"GATE#{phase}"},
                UpdateExpression=f"SET {sets}",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={**names, "#s": "status"},
                ExpressionAttributeValues={**values, ":open": "open"},
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(f"gate {phase} is not open") from None
            raise

    def set_gate_deadline(self, season: str, phase: str, deadline: str) -> None:
        self.table.update_item(
            Key={"pk": f"SEASON#{season}", "sk": f"GATE#{phase}"},
            UpdateExpression="SET deadline = :d",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":d": deadline},
        )

    def put_season_items(self, items: Iterable[dict[str, Any]]) -> None:
        with self.table.batch_writer() as batch:
            for item in items:
                batch.put_item(Item=item)


def _live_pk(season: str) -> str:
    return f"SEASON#{season}#LIVE"


def _live_sk(key: CounterKey) -> str:
    scope, ident, grade = key
    return f"{scope}#{ident}#g{grade}"
