#!/usr/bin/env python3
"""CDK entry: one SeasonStack for the season config named by `-c season=<name>` (default jilin-2023).

    node_modules/.bin/cdk synth -c season=jilin-2023 [-c region=cn-north-1] [-c account=...]
    CDK_OUTDIR=cdk.out .venv/bin/python app.py          # same, without the CLI

Synth is offline: no lookups, no AWS calls. cdk-nag AwsSolutions runs as a validation plugin and
fails synth on any unacknowledged error. Alarms need an owner: synth refuses a season without
alarm_email (subscribed to the alarm topic) or alarm_topic_arn (an existing SNS topic the alarms also
go to); `make synth` passes a synth-only placeholder address that `make deploy` refuses. Other
context: archive_retention_days (default 3650), sms_spend_alarm_usd (default 800), break_glass_role
(the IAM role name that alone may delete or disable the season's KMS keys; default
enrollment-break-glass), waf_rate_limit, waf_registration_rate_limit and waf_proof_rate_limit (the
web ACL's requests per client IP in 5 minutes: 2000, 100, 100; infra/waf.py). `-c account_setup=true`
synthesizes the once-per-account stack instead (Enrollment-account: API Gateway's logging role,
infra/account.py). docs/RUNBOOK.md.
"""

from __future__ import annotations

import aws_cdk as cdk

from enrollment.core.config import load_season
from enrollment.core.resources import stack_name
from infra.account import AccountStack
from infra.context import AppOptions, cdk_json_context
from infra.nag import add_checks
from infra.stack import SeasonStack


def main() -> None:
    app = cdk.App(context=cdk_json_context())  # cdk.json's flags also without the CLI; -c still wins
    try:
        options = AppOptions.from_node(app.node)
    except ValueError as e:
        raise SystemExit(f"app.py: {e}") from None
    if options.account_setup:
        AccountStack(app, env=options.environment())
        add_checks(app)
        app.synth()
        return
    config = load_season(options.season)
    SeasonStack(
        app,
        stack_name(config.name),
        config=config,
        archive_retention_days=options.archive_retention_days,
        alarm_email=options.alarm_email,
        alarm_topic_arn=options.alarm_topic_arn,
        sms_spend_alarm_usd=options.sms_spend_alarm_usd,
        break_glass_role=options.break_glass_role,
        waf_limits=options.waf_limits,
        env=options.environment(),
    )
    add_checks(app)
    app.synth()


if __name__ == "__main__":
    main()
