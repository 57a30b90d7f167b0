"""Issue 18, families see it, end to end on the embedded backend (moto, the real workflow and handlers).

A small season is driven to reporting day, its notices issued by the workflow. A family files an
appeal; district staff correct the child's place naming the complaint (a correction naming another
child's complaint is refused, nothing stored); notify-batch's function, invoked as the 15-minute
rule and on demand invoke it, re-issues the notice: a new PDF and one SMS, never a second; a school
checking the old code hears it is revoked and replaced by the notice of the correction's day, the
new code checks valid; the family's status shows the place's history in Chinese, and the answer to
its complaint carries the correction (an unknown or another child's correction refused, naming the
field). Plus the adapters' own conditional writes on moto.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.resources import function_name
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.local.serve import load
from enrollment.notices.notice import format_code
from enrollment.synth.population import generate
from tests.integration.conftest import small_season, table_items
from tests.integration.parent_session import family_call, outbox, sign_in

pytestmark = pytest.mark.xdist_group("corrected-notices")

A = "CY"
REASON = "家长申诉经复核成立，调整至就近有空余学位的学校"


@dataclass(frozen=True)
class Season:
    rt: EmbeddedSeason
    config: SeasonConfig
    rid: str  # a child of A placed at a public school of A, with its notice issued
    other: str  # another child of A with a notice
    school: str
    to: str  # another public school of A taking the child's grade
    token: str
    complaint: str


def _notice(rid: str) -> dict[str, Any]:
    item = boto3.resource("dynamodb").Table(_table[0]).get_item(Key={"pk": f"REG#{rid}", "sk": "NOTICE"})
    return dict(item.get("Item") or {})


_table: list[str] = []


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("corrected"))
    population = generate(config, 60, 1818)
    start = datetime.fromisoformat(f"{config.calendar.plans_published} 09:00").replace(tzinfo=config.tz)
    with EmbeddedSeason(
        config, SimulatedClock(start), registries=population.registries, config_path=path
    ) as rt:
        load(rt, population, "reporting", lambda _: None)
        _table[:] = [rt.table_name]
        regs = {str(i["registration_id"]): i for i in table_items(rt) if i["sk"] == "REG"}
        notices = [
            i
            for i in table_items(rt)
            if i["sk"] == "NOTICE"
            and i.get("sms_message_id")
            and config.school_index[str(i["school_id"])].kind == "public"
            and config.school_index[str(i["school_id"])].district == A
            and regs[str(i["registration_id"])]["district"] == A
        ]
        mine, other = notices[0], notices[1]
        rid, school = str(mine["registration_id"]), str(mine["school_id"])
        grade = int(regs[rid]["grade"])
        to = next(
            s.id
            for s in config.schools
            if s.district == A and s.kind == "public" and s.plan(grade) > 0 and s.id != school
        )
        token = sign_in(rt, rid)
        text = "对安置结果有异议，家附近的学校还有学位，请复核。"
        status, filed, _ = family_call(
            rt, "POST", f"/api/registrations/{rid}/complaints", {"kind": "appeal", "text": text}, token=token
        )
        assert status == 201, filed
        yield Season(rt, config, rid, str(other["registration_id"]), school, to, token, filed["complaint_id"])


def invoke_notify(rt: EmbeddedSeason, task: str) -> dict[str, Any]:
    event = {"season": rt.config.season, "task": task}
    reply = boto3.client("lambda").invoke(
        FunctionName=function_name(rt.config.name, "notify-batch"), Payload=json.dumps(event).encode()
    )
    out: dict[str, Any] = json.loads(reply["Payload"].read())
    assert not reply.get("FunctionError"), out
    return out


def no_latin(text: str) -> bool:
    return not re.search(r"[A-Za-z]", text)


def test_a_corrected_place_reaches_the_family_the_school_and_the_complaint(season: Season) -> None:
    rt, s, rid = season.rt, season.config.season, season.rid
    a = drive.member(rt, "district", A).principal
    path = f"/admin/placement/{s}/corrections"
    old = _notice(rid)
    old_code = str(old["verification_code"])
    # a correction naming another child's complaint, or an unknown one: refused naming the field
    for complaint_id in (season.complaint, "C-20230701-NOTHING1"):
        body = {
            "kind": "override",
            "registration_id": season.other,
            "school_id": season.to,
            "reason": REASON,
            "complaint_id": complaint_id,
        }
        status, refused = drive.call(rt, "POST", path, body, a)
        assert status == 422 and "complaint_id" in refused["message"], refused
    assert not [i for i in table_items(rt) if str(i["sk"]).startswith("CORRECTION#")]

    # When district A corrects the child's place, naming the family's appeal
    body = {
        "kind": "override",
        "registration_id": rid,
        "school_id": season.to,
        "reason": REASON,
        "complaint_id": season.complaint,
    }
    status, made = drive.call(rt, "POST", path, body, a)
    assert status == 201, made
    correction = made["corrections"][0]
    assert correction["complaint_id"] == season.complaint
    # the route only wrote the correction: the notice is still the old one until notify-batch runs
    assert _notice(rid)["verification_code"] == old_code

    # Then the rule's run (the SMS receipts' 15 minutes) re-issues it: a new notice, one SMS
    sent_before = len(outbox(rt))
    out = invoke_notify(rt, "sms-receipts")
    assert out["corrected_notices"]["issued"] >= 1 and out["corrected_notices"]["revoked"] >= 1, out
    new = _notice(rid)
    new_code = str(new["verification_code"])
    assert new["school_id"] == season.to and new_code != old_code and int(new["issue"]) == 1
    texted = [m for m in outbox(rt)[sent_before:] if rid in m["text"]]
    assert len(texted) == 1 and season.config.school_index[season.to].name in texted[0]["text"], texted
    pdf = boto3.client("s3").get_object(Bucket=rt.work_bucket, Key=str(new["key"]))["Body"].read()
    assert pdf.startswith(b"%PDF") and str(new["key"]).endswith("-1.pdf")
    # and on demand, or at the rule's next run: nobody is texted twice
    again = drive.reissue_corrected_notices(rt)
    assert again["issued"] == 0 and again["revoked"] == 0, again
    assert [m for m in outbox(rt)[sent_before:] if rid in m["text"]] == texted

    # A school checks the old code: revoked, replaced by the notice of the correction's day
    check = f"/admin/placement/{s}/districts/{A}/notices/{rid}/codes"
    day = datetime.fromisoformat(correction["at"]).astimezone(season.config.tz).date()
    day_zh = f"{day.year}年{day.month}月{day.day}日"
    status, answer = drive.call(rt, "GET", f"{check}/{format_code(old_code)}", None, a)
    assert status == 200 and answer["status"] == "revoked", answer
    assert f"已由{day_zh}的新通知书替代" in answer["message"] and "R-" not in answer["message"]
    status, answer = drive.call(rt, "GET", f"{check}/{new_code.lower()}", None, a)
    assert status == 200 and answer["status"] == "valid" and answer["school_id"] == season.to, answer
    b = drive.member(rt, "district", "CH").principal  # another district: refused, nothing told
    assert drive.call(rt, "GET", f"{check}/{new_code}", None, b)[0] == 403
    status, bad = drive.call(rt, "GET", f"{check}/NOT-A-CODE", None, a)
    assert status == 200 and bad["status"] == "invalid" and not bad["valid"], bad

    # The family's status: the place's history, each day and why in plain Chinese; the new notice
    status, read, _ = family_call(rt, "GET", f"/api/registrations/{rid}", token=season.token)
    assert status == 200, read
    history = read["placement_history"]
    assert [h["school_id"] for h in history] == [season.school, season.to]
    assert history[1]["on_zh"] == day_zh and history[1]["answers_complaint"]
    for h in history:
        assert all(no_latin(str(h[k])) for k in ("on_zh", "place_zh", "reason_zh")), h
    assert read["notice"]["reissued"] and "重新发放" in read["notice"]["message_zh"]
    status, link, _ = family_call(rt, "POST", f"/api/registrations/{rid}/notice", {}, token=season.token)
    assert status == 200 and link["verification_code"] == new_code, link
    # the page's word and form for the code are the PDF's: 核验码, printed as format_code prints it
    assert link["verification_code_printed"] == format_code(new_code)
    # the headline is the furthest stage reached: the notice, at the corrected school
    school_name = season.config.school_index[season.to].name
    assert read["stage"] == "notice" and read["status_zh"] == f"已发放入学通知书：{school_name}", read

    # The complaint's answer carries the correction: another child's or an unknown one refused
    answer_path = f"/admin/complaints/{s}/complaints/{season.complaint}/answer"
    text = "经复核，您的申诉成立，已调整安置学校并重新发放入学通知书。"
    for wrong in ("C-20230701-nothing0001", None):
        if wrong is None:  # a correction of another child
            status, other = drive.call(
                rt,
                "POST",
                path,
                {
                    "kind": "override",
                    "registration_id": season.other,
                    "school_id": season.to,
                    "reason": REASON,
                },
                a,
            )
            assert status == 201, other
            wrong = other["corrections"][0]["correction_id"]
        status, refused = drive.call(rt, "POST", answer_path, {"answer": text, "correction_id": wrong}, a)
        assert status == 422 and "correction_id" in refused["message"], refused
    status, answered = drive.call(
        rt, "POST", answer_path, {"answer": text, "correction_id": correction["correction_id"]}, a
    )
    assert status == 201, answered
    assert answered["answers"][0]["correction_id"] == correction["correction_id"]
    status, mine, _ = family_call(rt, "GET", f"/api/registrations/{rid}/complaints", token=season.token)
    assert status == 200, mine
    [seen] = mine["complaints"][0]["answers"]
    assert seen["correction_zh"].startswith(f"您孩子的安置结果已于{day_zh}更正：")
    assert season.config.school_index[season.to].name in seen["correction_zh"]
    assert correction["correction_id"] not in json.dumps(mine, ensure_ascii=False)
