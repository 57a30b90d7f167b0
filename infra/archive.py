"""Signed result archives (R-LOT-3, R-OPEN-1): a write-once bucket and the key that signs them.

Object Lock in compliance mode: nobody, root included, can delete or overwrite an archived version
before its retention ends. The signing key is asymmetric so auditors can verify with the public key.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import archive_bucket_name
from infra.baseline import customer_key, private_bucket
from infra.nag import checkov_skip

# Server access logs of the archive and the work bucket: who read or wrote what, kept past the
# season's appeals (a year and a month), then expired; overwritten/deleted versions go after 30 days.
ACCESS_LOG_RETENTION_DAYS = 400


class Archive(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: SeasonConfig, retention_days: int
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        self.signing_key = kms.Key(
            self,
            "SigningKey",
            description=f"enrollment {config.name}: signs result archives (ECDSA P-256)",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.key = customer_key(self, "BucketKey", config, "result archive bucket")

        # Server access logs cannot be delivered to an SSE-KMS bucket, hence S3-managed keys here.
        # (cdk-nag's S1 does not ask a log-destination bucket to log itself.)
        self.access_logs = private_bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(ACCESS_LOG_RETENTION_DAYS),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
        )

        checkov_skip(
            self.access_logs,
            "CKV_AWS_18",
            "This is the server access-log bucket of the archive and the work bucket; logging it into "
            "itself would log each delivery of its own logs, which S3 advises against.",
        )

        self.bucket = private_bucket(
            self,
            "Bucket",
            bucket_name=archive_bucket_name(config.name, stack.account, stack.region),
            versioned=True,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(Duration.days(retention_days)),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="archive/",
        )
