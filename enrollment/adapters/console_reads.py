"""The staff console's reads of the season table and the archive bucket, in pages and batches.

The keys are those of the other adapters (dynamodb.py, verification_store.py, placement_store.py):
registrations `REG#{id}`/`REG` listed by GSI1 `SEASON#{season}#REG#{shard}` → `{grade}#{district}#{id}`
(sixteen shards, dynamodb.py: a page asks each and merges),
verdicts `REG#{id}`/`VERDICT`, places `REG#{id}`/`PLACEMENT`. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from enrollment.adapters.dynamodb import SHARDS, registrations_key
from enrollment.adapters.s3 import S3Bucket
from enrollment.adapters.table import DynamoTable, record_of
from enrollment.verification.verdicts import Verdict

if TYPE_CHECKING:
    from enrollment.adapters.wiring import Wiring

BATCH = 100  # BatchGetItem's limit


class ConsoleReads(DynamoTable):
    def district_registrations(
        self, season: str, district: str, grade: int, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """One grade's registrations of a district by registration id, after `after`: at most `limit`
        items, and whether there are more. Each shard gives its first `limit + 1`; the page is the
        first `limit + 1` of them all."""
        prefix = f"{grade}#{district}#"
        low = prefix + (after + "!" if after else "")  # "!" sorts before, "~" after every id character
        found: list[dict[str, Any]] = []
        for shard in range(SHARDS):
            found += self._range(registrations_key(season, shard), low, prefix + "~", limit + 1)
        items = sorted(found, key=lambda i: str(i["gsi1sk"]))[: limit + 1]
        return items[:limit], len(items) > limit

    def registrations_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several registrations by id (ids without one are left out)."""
        return {str(i["registration_id"]): i for i in self._batch_get(registration_ids, "REG")}

    def verdicts_of(self, registration_ids: Iterable[str]) -> dict[str, Verdict]:
        """Several cases' verdicts by registration id (cases without one are left out)."""
        found = (Verdict.model_validate(record_of(i)) for i in self._batch_get(registration_ids, "VERDICT"))
        return {v.registration_id: v for v in found}

    def placed_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several children's places by registration id (children not placed are left out)."""
        return {
            str(i["registration_id"]): record_of(i) for i in self._batch_get(registration_ids, "PLACEMENT")
        }

    def _batch_get(self, registration_ids: Iterable[str], sk: str) -> Iterator[dict[str, Any]]:
        keys: list[Any] = [{"pk": f"REG#{rid}", "sk": sk} for rid in sorted(set(registration_ids))]
        for start in range(0, len(keys), BATCH):
            todo = keys[start : start + BATCH]
            while todo:
                answer = self._call(
                    self.table.meta.client.batch_get_item,
                    RequestItems={self.table_name: {"Keys": todo, "ConsistentRead": True}},
                )
                yield from (dict(i) for i in answer["Responses"].get(self.table_name, []))
                todo = list(answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", []))


class ArchiveLinks(S3Bucket):
    """Short-lived download links to the archive bucket's objects, signed by the function's role."""

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def link(self, key: str, seconds: int) -> str:
        return self.download_url(key, seconds)


def console_reads(w: Wiring) -> tuple[ConsoleReads, ArchiveLinks]:
    """This cold start's readers, kept with its wiring (so that they go when the wiring does)."""
    found: tuple[ConsoleReads, ArchiveLinks] = vars(w).setdefault(
        "_console_reads", (ConsoleReads(w.settings.table_name), ArchiveLinks(w.settings.archive_bucket))
    )
    return found
