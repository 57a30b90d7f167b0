"""What the stack's encryption keys and its buckets all have, so that none is made without it.

R-DATA-2: a key for data at rest rotates and outlives the stack (the archive's signing key and the
child-key HMAC key cannot rotate: infra/archive.py, infra/storage.py); a bucket is private (public
access blocked, ACLs off, TLS 1.2 only) and outlives the stack. Each construct adds what is its own: a
key's purpose, a bucket's name, encryption, versioning, lifecycle and logging.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

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
