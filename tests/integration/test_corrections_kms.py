"""Correction batches sealed with the season's KMS key into the Object Lock archive bucket (moto), and
audited offline from the bucket's root (issue 18; docs/ARCHIVE.md, "Corrections")."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from enrollment.archive.contract import MANIFEST, SIGNATURE, LocalSigner, seal, sha256_hex
from enrollment.archive.corrections import CorrectionsConflict
from enrollment.archive.seal import write_corrections
from enrollment.cli import main
from enrollment.core.config import SeasonConfig
from tests.unit.test_archive_audit import CREATED, YEAR, build
from tests.unit.test_corrections_chain import BATCHES, LATE, transfer

BUCKET = "archive"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "cn-north-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield


@pytest.fixture
def sealed_bucket(aws: None, season: SeasonConfig) -> dict[str, Any]:
    """An Object Lock bucket holding the season sealed with its KMS key, and that key's signer."""
    import boto3

    from enrollment.adapters.archive import ArchiveBucket
    from enrollment.adapters.signing import KmsSigner

    key = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    signer = KmsSigner(key["KeyId"])
    boto3.client("s3").create_bucket(
        Bucket=BUCKET,
        CreateBucketConfiguration={"LocationConstraint": "cn-north-1"},
        ObjectLockEnabledForBucket=True,
    )
    archive = ArchiveBucket(BUCKET)
    for k, body in seal(YEAR, build(season), signer, CREATED).items():
        archive.put_once(f"seasons/{YEAR}/{k}", body)
    return {"archive": archive, "signer": signer}


def objects() -> dict[str, bytes]:
    import boto3

    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {k: s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in keys}


