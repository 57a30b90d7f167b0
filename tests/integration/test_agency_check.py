"""`enroll agency-check` (issue 17): one signed, harmless request through the real API adapter to an
agency configured in the season, against the fake agency on loopback, its key in (moto's) Secrets
Manager. It says in plain words whether the agency answered and, when not, what to fix; nothing
about a real person is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from enrollment.adapters.agency_http import AgencyKey
from enrollment.cli import main
from enrollment.cli.agency_check import TEST_SUBJECT, check_agency
from enrollment.core.config import AgencyEndpoint, SeasonConfig
from enrollment.local.fake_agency import FakeAgency
from tests.integration.test_agency_http import LOCAL

ROOT = Path(__file__).resolve().parents[2]
KEY = AgencyKey("jilin-2023-ps", b"k" * 40)
REGION = "cn-north-1"


@pytest.fixture
def secrets() -> Iterator[Any]:
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def fake() -> Iterator[FakeAgency]:
    with FakeAgency(LOCAL, {KEY.key_id: KEY.key}, delay_s=0.5) as f:
        yield f


def put_key(secrets: Any, name: str, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return str(secrets.create_secret(Name=name, SecretString=text)["ARN"])


def with_agency(season: SeasonConfig, agency: str, **endpoint: Any) -> SeasonConfig:
    verification = season.verification.model_copy(update={"agencies": {agency: AgencyEndpoint(**endpoint)}})
    return season.model_copy(update={"verification": verification})


def quick(fake: FakeAgency, arn: str, **more: Any) -> dict[str, Any]:
    return {"base_url": fake.base_url, "credentials_secret_arn": arn, "timeout_s": 0.3, "attempts": 2} | more


NO_WAIT: dict[str, Any] = {"sleep": lambda s: None}


def test_the_command_reads_the_season_and_the_key_and_the_agency_answers_no_record(
    season: SeasonConfig, secrets: Any, fake: FakeAgency, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the season config names public security's API and its key is in Secrets Manager
    arn = put_key(
        secrets, "enrollment/agency/public-security", {"key_id": KEY.key_id, "key": KEY.key.decode()}
    )
    raw = yaml.safe_load((ROOT / "seasons" / "jilin-2023.yaml").read_text(encoding="utf-8"))
    raw.setdefault("verification", {})["agencies"] = {
        "public-security": {"base_url": fake.base_url, "credentials_secret_arn": arn}
    }
    config = tmp_path / "jilin-2023.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    # When the operator checks the connection
    code = main(["agency-check", "--season", str(config), "--agency", "public-security"])
    # Then the agency accepted the signature and answered the one test check, about nobody
    out = capsys.readouterr().out
    assert code == 0, out
    assert "已连通" in out and "no-record" in out and "public-security:hukou-register" in out
    assert fake.refused == [] and len(fake.answered) == 1
    (request_id, (body, _)) = next(iter(fake.answered.items()))
    assert request_id.startswith("connection-check-")
    sent = json.loads(body)
    assert sent["agency"] == "public-security"
    assert sent["checks"] == [
        {
            "check_id": "connection-test",
            "kind": "hukou",
            "id_type": "passport",
            "id_number": TEST_SUBJECT,
            "deed_number": None,
            "owner_id_numbers": None,
        }
    ]


@pytest.mark.parametrize(("agency", "kind"), [("housing", "deed"), ("planning", "planned-use")])
def test_housing_and_planning_are_asked_their_own_kind_of_check(
    season: SeasonConfig, secrets: Any, fake: FakeAgency, agency: str, kind: str
) -> None:
    arn = put_key(secrets, f"agency/{agency}", {"key_id": KEY.key_id, "key": KEY.key.decode()})
    outcome = check_agency(with_agency(season, agency, **quick(fake, arn)), agency, secrets=secrets)  # type: ignore[arg-type]
    assert outcome.code == 0, outcome.lines
    (body, _) = next(iter(fake.answered.values()))
    (check,) = json.loads(body)["checks"]
    assert check["kind"] == kind and check["deed_number"] == TEST_SUBJECT and check["id_number"] is None


def test_a_key_the_agency_does_not_hold_is_refused_and_the_operator_told_why(
    season: SeasonConfig, secrets: Any, fake: FakeAgency
) -> None:
    arn = put_key(secrets, "agency/ps", {"key_id": KEY.key_id, "key": "w" * 40})
    config = with_agency(season, "public-security", **quick(fake, arn))
    outcome = check_agency(config, "public-security", secrets=secrets, **NO_WAIT)
    assert outcome.code == 1
    text = "\n".join(outcome.lines)
    assert "未连通" in text and "对方拒绝了请求签名" in text and "HTTP 401" in text
    assert [status for status, _ in fake.refused] == [401, 401]  # the adapter's two attempts


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("down", "在超时时间内没有收到答复"),
        ("timeout", "在超时时间内没有收到答复"),
        ("5xx", "返回了服务器错误"),
        ("malformed", "格式不符合 docs/agency-api.yaml"),
    ],
)
def test_each_fault_is_named_in_plain_words(
    season: SeasonConfig, secrets: Any, fake: FakeAgency, fault: Any, said: str
) -> None:
    arn = put_key(secrets, "agency/ps", {"key_id": KEY.key_id, "key": KEY.key.decode()})
    fake.fail(fault)
    outcome = check_agency(
        with_agency(season, "public-security", **quick(fake, arn)),
        "public-security",
        secrets=secrets,
        **NO_WAIT,
    )
    assert outcome.code == 1 and said in "\n".join(outcome.lines), outcome.lines


def test_a_wrong_address_is_named(season: SeasonConfig, secrets: Any, fake: FakeAgency) -> None:
    arn = put_key(secrets, "agency/ps", {"key_id": KEY.key_id, "key": KEY.key.decode()})
    config = with_agency(season, "public-security", **quick(fake, arn, base_url=fake.base_url + "/api"))
    outcome = check_agency(config, "public-security", secrets=secrets, **NO_WAIT)
    assert outcome.code == 1 and "该地址没有对接接口" in outcome.lines[1] and "HTTP 404" in outcome.lines[1]


def test_an_unanswered_test_check_is_not_called_connected(season: SeasonConfig, secrets: Any) -> None:
    arn = put_key(secrets, "agency/ps", {"key_id": KEY.key_id, "key": KEY.key.decode()})

    class Silent(FakeAgency):
        def answer(self, request: Any, now: Any) -> Any:
            return super().answer(request, now).model_copy(update={"answers": []})

    with Silent(LOCAL, {KEY.key_id: KEY.key}) as silent:
        config = with_agency(season, "public-security", **quick(silent, arn))
        outcome = check_agency(config, "public-security", secrets=secrets)
    assert outcome.code == 1 and "没有答复测试核查项" in outcome.lines[0]


def test_a_secret_missing_or_not_the_keys_shape_is_named_and_nothing_is_sent(
    season: SeasonConfig, secrets: Any, fake: FakeAgency
) -> None:
    missing = f"arn:aws-cn:secretsmanager:{REGION}:123456789012:secret:agency/none-AbCdEf"
    outcome = check_agency(
        with_agency(season, "public-security", **quick(fake, missing)), "public-security", secrets=secrets
    )
    assert outcome.code == 1 and "无法读取签名密钥" in outcome.lines[0]
    assert "ResourceNotFoundException" in outcome.lines[0]
    short = put_key(secrets, "agency/short", {"key_id": "k", "key": "short"})
    outcome = check_agency(
        with_agency(season, "public-security", **quick(fake, short)), "public-security", secrets=secrets
    )
    assert outcome.code == 1 and "签名密钥的内容不对" in outcome.lines[0]
    assert fake.calls == 0


def test_an_agency_not_configured_is_named_with_exit_code_2(
    season: SeasonConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["agency-check", "--season", "jilin-2023", "--agency", "housing"]) == 2
    assert "verification.agencies" in capsys.readouterr().out
