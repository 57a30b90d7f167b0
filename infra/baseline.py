"""What the stack's encryption keys and its buckets all have, so that none is made without it.

R-DATA-2: a key for data at rest rotates and outlives the stack (the archive's signing key and the
child-key HMAC key cannot rotate: infra/archive.py, infra/storage.py); a bucket is private (public
access blocked, ACLs off, TLS 1.2 only) and outlives the stack. Each construct adds what is its own: a
key's purpose, a bucket's name, encryption, versioning, lifecycle and logging.

Every KMS key of a stack is guarded (`guard_keys`): its key policy denies kms:ScheduleKeyDeletion
and kms:DisableKey to every principal but one named break-glass role, so neither a compromised
deploy role nor an administrator's slip can take the archive's, the signing or the data key away.

Every log group of a stack is encrypted with the stack's logs key (`encrypt_logs`): the functions',
the workflow's and the API's logs are masked, but still personal, and the web ACL's hold callers'
addresses (R-DATA-2). Only CloudWatch Logs in the stack's own region may use that key, and only for
log groups of the stack's account.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import ArnFormat, Aspects, IAspect, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from enrollment.core.config import SeasonConfig


def customer_key(scope: Construct, construct_id: str, config: SeasonConfig, purpose: str) -> kms.Key:
    """A symmetric KMS key for `purpose`, rotated yearly and retained when the stack goes."""
    return kms.Key(
        scope,
        construct_id,
        description=f"enrollment {config.name}: {purpose}",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


def private_bucket(scope: Construct, construct_id: str, **props: Any) -> s3.Bucket:
    """An S3 bucket nobody reaches from outside, retained when the stack goes; `props` add the rest."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        removal_policy=RemovalPolicy.RETAIN,
        **props,
    )


GUARDED_ACTIONS = ("kms:ScheduleKeyDeletion", "kms:DisableKey")
GUARD_SID = "OnlyBreakGlassDeletesOrDisables"


def role_arn(scope: Construct, role_name: str) -> str:
    """The ARN of role `role_name` (no path) in the stack's account, in the stack's partition."""
    return Stack.of(scope).format_arn(
        service="iam",
        region="",
        resource="role",
        resource_name=role_name,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


@jsii.implements(IAspect)
class _KeyGuard:
    def __init__(self, break_glass_role: str) -> None:
        self._role = break_glass_role

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, kms.Key):
            node.add_to_resource_policy(
                iam.PolicyStatement(
                    sid=GUARD_SID,
                    effect=iam.Effect.DENY,
                    principals=[iam.AnyPrincipal()],
                    actions=list(GUARDED_ACTIONS),
                    resources=["*"],
                    conditions={"ArnNotEquals": {"aws:PrincipalArn": role_arn(node, self._role)}},
                )
            )


def guard_keys(scope: Construct, break_glass_role: str) -> None:
    """Deny deleting or disabling any KMS key under `scope` (made now or later) to all but the role."""
    Aspects.of(scope).add(_KeyGuard(break_glass_role))


LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")


def logs_service_principal(stack: Stack) -> str:
    """CloudWatch Logs' regional service principal: `logs.<region>.amazonaws.com`, and in the China
    partition `logs.<region>.amazonaws.com.cn` (the partition's URL suffix, resolved at deploy time)."""
    return f"logs.{stack.region}.{stack.url_suffix}"


@jsii.implements(IAspect)
class _LogsEncryption:
    def __init__(self, key: kms.IKey) -> None:
        self._key = key

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
            node.kms_key_id = self._key.key_arn


def encrypt_logs(stack: Stack, config: SeasonConfig) -> kms.Key:
    """The stack's logs key, and every log group of the stack (made now or later) encrypted with it.

    The key policy lets CloudWatch Logs use the key (the service encrypts and decrypts; writers and
    readers of the logs need no KMS permission), for this account's log groups in this region only.
    """
    key = customer_key(stack, "LogsKey", config, "CloudWatch Logs (masked, still personal: R-DATA-2)")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsOfThisAccount",
            principals=[iam.ServicePrincipal(logs_service_principal(stack))],
            actions=list(LOGS_KEY_ACTIONS),
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    Aspects.of(stack).add(_LogsEncryption(key))
    return key