def test_batches_sealed_with_kms_chain_and_audit_from_the_buckets_root(
    sealed_bucket: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    archive, signer = sealed_bucket["archive"], sealed_bucket["signer"]
    # When three batches are sealed in order with the season's key
    results = [
        write_corrections(YEAR, n, batch, archive=archive, signer=signer)
        for n, batch in enumerate(BATCHES, 1)
    ]
    assert [r["sealed"] for r in results] == ["now", "now", "now"]
    stored = objects()
    prefix = f"additions/{YEAR}/corrections/"
    assert sorted(k.removeprefix(prefix) for k in stored if k.startswith(prefix)) == sorted(
        f"{n:04d}/{f}"
        for n in (1, 2, 3)
        for f in ("corrections.jsonl", "placements.jsonl", MANIFEST, SIGNATURE, "public-key.pem")
    )
    # Then each manifest chains to the one before it, from the sealed season's
    chain = [stored[f"seasons/{YEAR}/{MANIFEST}"]] + [
        stored[f"{prefix}{n:04d}/{MANIFEST}"] for n in (1, 2, 3)
    ]
    for before, m in itertools.pairwise(chain):
        assert json.loads(m)["previous"] == sha256_hex(before)
    assert results[2]["manifest_sha256"] == sha256_hex(chain[3])
    sig = json.loads(stored[f"{prefix}0002/{SIGNATURE}"])
    assert sig["key_id"] == signer.key_id() and sig["statement"].startswith(
        "enrollment-corrections/1\n2023\n2\n"
    )
    # And the bucket's root audits offline: the season with its three batches applied
    assert main(["audit", f"s3://{BUCKET}/", "--season", YEAR]) == 0
    out = capsys.readouterr().out
    assert "3 batches applied in order" in out and "AUDIT PASSED" in out
    assert main(["audit", f"s3://{BUCKET}/seasons/{YEAR}/"]) == 0  # the season alone, as before
    assert main(["audit", f"s3://{BUCKET}/"]) == 2  # the root needs --season
    assert "--season" in capsys.readouterr().err


def test_a_batch_is_written_once_never_rewritten(sealed_bucket: dict[str, Any]) -> None:
    archive, signer = sealed_bucket["archive"], sealed_bucket["signer"]
    write_corrections(YEAR, 1, [LATE], archive=archive, signer=signer)
    before = objects()
    # A rerun with the same corrections: the same bytes, nothing rewritten (the signature is kept)
    assert write_corrections(YEAR, 1, [LATE], archive=archive, signer=signer)["sealed"] == "already"
    assert objects() == before
    # Other corrections for batch 1: refused, nothing written
    with pytest.raises(CorrectionsConflict, match=r"corrections/0001 is sealed with other content"):
        write_corrections(YEAR, 1, [transfer()], archive=archive, signer=signer)
    # Batch 3 before batch 2: refused
    with pytest.raises(CorrectionsConflict, match=r"0002/manifest\.json is not there"):
        write_corrections(YEAR, 3, [transfer()], archive=archive, signer=signer)
    # A change from a line the child does not have: refused (C001 is at S-CY-01, not S-CY-02)
    with pytest.raises(CorrectionsConflict, match=r"0002: nothing written: C-0004-transfer: C001: before"):
        write_corrections(YEAR, 2, [transfer("S-CY-02")], archive=archive, signer=signer)
    # Another key than the season's: refused
    with pytest.raises(CorrectionsConflict, match="not the season's key"):
        write_corrections(YEAR, 2, [transfer()], archive=archive, signer=LocalSigner(key_id="other"))
    assert objects() == before


def test_a_missing_signature_is_completed_on_rerun(sealed_bucket: dict[str, Any]) -> None:
    import boto3

    archive, signer = sealed_bucket["archive"], sealed_bucket["signer"]
    write_corrections(YEAR, 1, [LATE], archive=archive, signer=signer)
    # as if the first run stopped after the manifest (the signature is written after it)
    s3 = boto3.client("s3")
    key = f"additions/{YEAR}/corrections/0001/{SIGNATURE}"
    versions = s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    for v in versions:
        s3.delete_object(Bucket=BUCKET, Key=key, VersionId=v["VersionId"])
    assert archive.get(key) is None
    assert write_corrections(YEAR, 1, [LATE], archive=archive, signer=signer)["sealed"] == "now"
    assert archive.get(key) is not None
    assert main(["audit", f"s3://{BUCKET}/", "--season", YEAR]) == 0


def test_pending_corrections_sealed_batch_by_batch_and_a_rerun_writes_nothing(
    sealed_bucket: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    from enrollment.adapters.correction_store import DynamoCorrectionStore
    from enrollment.archive.seal import seal_pending_corrections
    from enrollment.corrections.season import Planned
    from enrollment.local.runtime import create_season_table

    archive, signer = sealed_bucket["archive"], sealed_bucket["signer"]
    create_season_table(boto3.client("dynamodb"), "season-table")
    store = DynamoCorrectionStore("season-table")

    def seal() -> dict[str, Any]:
        return seal_pending_corrections(YEAR, store=store, archive=archive, signer=signer)

    # Nothing pending: nothing written
    assert seal() == {"season": YEAR, "sealed": "nothing", "batches": [], "corrections": 0, "head": None}
    assert not [k for k in objects() if k.startswith("additions/")]
    # Given the first correction written, it is sealed as batch 1 and marked
    store.record(YEAR, Planned(tuple(BATCHES[0]), {}), after=0)
    first = seal()
    assert first == {
        "season": YEAR,
        "sealed": "now",
        "batches": [{"n": 1, "corrections": 1}],
        "corrections": 1,
        "head": first["head"],
    }
    assert first["head"] == f"0001:{sha256_hex(objects()[f'additions/{YEAR}/corrections/0001/{MANIFEST}'])}"
    assert store.pending_corrections(YEAR) == []
    # The next two, written afterwards in one request, are batch 2, chained to batch 1
    store.record(YEAR, Planned(tuple(BATCHES[1]), {}), after=1)
    assert seal()["batches"] == [{"n": 2, "corrections": 2}]
    stored = objects()
    prefix = f"additions/{YEAR}/corrections/"
    assert json.loads(stored[f"{prefix}0002/{MANIFEST}"])["previous"] == sha256_hex(
        stored[f"{prefix}0001/{MANIFEST}"]
    )
    # A rerun: nothing pending, nothing written
    assert seal()["sealed"] == "nothing" and objects() == stored
    # A run stopped after writing batch 3 but before marking it: the rerun finds it, writes the same
    # bytes ("already") and marks it; nothing is sealed twice
    store.record(YEAR, Planned(tuple(BATCHES[2]), {}), after=2)
    stopped = mock.patch.object(DynamoCorrectionStore, "mark_sealed", side_effect=RuntimeError("stopped"))
    with stopped, pytest.raises(RuntimeError, match="stopped"):
        seal()
    written = objects()
    assert f"{prefix}0003/{MANIFEST}" in written and len(store.pending_corrections(YEAR)) == 1
    rerun = seal()
    assert (rerun["sealed"], rerun["batches"], rerun["corrections"]) == (
        "already",
        [{"n": 3, "corrections": 1}],
        1,
    )
    assert objects() == written and store.pending_corrections(YEAR) == []
    # And the chain audits from the bucket's root
    assert main(["audit", f"s3://{BUCKET}/", "--season", YEAR, "--head", rerun["head"]]) == 0
    out = capsys.readouterr().out
    assert "3 batches applied in order" in out and "AUDIT PASSED" in out
    # a published head beyond the chain given: the batch withheld is named
    assert main(["audit", f"s3://{BUCKET}/", "--season", YEAR, "--head", "0004:" + "0" * 64]) == 1
    assert f"additions/{YEAR}/corrections/0004 is missing" in capsys.readouterr().out


def test_the_classes_follow_the_batches_signed_with_kms_and_audited_from_the_root(
    sealed_bucket: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18, "Classes follow": the sunshine classes sealed, three correction batches after them,
    then the moves into and out of the classes sealed as a class amendment with the season's KMS key,
    each child's sex read from the registrations table in one batched read."""
    import boto3

    from enrollment.adapters.dynamodb import DynamoStore
    from enrollment.archive import class_amendments as amendments_format
    from enrollment.archive.seal import seal_class_amendments
    from enrollment.local.runtime import create_season_table
    from enrollment.term import classes

    archive, signer = sealed_bucket["archive"], sealed_bucket["signer"]
    # Given every placed child's registration (synthetic sex) and the classes dealt over the placements
    placed = [json.loads(raw) for raw in objects()[f"seasons/{YEAR}/placements.jsonl"].decode().splitlines()]
    ids = [p["registration_id"] for p in placed] + ["LATE01"]
    sex = {rid: ("男" if i % 2 else "女") for i, rid in enumerate(ids)}
    create_season_table(boto3.client("dynamodb"), "season-table")
    table = boto3.resource("dynamodb").Table("season-table")
    for rid in ids:
        child = {"sex": sex[rid], "birth_date": "2016-10-01"}
        table.put_item(
            Item={"pk": f"REG#{rid}", "sk": "REG", "registration_id": rid, "request": {"child": child}}
        )
    groups: dict[tuple[str, int], list[classes.Student]] = {}
    for p in placed:
        if p["school_id"]:
            groups.setdefault((p["school_id"], p["grade"]), []).append(
                classes.Student(p["registration_id"], sex[p["registration_id"]], 9)  # type: ignore[arg-type]
            )
    files = {
        f"classes/{school}-g{grade}.json": json.dumps(
            classes.assign(YEAR, school, grade, kids, min(2, len(kids)), "0527").record(), ensure_ascii=False
        ).encode()
        for (school, grade), kids in groups.items()
    }
    for k, body in seal(YEAR, files, signer, CREATED).items():
        archive.put_once(f"additions/{YEAR}/classes/{k}", body)
    store = DynamoStore("season-table")
    # When the three batches are sealed, then the classes amended
    for n, batch in enumerate(BATCHES, start=1):
        write_corrections(YEAR, n, batch, archive=archive, signer=signer)
    answer = seal_class_amendments(YEAR, archive=archive, registrations=store, signer=signer)
    # Then one amendment follows batches 1-3: the late child joined, the decliner moved to its public
    # school's classes, the promoted child to the private school's, the transfer left S-CY-01 (S-CY-02
    # has no classes); nobody else
    assert answer == {"season": YEAR, "amended": "now", "amendments": 1, "corrections": [1, 3], "moves": 6}
    body = objects()[amendments_format.prefix(YEAR, 1) + amendments_format.AMENDMENTS].decode()
    moved = [(m["registration_id"], m["action"], m["school_id"]) for m in map(json.loads, body.splitlines())]
    assert moved == [
        ("LATE01", "join", "S-CY-01"),
        ("R0001", "leave", "P-CY-01"),
        ("R0001", "join", "S-CY-01"),
        ("R0003", "leave", "S-CY-01"),
        ("R0003", "join", "P-CY-01"),
        ("C001", "leave", "S-CY-01"),
    ]
    assert (
        seal_class_amendments(YEAR, archive=archive, registrations=store, signer=signer)["amended"]
        == "nothing"
    )
    # And the bucket's root audits: the season, its corrections, the classes and their amendment
    assert main(["audit", f"s3://{BUCKET}/", "--season", YEAR]) == 0
    out = capsys.readouterr().out
    assert "1 class amendments" in out and out.count("AUDIT PASSED") == 3
