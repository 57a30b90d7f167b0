"""One season: the stack composes the constructs and exports what operators need."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Annotations, CfnOutput, Stack, Token
from constructs import Construct

from enrollment.core.config import SeasonConfig
from enrollment.core.launch import config_digest
from enrollment.core.resources import ROOT
from enrollment.core.staff import StaffDirectory, partition_of
from infra.api import Api
from infra.archive import Archive
from infra.baseline import encrypt_logs, guard_keys
from infra.context import (
    DEFAULT_ARCHIVE_RETENTION_DAYS,
    DEFAULT_BREAK_GLASS_ROLE,
    DEFAULT_SMS_SPEND_ALARM_USD,
    DEFAULT_WAF_LIMITS,
    LAYER_DIR,
    WafLimits,
)
from infra.functions import SMS_LAYER_DIR, Functions
from infra.observability import Observability
from infra.schedules import Schedules
from infra.sign_in import StaffSignIn
from infra.storage import Storage
from infra.waf import RATE_BLOCKED_PER_PERIOD, Waf
from infra.work import Work
from infra.workflow import Workflow

ICP_PREREQUISITE = (
    "China region: API Gateway serves these routes (registration form, API, staff console) only for an "
    "account whose domain has an ICP filing (ICP备案), on a custom domain name; file it before registration "
    "opens. Staff sign in at the bureau's OIDC issuer, and SMS goes through a provider licensed in China. "
    "See docs/DEPLOY-CHINA.md."
)


def check_sms_provider(config: SeasonConfig, region: str) -> None:
    """Amazon SNS sends no SMS from the China regions: a season there names a provider licensed in China
    (enrollment/adapters/sms_providers.py), or its parents' codes and admission SMS would never arrive."""
    if region.startswith("cn-") and config.sms_provider.provider == "sns":
        raise ValueError(
            f"Amazon SNS sends no SMS from {region}: set sms_provider.provider in seasons/{config.name}.yaml "
            "to aliyun or tencent, with its sign_name, the template codes of docs/SMS-TEMPLATES.md and "
            "credentials_secret_arn (README, 'SMS in a China region')"
        )


class SeasonStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: SeasonConfig,
        archive_retention_days: int = DEFAULT_ARCHIVE_RETENTION_DAYS,
        alarm_email: str | None = None,
        alarm_topic_arn: str | None = None,
        sms_spend_alarm_usd: float = DEFAULT_SMS_SPEND_ALARM_USD,
        break_glass_role: str = DEFAULT_BREAK_GLASS_ROLE,
        waf_limits: WafLimits = DEFAULT_WAF_LIMITS,
        deadlines_resync: str = "",
        layer_dir: Path = LAYER_DIR,
        sms_layer_dir: Path = SMS_LAYER_DIR,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"Enrollment season {config.name} ({config.city})", **kwargs
        )
        self.config = config
        if not Token.is_unresolved(self.region):  # else the partition is known only at deploy time
            self._check_staff_directory(config)
        self.storage = Storage(self, "Storage", config=config)
        self.archive = Archive(self, "Archive", config=config, retention_days=archive_retention_days)
        self.work = Work(self, "Work", config=config, access_logs=self.archive.access_logs)
        self.functions = Functions(
            self,
            "Functions",
            config=config,
            storage=self.storage,
            work=self.work,
            archive=self.archive,
            layer_dir=layer_dir,
            sms_layer_dir=sms_layer_dir,
        )
        self.workflow = Workflow(
            self, "Workflow", config=config, functions=self.functions, storage=self.storage, work=self.work
        )
        self.functions.connect_workflow(self.workflow.arn, self.workflow.alias_arn)
        self.api = Api(self, "Api", config=config, functions=self.functions)
        self.waf = Waf(
            self, "Waf", config=config, stage=self.api.rest_api.deployment_stage, limits=waf_limits
        )
        self.sign_in = StaffSignIn(self, "StaffSignIn", config=config, console_url=self.api.console_url)
        if not Token.is_unresolved(self.region):
            check_sms_provider(config, self.region)
        self.functions.connect_sign_in(self.sign_in)
        self.schedules = Schedules(
            self,
            "Schedules",
            config=config,
            gate_advance=self.functions.alias("gate-advance"),
            target_arn=self.functions.alias("gate-advance").function_arn,
            sync=self.functions.alias("deadlines"),
            watch=self.functions.alias("watch"),
            erase=self.functions.alias("erase"),
            sms_receipts=self.functions.alias("notify-batch"),
            seal=self.functions.alias("seal"),
            resync=deadlines_resync,
        )
        self.schedules.allow_moving(self.functions["gate-advance"])
        self.observability = Observability(
            self,
            "Observability",
            config=config,
            state_machine=self.workflow.state_machine,
            functions=list(self.functions),
            tables=[self.storage.table, self.storage.idempotency_table],
            dead_letters=self.schedules.dead_letters,
            rest_api=self.api.rest_api,
            access_logs=self.api.access_logs,
            alarm_email=alarm_email,
            alarm_topic_arn=alarm_topic_arn,
            sms_spend_alarm_usd=sms_spend_alarm_usd,
        )
        self.observability.add_alarm(
            "WafRateBlocked",
            self.waf.metric_rate_blocked(),
            f"防火墙的按来源限流规则 5 分钟内拦截请求达 {RATE_BLOCKED_PER_PERIOD} 次。",
            "waf-rate-blocked",
            threshold=RATE_BLOCKED_PER_PERIOD,
        )

        # every log group of the season, whoever adds it: on the season's logs key
        self.logs_key = encrypt_logs(self, config)
        # every KMS key of the season, whoever adds it: only the break-glass role deletes or disables it
        guard_keys(self, break_glass_role)
        if not Token.is_unresolved(self.region) and self.region.startswith("cn-"):
            Annotations.of(self).add_info(ICP_PREREQUISITE)

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Registration form and API")
        CfnOutput(self, "ConsoleUrl", value=self.api.console_url, description="Staff console")
        CfnOutput(self, "StaffIssuer", value=self.sign_in.issuer, description="OIDC issuer staff sign in at")
        if self.sign_in.user_pool is not None:
            CfnOutput(self, "StaffUserPoolId", value=self.sign_in.user_pool.user_pool_id)
        CfnOutput(
            self,
            "StateMachineArn",
            value=self.workflow.state_machine.state_machine_arn,
            description="The state machine itself (its latest revision; executions, logs)",
        )
        CfnOutput(
            self,
            "StateMachineAliasArn",
            value=self.workflow.alias.ref,
            description="Its `live` alias: what starts the season, which keeps that version (docs/RUNBOOK.md)",
        )
        # what `enroll season start|status --stack` reads (enrollment/adapters/stack.py)
        CfnOutput(
            self,
            "ConfigDigest",
            value=config_digest(config),
            description="SHA-256 of the deployed season config's canonical JSON (enrollment/core/launch.py)",
        )
        CfnOutput(
            self, "SeasonConfig", value=f"seasons/{config.name}.yaml", description="The deployed config"
        )
        CfnOutput(self, "ScheduleGroupName", value=self.schedules.group_name)
        CfnOutput(self, "ArchiveBucketName", value=self.archive.bucket.bucket_name)
        CfnOutput(self, "WorkBucketName", value=self.work.bucket.bucket_name)
        CfnOutput(self, "TableName", value=self.storage.table.table_name)
        CfnOutput(self, "AlarmTopicArn", value=self.observability.topic.topic_arn)
        CfnOutput(
            self,
            "DashboardName",
            value=self.observability.dashboard.dashboard_name,
            description="The season's CloudWatch dashboard (docs/RUNBOOK.md)",
        )

    def _check_staff_directory(self, config: SeasonConfig) -> None:
        """The agencies' IAM ARNs in the season's staff directory are in this stack's partition."""
        path = ROOT / "seasons" / f"{config.name}.staff.yaml"
        if path.is_file():
            StaffDirectory.load(path).check_partition(partition_of(self.region), f"seasons/{path.name}")
