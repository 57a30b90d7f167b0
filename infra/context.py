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
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SNS_TOPIC_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")
# `make synth` on a fresh clone (no ALARM_EMAIL given): synthesizes, and `make deploy` refuses it
SYNTH_ONLY_ALARM_EMAIL = "synth-only@example.invalid"
DEFAULT_SMS_SPEND_ALARM_USD = 800
# The one IAM role (by name, in the deploying account) that may schedule the deletion of, or disable,
# the season's KMS keys (infra/baseline.py guard_keys); `-c break_glass_role=NAME` names another.
DEFAULT_BREAK_GLASS_ROLE = "enrollment-break-glass"
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")  # IAM's rule for a role name
# The web ACL's rate-based rules (infra/waf.py): requests per client IP in 5 minutes. Mobile carriers
# put many families behind one address (CGNAT), so the limits are generous; `-c waf_rate_limit=...`,
# `-c waf_registration_rate_limit=...`, `-c waf_proof_rate_limit=...` set others.
DEFAULT_WAF_RATE_LIMIT = 2000  # every request
DEFAULT_WAF_REGISTRATION_RATE_LIMIT = 100  # POST /api/registrations
DEFAULT_WAF_PROOF_RATE_LIMIT = 100  # POST /api/registrations/{id}/code and /session (a code is an SMS)
WAF_LIMIT_RANGE = (100, 2_000_000_000)  # what every partition's WAF takes for a rate-based rule


@dataclass(frozen=True)
class WafLimits:
    general: int = DEFAULT_WAF_RATE_LIMIT
    registration: int = DEFAULT_WAF_REGISTRATION_RATE_LIMIT
    proof: int = DEFAULT_WAF_PROOF_RATE_LIMIT


DEFAULT_WAF_LIMITS = WafLimits()


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
    alarm_topic_arn: str | None = None
    sms_spend_alarm_usd: float = DEFAULT_SMS_SPEND_ALARM_USD
    break_glass_role: str = DEFAULT_BREAK_GLASS_ROLE
    waf_limits: WafLimits = DEFAULT_WAF_LIMITS
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
        email, topic = text("alarm_email"), text("alarm_topic_arn")
        setup = text("account_setup") or "false"
        if setup not in ("true", "false"):
            raise ValueError(f"context account_setup={setup!r} must be true or false")
        if email is None and topic is None and setup == "false":  # the account stack has no alarms
            raise ValueError(
                "no alarm destination: give context alarm_email (-c alarm_email=<address>, subscribed to "
                "the season's alarm topic) or alarm_topic_arn (-c alarm_topic_arn=<an existing SNS topic's "
                "ARN>); `make deploy ALARM_EMAIL=...` passes it (docs/RUNBOOK.md)"
            )
        if email is not None and not EMAIL.match(email):
            raise ValueError(f"context alarm_email={email!r} is not an e-mail address")
        if topic is not None and not SNS_TOPIC_ARN.match(topic):
            raise ValueError(
                f"context alarm_topic_arn={topic!r} is not an SNS topic ARN (arn:<partition>:sns:<region>:"
                "<account>:<name>)"
            )
        spend_raw = text("sms_spend_alarm_usd") or str(DEFAULT_SMS_SPEND_ALARM_USD)
        try:
            spend = float(spend_raw)
        except ValueError:
            raise ValueError(f"context sms_spend_alarm_usd={spend_raw!r} is not a number") from None
        if not spend > 0:
            raise ValueError(f"context sms_spend_alarm_usd={spend_raw} must be more than 0")
        break_glass = text("break_glass_role") or DEFAULT_BREAK_GLASS_ROLE
        if not _ROLE_NAME.fullmatch(break_glass):
            raise ValueError(
                f"context break_glass_role={break_glass!r} must be an IAM role name (not an ARN): "
                "1-64 letters, digits or +=,.@_-; the ARN is built for the stack's partition and account"
            )
        low, high = WAF_LIMIT_RANGE
        waf: dict[str, int] = {}
        for key, field, default in (
            ("waf_rate_limit", "general", DEFAULT_WAF_RATE_LIMIT),
            ("waf_registration_rate_limit", "registration", DEFAULT_WAF_REGISTRATION_RATE_LIMIT),
            ("waf_proof_rate_limit", "proof", DEFAULT_WAF_PROOF_RATE_LIMIT),
        ):
            raw = text(key) or str(default)
            if not raw.isdigit() or not low <= int(raw) <= high:
                raise ValueError(
                    f"context {key}={raw!r} must be a whole number of requests per client IP in 5 minutes, "
                    f"{low}..{high}"
                )
            waf[field] = int(raw)
        return cls(
            season=text("season") or DEFAULT_SEASON,
            account=text("account") or env.get("CDK_DEFAULT_ACCOUNT") or None,
            region=text("region") or env.get("CDK_DEFAULT_REGION") or None,
            archive_retention_days=retention,
            alarm_email=email,
            alarm_topic_arn=topic,
            sms_spend_alarm_usd=spend,
            break_glass_role=break_glass,
            waf_limits=WafLimits(**waf),
            account_setup=setup == "true",
        )

    def environment(self) -> cdk.Environment:
        """Environment-agnostic unless an account or region is known; never looked up in AWS."""
        return cdk.Environment(account=self.account, region=self.region)
