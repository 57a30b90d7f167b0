"""The season's data: one DynamoDB table, the idempotency table, their key, and the child-key HMAC key.

R-DATA-2: everything at rest is encrypted with a customer-managed key; ID numbers are never used as
keys, only their HMAC (GenerateMac with a key that never leaves KMS).

Backups: point-in-time recovery covers 35 days; past that, AWS Backup copies the season table daily
into a vault of its own key, kept BACKUP_RETENTION_DAYS, under a vault lock in compliance mode (after
BACKUP_LOCK_GRACE_DAYS nobody, root included, can delete a recovery point early or shorten the
retention). The idempotency table is not backed up: its records live for hours and only echo
responses, so a year-long copy would keep personal data for no purpose.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.resources import TTL_ATTRIBUTE, idempotency_table_name, table_name
from infra.baseline import customer_key
from infra.nag import acknowledge, checkov_skip

_PITR = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True)
_STRING = dynamodb.AttributeType.STRING
BACKUP_RETENTION_DAYS = 365
BACKUP_LOCK_GRACE_DAYS = 3  # the lock can still be removed for 3 days after the first deploy
BACKUP_SCHEDULE = events.Schedule.cron(minute="0", hour="18")  # 02:00 in Beijing, every day


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: SeasonConfig) -> None:
        super().__init__(scope, construct_id)

        self.data_key = customer_key(self, "DataKey", config, "DynamoDB tables (personal data, R-DATA-2)")
        # Child keys are HMACs of ID numbers (R-REG-2): replacing this key would make every child
        # registered so far look new, so it is retained and never rotated (KMS cannot rotate HMAC keys).
        self.child_key = kms.Key(
            self,
            "ChildKey",
            description=f"enrollment {config.name}: HMAC of ID numbers (child keys, R-REG-2)",
            key_spec=kms.KeySpec.HMAC_256,
            key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC,
            removal_policy=RemovalPolicy.RETAIN,
        )
        checkov_skip(
            self.child_key,
            "CKV_AWS_7",
            "An HMAC key (child keys of ID numbers, R-REG-2): KMS rotates only symmetric encryption keys, "
            "and a new key would make every child registered so far look new.",
        )

        self.table = self._table(
            "Table",
            table_name=table_name(config.name),
            partition_key=dynamodb.Attribute(name="pk", type=_STRING),
            sort_key=dynamodb.Attribute(name="sk", type=_STRING),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
            # parents' one-time codes, sessions and rate-limit counters carry it (enrollment/adapters/
            # parent_store.py); nothing of the season itself expires
            time_to_live_attribute=TTL_ATTRIBUTE,
        )
        self.table.add_global_secondary_index(
            index_name="gsi1",
            partition_key=dynamodb.Attribute(name="gsi1pk", type=_STRING),
            sort_key=dynamodb.Attribute(name="gsi1sk", type=_STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )

        # Powertools idempotency records: short-lived (TTL), but they echo responses, so same CMK.
        self.idempotency_table = self._table(
            "IdempotencyTable",
            table_name=idempotency_table_name(config.name),
            partition_key=dynamodb.Attribute(name="id", type=_STRING),
            time_to_live_attribute="expiration",
            removal_policy=RemovalPolicy.DESTROY,
        )

        self._backups(config)

    def _backups(self, config: SeasonConfig) -> None:
        """Daily recovery points of the season table for a year, in a locked vault (module docstring)."""
        self.backup_key = customer_key(
            self, "BackupKey", config, "backup vault (season table recovery points)"
        )
        self.backup_vault = backup.BackupVault(
            self,
            "BackupVault",
            encryption_key=self.backup_key,
            removal_policy=RemovalPolicy.RETAIN,
            lock_configuration=backup.LockConfiguration(
                min_retention=Duration.days(BACKUP_RETENTION_DAYS),
                changeable_for=Duration.days(BACKUP_LOCK_GRACE_DAYS),
            ),
        )
        self.backup_plan = backup.BackupPlan(self, "BackupPlan", backup_vault=self.backup_vault)
        self.backup_plan.add_rule(
            backup.BackupPlanRule(
                rule_name="daily-for-a-year",
                schedule_expression=BACKUP_SCHEDULE,
                delete_after=Duration.days(BACKUP_RETENTION_DAYS),
                start_window=Duration.hours(1),
                completion_window=Duration.hours(8),
            )
        )
        selection = self.backup_plan.add_selection(
            "SeasonTable", resources=[backup.BackupResource.from_dynamo_db_table(self.table)]
        )
        acknowledge(
            selection.node.find_child("Role"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
            "The role AWS Backup assumes to take the table's recovery points; this AWS-managed policy is "
            "the documented one for it. It allows the backup actions of every service AWS Backup supports "
            "on any resource of the account, not only this table; the plan's selection names the table, "
            "and only AWS Backup assumes the role.",
        )

    def _table(self, construct_id: str, **props: Any) -> dynamodb.Table:
        """A table of the season: on demand, encrypted with the data key, recoverable to any point in time."""
        return dynamodb.Table(
            self,
            construct_id,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=self.data_key,
            point_in_time_recovery_specification=_PITR,
            **props,
        )
