"""The workflow's work bucket: intermediate files the workflow and the staff console pass along.

Not the archive: nothing here is a record of the season. But its files hold personal data: the
admission notices' PDFs (names, schools, addresses) that notify-batch writes, the exports' files
(docs/EXPORTS.md), the placement chunks and the verification batches. So it is encrypted at rest with
its own customer-managed key (R-DATA-2; readers get kms:Decrypt through the bucket's grants, the
state machine's ItemReader included), and access is logged into the archive's access-logs bucket
under `work/`. The season's files are deleted by the erasure once the retention period is over
(enrollment/core/retention.py, docs/RETENTION.md); the lifecycle rules are the backstop whatever
happens to it: exports after `retention.exports_days`, the rest after `retention.work_files_days`.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import work_bucket_name
from infra.baseline import customer_key, private_bucket
from infra.nag import checkov_skip

ACCESS_LOGS_PREFIX = "work/"
EXPORTS_PREFIX = "exports/"  # as enrollment/adapters/export_store.py
WORK_SEASONS_PREFIX = "seasons/"  # the workflow's files and the notices' PDFs (enrollment/core/retention.py)


class Work(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: SeasonConfig, access_logs: s3.IBucket
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = customer_key(
            self, "BucketKey", config, "work bucket (notice PDFs, exports, workflow files: personal data)"
        )
        # Named as the archive is: account and region are pseudo-parameters when the stack is
        # environment-agnostic, so the name resolves at deploy time and stays unique per account/region.
        self.bucket = private_bucket(
            self,
            "Bucket",
            bucket_name=work_bucket_name(config.name, stack.account, stack.region),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,  # one data key per object batch, not a KMS call per object
            versioned=False,
            lifecycle_rules=[
                # the exports' files (docs/EXPORTS.md) hold personal data: a day, then they go
                s3.LifecycleRule(
                    id="expire-exports",
                    prefix=EXPORTS_PREFIX,
                    expiration=Duration.days(config.retention.exports_days),
                ),
                s3.LifecycleRule(
                    id="expire-work-files",
                    expiration=Duration.days(config.retention.work_files_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=ACCESS_LOGS_PREFIX,
        )
        checkov_skip(
            self.bucket,
            "CKV_AWS_21",
            "Working files, not records: a rerun rewrites them from the table and the archive (versioned, "
            "Object Lock), which are the record. Versions would keep superseded notice PDFs and exports "
            "(personal data) past the day or season their lifecycle rules allow.",
        )
