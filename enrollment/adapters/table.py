"""The season table's low-level access shared by the store adapters: conditional puts, reads, queries.

Throttling becomes StoreUnavailable (the ASL retries on that name); a refused condition is False.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.conditions import ConditionBase
from botocore.exceptions import ClientError

from enrollment.core.ports import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

RETRYABLE = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
KEY_FIELDS = ("pk", "sk", "gsi1pk", "gsi1sk", "type", "at_utc")


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal: turn them into ints again (nothing here is fractional)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def record_of(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its keys, numbers as ints."""
    return {k: plain(v) for k, v in item.items() if k not in KEY_FIELDS}


class DynamoTable:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @cached_property
    def table(self) -> Table:  # created lazily: mocks first, clients after
        return boto3.resource("dynamodb").Table(self.table_name)

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as e:
            if e.response["Error"]["Code"] in RETRYABLE:
                raise StoreUnavailable(str(e)) from None
            raise

    def _put_if(self, item: dict[str, Any], condition: ConditionBase | str) -> bool:
        """A conditional put: True if written, False if the condition refused it."""
        return self._write_if(self.table.put_item, Item=item, ConditionExpression=condition)

    def _update_if(
        self, key: dict[str, str], changes: dict[str, Any], condition: ConditionBase | str
    ) -> bool:
        """Set attributes if the condition holds: True if changed, False if refused.

        Placeholders are `#setN`/`:setN`: boto3 names the condition's own `#n0`/`:v0`, which must not clash.
        """
        names = {f"#set{i}": k for i, k in enumerate(changes)}
        values = {f":set{i}": v for i, v in enumerate(changes.values())}
        return self._write_if(
            self.table.update_item,
            Key=key,
            UpdateExpression="SET " + ", ".join(f"#set{i} = :set{i}" for i in range(len(changes))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ConditionExpression=condition,
        )

    def _write_if(self, fn: Any, **kwargs: Any) -> bool:
        try:
            fn(**kwargs)
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                return False
            if code in RETRYABLE:
                raise StoreUnavailable(str(e)) from None
            raise
        return True

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._call(self.table.get_item, Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")
        return dict(item) if item is not None else None

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self._call(self.table.query, **kwargs)
            yield from (dict(i) for i in page["Items"])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
