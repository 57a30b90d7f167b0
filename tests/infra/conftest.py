"""Infra tests: the CDK app is synthesized once per session, and assertions read the templates.

- `synthesized`: one in-process `cdk.App` (cdk.json's feature flags, cdk-nag AwsSolutions plugin)
  holding two SeasonStacks for a small season config built here: one environment-agnostic (with
  `archive_retention_days=30`) and one pinned to cn-north-1 (defaults). `app.synth()` runs cdk-nag;
  if it fails, the fixture keeps its report for `test_in_process_synth_passes_cdk_nag` and
  synthesizes again without it, so the property tests still say what is wrong.
- `app_synth` / `cli_synth`: `python app.py` and the pinned CDK CLI for seasons/jilin-2023.yaml, run
  as subprocesses without AWS credentials. Both start in the background as soon as the session
  needs any synthesis, so they overlap with the in-process synth.
"""

from __future__ import annotations

import os

# Before aws_cdk starts its jsii kernel (Node 20 end-of-life banner on every synth otherwise).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from enrollment.core.config import SeasonConfig, SmsProvider, StaffSignIn
from enrollment.core.resources import ROOT
from infra.context import cdk_json_context
from infra.nag import add_checks
from infra.stack import SeasonStack
from tests.infra.helpers import offline_env

TEST_RETENTION_DAYS = 30
CN_REGION = "cn-north-1"
JILIN = "jilin-2023"
CDK_CLI = ROOT / "node_modules" / ".bin" / "cdk"
# alarm destinations (synthetic): the agnostic stack subscribes an address, the cn stack and the
# jilin-2023 app synths hand their alarms to an existing topic as well
ALARM_EMAIL = "enrollment-ops@example.org"
CN_ALARM_TOPIC = "arn:aws-cn:sns:cn-north-1:111122223333:bureau-alarms"
APP_ALARM_TOPIC = "arn:aws:sns:us-east-1:111122223333:bureau-alarms"
SUBPROCESS_TIMEOUT_S = 300


def minimal_config() -> SeasonConfig:
    """A valid season with one district, road, public school and zone (synthetic, 2031)."""
    return SeasonConfig.model_validate(
        {
            "name": "test-2031",
            "season": "2031",
            "year": 2031,
            "city": "测试市",
            "timezone": "Asia/Shanghai",
            "calendar": {
                "notice_issued": "2031-05-11",
                "plans_published": "2031-05-12",
                "grade7_registration": {"start": "2031-05-13", "end": "2031-05-19"},
                "grade1_registration": {"start": "2031-05-20", "end": "2031-05-29"},
                "verification": {"start": "2031-05-30", "end": "2031-06-09"},
                "home_visits": {"start": "2031-06-10", "end": "2031-06-15"},
                "private_counts_due": "2031-06-16",
                "lottery_day": "2031-06-17",
                "coordination": {"start": "2031-06-19", "end": "2031-06-26"},
                "spot_check": {"start": "2031-06-27", "end": "2031-07-05"},
                "admission_notices": "2031-07-06",
                "reporting_day": "2031-07-08",
                "term_start": "2031-09-01",
            },
            "districts": [
                {
                    "code": "TST",
                    "name": "测试区",
                    "kind": "urban-district",
                    "area_code": "220299",
                    "priority_tiers": [{"id": "hukou", "name": "户籍在片区", "requires": ["hukou-in-zone"]}],
                }
            ],
            "roads": [
                {
                    "name": "测试大街",
                    "district": "TST",
                    "start": {"lat": 43.80, "lon": 126.50},
                    "end": {"lat": 43.82, "lon": 126.55},
                    "max_number": 200,
                }
            ],
            "schools": [
                {
                    "id": "P-TST-01",
                    "name": "测试第一小学",
                    "kind": "public",
                    "district": "TST",
                    "address": "测试大街1号",
                    "location": {"lat": 43.81, "lon": 126.52},
                    "plans": {1: 90},
                }
            ],
            "zones": [
                {
                    "id": "Z-TST-1-01",
                    "district": "TST",
                    "grade": 1,
                    "schools": ["P-TST-01"],
                    "segments": [{"road": "测试大街", "from_number": 1, "to_number": 200}],
                }
            ],
        }
    )


@dataclass(frozen=True)
class Synth:
    stack: SeasonStack
    raw: dict[str, Any]
    template: Template
    template_file: Path
    outdir: Path


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str  # stdout + stderr
    outdir: Path

    def template(self, stack: str = f"Enrollment-{JILIN}") -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            (self.outdir / f"{stack}.template.json").read_text(encoding="utf-8")
        )
        return data


class _Background:
    """A subprocess writing its output to a file (no pipe to fill up), awaited on demand."""

    def __init__(self, args: list[str], outdir: Path, log: Path, env: dict[str, str]) -> None:
        self.outdir, self.log = outdir, log
        with log.open("w", encoding="utf-8") as sink:
            self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)

    def wait(self) -> Run:
        code = self.proc.wait(timeout=SUBPROCESS_TIMEOUT_S)
        return Run(code, self.log.read_text(encoding="utf-8", errors="replace"), self.outdir)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def config() -> SeasonConfig:
    return minimal_config()


