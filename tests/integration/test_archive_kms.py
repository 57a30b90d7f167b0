"""The archive sealed with the season's KMS key (moto) verifies offline and reads back from S3."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from enrollment.adapters.archive import read_s3
from enrollment.archive.audit import audit
from enrollment.archive.contract import SIGNATURE, seal
from enrollment.cli import main
from enrollment.core.config import SeasonConfig
from tests.unit.test_archive_audit import CREATED, YEAR, Files, build


@pytest.fixture
def unsealed(season: SeasonConfig) -> Files:
    return build(season)


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


def test_kms_signer_seals_an_archive_that_audits_offline(
    aws: None,
    unsealed: Files,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import boto3

    from enrollment.adapters.signing import KmsSigner

    # Given the season's KMS key (ECC_NIST_P256, SIGN_VERIFY)
    key = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    # When the archive is sealed with it and published under the season's prefix
    files = seal(YEAR, unsealed, KmsSigner(key["KeyId"]), CREATED)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="archive", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    for k, body in files.items():
        s3.put_object(Bucket="archive", Key=f"seasons/2023/{k}", Body=body)
    s3.put_object(Bucket="archive", Key="seasons/2024/other.json", Body=b"{}")
    # Then it verifies offline, naming the key, and reads back from S3 byte for byte
    assert json.loads(files[SIGNATURE])["key_id"] in (key["Arn"], key["KeyId"])  # AWS: the ARN
    assert audit(files).ok
    assert read_s3("s3://archive/seasons/2023/") == files
    assert read_s3("s3://archive/seasons/2023") == files
    assert main(["audit", "s3://archive/seasons/2023/"]) == 0
    assert "AUDIT PASSED" in capsys.readouterr().out
    assert main(["audit", "s3://archive/seasons/2099/"]) == 2


def test_kms_signer_refuses_a_key_that_is_not_ecc_p256(aws: None) -> None:
    import boto3

    from enrollment.adapters.signing import KmsSigner, SigningError

    key = boto3.client("kms").create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    with pytest.raises(SigningError, match="RSA_2048"):
        KmsSigner(key["KeyId"]).public_key_pem()
    with pytest.raises(SigningError, match="not-a-key"):
        KmsSigner("not-a-key").key_id()
