"""The workflow's work bucket: intermediate files (the verification batches the Distributed Map reads).

Not the archive: nothing here is a record of the season. The files hold registration ids only (the
batches of verify-prepare), are encrypted at rest with S3-managed keys (so the state machine's
ItemReader needs no KMS grant), expire after WORK_RETENTION_DAYS, and are logged into the archive's
access-logs bucket under `work/`.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import work_bucket_name
from infra.baseline import private_bucket

WORK_RETENTION_DAYS = 400  # the season and its appeals, then the batches go
ACCESS_LOGS_PREFIX = "work/"
EXPORTS_PREFIX = "exports/"  # as enrollment/adapters/export_store.py


class Work(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: SeasonConfig, access_logs: s3.IBucket
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Named as the archive is: account and region are pseudo-parameters when the stack is
        # environment-agnostic, so the name resolves at deploy time and stays unique per account/region.
        self.bucket = private_bucket(
            self,
            "Bucket",
            bucket_name=work_bucket_name(config.name, stack.account, stack.region),
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=False,
            lifecycle_rules=[
                # the exports' files (docs/EXPORTS.md) hold personal data: a day, then they go
                s3.LifecycleRule(id="expire-exports", prefix=EXPORTS_PREFIX, expiration=Duration.days(1)),
                s3.LifecycleRule(
                    id="expire-work-files",
                    expiration=Duration.days(WORK_RETENTION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=ACCESS_LOGS_PREFIX,
        )
