"""Presigned S3 links that download locally: the local server stands in for S3's endpoint.

In AWS a family's notice, an export or an archive file is a presigned `GET` link to
`https://<bucket>.s3.<region>.amazonaws.com.cn/<key>?X-Amz-...`, which the browser fetches from S3
itself. Locally every bucket is moto's, in this process, and nothing listens at that address, so a
link the API hands out would lead nowhere. The local server therefore:

- rewrites each such link in the JSON it answers (`rewrite`) to `<base>local-s3/<bucket>/<key>?X-Amz-...`
  (the query, with its signature and expiry, kept as signed);
- answers `GET`/`HEAD` on `/local-s3/...` (`answer`) with the object's bytes from moto, as S3 would:
  a link without a signature is refused 403, an expired one 403, a missing object 404, and the
  `response-content-type` / `response-content-disposition` the link was signed with are honoured.

The signature itself is not recomputed (moto's credentials are fixed test values and the server
listens on 127.0.0.1 only); the expiry is checked against the real clock, as botocore signs with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote

PREFIX = "/local-s3/"
# a virtual-hosted-style presigned link, in any region and partition (aws-cn: amazonaws.com.cn)
S3_LINK = re.compile(
    r"https://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/"
)
GetObject = Callable[[str, str], dict[str, Any]]  # (bucket, key) -> boto3 get_object's answer


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def rewrite(text: str, base: str) -> str:
    """`text` (a JSON answer) with every presigned S3 link pointed at the local server at `base`."""
    return S3_LINK.sub(lambda m: f"{base.rstrip('/')}{PREFIX}{m['bucket']}/", text)


def answer(path: str, query: str, get_object: GetObject, now: datetime | None = None) -> Answer:
    """What S3 answers a presigned `GET` of `path` (`/local-s3/<bucket>/<key>`) with `query`."""
    bucket, _, key = path.removeprefix(PREFIX).partition("/")
    if not bucket or not key:
        return _error(404, "NoSuchKey", "没有这个文件")
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if not params.get("X-Amz-Signature") or not params.get("X-Amz-Credential"):
        return _error(403, "AccessDenied", "下载链接无效")
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = timedelta(seconds=int(params["X-Amz-Expires"]))
    except (KeyError, ValueError):
        return _error(403, "AccessDenied", "下载链接无效")
    if (now or datetime.now(UTC)) > signed_at + expires:
        return _error(403, "AccessDenied", "下载链接已过期，请重新获取")
    try:
        found = get_object(bucket, key)
    except Exception as e:  # botocore's ClientError from moto: NoSuchKey, NoSuchBucket
        code = str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "NoSuchBucket", "404"):
            return _error(404, code, "没有这个文件")
        raise
    content_type = params.get("response-content-type") or str(
        found.get("ContentType") or "binary/octet-stream"
    )
    name = key.rsplit("/", 1)[-1]
    disposition = params.get("response-content-disposition") or f"inline; filename*=UTF-8''{quote(name)}"
    return Answer(200, content_type, found["Body"].read(), {"Content-Disposition": disposition})


def _error(status: int, code: str, zh: str) -> Answer:
    body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{zh}</Message></Error>'
    return Answer(status, "application/xml; charset=utf-8", body.encode("utf-8"))
