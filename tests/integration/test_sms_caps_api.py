"""The SMS caps through the parents' code route on moto (issue 16): a phone past its cap gets nothing
while the caller sees the same 202 as always; the season's hourly circuit answers 429 with
Retry-After for every id alike; each refusal is logged with the phone masked and counted as
`SmsCapReached` by cap. Synthetic people and phone numbers."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

from enrollment.adapters.observability import logger
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.local.runtime import EmbeddedSeason
from tests.integration.conftest import at, post, table_items
from tests.integration.parent_session import codes, family_call
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-registration")

UNKNOWN = "R-AAAA-BBBB-CCCC-DDDD"
VICTIM = "17000009999"
CAPS = {"codes_per_phone_hour": 2, "codes_per_phone_day": 3, "codes_per_hour": 4}


@pytest.fixture
def rt(season: SeasonConfig, tmp_path: Path) -> Iterator[EmbeddedSeason]:
    """The season with small SMS caps (from its config file), registration open."""
    raw = season.model_dump(mode="json")
    raw["sms"] = CAPS
    path = tmp_path / f"{season.name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config = load_season(path)
    start = at(config, f"{config.calendar.plans_published} 09:00")
    with EmbeddedSeason(config, SimulatedClock(start), config_path=str(path)) as embedded:
        embedded.clock.set(at(config, f"{config.calendar.grade1_registration.start} 10:00"))
        yield embedded


def register(rt: EmbeddedSeason, phone: str) -> str:
    guardians = [
        {"name": "测试家长", "relationship": "母亲", "id_number": "220202198607082462", "phone": phone}
    ]
    status, answer = post(rt, valid_body(rt.config, guardians=guardians))
    assert status == 201, answer
    return str(answer["registration_id"])


def ask(rt: EmbeddedSeason, registration_id: str, n: int) -> tuple[int, Any, dict[str, str]]:
    """A code request from its own source IP (the per-client limit is not what is tested here)."""
    return family_call(rt, "POST", f"/api/registrations/{registration_id}/code", source_ip=f"198.51.100.{n}")


@contextmanager
def published() -> Iterator[io.StringIO]:
    """What the function writes while inside: its log lines and its metrics (CloudWatch embedded
    metric format), published as in AWS (locally metrics are disabled)."""
    out = io.StringIO()
    with (
        mock.patch.dict(os.environ, {"POWERTOOLS_METRICS_DISABLED": "false"}),
        mock.patch.object(logger.registered_handler, "stream", out),
        redirect_stdout(out),
    ):
        yield out


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]


def cap_metrics(out: io.StringIO) -> list[dict[str, Any]]:
    return [r for r in lines(out) if "_aws" in r and "SmsCapReached" in r]


def test_a_phone_past_its_cap_gets_nothing_and_the_caller_the_same_202(
    rt: EmbeddedSeason,
) -> None:
    # Given three registrations naming one phone (two may be someone's fake ones)
    ids = [register(rt, VICTIM) for _ in range(3)]
    answers = [ask(rt, rid, n) for n, rid in enumerate(ids[:2])]
    # When the third asks, past the phone's two codes an hour
    with published() as out:
        answers.append(ask(rt, ids[2], 2))
    unknown = ask(rt, UNKNOWN, 3)
    # Then every caller got the one 202, known or unknown, capped or not: no oracle
    assert {status for status, _, _ in [*answers, unknown]} == {202}
    assert all(body == unknown[1] for _, body, _ in answers)
    # and the phone got two codes, not three
    assert [m["to"] for m in codes(rt)] == ["170****9999"] * 2
    assert ids[2] not in json.dumps(codes(rt), ensure_ascii=False)
    # The refusal is logged with the phone masked, and counted by cap
    [line] = [x for x in lines(out) if x.get("message") == "sms cap reached"]
    assert line["level"] == "WARNING" and line["cap"] == "phone" and line["phone"] == "170****9999"
    assert line["registration_id"] == ids[2] and VICTIM not in out.getvalue()
    [metric] = cap_metrics(out)
    assert (
        metric["cap"] == "phone" and metric["season"] == rt.config.name and metric["SmsCapReached"] == [1.0]
    )
    [directive] = metric["_aws"]["CloudWatchMetrics"]
    # the dimensions the alarms name (infra/observability.py `sms_cap_metric`), exactly
    assert directive["Namespace"] == "Enrollment" and directive["Dimensions"] == [
        ["service", "season", "cap"]
    ]
    assert metric["service"] == "enrollment"
    # Only a keyed hash of the phone is stored
    stored = [i for i in table_items(rt) if str(i["pk"]).startswith("SMSCAP#")]
    assert {i["type"] for i in stored} == {"sms-cap-phone", "sms-cap-minute"}
    assert VICTIM not in json.dumps(stored, default=str)
    # An hour later the phone may get a code again
    rt.clock.set(rt.clock.now() + timedelta(hours=1))
    assert ask(rt, ids[2], 4)[0] == 202 and len(codes(rt)) == 3


def test_the_season_circuit_answers_429_for_every_id_alike(
    rt: EmbeddedSeason,
) -> None:
    ids = [register(rt, f"1700000{i:04d}") for i in range(CAPS["codes_per_hour"] + 1)]
    for n, rid in enumerate(ids[:-1]):
        assert ask(rt, rid, n)[0] == 202
    rt.clock.set(rt.clock.now() + timedelta(minutes=20))
    # When the season's codes of the hour are at the cap: the same 429 for a new id and an unknown one
    with published() as out:
        known = ask(rt, ids[-1], 10)
    unknown = ask(rt, UNKNOWN, 11)
    assert known[0] == unknown[0] == 429 and known[1] == unknown[1]
    assert known[2]["retry-after"] == unknown[2]["retry-after"]
    assert 39 * 60 <= int(known[2]["retry-after"]) <= 40 * 60  # the first minute leaves the hour then
    body = known[1]
    assert body["errors"][0]["rule"] == "R-DATA-2" and body["errors"][0]["field"] == "registration_id"
    assert "暂停发送" in body["message"] and "40分钟后再试" in body["message"] and "R-" not in body["message"]
    assert len(codes(rt)) == CAPS["codes_per_hour"]
    [line] = [x for x in lines(out) if str(x.get("message", "")).startswith("sms circuit open")]
    assert line["level"] == "ERROR" and line["cap"] == "global" and line["sent_within_hour"] == 4
    [metric] = cap_metrics(out)
    assert metric["cap"] == "global" and metric["season"] == rt.config.name
    # the refused id's own limit was not spent: once the hour has passed it gets its code at once
    rt.clock.set(rt.clock.now() + timedelta(minutes=41))
    assert ask(rt, ids[-1], 12)[0] == 202 and len(codes(rt)) == CAPS["codes_per_hour"] + 1
