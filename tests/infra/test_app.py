"""The app as a whole: offline synth with cdk-nag, the China partition, cfn-lint, the pinned CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from enrollment.core.resources import ROOT, STATE_MACHINE_FILE
from tests.infra.conftest import CN_REGION
from tests.infra.helpers import dumps, only

pytestmark = pytest.mark.xdist_group("infra")

CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"


def _nag_errors(report_file: Path) -> list[tuple[str, list[str]]]:
    report = json.loads(report_file.read_text(encoding="utf-8"))
    return [
        (v["ruleName"], [c["constructPath"] for c in v["violatingConstructs"]])
        for plugin in report["pluginReports"]
        for v in plugin["violations"]
        if v["severity"] == "error"
    ]


def test_app_synth_offline_passes_cdk_nag(app_synth):
    # python app.py without credentials or CDK_DEFAULT_*: exit 0 means cdk-nag found no error
    assert app_synth.returncode == 0, app_synth.output[-5000:]
    assert (app_synth.outdir / "Enrollment-jilin-2023.template.json").is_file()
    assert _nag_errors(app_synth.outdir / "validation-report.json") == []
    assert "AwsSolutions" not in app_synth.output


def test_in_process_synth_passes_cdk_nag(synthesized):
    # both stacks of the small config, environment-agnostic and cn-north-1
    assert synthesized.nag_failure is None, synthesized.nag_failure
    assert _nag_errors(synthesized.stacks["cn"].outdir / "validation-report.json") == []


def test_app_defaults_for_jilin_2023(app_synth):
    template = app_synth.template()
    # the project's functions (the deadline schedules' Provider framework function is CDK's own)
    functions = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"].startswith("functions.")
    ]
    assert {f["Properties"]["Environment"]["Variables"]["SEASON_CONFIG"] for f in functions} == {
        "seasons/jilin-2023.yaml"
    }
    [bucket] = [
        r for r in template["Resources"].values() if "ObjectLockConfiguration" in r.get("Properties", {})
    ]
    assert bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Days"] == 3650
    assert set(template["Outputs"]) >= {
        "ApiUrl",
        "StateMachineArn",
        "StateMachineAliasArn",
        "ArchiveBucketName",
        "WorkBucketName",
        "TableName",
    }


def test_china_partition_has_no_aws_partition_literal(cn, synth):
    text = dumps(cn.raw)
    assert CN_REGION in text and "arn:aws-cn:" in text  # the region took effect
    assert "arn:aws:" not in text
    assert "arn:aws:" not in dumps(synth.raw)
    assert "arn:aws:" not in STATE_MACHINE_FILE.read_text(encoding="utf-8")  # deployed as it is


def test_cfn_lint_is_clean(app_synth, cn):
    assert app_synth.returncode == 0, app_synth.output[-3000:]
    jilin = app_synth.outdir / "Enrollment-jilin-2023.template.json"
    for template, region in ((jilin, "us-east-1"), (cn.template_file, CN_REGION)):
        lint = subprocess.run(
            [str(CFN_LINT), "-i", "W3005", "--regions", region, "--", str(template)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert lint.returncode == 0, lint.stdout + lint.stderr


def test_pinned_cdk_cli_synthesizes(cli_synth):
    pinned = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"]["aws-cdk"]
    installed = json.loads((ROOT / "node_modules" / "aws-cdk" / "package.json").read_text(encoding="utf-8"))
    assert installed["version"] == pinned
    assert cli_synth.returncode == 0, cli_synth.output[-5000:]
    template = cli_synth.template()
    _, sm = only(template, "AWS::StepFunctions::StateMachine")
    assert sm["Properties"]["StateMachineType"] == "STANDARD"
    assert _nag_errors(cli_synth.outdir / "validation-report.json") == []


# CloudFormation refuses a template of more than 500 resources (its quotas: "Resources per stack").
STACK_RESOURCES_MAX = 500


def test_every_stack_stays_within_cloudformation_s_resource_quota(app_synth, synth, cn):
    """The season's one stack must deploy: each function, alias, route and alarm is resources, and
    the quota is hard. How many there are is printed, so a change that adds many shows its cost."""
    counts = {
        "jilin-2023 (app.py)": len(app_synth.template()["Resources"]),
        "small season": len(synth.raw["Resources"]),
        "small season, cn-north-1": len(cn.raw["Resources"]),
    }
    print(counts)
    assert all(n <= STACK_RESOURCES_MAX for n in counts.values()), counts
