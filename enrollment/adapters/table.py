"""The season table's low-level access shared by the store adapters: conditional puts, reads, queries.

Throttling becomes StoreUnavailable (the ASL retries on that name); a refused condition is False.
Every item has `pk` / `sk`; an item a season lists also has `gsi1pk` / `gsi1sk` (index `gsi1`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from botocore.exceptions import ClientError

from enrollment.adapters.clients import RETRIES, throttled
from enrollment.core.ports import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

KEYS = ("pk", "sk", "gsi1pk", "gsi1sk")
KEY_FIELDS = (*KEYS, "type", "at_utc")


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


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    """An item without its table and index keys, otherwise as DynamoDB gave it."""
    return {k: v for k, v in item.items() if k not in KEYS}


def pages(query: Callable[..., Any], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a query (or scan) finds, page after page."""
    while True:
        page = query(**kwargs)
        yield from (dict(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dynamodb_resource() -> Any:
    """The DynamoDB service resource the table adapters use; `enrollment.local` may install another
    engine with the same interface (`Table(name)`, `batch_get_item`) for large local seasons. Its
    client retries as every adapter's does (clients.RETRIES: standard mode, throttling backed off)."""
    return ENGINE() if ENGINE is not None else boto3.resource("dynamodb", config=RETRIES)


def dynamodb_client() -> Any:
    """The low-level DynamoDB client (typed AttributeValues) for Powertools' idempotency layer;
    `enrollment.local` installs its engine's (`ENGINE_CLIENT`) with the engine."""
    return ENGINE_CLIENT() if ENGINE_CLIENT is not None else boto3.client("dynamodb", config=RETRIES)


ENGINE: Callable[[], Any] | None = None
ENGINE_CLIENT: Callable[[], Any] | None = None
BATCH_GET = 100  # BatchGetItem's limit of keys a call
BATCH_GET_ATTEMPTS = 8


AFTER_THE_FACT_ATTEMPTS = 6  # about 3 s of backoff in all before a task gives up recording a deed done


class DynamoTable:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @cached_property
    def resource(self) -> Any:  # created lazily: mocks first, clients after
        return dynamodb_resource()

    @cached_property
    def table(self) -> Table:
        return self.resource.Table(self.table_name)  # type: ignore[no-any-return]

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ClientError as e:
            if throttled(e):
                raise StoreUnavailable(str(e)) from None
            raise

    def _after_the_fact(self, write: Callable[[], object], attempts: int = AFTER_THE_FACT_ATTEMPTS) -> None:
        """A write recording what already happened outside (an SMS is out): a throttled write is tried
        again here, with backoff, rather than failing the task, whose retry would redo the deed (text
        the family a second time). Throttling is known however it comes: StoreUnavailable, or AWS's own
        error from a call that does not translate it."""
        for attempt in range(attempts):
            try:
                write()
                return
            except Exception as e:
                if not (isinstance(e, StoreUnavailable) or throttled(e)) or attempt == attempts - 1:
                    raise
                time.sleep(0.1 * 2**attempt)

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
            if throttled(e):
                raise StoreUnavailable(str(e)) from None
            raise
        return True

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = self._call(self.table.get_item, Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")
        return dict(item) if item is not None else None

    def _get_many(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Many items by (pk, sk), read consistently with BatchGetItem (100 keys a call, unprocessed
        keys asked again); the items found, by key. Keys not found are absent."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for start in range(0, len(wanted), BATCH_GET):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": [{"pk": pk, "sk": sk} for pk, sk in wanted[start : start + BATCH_GET]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(BATCH_GET_ATTEMPTS):
                answer = self._call(self.resource.batch_get_item, RequestItems=request)
                for item in answer.get("Responses", {}).get(self.table_name, []):
                    found[(str(item["pk"]), str(item["sk"]))] = dict(item)
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))  # AWS's advice for unprocessed keys: back off
            else:
                raise StoreUnavailable(f"BatchGetItem left keys unprocessed {BATCH_GET_ATTEMPTS} times")
        return found

    def _records_of(self, registration_ids: Iterable[str], sk: str) -> dict[str, dict[str, Any]]:
        """Each registration's item under `sk` (`REG#{id}` / `sk`) as its record, batched; by id,
        those without one absent."""
        found = self._get_many((f"REG#{rid}", sk) for rid in registration_ids)
        return {pk.removeprefix("REG#"): record_of(item) for (pk, _), item in found.items()}

    def _record(self, pk: str, sk: str) -> dict[str, Any] | None:
        """One item as its record (`record_of`), or None."""
        item = self._get(pk, sk)
        return record_of(item) if item else None

    def _query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from pages(partial(self._call, self.table.query), **kwargs)

    def _put_new(self, item: dict[str, Any]) -> bool:
        """A put that never overwrites: True if written, False if the item was already there."""
        return self._put_if(item, Attr("pk").not_exists())

    def _put_all(self, items: Iterable[dict[str, Any]]) -> None:
        """Unconditional puts, batched. Throttling becomes StoreUnavailable as in `_call`: a raw
        ClientError would slip past `_after_the_fact`, and the task's retry would redo the deed."""
        try:
            with self.table.batch_writer() as batch:
                for item in items:
                    batch.put_item(Item=item)
        except ClientError as e:
            if throttled(e):
                raise StoreUnavailable(str(e)) from None
            raise

    def _under(self, pk: str, sk_prefix: str) -> Iterator[dict[str, Any]]:
        """The items of one partition whose sort key starts with `sk_prefix`, read consistently."""
        return self._query(
            KeyConditionExpression=Key("pk").eq(pk) & Key("sk").begins_with(sk_prefix), ConsistentRead=True
        )

    def _range(self, gsi1pk: str, low: str, high: str, wanted: int) -> list[dict[str, Any]]:
        """The first `wanted` items GSI1 lists under `gsi1pk` whose `gsi1sk` is between `low` and
        `high`, in index order: a page of a listing, however many items follow it."""
        kwargs: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": Key("gsi1pk").eq(gsi1pk) & Key("gsi1sk").between(low, high),
        }
        items: list[dict[str, Any]] = []
        while len(items) < wanted:
            page = self._call(self.table.query, **kwargs, Limit=wanted - len(items))
            items += [dict(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return items

    def _listed(self, gsi1pk: str, prefix: str | None = None, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """The items GSI1 lists under `gsi1pk`, those whose `gsi1sk` starts with `prefix` if given."""
        key: ConditionBase = Key("gsi1pk").eq(gsi1pk)
        if prefix is not None:
            key = key & Key("gsi1sk").begins_with(prefix)
        return self._query(IndexName="gsi1", KeyConditionExpression=key, **kwargs)
