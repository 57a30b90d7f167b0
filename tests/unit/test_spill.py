"""moto's S3 objects spilled to one file per season (enrollment/local/spill.py) answer exactly as
moto's in-memory ones: the same bytes, ETags, ranges and versions."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from enrollment.local.spill import SpilledValue, SpillFile, spilled_s3_values

BODIES = [b"", b"x", b"%PDF-1.7 " + os.urandom(40_000), "通知书".encode() * 1000]


@contextmanager
def session(spilled: Path | None) -> Iterator[Any]:
    with mock_aws(), mock.patch.dict(os.environ, {"AWS_DEFAULT_REGION": "cn-north-1"}):
        if spilled is None:
            yield boto3.client("s3")
        else:
            with spilled_s3_values(str(spilled)):
                yield boto3.client("s3")


def exercise(s3: Any) -> list[Any]:
    """What a season does with S3: puts, overwrites, gets (whole and ranges), heads, versions."""
    s3.create_bucket(Bucket="work", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    s3.create_bucket(
        Bucket="archive",
        CreateBucketConfiguration={"LocationConstraint": "cn-north-1"},
        ObjectLockEnabledForBucket=True,
    )
    seen: list[Any] = []
    for i, body in enumerate(BODIES):
        for bucket in ("work", "archive"):
            put = s3.put_object(Bucket=bucket, Key=f"k{i}", Body=body)
            seen.append((bucket, i, put["ETag"]))
    s3.put_object(Bucket="work", Key="k2", Body=b"overwritten")
    s3.put_object(Bucket="archive", Key="k3", Body=b"second version")
    for bucket in ("work", "archive"):
        for i in range(len(BODIES)):
            got = s3.get_object(Bucket=bucket, Key=f"k{i}")
            head = s3.head_object(Bucket=bucket, Key=f"k{i}")
            seen.append((bucket, i, got["Body"].read(), got["ETag"], head["ContentLength"]))
        seen.append(s3.get_object(Bucket=bucket, Key="k3", Range="bytes=3-9")["Body"].read())
    versions = s3.list_object_versions(Bucket="archive", Prefix="k3")["Versions"]
    for v in sorted(versions, key=lambda v: v["Size"]):
        body = s3.get_object(Bucket="archive", Key="k3", VersionId=v["VersionId"])["Body"].read()
        seen.append((v["Size"], hashlib.sha256(body).hexdigest()))
    return seen


def test_spilled_objects_answer_as_moto_in_memory_does(tmp_path: Path) -> None:
    with session(None) as s3:
        in_memory = exercise(s3)
    with session(tmp_path) as s3:
        spilled = exercise(s3)
    assert spilled == in_memory
    assert (tmp_path / "s3-objects.bin").stat().st_size >= sum(len(b) for b in BODIES) * 2


def test_a_spilled_value_is_a_file(tmp_path: Path) -> None:
    spill = SpillFile(str(tmp_path))
    value = SpilledValue(spill)
    assert value.write(b"hello world") == 11
    value.seek(0)
    assert value.read(5) == b"hello" and value.tell() == 5 and value.read() == b" world"
    value.seek(6)
    value.write(b"WORLD")
    value.seek(0)
    assert value.read() == b"hello WORLD"
    value.seek(5)
    value.truncate()
    value.seek(0)
    assert value.read() == b"hello" and value.read() == b""
    value.seek(0)
    value.truncate()
    assert value.read() == b"" and value.seek(0, 2) == 0
    spill.close()


@pytest.mark.parametrize("size", [0, 1, 16 * 1024 * 1024 + 3])
def test_reads_in_chunks_give_the_whole_value(tmp_path: Path, size: int) -> None:
    value = SpilledValue(SpillFile(str(tmp_path)))
    data = os.urandom(size)
    value.write(data)
    value.seek(0)
    chunks = []
    while block := value.read(16 * 1024 * 1024):
        chunks.append(block)
    assert b"".join(chunks) == data
