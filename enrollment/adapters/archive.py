"""The season's archive bucket (S3 Object Lock, compliance mode): objects written once, never rewritten."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlparse

from botocore.exceptions import BotoCoreError, ClientError

from enrollment.adapters import clients
from enrollment.adapters.s3 import S3Bucket
from enrollment.archive.contract import ArchiveUnreadable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


# by the key's extension: the season report (reports/{season}/report.html) opens in the browser
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "html": "text/html; charset=utf-8"}


class ArchiveConflict(Exception):
    """An archived object exists with other bytes: the archive is never rewritten."""


class ArchiveBucket(S3Bucket):
    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def put_once(self, key: str, body: bytes) -> str:
        """'written', or 'identical' when the same bytes are already there; else ArchiveConflict."""
        existing = self.get(key)
        if existing is not None:
            if existing == body:
                return "identical"
            raise ArchiveConflict(f"s3://{self.bucket}/{key} is archived with other content")
        content_type = CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/json")
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",  # Object Lock buckets require an integrity checksum
                IfNoneMatch="*",  # two writers at once: only the first lands
            )
        except ClientError as e:
            if e.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            return self.put_once(key, body)
        return "written"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, prefix ending in '/') of `s3://bucket/seasons/SEASON/`."""
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{uri}: not an s3://BUCKET/PREFIX/ address")
    prefix = parsed.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return parsed.netloc, prefix


def read_s3(uri: str, client: S3Client | None = None) -> dict[str, bytes]:
    """Every object under `s3://bucket/prefix/`, by its key relative to the prefix."""
    bucket, prefix = parse_s3_uri(uri)
    s3: S3Client = client or clients.client("s3")
    files: dict[str, bytes] = {}
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if key.endswith("/"):
                    continue  # a "folder" placeholder object
                files[key[len(prefix) :]] = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except (BotoCoreError, ClientError) as e:
        raise ArchiveUnreadable(f"{uri}: {e}") from e
    if not files:
        raise ArchiveUnreadable(f"{uri}: no objects under this prefix")
    return files
