"""Result archive: write-once bucket (Object Lock, compliance) and the archive signing key."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from infra.context import DEFAULT_ARCHIVE_RETENTION_DAYS, AppOptions
from infra.nag import ref
from tests.infra.conftest import TEST_RETENTION_DAYS
from tests.infra.helpers import bucket_policy, denies_insecure_transport, dumps, getatt, resources

pytestmark = pytest.mark.xdist_group("infra")


def test_archive_bucket_is_object_locked_in_compliance_mode(synth, raw, config):
    bucket_id = ref(synth.stack.archive.bucket)
    bucket = raw["Resources"][bucket_id]
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": TEST_RETENTION_DAYS}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": getatt(ref(synth.stack.archive.key)),
    }
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": ref(synth.stack.archive.access_logs)
    }
    assert bucket["DeletionPolicy"] == "Retain"
    assert f"enrollment-{config.name}-archive-" in dumps(props["BucketName"])


def test_default_retention_is_ten_years(cn):
    # The cn stack is built without archive_retention_days, as app.py does without the context key
    bucket = cn.raw["Resources"][ref(cn.stack.archive.bucket)]["Properties"]
    assert DEFAULT_ARCHIVE_RETENTION_DAYS == 3650
    assert bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"] == 3650


@pytest.mark.parametrize(("given", "expected"), [(None, 3650), ("45", 45), (7, 7)])
def test_retention_comes_from_context(given, expected):
    context = {"alarm_email": "ops@example.org"}  # an alarm destination is required (docs/RUNBOOK.md)
    if given is not None:
        context["archive_retention_days"] = given
    assert AppOptions.from_node(cdk.App(context=context).node, environ={}).archive_retention_days == expected


@pytest.mark.parametrize("bad", ["0", "-1", "36501", "ten years"])
def test_retention_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="archive_retention_days"):
        AppOptions.from_node(cdk.App(context={"archive_retention_days": bad}).node, environ={})


def test_both_buckets_deny_plain_http_and_old_tls(synth, raw):
    for bucket in (synth.stack.archive.bucket, synth.stack.archive.access_logs):
        document = bucket_policy(raw, ref(bucket))
        assert denies_insecure_transport(document), bucket.node.path
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"NumericLessThan": {"s3:TlsVersion": 1.2}}
            for s in document["Statement"]
        ), bucket.node.path


def test_access_log_bucket_is_private_and_s3_encrypted(synth, raw):
    props = raw["Resources"][ref(synth.stack.archive.access_logs)]["Properties"]
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert all(props["PublicAccessBlockConfiguration"].values())


def test_signing_key_is_ecc_p256_sign_verify(synth, raw):
    key = raw["Resources"][ref(synth.stack.archive.signing_key)]
    assert key["Properties"]["KeySpec"] == "ECC_NIST_P256"
    assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
    assert key["DeletionPolicy"] == "Retain"  # old archives stay verifiable
    assert (
        len(
            [
                k
                for k in resources(raw, "AWS::KMS::Key").values()
                if k["Properties"].get("KeySpec") == "ECC_NIST_P256"
            ]
        )
        == 1
    )
