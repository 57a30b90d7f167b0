"""The work bucket: intermediate files of the workflow (not the archive, which is Object Lock)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from enrollment.adapters.clients import Client
from enrollment.core.ports import NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Bucket:
    """One bucket's objects, through this function's role."""

    client: Client[S3Client] = Client("s3")

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def download_url(self, key: str, seconds: int = 600) -> str:
        """A short-lived link to one object, signed by this function's role."""
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds
        )
        return url


class WorkBucket(S3Bucket):
    def put_json(self, key: str, value: Any) -> None:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        """One object's bytes; NotFound when there is none."""
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as e:
            if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise NotFound(key) from None
            raise
        return body
