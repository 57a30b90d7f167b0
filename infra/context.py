"""The CDK app's inputs: cdk.json's feature flags and the context keys `app.py` understands.

`python app.py` (no CDK CLI) does not read cdk.json, so `app.py` and the infra tests pass its
`context` to `cdk.App` themselves; values given with `-c` on the CLI still win.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from constructs import Node

from enrollment.core.resources import ROOT

CDK_JSON = ROOT / "cdk.json"
LAYER_DIR = ROOT / "build" / "layer"
SOLVER_LAYER_DIR = ROOT / "build" / "solver-layer"  # OR-Tools for the place function (make layer)
DEFAULT_SEASON = "jilin-2023"
DEFAULT_ARCHIVE_RETENTION_DAYS = 3650  # 10 years of signed results (R-LOT-3 archives)
MAX_OBJECT_LOCK_DAYS = 36500  # S3's limit for a default retention
# The one IAM role (by name, in the deploying account) that may schedule the deletion of, or disable,
# the season's KMS keys (infra/baseline.py guard_keys); `-c break_glass_role=NAME` names another.
DEFAULT_BREAK_GLASS_ROLE = "enrollment-break-glass"
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")  # IAM's rule for a role name


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """Feature flags and defaults from cdk.json's `context`."""
    context = json.loads(path.read_text(encoding="utf-8")).get("context", {})
    if not isinstance(context, dict):
        raise ValueError(f"{path}: `context` must be an object")
    return context


@dataclass(frozen=True)
class AppOptions:
    season: str
    account: str | None
    region: str | None
    archive_retention_days: int
    alarm_email: str | None
    break_glass_role: str = DEFAULT_BREAK_GLASS_ROLE
    account_setup: bool = False  # synthesize the once-per-account stack (infra/account.py) instead

    @classmethod
    def from_node(cls, node: Node, environ: dict[str, str] | None = None) -> AppOptions:
        env = os.environ if environ is None else environ

        def text(key: str) -> str | None:
            value = node.try_get_context(key)
            return None if value in (None, "") else str(value)

        retention_raw = text("archive_retention_days") or str(DEFAULT_ARCHIVE_RETENTION_DAYS)
        try:
            retention = int(retention_raw)
        except ValueError:
            raise ValueError(
                f"context archive_retention_days={retention_raw!r} is not a whole number"
            ) from None
        if not 1 <= retention <= MAX_OBJECT_LOCK_DAYS:
            raise ValueError(f"context archive_retention_days={retention} must be 1..{MAX_OBJECT_LOCK_DAYS}")
        break_glass = text("break_glass_role") or DEFAULT_BREAK_GLASS_ROLE
        if not _ROLE_NAME.fullmatch(break_glass):
            raise ValueError(
                f"context break_glass_role={break_glass!r} must be an IAM role name (not an ARN): "
                "1-64 letters, digits or +=,.@_-; the ARN is built for the stack's partition and account"
            )
        setup = text("account_setup") or "false"
        if setup not in ("true", "false"):
            raise ValueError(f"context account_setup={setup!r} must be true or false")
        return cls(
            season=text("season") or DEFAULT_SEASON,
            account=text("account") or env.get("CDK_DEFAULT_ACCOUNT") or None,
            region=text("region") or env.get("CDK_DEFAULT_REGION") or None,
            archive_retention_days=retention,
            alarm_email=text("alarm_email"),
            break_glass_role=break_glass,
            account_setup=setup == "true",
        )

    def environment(self) -> cdk.Environment:
        """Environment-agnostic unless an account or region is known; never looked up in AWS."""
        return cdk.Environment(account=self.account, region=self.region)
