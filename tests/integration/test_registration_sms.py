"""The registration id by SMS on registering, and a lost id recovered with the child's ID number and
an SMS code (issue 19), through the register function on moto. Synthetic people and phone numbers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from enrollment.core import idcard
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.local.runtime import EmbeddedSeason
from tests.integration.conftest import at, post
from tests.integration.parent_session import CODE, codes, family_call, receipts
from tests.support import child_id, valid_body

pytestmark = pytest.mark.xdist_group("moto-registration")

PHONE = "17000008888"
CAPS = {"codes_per_phone_hour": 2, "codes_per_phone_day": 3, "codes_per_hour": 50}


@pytest.fixture
def rt(season: SeasonConfig, tmp_path: Path) -> Iterator[EmbeddedSeason]:
    """The season with small SMS caps (from its config file), grade-1 registration open."""
    raw = season.model_dump(mode="json")
    raw["sms"] = CAPS
    path = tmp_path / f"{season.name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config = load_season(path)
    start = at(config, f"{config.calendar.plans_published} 09:00")
    with EmbeddedSeason(config, SimulatedClock(start), config_path=str(path)) as embedded:
        embedded.clock.set(at(config, f"{config.calendar.grade1_registration.start} 10:00"))
        yield embedded


def body_with(config: SeasonConfig, *phones: str) -> dict[str, Any]:
    body = valid_body(config)
    first = body["guardians"][0]
    body["guardians"] = [first | {"phone": phones[0]}]
    if len(phones) > 1:
        body["guardians"].append(
            {
                "name": "测试父亲",
                "relationship": "父亲",
                "id_number": idcard.make(config.districts[0].area_code, date(config.year - 34, 2, 3), 135),
                "phone": phones[1],
            }
        )
    return body


def recover(
    rt: EmbeddedSeason, what: str, body: dict[str, Any], n: int = 1
) -> tuple[int, Any, dict[str, str]]:
    return family_call(rt, "POST", f"/api/recovery/{what}", body, source_ip=f"198.51.100.{n}")


def test_registering_sends_the_id_once_to_each_phone_in_chinese(rt: EmbeddedSeason) -> None:
    # Given a family giving two phones
    body = body_with(rt.config, PHONE, "17000007777")
    # When it registers, and its browser sends the same request again (a retry)
    status, answer = post(rt, body)
    again = post(rt, body)
    # Then the answer says the SMS went out, and each phone got the id once, in plain Chinese
    assert status == 201 and answer["sms_sent"] is True
    assert again == (201, answer)
    rid = answer["registration_id"]
    sent = receipts(rt)
    assert sorted(m["to"] for m in sent) == ["170****7777", "170****8888"]
    assert all(m["text"].startswith("【义务教育招生】您已完成一年级网上报名，报名编号" + rid) for m in sent)
    assert not any("R-" in m["text"].replace(rid, "") for m in sent)  # no rule id, only the registration id
    assert codes(rt) == []


def test_a_phone_past_its_cap_gets_no_more_ids_but_keeps_its_codes(rt: EmbeddedSeason) -> None:
    # Given three children registered with one phone within the hour (two may be a stranger's fakes)
    answers = [post(rt, body_with(rt.config, PHONE)) for _ in range(3)]
    # Then all three are registered, the phone got two ids (its hourly cap), and the third says so
    assert [s for s, _ in answers] == [201] * 3
    assert [a["sms_sent"] for _, a in answers] == [True, True, False]
    assert len(receipts(rt)) == CAPS["codes_per_phone_hour"]
    # and the ids did not use the phone's codes up: a code still reaches it
    rid = answers[0][1]["registration_id"]
    assert family_call(rt, "POST", f"/api/registrations/{rid}/code")[0] == 202
    assert len(codes(rt)) == 1


def test_a_lost_id_is_recovered_with_the_id_number_and_a_code(rt: EmbeddedSeason) -> None:
    # Given a registered child, and an ID number nobody registered
    body = body_with(rt.config, PHONE)
    rid = post(rt, body)[1]["registration_id"]
    own = {"id_number": body["child"]["id_number"]}
    stranger = {"id_number": child_id(rt.config, date(rt.config.year - 6, 5, 6))}

    # When the family asks for a code with the child's ID number (typed in lower case: the same number)
    asked = recover(rt, "code", {"id_number": own["id_number"].lower()})
    unknown = recover(rt, "code", stranger, 2)
    # Then both get the one 202: the answer tells nothing about who is registered
    assert asked[0] == unknown[0] == 202 and asked[1] == unknown[1]
    assert asked[1]["message"].startswith("若该儿童已报名，验证码已发送")
    # and the code SMS, to the phone given at registration, names the registration id
    [sms] = codes(rt)
    assert sms["to"] == "170****8888" and rid in sms["text"]
    code = CODE.search(sms["text"])
    assert code is not None

    # A wrong code is the same 401 for the registered child and the stranger
    wrong = "000000" if code.group(1) != "000000" else "111111"
    refused = [
        recover(rt, "session", own | {"code": wrong}),
        recover(rt, "session", stranger | {"code": wrong}, 2),
    ]
    assert {s for s, _, _ in refused} == {401} and refused[0][1] == refused[1][1]
    assert refused[0][1]["errors"][0]["field"] == "code"

    # The right code gives the id and a session that reads the child's status
    status, found, _ = recover(rt, "session", own | {"code": code.group(1)})
    assert status == 200 and found["registration_id"] == rid
    read = family_call(rt, "GET", f"/api/registrations/{rid}", token=found["token"])
    assert read[0] == 200 and read[1]["registration_id"] == rid
    # used once: the same code again is refused
    assert recover(rt, "session", own | {"code": code.group(1)})[0] == 401


def test_recovery_codes_are_limited_as_sign_in_codes_for_registered_and_unknown_alike(
    rt: EmbeddedSeason,
) -> None:
    body = body_with(rt.config, PHONE)
    post(rt, body)
    own = {"id_number": body["child"]["id_number"]}
    stranger = {"id_number": child_id(rt.config, date(rt.config.year - 6, 5, 6))}
    assert recover(rt, "code", own)[0] == recover(rt, "code", stranger, 2)[0] == 202
    # a second code within the minute: 429 with Retry-After, for both alike
    again = [recover(rt, "code", own, 3), recover(rt, "code", stranger, 4)]
    assert {s for s, _, _ in again} == {429} and again[0][1] == again[1][1]
    assert all(h["retry-after"] == again[0][2]["retry-after"] for _, _, h in again)
    rt.clock.set(rt.clock.now() + timedelta(seconds=61))
    assert recover(rt, "code", own, 5)[0] == 202


def test_a_malformed_id_number_is_refused_naming_the_field_and_nothing_is_sent(rt: EmbeddedSeason) -> None:
    body = body_with(rt.config, PHONE)
    post(rt, body)
    number = body["child"]["id_number"]
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check character
    status, answer, _ = recover(rt, "code", {"id_number": bad})
    assert status == 422
    [error] = answer["errors"]
    assert error["field"] == "id_number" and "校验" in error["message"]
    assert recover(rt, "code", {"id_number": number, "phone": PHONE})[0] == 422  # no unknown fields
    assert codes(rt) == []
