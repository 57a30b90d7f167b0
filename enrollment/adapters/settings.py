"""Lambda environment, read once per cold start into a typed model (never os.environ in the domain)."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.resources import ROOT


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    season_config: str = Field(alias="SEASON_CONFIG")
    # the deployed config's digest (enrollment/core/launch.py `config_digest`), set by the stack
    season_config_digest: str = Field(default="", alias="SEASON_CONFIG_DIGEST")
    table_name: str = Field(alias="TABLE_NAME")
    idempotency_table_name: str = Field(default="", alias="IDEMPOTENCY_TABLE_NAME")
    child_key_id: str = Field(default="", alias="CHILD_KEY_ID")
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    schedule_group: str = Field(default="", alias="SCHEDULE_GROUP")
    work_bucket: str = Field(default="", alias="WORK_BUCKET")
    archive_bucket: str = Field(default="", alias="ARCHIVE_BUCKET")
    signing_key_id: str = Field(default="", alias="SIGNING_KEY_ID")
    # the verify-batch function's `live` alias: the place API has a late registration's checks asked
    verify_batch_function: str = Field(default="", alias="VERIFY_BATCH_FUNCTION")
    # the seal function (its `live` alias' ARN), which the place API asks to seal the corrections now
    seal_function: str = Field(default="", alias="SEAL_FUNCTION")
    # the embedded backend's SMS outbox (a JSONL file); empty in AWS, where SNS sends
    sms_outbox: str = Field(default="", alias="SMS_OUTBOX")
    # the embedded backend's agency registries (a folder of JSONL files); empty in AWS
    agency_registries: str = Field(default="", alias="AGENCY_REGISTRIES")
    staff_directory: str = Field(default="", alias="STAFF_DIRECTORY")
    # staff sign-in (OIDC, docs/ACCESS.md): the issuer the authorizer trusts and the console signs in at
    oidc_issuer: str = Field(default="", alias="OIDC_ISSUER")
    oidc_client_id: str = Field(default="", alias="OIDC_CLIENT_ID")
    oidc_audience: str = Field(default="", alias="OIDC_AUDIENCE")  # empty: the client id
    oidc_groups_claim: str = Field(default="cognito:groups", alias="OIDC_GROUPS_CLAIM")
    oidc_scopes: str = Field(default="openid profile", alias="OIDC_SCOPES")
    # the embedded backend's development issuer keys (a JWKS file); empty in AWS, where the issuer's
    # published JWKS is fetched
    oidc_jwks_file: str = Field(default="", alias="OIDC_JWKS_FILE")

    def season(self) -> SeasonConfig:
        return season_config(self.season_config)


@cache
def season_config(path: str) -> SeasonConfig:
    """The season config at `path` (relative to the repository root), loaded once per process."""
    p = ROOT / path if not os.path.isabs(path) else path
    return load_season(p)


def settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
