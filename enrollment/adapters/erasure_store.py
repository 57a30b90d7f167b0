"""`ErasureStore` on the season's single table, and the work bucket's erasure (enrollment/core/retention.py).

Reads are one-partition queries, as every season task's are: a shard's registrations on GSI1
(`SEASON#{season}#REG#{shard}`, ranged after the cursor), a registration's items (`REG#{id}`), the
season's complaints (GSI1 `SEASON#{season}#COMPLAINT`) and a district's manual notices. An item is
written back under its own keys (its listing on GSI1 too: the pseudonymised records stay counted).
The parents' code records (`PARENT#{id}` / `CODE`) are deleted. The erasure's own items:
- progress:  `SEASON#{season}#ERASURE` / `PROGRESS` (each shard's cursor, or "done"; overwritten)
- a run:     `SEASON#{season}#ERASURE` / `RUN#{at}#{n}` (what the run did; written once, never changed)
The erasure's own partition keeps it out of `season_items`, which every registration reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import ConditionBase, Key

from enrollment.adapters.dynamodb import SHARDS, registrations_key
from enrollment.adapters.s3 import WorkBucket
from enrollment.adapters.table import KEYS, DynamoTable, plain
from enrollment.core.retention import REGISTRATION, StoredRecord

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef


def _stored(item: dict[str, Any]) -> StoredRecord:
    """An item as the erasure sees it: its type (a registration's own item has none), its fields, and
    its keys to write it back under."""
    where = {k: item[k] for k in (*KEYS, "type") if k in item}
    kind = str(item.get("type") or (REGISTRATION if item["sk"] == "REG" else "other"))
    return StoredRecord(kind, {k: v for k, v in item.items() if k not in where}, where)


def erasure_key(season: str) -> str:
    return f"SEASON#{season}#ERASURE"


class DynamoErasureStore(DynamoTable):
    @property
    def shards(self) -> int:
        return SHARDS

    def registration_page(
        self, season: str, shard: int, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        key: ConditionBase = Key("gsi1pk").eq(registrations_key(season, shard))
        if after is not None:
            key = key & Key("gsi1sk").gt(after)
        kwargs: dict[str, Any] = {"IndexName": "gsi1", "KeyConditionExpression": key}
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            page = self._call(self.table.query, **kwargs, Limit=limit - len(items))
            items += [dict(i) for i in page["Items"]]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if not items:
            return [], None
        return [str(i["registration_id"]) for i in items], str(items[-1]["gsi1sk"])

    def registration_records(self, registration_id: str) -> list[StoredRecord]:
        return self._records(f"REG#{registration_id}")

    def complaints(self, season: str) -> list[StoredRecord]:
        return [_stored(i) for i in self._listed(f"SEASON#{season}#COMPLAINT")]

    def manual_notices(self, season: str, district: str) -> list[StoredRecord]:
        return self._records(f"SEASON#{season}#NOTICES-MANUAL#{district}")

    def _records(self, pk: str) -> list[StoredRecord]:
        return [_stored(i) for i in self._query(KeyConditionExpression=Key("pk").eq(pk), ConsistentRead=True)]

    def replace(self, records: Iterable[StoredRecord]) -> None:
        self._put_all({**dict(r.fields), **r.where} for r in records)

    def forget_parent_codes(self, registration_ids: Iterable[str]) -> None:
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for rid in registration_ids:
                batch.delete_item(Key={"pk": f"PARENT#{rid}", "sk": "CODE"})

    def progress(self, season: str) -> dict[str, Any]:
        item = self._get(erasure_key(season), "PROGRESS")
        return {k: plain(v) for k, v in (item or {}).items() if k not in ("pk", "sk", "type")}

    def put_progress(self, season: str, progress: Mapping[str, Any]) -> None:
        self._call(
            self.table.put_item,
            Item={"pk": erasure_key(season), "sk": "PROGRESS", "type": "erasure-progress", **progress},
        )

    def put_run(self, season: str, run: Mapping[str, Any]) -> None:
        sk = f"RUN#{run['at']}#{uuid.uuid4().hex[:8]}"
        if not self._put_new({"pk": erasure_key(season), "sk": sk, "type": "erasure-run", **run}):
            raise RuntimeError("an erasure run's entry collided with another one")  # 32 random bits a second

    def runs(self, season: str) -> list[dict[str, Any]]:
        """The erasure's runs, oldest first (what an auditor reads)."""
        return [
            {k: plain(v) for k, v in i.items() if k not in ("pk", "sk", "type")}
            for i in self._under(erasure_key(season), "RUN#")
        ]


class WorkFileErasure:
    """The work bucket's objects deleted by prefix (ListObjectsV2 a page at a time, DeleteObjects)."""

    def __init__(self, bucket: WorkBucket) -> None:
        self.bucket = bucket

    def delete_under(self, prefix: str) -> int:
        client, deleted = self.bucket.client, 0
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket.bucket, Prefix=prefix
        ):
            keys: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if not keys:
                continue
            answer = client.delete_objects(Bucket=self.bucket.bucket, Delete={"Objects": keys, "Quiet": True})
            errors = answer.get("Errors", [])
            if errors:
                raise RuntimeError(f"the work bucket kept {len(errors)} objects under {prefix}: {errors[0]}")
            deleted += len(keys)
        return deleted
