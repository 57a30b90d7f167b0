"""`enroll agency-check`: before the season, is an agency's API reachable, and does it accept our
signature and answer in the contract's shape (docs/agency-api.yaml)?

enroll agency-check --season jilin-2023 --agency public-security

It reads the agency's endpoint from the season config (`verification.agencies`) and its HMAC key from
Secrets Manager, as verify-batch does, and sends one signed request through the real adapter
(enrollment/adapters/agency_http.py: timeout, retries, contract validation): one check about a
subject no register holds (`ENROLLMENT-CONNECTION-TEST`), so nobody's data leaves and the agency's
honest answer is `no-record`. Nothing is stored. It prints what happened in plain words, Chinese
first and English beside it, and what to fix.

Exit codes: 0 the agency answered; 1 it did not, or the key could not be read; 2 the agency is not
configured (or the config is invalid).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from dataclasses import dataclass
from typing import Any, Literal, TextIO, get_args

from enrollment.core.config import AgencyEndpoint, ConfigError, ConfigProblems, SeasonConfig
from enrollment.verification.agency_api import KIND_OF, PATH, CheckRequest

AgencyName = Literal["public-security", "housing", "planning"]
AGENCIES: tuple[str, ...] = get_args(AgencyName)
AGENCY_ZH = {"public-security": "公安（户籍）", "housing": "住建（房产）", "planning": "规划（房屋用途）"}
TEST_SUBJECT = "ENROLLMENT-CONNECTION-TEST"  # no register holds it: the honest answer is no-record
CHECK_ID = "connection-test"


@dataclass(frozen=True)
class Outcome:
    code: int  # the exit code
    lines: list[str]


def harmless_check(agency: AgencyName) -> CheckRequest:
    """The one harmless check: the agency's own kind of question, about a subject that is nobody."""
    kind = KIND_OF[agency]
    if kind == "hukou":
        return CheckRequest(check_id=CHECK_ID, kind=kind, id_type="passport", id_number=TEST_SUBJECT)
    return CheckRequest(check_id=CHECK_ID, kind=kind, deed_number=TEST_SUBJECT)


def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None


def _secrets_client(arn: str) -> Any:
    """A Secrets Manager client in the secret's own region (the operator's shell may name another)."""
    import boto3

    return boto3.client("secretsmanager", region_name=_region_of(arn))


# What a failed call's problem (agency_http's AgencyUnavailable) means, and what to do about it.
ADVICE: list[tuple[str, str, str]] = [
    (
        "HTTP 401",
        "对方拒绝了请求签名：密钥中的 key_id 或 key 与对方保存的不一致，或两边时钟相差超过 300 秒",
        "the agency refused the signature: key_id or key differ from the agency's, or the clocks differ "
        "by more than 300 s",
    ),
    (
        "HTTP 404",
        f"该地址没有对接接口：base_url 加上 {PATH} 必须是对方实现的地址",
        f"no API there: base_url followed by {PATH} must be the agency's endpoint",
    ),
    (
        "HTTP 400",
        "对方认为请求不合规范：请对方按 docs/agency-api.yaml 核对实现",
        "the agency refused the request as invalid: compare its implementation with docs/agency-api.yaml",
    ),
    (
        "HTTP 409",
        "对方认为请求编号重复：同一请求编号只应对应同一请求内容",
        "the agency says the request id was reused: one request id must mean one body",
    ),
    (
        "HTTP 5",
        "对方服务可以连通，但返回了服务器错误：请对方排查",
        "the agency is reachable but answered with a server error: the agency must look into it",
    ),
    (
        "no answer",
        "在超时时间内没有收到答复：请核对地址、网络通路（专线、防火墙、对方的访问白名单）和证书",
        "no answer within timeout_s: check the address, the network path (line, firewall, the agency's "
        "allow-list) and TLS",
    ),
    (
        "malformed answer",
        "对方有答复，但格式不符合 docs/agency-api.yaml：请对方按对接规范修改",
        "the agency answered, but not in the shape of docs/agency-api.yaml",
    ),
    (
        "another request id",
        "答复的请求编号与请求不一致：对方须原样返回 request_id",
        "the answer names another request id: the agency must return the request_id it was sent",
    ),
    (
        "checks not asked",
        "答复中含有未询问或重复的核查项：对方须按 check_id 逐项答复",
        "the answer names checks twice or checks not asked: one answer per check_id asked",
    ),
]


def _advice(problem: str) -> tuple[str, str]:
    for marker, zh, en in ADVICE:
        if marker in problem:
            return zh, en
    return "调用失败", "the call failed"


