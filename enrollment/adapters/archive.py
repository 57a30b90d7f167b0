"""The season's archive bucket (S3 Object Lock, compliance mode): objects written once, never rewritten."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ArchiveConflict(Exception):
    """An archived object exists with other bytes: the archive is never rewritten."""


class ArchiveBucket:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @cached_property
    def client(self) -> S3Client:
        return boto3.client("s3")

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
        content_type = "application/x-ndjson" if key.endswith(".jsonl") else "application/json"
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