@pytest.fixture(scope="session")
def _background_synths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, _Background]]:
    app_out = tmp_path_factory.mktemp("app-synth")
    cli_out = tmp_path_factory.mktemp("cli-synth")
    logs = tmp_path_factory.mktemp("synth-logs")
    started = {
        "app": _Background(
            [sys.executable, "app.py"],
            app_out,
            logs / "app.log",
            offline_env(
                CDK_OUTDIR=str(app_out),
                # what `cdk -c` hands app.py: the context as JSON
                CDK_CONTEXT_JSON=json.dumps({"alarm_email": ALARM_EMAIL, "alarm_topic_arn": APP_ALARM_TOPIC}),
            ),
        ),
        "cli": _Background(
            [
                *(str(CDK_CLI), "synth", "--no-notices", "-c", f"season={JILIN}"),
                *("-c", f"alarm_email={ALARM_EMAIL}", "--quiet", "-o", str(cli_out)),
            ],
            cli_out,
            logs / "cli.log",
            offline_env(),
        ),
    }
    yield started
    for proc in started.values():
        proc.stop()


def _synthesize(outdir: Path, config: SeasonConfig, *, nag: bool) -> dict[str, Synth]:
    app = cdk.App(context=cdk_json_context(), outdir=str(outdir))
    stacks = {
        "agnostic": SeasonStack(
            app, "Test", config=config, archive_retention_days=TEST_RETENTION_DAYS, alarm_email=ALARM_EMAIL
        ),
        "cn": SeasonStack(
            app,
            "TestCn",
            config=china(config),
            env=cdk.Environment(region=CN_REGION),
            alarm_topic_arn=CN_ALARM_TOPIC,
        ),
    }
    if nag:
        add_checks(app)
    assembly = app.synth()  # with nag: raises ValidationFailed on any unacknowledged error
    out: dict[str, Synth] = {}
    for key, stack in stacks.items():
        artifact = assembly.get_stack_artifact(stack.artifact_id)
        raw: dict[str, Any] = artifact.template
        out[key] = Synth(stack, raw, Template.from_json(raw), Path(artifact.template_full_path), outdir)
    return out


CN_ISSUER = "https://sso.edu.example.cn/oidc"  # a bureau's own OIDC issuer (synthetic)
CN_CLIENT = "enrollment-console"


CN_SMS_SECRET = "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:enrollment-sms-tencent-AbCdEf"
CN_SMS = SmsProvider(
    provider="tencent",
    sign_name="吉林市教育局",
    credentials_secret_arn=CN_SMS_SECRET,
    sdk_app_id="1400787878",
    code_template="1840001",
    notice_template="1840002",
    notice_short_template="1840003",
    notice_shortest_template="1840004",
    registered_template="1840005",
)


def china(config: SeasonConfig) -> SeasonConfig:
    """The season as a bureau in a China region deploys it: Cognito user pools are not offered there,
    so staff sign in at the bureau's own OIDC issuer (staff_sign_in), and SNS sends no SMS there, so
    the SMS go through Tencent Cloud (sms_provider; its SDK is in the common layer)."""
    sign_in = StaffSignIn(issuer=CN_ISSUER, client_id=CN_CLIENT, groups_claim="groups")
    return config.model_copy(update={"staff_sign_in": sign_in, "sms_provider": CN_SMS})


@dataclass(frozen=True)
class Synthesis:
    stacks: dict[str, Synth]
    nag_failure: str | None  # cdk-nag's report if it failed the synth; the stacks are then nag-free


@pytest.fixture(scope="session")
def synthesized(
    tmp_path_factory: pytest.TempPathFactory, config: SeasonConfig, _background_synths: dict[str, _Background]
) -> Synthesis:
    try:
        return Synthesis(_synthesize(tmp_path_factory.mktemp("cdk-out"), config, nag=True), None)
    except RuntimeError as e:  # jsii's ValidationFailed: one test reports it, the others still run
        if "ValidationFailed" not in str(e):
            raise
        return Synthesis(_synthesize(tmp_path_factory.mktemp("cdk-out-no-nag"), config, nag=False), str(e))


@pytest.fixture(scope="session")
def synth(synthesized: Synthesis) -> Synth:
    return synthesized.stacks["agnostic"]


@pytest.fixture(scope="session")
def cn(synthesized: Synthesis) -> Synth:
    return synthesized.stacks["cn"]


@pytest.fixture(scope="session")
def raw(synth: Synth) -> dict[str, Any]:
    return synth.raw


@pytest.fixture(scope="session")
def template(synth: Synth) -> Template:
    return synth.template


@pytest.fixture(scope="session")
def app_synth(_background_synths: dict[str, _Background]) -> Run:
    return _background_synths["app"].wait()


@pytest.fixture(scope="session")
def cli_synth(_background_synths: dict[str, _Background]) -> Run:
    return _background_synths["cli"].wait()
