"""The registration API on moto: R-REG-*, R-ID-1, R-AGE-1, R-DATA-1, R-DATA-2, idempotency."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import boto3
import pytest

from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason
from enrollment.registration.form import FORBIDDEN_FIELDS
from tests.integration.conftest import at, post, registration_items, table_items
from tests.integration.parent_session import status_of
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-registration")


@pytest.fixture
def open_grade1(embedded: EmbeddedSeason, season: SeasonConfig) -> EmbeddedSeason:
    embedded.clock.set(at(season, f"{season.calendar.grade1_registration.start} 10:00"))
    return embedded


def test_accepts_and_reads_back_masked_status(open_grade1: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    status, answer = post(open_grade1, body)
    assert status == 201, answer
    rid = answer["registration_id"]
    assert answer["status"] == "registered" and answer["school"]["id"].startswith("S-")

    shown = status_of(open_grade1, rid)  # signed in with the SMS code, as the family would be
    assert shown["registration_id"] == rid
    id_number = body["child"]["id_number"]
    assert shown["child"]["id_number"] == "*" * 14 + id_number[-4:]
    assert "17000001234" not in json.dumps(shown) and id_number not in json.dumps(shown)

    # the conditional write is keyed on a keyed hash of the ID number (KMS HMAC), never on the number
    [item] = registration_items(open_grade1)
    assert item["pk"] == f"REG#{rid}"
    assert id_number not in item["pk"] and id_number not in item["child_key"]
    mac = boto3.client("kms").generate_mac(
        KeyId=open_grade1.child_key,
        MacAlgorithm="HMAC_SHA_256",
        Message=f"enrollment-child/1|{season.season}|resident-id|{id_number}".encode(),
    )["Mac"]
    assert item["child_key"] == mac.hex()


def test_unknown_registration_is_refused_like_any_unauthenticated_read(open_grade1: EmbeddedSeason) -> None:
    # the status needs the family's session (R-DATA-2): an unknown id is not told apart from a known one
    r = open_grade1.call_api("register", "GET", "/api/registrations/R-AAAA-AAAA-AAAA-AAAA")
    assert r["statusCode"] == 401
    assert json.loads(r["body"])["errors"][0]["field"] == "Authorization"


def test_same_child_twice_is_refused_r_reg_2(open_grade1: EmbeddedSeason, season: SeasonConfig) -> None:
    # Given a child registered for a public school
    first = valid_body(season)
    assert post(open_grade1, first)[0] == 201
    private = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    # When the same child registers again, for a private school (不可兼报)
    second = valid_body(season, category="private", private_school_id=private.id)
    second["child"] = first["child"]
    status, answer = post(open_grade1, second)
    # Then it is refused naming the field and the rule, and only the first registration exists
    assert status == 409
    assert answer["errors"][0]["rule"] == "R-REG-2" and answer["errors"][0]["field"] == "child.id_number"
    assert "不可兼报" in answer["message"]
    assert len(registration_items(open_grade1)) == 1


def test_double_submit_returns_the_first_answer(open_grade1: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    s1, a1 = post(open_grade1, body)
    open_grade1.clock.set(open_grade1.clock.now() + timedelta(minutes=3))
    s2, a2 = post(open_grade1, body)
    assert (s1, s2) == (201, 201)
    assert a1 == a2  # same id, same created_at: nothing was registered twice
    assert len(registration_items(open_grade1)) == 1


@pytest.mark.parametrize("field", sorted(FORBIDDEN_FIELDS))
def test_forbidden_fields_are_refused_and_nothing_stored(
    open_grade1: EmbeddedSeason, season: SeasonConfig, field: str
) -> None:
    body = valid_body(season)
    body[field] = "12000"
    status, answer = post(open_grade1, body)
    assert status == 422
    err = answer["errors"][0]
    assert (err["field"], err["rule"]) == (field, "R-DATA-1")
    assert "不采集" in err["message"]
    assert registration_items(open_grade1) == []
    assert table_items(open_grade1, open_grade1.idempotency_table_name) == []


def test_nested_unknown_field_is_named(open_grade1: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    body["guardians"][0]["income"] = 9000
    body["child"]["vaccination_certificate"] = "yes"
    status, answer = post(open_grade1, body)
    assert status == 422
    named = {(e["field"], e["rule"]) for e in answer["errors"]}
    assert named == {("guardians.0.income", "R-DATA-1"), ("child.vaccination_certificate", "R-DATA-1")}
    assert registration_items(open_grade1) == []


def test_bad_check_character_is_refused_r_id_1(open_grade1: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    good = body["child"]["id_number"]
    body["child"]["id_number"] = good[:17] + ("0" if good[17] != "0" else "1")
    status, answer = post(open_grade1, body)
    assert status == 422
    assert answer["errors"] == [
        {
            "field": "child.id_number",
            "rule": "R-ID-1",
            "message": "身份证号校验位不正确，请核对后重新输入",
            "message_en": "the check character of the ID number is wrong",
        }
    ]
    assert registration_items(open_grade1) == []


def test_under_age_is_refused_r_age_1(open_grade1: EmbeddedSeason, season: SeasonConfig) -> None:
    from tests.support import child_id

    born = season.age_cutoff + timedelta(days=1)
    body = valid_body(season, child__birth_date=born.isoformat(), child__id_number=child_id(season, born))
    status, answer = post(open_grade1, body)
    assert status == 422 and answer["errors"][0]["rule"] == "R-AGE-1"
    assert answer["errors"][0]["field"] == "child.birth_date"


def test_closed_window_is_refused_r_reg_1(embedded: EmbeddedSeason, season: SeasonConfig) -> None:
    # Given the last second of the grade-7 window, grade 1 has not opened yet
    embedded.clock.set(at(season, f"{season.calendar.grade7_registration.end} 23:59:59"))
    status, answer = post(embedded, valid_body(season, grade=1))
    assert status == 422 and answer["errors"][0]["rule"] == "R-REG-1"
    assert "报名时间" in answer["message"]
    assert post(embedded, valid_body(season, grade=7))[0] == 201
    # When the clock passes midnight in Asia/Shanghai, grade 7 closes and grade 1 opens
    embedded.clock.set(at(season, f"{season.calendar.grade1_registration.start} 00:00"))
    assert post(embedded, valid_body(season, grade=7))[1]["errors"][0]["rule"] == "R-REG-1"
    assert post(embedded, valid_body(season, grade=1))[0] == 201


def test_logs_mask_id_numbers_and_phones(open_grade1: EmbeddedSeason, season: SeasonConfig) -> None:
    from enrollment.adapters.observability import logger

    # Given the handlers log at debug level, into a buffer through the project's formatter
    sink = io.StringIO()
    previous = logger.registered_handler.setStream(sink)  # type: ignore[attr-defined]
    logger.setLevel("DEBUG")
    body = valid_body(season)
    body["guardians"][0]["phone"] = "17055556666"
    try:
        post(open_grade1, body)
        post(open_grade1, {**body, "guardian_income": 1})
        # and even a careless line that dumps a whole request
        logger.debug("careless", extra={"request": body, "note": f"call {body['guardians'][0]['phone']}"})
    finally:
        logger.setLevel("WARNING")
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    logged = sink.getvalue()
    id_number = body["child"]["id_number"]
    # Then the raw ID number and phone never appear; their masked forms do
    assert "registration accepted" in logged and "registration refused" in logged
    assert "*" * 14 + id_number[-4:] in logged and id_number[:14] not in logged
    assert id_number not in logged and "17055556666" not in logged and "170****6666" in logged


def test_table_is_encrypted_with_the_customer_key(embedded: EmbeddedSeason) -> None:
    desc = boto3.client("dynamodb").describe_table(TableName=embedded.table_name)["Table"]
    assert desc["SSEDescription"]["SSEType"] == "KMS"
    assert desc["SSEDescription"]["KMSMasterKeyArn"] == embedded.table_key


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def test_one_child_one_registration_for_every_spelling_r_reg_2(
    open_grade1: EmbeddedSeason, season: SeasonConfig
) -> None:
    # Given a child registered with the ID number in ASCII digits
    first = valid_body(season)
    number = first["child"]["id_number"]
    status, answer = post(open_grade1, first)
    assert status == 201, answer
    rid = answer["registration_id"]
    stored = table_items(open_grade1)
    remembered = table_items(open_grade1, open_grade1.idempotency_table_name)

    # When the same registration is sent with the number in full-width digits (and spaces around it),
    # Then it is the same child: the same registration id, nothing new stored
    again = valid_body(season, child=dict(first["child"], id_number=f" {full_width(number)}\u3000"))
    status, answer = post(open_grade1, again)
    assert (status, answer["registration_id"]) == (201, rid), answer

    # When the same child, in full-width digits, registers for a private school: refused as a duplicate
    private = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    other = valid_body(season, category="private", private_school_id=private.id)
    other["child"] = dict(first["child"], id_number=full_width(number).lower())
    status, answer = post(open_grade1, other)
    assert status == 409, answer
    assert (answer["errors"][0]["field"], answer["errors"][0]["rule"]) == ("child.id_number", "R-REG-2")

    # When it is written in Arabic-Indic or Devanagari digits: refused naming the field, R-ID-1
    for zero in (0x0660, 0x0966):
        written = "".join(chr(zero + int(c)) if c != "X" else c for c in number)
        status, answer = post(open_grade1, valid_body(season, child=dict(first["child"], id_number=written)))
        assert status == 422, answer
        assert answer["errors"] == [
            {
                "field": "child.id_number",
                "rule": "R-ID-1",
                "message": "身份证号只能填写数字0-9和字母X，请勿使用其他文字的数字或符号",
                "message_en": "the ID number may only contain the digits 0-9 and X (no other script's digits or symbols)",
            }
        ]

    # When the same resident ID number is sent as a foreign child's passport number: refused, R-ID-1
    for typed in (number, full_width(number)):
        child = dict(first["child"], id_type="passport", nationality="KOR", id_number=typed)
        status, answer = post(open_grade1, valid_body(season, child=child))
        assert status == 422, answer
        assert [(e["field"], e["rule"]) for e in answer["errors"]] == [("child.id_number", "R-ID-1")]
        assert "居民身份证" in answer["message"]

    # Then nothing any refusal saw was stored: one registration, under the canonical number
    assert table_items(open_grade1) == stored
    assert table_items(open_grade1, open_grade1.idempotency_table_name) == remembered
    [item] = registration_items(open_grade1)
    assert item["registration_id"] == rid and item["request"]["child"]["id_number"] == number


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("child__name", "测试\x00儿童"),
        ("child__name", "测试\u202e儿童"),
        ("child__name", "测试儿童😀"),
        ("home_address__detail", "3栋\x072单元"),
    ],
)
def test_names_outside_the_register_set_are_refused_and_nothing_stored(
    open_grade1: EmbeddedSeason, season: SeasonConfig, field: str, value: str
) -> None:
    body = valid_body(season, 1, **{field: value})
    status, answer = post(open_grade1, body)
    assert status == 422, answer
    assert (answer["errors"][0]["field"], answer["errors"][0]["rule"]) == (
        field.replace("__", "."),
        "R-DATA-1",
    )
    assert registration_items(open_grade1) == []
    assert table_items(open_grade1, open_grade1.idempotency_table_name) == []
    # a minority name with a look-alike dot, and an Extension B character, are accepted as the register has them
    status, answer = post(open_grade1, valid_body(season, child__name="阿依古丽・𠀀"))
    assert status == 201, answer
    [item] = registration_items(open_grade1)
    assert item["request"]["child"]["name"] == "阿依古丽·𠀀"
