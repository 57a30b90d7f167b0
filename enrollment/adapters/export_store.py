"""The exports' reads (key and index queries only, never a Scan) and their download records.

Keys (the other adapters' where they read theirs):
- a school's placements: GSI1 `SEASON#{season}#PLACED#{school}` (placement_store.placed_key), one
  index partition per school, projected whole;
- registrations `REG#{id}`/`REG`, batched (BatchGetItem);
- a school's arrivals: GSI1 `SEASON#{season}#ARRIVAL` / `{school}#…`;
- a private school's frozen pools: lottery_store (`LOTTERY#{season}` / `{school}#g{grade}`);
- a download: `SEASON#{season}#DOWNLOADS` / `{district}#{UTC instant}#{n}`, type `export-download`,
  written once, never changed (the district is the data's: a district reads its own downloads).

`ExportFiles` puts a rendered file in the work bucket under `exports/{season}/{random}/`,
encrypted with SSE-KMS, and hands out a short-lived presigned link (docs/EXPORTS.md says why not the
file in the API's answer); the bucket's lifecycle rule deletes them after a day.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from enrollment.adapters.archive import ArchiveBucket
from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.adapters.placement_store import placed_key
from enrollment.adapters.s3 import S3Bucket
from enrollment.adapters.table import DynamoTable, record_of, without_keys

EXPORTS_PREFIX = "exports/"


class DynamoExportStore(DynamoTable):
    """`ExportSources` and `DownloadLog` over the season table and the archive bucket."""

    def __init__(self, table_name: str, archive_bucket: str = "") -> None:
        super().__init__(table_name)
        self.archive_bucket = archive_bucket

    @cached_property
    def _lotteries(self) -> DynamoLotteryStore:
        return DynamoLotteryStore(self.table_name)

    @cached_property
    def _archive(self) -> ArchiveBucket:
        return ArchiveBucket(self.archive_bucket)

    def placed_at_school(self, season: str, school_id: str) -> list[dict[str, Any]]:
        return [record_of(i) for i in self._listed(placed_key(season, school_id))]

    def registrations_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        found = self._get_many((f"REG#{rid}", "REG") for rid in registration_ids)
        return {str(i["registration_id"]): without_keys(i) for i in found.values()}

    def arrivals_at(self, season: str, school_id: str) -> dict[str, str]:
        listed = self._listed(f"SEASON#{season}#ARRIVAL", f"{school_id}#")
        return {str(i["registration_id"]): str(i.get("at", "")) for i in listed}

    def lottery(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None:
        return self._lotteries.school(season, school_id, grade)

    def archived(self, key: str) -> bytes | None:
        if not self.archive_bucket:
            return None
        return self._archive.get(key)

    def archive_has(self, key: str) -> bool:
        if not self.archive_bucket:
            return False
        try:
            self._archive.client.head_object(Bucket=self.archive_bucket, Key=key)
        except ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return False
            raise
        return True

    def record_download(self, record: dict[str, Any]) -> None:
        instant = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        item = {
            "pk": downloads_key(str(record["season"])),
            "sk": f"{record['district']}#{instant}#{uuid.uuid4().hex[:8]}",
            "type": "export-download",
            **{k: v for k, v in record.items() if v is not None},
        }
        if not self._put_new(item):
            raise RuntimeError("a download record's key was taken")  # a random suffix: never

    def downloads(self, season: str, district: str) -> list[dict[str, Any]]:
        return [record_of(i) for i in self._under(downloads_key(season), f"{district}#")]


def downloads_key(season: str) -> str:
    return f"SEASON#{season}#DOWNLOADS"


class ExportFiles(S3Bucket):
    """Rendered exports in the work bucket, each behind a short-lived presigned link."""

    def publish(self, season: str, file_name: str, data: bytes, content_type: str, seconds: int) -> str:
        key = f"{EXPORTS_PREFIX}{season}/{uuid.uuid4().hex}/{quote(file_name)}"
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
        )  # no encryption header: the bucket's default, its customer-managed key (an `aws:kms` header
        # without a key id would take the account's AWS-managed aws/s3 key instead)
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f"attachment; filename*=UTF-8''{quote(file_name)}",
                "ResponseContentType": content_type,
            },
            ExpiresIn=seconds,
        )
        return url
