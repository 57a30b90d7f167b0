"""checkov, a second scanner over both synthesized stacks (issue 16: every acknowledgment true).

checkov is pinned (requirements/checkov.txt) in a venv of its own, build/checkov, which `make test`
installs (`make checkov`): its dependencies conflict with the project's. It scans the templates
offline: no platform download (`--skip-download`, BC_SKIP_MAPPING), no version check, and a proxy
that refuses every connection. No check may fail; a check that does not apply is skipped on its
resource with the reason (`infra.nag.checkov_skip`), and every skip in a template is one checkov
applied, with that reason. Beside it, what two of the skips and one fix rest on: the environment
holds no secret, and every log group is on the logs key that CloudWatch Logs of the stack's own
region and account may use.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from enrollment.core.resources import ROOT
from infra.baseline import LOGS_KEY_ACTIONS
from tests.infra.conftest import Synthesis
from tests.infra.helpers import as_list, offline_env, resources

pytestmark = pytest.mark.xdist_group("infra")

CHECKOV = ROOT / "build" / "checkov" / "bin" / "checkov"
NOWHERE = "http://127.0.0.1:9"  # the discard port: any connection checkov tried would be refused
OFFLINE = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    **dict.fromkeys(("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"), NOWHERE),
    "NO_PROXY": "",
    "no_proxy": "",
}
TIMEOUT_S = 600
NO_COMMENT = "No comment provided"  # what checkov reports for a skip without one

# Every environment variable a function may have: names, ids and public settings, no secret
# (infra/functions.py PLAIN_ENVIRONMENT, the reason of the CKV_AWS_173 skips).
PLAIN_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "LOG_LEVEL",
    "SEASON_CONFIG",
    "SEASON_CONFIG_DIGEST",
    "TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "CHILD_KEY_ID",
    "WORK_BUCKET",
    "ARCHIVE_BUCKET",
    "SIGNING_KEY_ID",
    "STAFF_DIRECTORY",
    "STATE_MACHINE_ARN",
    "VERIFY_BATCH_FUNCTION",  # verify-batch's alias ARN (a late registration's checks, issue 18)
    "SEAL_FUNCTION",  # the seal function's alias ARN (the corrections sealed on demand, issue 18)
    "SCHEDULE_GROUP",
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_AUDIENCE",
    "OIDC_GROUPS_CLAIM",
    "OIDC_SCOPES",
    "USER_ON_EVENT_FUNCTION_ARN",  # the CDK Provider framework's (infra/schedules.py): a function ARN
}


@pytest.fixture(scope="module")
def scan(synthesized: Synthesis, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """checkov's JSON report over both stacks' templates (each written to a file of its own)."""
    if not CHECKOV.is_file():
        pytest.fail(
            f"checkov is not installed at {CHECKOV.relative_to(ROOT)}: `make test` installs it "
            "(or `make checkov`: requirements/checkov.txt in a venv of its own)"
        )
    out = tmp_path_factory.mktemp("checkov")
    files: list[Path] = []
    for key, synth in synthesized.stacks.items():
        path = out / f"{key}.template.json"
        path.write_text(json.dumps(synth.raw, indent=1), encoding="utf-8")
        files.append(path)
    # Not --quiet: the skipped checks are in the report only without it.
    args = [str(CHECKOV), "--framework", "cloudformation", "-o", "json", "--skip-download"]
    args += [a for path in files for a in ("-f", str(path))]
    done = subprocess.run(
        args, cwd=out, env=offline_env(**OFFLINE), capture_output=True, text=True, timeout=TIMEOUT_S
    )
    assert done.returncode in (0, 1), f"checkov failed to run ({done.returncode}):\n{done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["check_type"] == "cloudformation", report.get("check_type")
    return report


def test_checkov_scanned_both_stacks_and_parsed_them(scan: dict[str, Any], synthesized: Synthesis):
    summary = scan["summary"]
    assert summary["parsing_errors"] == 0, scan["results"].get("parsing_errors")
    scanned = {Path(c["file_path"]).name for c in scan["results"]["passed_checks"]}
    assert scanned == {f"{key}.template.json" for key in synthesized.stacks}
    assert summary["passed"] > 0 and summary["resource_count"] > 0, summary


def test_checkov_finds_nothing_unexplained(scan: dict[str, Any]):
    failed = [
        f"{Path(c['file_path']).name}: {c['check_id']} ({c['check_name']}) on {c['resource']}"
        for c in scan["results"]["failed_checks"]
    ]
    assert not failed, (
        f"{len(failed)} checkov finding(s): fix each, or skip it on its resource with the reason "
        "(infra.nag.checkov_skip):\n" + "\n".join(sorted(failed))
    )


def _template_skips(raw: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, check id) → comment, for every checkov skip in a template's Metadata."""
    skips: dict[tuple[str, str], str] = {}
    for logical_id, resource in raw["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            skips[(logical_id, skip["id"])] = skip.get("comment", "")
    return skips


def test_every_skip_has_a_reason_and_is_one_checkov_applied(scan: dict[str, Any], synthesized: Synthesis):
    for key, synth in synthesized.stacks.items():
        file = f"{key}.template.json"
        written = _template_skips(synth.raw)
        assert written, f"{key}: no checkov skip at all"
        blank = sorted(f"{lid} {check}" for (lid, check), comment in written.items() if not comment.strip())
        assert not blank, f"{key}: checkov skips without a reason: {blank}"
        applied = {
            (c["resource"].split(".", 1)[1], c["check_id"]): c["check_result"]["suppress_comment"]
            for c in scan["results"]["skipped_checks"]
            if Path(c["file_path"]).name == file
        }
        assert NO_COMMENT not in applied.values()
        stale = sorted(f"{lid} {check}" for lid, check in written.keys() - applied.keys())
        assert not stale, f"{key}: skips of checks checkov does not run on that resource (drop them): {stale}"
        assert applied == written


def test_function_environments_hold_no_secret(synthesized: Synthesis):
    """The CKV_AWS_173 skips say the environment holds names and ids only: a new variable is
    reviewed here before it is added to PLAIN_ENVIRONMENT."""
    for key, synth in synthesized.stacks.items():
        functions = resources(synth.raw, "AWS::Lambda::Function")
        assert functions
        for logical_id, fn in functions.items():
            names = set(fn["Properties"].get("Environment", {}).get("Variables", {}))
            assert names <= PLAIN_ENVIRONMENT, (
                f"{key} {logical_id}: unreviewed variable(s) {names - PLAIN_ENVIRONMENT}"
            )
            skipped = {s["id"] for s in fn.get("Metadata", {}).get("checkov", {}).get("skip", [])}
            assert "CKV_AWS_173" in skipped


def _logs_key(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    keys = {lid: r for lid, r in resources(raw, "AWS::KMS::Key").items() if lid.startswith("LogsKey")}
    assert len(keys) == 1, sorted(keys)
    return next(iter(keys.items()))


@pytest.mark.parametrize("key", ["agnostic", "cn"])
def test_every_log_group_is_on_the_logs_key(synthesized: Synthesis, key: str):
    raw = synthesized.stacks[key].raw
    logs_key, _ = _logs_key(raw)
    groups = resources(raw, "AWS::Logs::LogGroup")
    assert len(groups) > 3  # the functions', the workflow's and the API's access logs
    wrong = sorted(
        lid
        for lid, g in groups.items()
        if g["Properties"].get("KmsKeyId") != {"Fn::GetAtt": [logs_key, "Arn"]}
    )
    assert not wrong, f"{key}: log groups not on the logs key: {wrong}"


def _joined(value: Any) -> str:
    """A Fn::Join of strings and Refs as text, `${Ref}` for each reference."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"${{{value['Ref']}}}"
    delimiter, parts = value["Fn::Join"]
    return str(delimiter).join(_joined(p) for p in parts)


@pytest.mark.parametrize(
    ("key", "principal", "log_groups"),
    [
        ("agnostic", "logs.${AWS::Region}.${AWS::URLSuffix}", "arn:${AWS::Partition}:logs:${AWS::Region}:"),
        # aws-cn: logs.cn-north-1.amazonaws.com.cn, the partition's URL suffix resolved at deploy time
        ("cn", "logs.cn-north-1.${AWS::URLSuffix}", "arn:aws-cn:logs:cn-north-1:"),
    ],
)
def test_only_cloudwatch_logs_of_the_region_uses_the_logs_key_for_the_accounts_log_groups(
    synthesized: Synthesis, key: str, principal: str, log_groups: str
):
    _, resource = _logs_key(synthesized.stacks[key].raw)
    assert resource["Properties"]["EnableKeyRotation"] is True
    statements = resource["Properties"]["KeyPolicy"]["Statement"]
    services = [s for s in statements if "Service" in s.get("Principal", {})]
    assert len(services) == 1, services
    (statement,) = services
    assert statement["Effect"] == "Allow"
    assert _joined(statement["Principal"]["Service"]) == principal
    assert set(as_list(statement["Action"])) == set(LOGS_KEY_ACTIONS)
    context = _joined(statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    assert re.fullmatch(re.escape(log_groups) + r"\$\{AWS::AccountId\}:log-group:\*", context), context
