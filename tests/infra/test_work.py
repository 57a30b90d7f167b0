"""The work bucket: the workflow's intermediate files, private, TLS-only, encrypted, expiring, logged."""

from __future__ import annotations

import json

import pytest

from infra.nag import ref
from infra.work import ACCESS_LOGS_PREFIX, EXPORTS_PREFIX
from tests.infra.conftest import CN_REGION
from tests.infra.helpers import (
    bucket_policy,
    denies_insecure_transport,
    dumps,
    getatt,
    resources,
)

pytestmark = pytest.mark.xdist_group("infra")


def test_work_bucket_is_private_encrypted_and_retained(synth, raw, config):
    bucket = raw["Resources"][ref(synth.stack.work.bucket)]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # notice PDFs and exports are personal data: the bucket's own customer-managed key, rotated
    work_key = ref(synth.stack.work.key)
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": getatt(work_key),
    }
    assert rule["BucketKeyEnabled"] is True
    assert raw["Resources"][work_key]["Properties"]["EnableKeyRotation"] is True
    assert raw["Resources"][work_key]["DeletionPolicy"] == "Retain"
    assert bucket["DeletionPolicy"] == "Retain"
    # intermediate files, not records: no Object Lock, no versions kept
    assert "ObjectLockEnabled" not in props
    assert "VersioningConfiguration" not in props
    assert f"enrollment-{config.name}-work-" in dumps(props["BucketName"])


def test_work_bucket_denies_plain_http_and_old_tls(synth, raw):
    document = bucket_policy(raw, ref(synth.stack.work.bucket))
    assert denies_insecure_transport(document)
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"NumericLessThan": {"s3:TlsVersion": 1.2}}
        for s in document["Statement"]
    )
    # and it grants nobody anything: access is by the roles' own policies
    assert all(s["Effect"] == "Deny" for s in document["Statement"])


def test_work_files_expire(synth, raw, config):
    props = raw["Resources"][ref(synth.stack.work.bucket)]["Properties"]
    exports, rule = props["LifecycleConfiguration"]["Rules"]
    # the season's retention settings (docs/RETENTION.md); the erasure deletes them before this
    assert config.retention.work_files_days == 400 and config.retention.exports_days == 1
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == 400
    assert "Prefix" not in rule and "Filter" not in rule  # every object
    # the exports' files hold personal data (docs/EXPORTS.md): a day
    assert (exports["Prefix"], exports["ExpirationInDays"], exports["Status"]) == (
        EXPORTS_PREFIX,
        1,
        "Enabled",
    )


def test_work_bucket_logs_into_the_archive_access_logs_under_work(synth, raw):
    work = ref(synth.stack.work.bucket)
    logs = ref(synth.stack.archive.access_logs)
    props = raw["Resources"][work]["Properties"]
    assert ACCESS_LOGS_PREFIX == "work/"
    assert props["LoggingConfiguration"] == {"DestinationBucketName": {"Ref": logs}, "LogFilePrefix": "work/"}
    # the log bucket lets S3 log delivery write under work/, for this bucket and this account only
    [delivery] = [
        s
        for s in bucket_policy(raw, logs)["Statement"]
        if s["Effect"] == "Allow" and s["Condition"]["ArnLike"]["aws:SourceArn"] == getatt(work)
    ]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == {"Fn::Join": ["", [getatt(logs), "/work/*"]]}
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}


def test_only_the_batching_functions_the_notices_and_the_workflow_reach_the_work_bucket(synth, raw):
    # Given every IAM policy of the stack, the roles whose statements name the work bucket
    work = ref(synth.stack.work.bucket)
    roles = {
        role["Ref"]
        for policy in resources(raw, "AWS::IAM::Policy").values()
        if work in json.dumps(policy["Properties"]["PolicyDocument"])
        for role in policy["Properties"]["Roles"]
    }
    # verification, placement and notice batches, the classes' groups and drawn lists, the notices'
    # PDFs, the family's download link (register), the exports' files (docs/EXPORTS.md), and the
    # erasure that deletes the season's files once the retention period is over (docs/RETENTION.md)
    users = (
        "erase",
        "exports-api",
        "verify-prepare",
        "place",
        "place-store",
        "classes",
        "classes-school",
        "classes-seal",
        "notify-prepare",
        "notify-batch",
        "register",
    )
    expected = {ref(synth.stack.functions[key].role) for key in users}  # type: ignore[arg-type]
    assert roles == expected | {ref(synth.stack.workflow.state_machine.role)}


def test_cn_work_bucket_name_carries_the_region(cn):
    name = cn.raw["Resources"][ref(cn.stack.work.bucket)]["Properties"]["BucketName"]
    assert dumps(name).count(f"-{CN_REGION}") == 1
