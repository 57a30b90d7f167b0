"""The local server's stand-in for S3's endpoint: presigned links rewritten, then answered as S3 would."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from enrollment.local import s3_links

BASE = "http://127.0.0.1:8123/"
SIGNED_AT = datetime(2026, 7, 6, 8, 0, tzinfo=UTC)
QUERY = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=FOOBARKEY%2F20260706%2Fcn-north-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20260706T080000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=abc123"
)
LINK = f"https://season-work-1.s3.cn-north-1.amazonaws.com.cn/seasons/2023/notices/R-A.pdf?{QUERY}"


class NoSuchKey(Exception):
    response = {"Error": {"Code": "NoSuchKey"}}  # noqa: RUF012 - as botocore's ClientError carries it


def store(objects: dict[tuple[str, str], bytes]) -> s3_links.GetObject:
    def get_object(bucket: str, key: str) -> dict[str, Any]:
        if (bucket, key) not in objects:
            raise NoSuchKey(key)
        return {"Body": io.BytesIO(objects[(bucket, key)]), "ContentType": "application/pdf"}

    return get_object


def test_every_presigned_link_in_an_answer_leads_to_the_local_server_with_its_signature() -> None:
    answer = json.dumps({"download_url": LINK, "other": "https://example.org/x"})
    rewritten = json.loads(s3_links.rewrite(answer, BASE))
    assert rewritten["download_url"] == f"{BASE}local-s3/season-work-1/seasons/2023/notices/R-A.pdf?{QUERY}"
    assert rewritten["other"] == "https://example.org/x"
    # the global partition's links too
    assert s3_links.rewrite("https://b-1.s3.us-east-1.amazonaws.com/k", BASE) == f"{BASE}local-s3/b-1/k"


def test_a_signed_link_within_its_expiry_gets_the_object() -> None:
    got = s3_links.answer(
        "/local-s3/season-work-1/seasons/2023/notices/R-A.pdf",
        QUERY,
        store({("season-work-1", "seasons/2023/notices/R-A.pdf"): b"%PDF-1.7 ..."}),
        now=SIGNED_AT + timedelta(seconds=599),
    )
    assert (got.status, got.content_type, got.body) == (200, "application/pdf", b"%PDF-1.7 ...")
    assert got.headers["Content-Disposition"] == "inline; filename*=UTF-8''R-A.pdf"


def test_the_disposition_and_type_the_link_was_signed_with_are_honoured() -> None:
    query = (
        QUERY
        + "&response-content-disposition=attachment%3B+filename%3Dx.xlsx&response-content-type=text%2Fplain"
    )
    got = s3_links.answer("/local-s3/b/x", query, store({("b", "x"): b"1"}), now=SIGNED_AT)
    assert (
        got.headers["Content-Disposition"] == "attachment; filename=x.xlsx"
        and got.content_type == "text/plain"
    )


def test_an_expired_or_unsigned_link_is_refused_and_a_missing_object_is_not_found() -> None:
    objects = store({("b", "x"): b"secret"})
    expired = s3_links.answer("/local-s3/b/x", QUERY, objects, now=SIGNED_AT + timedelta(seconds=601))
    unsigned = s3_links.answer("/local-s3/b/x", "", objects, now=SIGNED_AT)
    no_expiry = s3_links.answer(
        "/local-s3/b/x", QUERY.replace("X-Amz-Expires=600", "X-Amz-Expires=soon"), objects, now=SIGNED_AT
    )
    missing = s3_links.answer("/local-s3/b/y", QUERY, objects, now=SIGNED_AT)
    assert [a.status for a in (expired, unsigned, no_expiry, missing)] == [403, 403, 403, 404]
    assert all(b"secret" not in a.body for a in (expired, unsigned, no_expiry, missing))
    assert "下载链接已过期".encode() in expired.body