def check_agency(config: SeasonConfig, agency: AgencyName, *, secrets: Any = None, **adapter: Any) -> Outcome:
    """One signed test request to the agency configured in `config`, as verify-batch would send it.
    `secrets`: a Secrets Manager client (default: one in the secret's region); `adapter`: HttpAgency's
    test hooks (sleep, jitter)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from enrollment.adapters.agency_http import HttpAgency, key_from_secret
    from enrollment.verification.checks import AgencyUnavailable

    zh = AGENCY_ZH[agency]
    endpoint: AgencyEndpoint | None = config.verification.agency_apis().get(agency)  # not by files
    if agency in config.verification.agency_files():
        return Outcome(
            2,
            [
                f"{zh}以文件方式答复（kind: files），没有可检查的接口；请按 docs/AGENCY-FILES.md 交换文件"
                f" · {agency} exchanges files (kind: files): there is no API to check (docs/AGENCY-FILES.md)"
            ],
        )
    if endpoint is None:
        return Outcome(
            2,
            [
                f"未配置：{zh}不在 seasons/{config.name}.yaml 的 verification.agencies 中，不会通过接口核查"
                f" · not configured: {agency} is not in verification.agencies of seasons/{config.name}.yaml "
                "(README, 'Agencies and home visits: what a bureau sets up')"
            ],
        )
    arn = endpoint.credentials_secret_arn
    try:
        key = key_from_secret(arn, secrets if secrets is not None else _secrets_client(arn))
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code", "")
        return Outcome(
            1,
            [
                f"无法读取签名密钥 {arn}（{code}）：请确认该密钥存在于本区域，且当前身份可以读取"
                f" · cannot read the HMAC key secret {arn} ({code}): does it exist in that region, and may "
                "these credentials read it?"
            ],
        )
    except BotoCoreError as e:
        return Outcome(1, [f"无法连接 Secrets Manager · cannot reach Secrets Manager: {e}"])
    except ValueError as e:
        return Outcome(
            1,
            [
                '签名密钥的内容不对：须为 JSON {"key_id": "...", "key": "..."}，key 至少 32 个字符'
                f" · the secret's value is wrong: {e}"
            ],
        )
    client = HttpAgency(agency, endpoint, key, **adapter)
    where = f"{client.url}（key_id {key.key_id}）"
    try:
        answers = client.ask([harmless_check(agency)], request_id=f"connection-check-{uuid.uuid4().hex[:16]}")
    except AgencyUnavailable as e:
        problem = str(e).removeprefix(f"{agency}: ")
        advice_zh, advice_en = _advice(problem)
        return Outcome(
            1,
            [
                f"未连通：{zh} {where}，尝试 {endpoint.attempts} 次 · not connected: {agency} at {client.url}",
                f"原因：{advice_zh} · why: {advice_en} ({problem})",
            ],
        )
    answer = answers.get(CHECK_ID)
    if answer is None:
        return Outcome(
            1,
            [
                f"已连通，签名已被接受，但对方没有答复测试核查项：未答复的核查会再次询问，但对方应对查无此人/此房的"
                f"询问答复 no-record · reached {agency} at {client.url} and the signature was accepted, but "
                "the test check was left unanswered: an unknown subject should be answered no-record",
            ],
        )
    said = "查无记录 (no-record)" if answer.reason == "no-record" else f"{answer.reason}"
    return Outcome(
        0,
        [
            f"已连通：{zh} {where} 接受了签名并按规范答复 · connected: {agency} at {client.url} accepted "
            "the signature and answered in the contract's shape",
            f"测试核查项的答复：{said}，来源 {answer.facts.get('source')}，时间 {answer.facts.get('answered_at')}"
            " · the test check's answer, its source and time (nothing was stored)",
        ],
    )


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "agency-check",
        help="send one signed, harmless test request to an agency's API and say whether it answered",
    )
    p.add_argument("--season", required=True, help="season config: a name in seasons/ or a path")
    p.add_argument("--agency", required=True, choices=AGENCIES)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, out: TextIO | None = None) -> int:
    from enrollment.core.config import load_season

    out = out or sys.stdout
    try:
        config = load_season(args.season)
    except (ConfigError, ConfigProblems) as e:
        out.write(f"配置无效 · invalid season config: {e}\n")
        return 2
    outcome = check_agency(config, args.agency)
    out.write("\n".join(outcome.lines) + "\n")
    return outcome.code
