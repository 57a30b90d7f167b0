"""Whose deed it is (R-VER-1, R-VER-2, issue 17 "Ownership"): the form names the guardians with their ID
numbers, housing confirms whether any of them (or the child) owns the deed, and a deed in anyone else's
name alone is `owner-not-guardian`. The guardians' ID numbers are checked like the child's and shown
masked only."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from enrollment.adapters.observability import mask_text
from enrollment.core import idcard
from enrollment.core.config import SeasonConfig
from enrollment.people import console
from enrollment.people.family import verification_view
from enrollment.registration.form import RegistrationRefused, parse_request
from enrollment.registration.registrar import receipt
from enrollment.verification.agency_api import CheckRequest
from enrollment.verification.checks import (
    Agencies,
    Answer,
    LocalRegistries,
    ask,
    checks_needed,
    owner_candidates,
    question,
    verdict,
)
from enrollment.verification.registries import (
    DeedRecord,
    HukouRecord,
    PlanningRecord,
    RecordAddress,
    Registries,
    ResidenceRecord,
)
from enrollment.verification.verdicts import REASON_NEXT_ZH, REASON_REVIEW_ZH, REASON_ZH, Check
from tests.support import valid_body

NOW = datetime(2023, 6, 1, 9, tzinfo=UTC)
DEED = "JL-2019-000123"
MOTHER = idcard.make("220202", date(1987, 5, 6), 124)
FATHER = idcard.make("220202", date(1986, 7, 8), 135)
GRANDFATHER = idcard.make("220202", date(1958, 2, 3), 157)
UNCLE = idcard.make("220203", date(1984, 9, 10), 179)


def _guardian(relationship: str, id_number: str, phone: str = "17000001234") -> dict[str, Any]:
    return {"name": "测试家长", "relationship": relationship, "id_number": id_number, "phone": phone}


def _item(config: SeasonConfig, guardians: list[dict[str, Any]], owner: str = "母亲") -> dict[str, Any]:
    body = valid_body(config, guardians=guardians)
    body["residence"]["property"] = {"deed_number": DEED, "owner": owner}
    req = parse_request(body).model_dump(mode="json")
    return {
        "registration_id": "R-TEST-0000-0000-0001",
        "season": config.season,
        "grade": 1,
        "category": "public",
        "district": req["home_address"]["district"],
        "target_school": None,
        "special_claims": [],
        "masked_id": idcard.mask(req["child"]["id_number"]),
        "status": "registered",
        "created_at": NOW.isoformat(),
        "request": req,
    }


def _registries(item: dict[str, Any], owners: list[str]) -> LocalRegistries:
    """Every agency agrees with the form; the deed is owned by `owners`."""
    home = item["request"]["home_address"]
    house = RecordAddress(district=home["district"], road=home["road"], number=home["number"])
    child = item["request"]["child"]["id_number"]
    return LocalRegistries(
        Registries(
            public_security=[
                HukouRecord(id_number=child, kind="hukou", address=house, since=date(2017, 1, 1))
            ],
            housing=[
                DeedRecord(
                    deed_number=DEED, owner_id_numbers=owners, address=house, registered_on=date(2019, 5, 1)
                )
            ],
            planning=[PlanningRecord(deed_number=DEED, planned_use="residential")],
            community=[ResidenceRecord(address=house, id_number=child, lives_there=True, visit_delay_days=1)],
        )
    )


def _judge(config: SeasonConfig, item: dict[str, Any], agencies: Agencies) -> Any:
    """Ask each agency as the verification phase does (`ask`), answer the visit, and judge."""
    checks = [ask(agencies, agency, item, NOW) for agency in checks_needed(item)]
    checks = [
        c
        if c.agency != "community"
        else Check(
            registration_id=c.registration_id,
            agency="community",
            status="answered",
            asked_at=NOW,
            answered_at=NOW,
            reason="lives-there",
            facts={"lives_there": True},
        )
        for c in checks
    ]
    return verdict(config, item, checks, NOW), {c.agency: c for c in checks}


# The rule ------------------------------------------------------------------------------------------


def test_a_deed_owned_by_the_guardian_is_eligible(season: SeasonConfig) -> None:
    item = _item(season, [_guardian("母亲", MOTHER)])
    v, checks = _judge(season, item, _registries(item, [MOTHER]).agencies())
    assert (v.status, v.reasons) == ("eligible", [])
    assert checks["housing"].facts["owner_match"] is True
    assert checks["housing"].facts["owners_matched"] == 1


def test_a_deed_in_the_grandparents_name_only_is_owner_not_guardian(season: SeasonConfig) -> None:
    item = _item(season, [_guardian("母亲", MOTHER), _guardian("父亲", FATHER)], owner="祖父")
    v, checks = _judge(season, item, _registries(item, [GRANDFATHER]).agencies())
    assert v.status == "not-eligible" and v.reasons == ["owner-not-guardian"]
    assert v.facts["hukou-deed-match"] is True  # the address holds: only whose deed it is fails
    # housing said whether the family owns it, never who does (no ID number of anyone in the facts)
    facts = checks["housing"].facts
    assert facts["owner_match"] is False and facts["owners_matched"] == 0 and facts["owners"] == 1
    assert GRANDFATHER not in json.dumps(facts)


def test_two_guardians_one_of_them_the_owner(season: SeasonConfig) -> None:
    # Given the mother named first and the father second, and the deed in the father's name
    item = _item(season, [_guardian("母亲", MOTHER), _guardian("父亲", FATHER, "17000005678")], owner="父亲")
    # When housing is asked about both guardians and the child
    q = question("housing", item)
    assert q is not None and q.owner_id_numbers == [MOTHER, FATHER, item["request"]["child"]["id_number"]]
    v, checks = _judge(season, item, _registries(item, [FATHER]).agencies())
    # Then the deed is the family's
    assert (v.status, v.reasons) == ("eligible", [])
    assert checks["housing"].facts["owners_matched"] == 1


@pytest.mark.parametrize(
    ("owners", "ok"),
    [
        ([GRANDFATHER, FATHER], True),  # co-owned with a guardian: the family's deed
        ([FATHER, MOTHER], True),  # both guardians
        ([GRANDFATHER, UNCLE], False),  # co-owned by relatives only
    ],
)
def test_co_owners(season: SeasonConfig, owners: list[str], ok: bool) -> None:
    item = _item(season, [_guardian("父亲", FATHER), _guardian("母亲", MOTHER, "17000005678")], owner="父亲")
    v, checks = _judge(season, item, _registries(item, owners).agencies())
    assert ("owner-not-guardian" in v.reasons) is not ok
    assert checks["housing"].facts["owners"] == 2
    assert checks["housing"].facts["owners_matched"] == len({FATHER, MOTHER} & set(owners))


def test_a_deed_in_the_childs_own_name_is_the_familys(season: SeasonConfig) -> None:
    item = _item(season, [_guardian("母亲", MOTHER)], owner="本人")
    child = item["request"]["child"]["id_number"]
    v, _ = _judge(season, item, _registries(item, [child]).agencies())
    assert (v.status, v.reasons) == ("eligible", [])


def test_a_grandparent_named_as_guardian_may_own_the_deed(season: SeasonConfig) -> None:
    # 父母或其他法定监护人: a grandparent the form names as guardian counts
    item = _item(season, [_guardian("祖父", GRANDFATHER), _guardian("母亲", MOTHER, "17000005678")], "祖父")
    v, _ = _judge(season, item, _registries(item, [GRANDFATHER]).agencies())
    assert (v.status, v.reasons) == ("eligible", [])


def test_the_other_reasons_are_still_all_reported(season: SeasonConfig) -> None:
    item = _item(season, [_guardian("母亲", MOTHER)], owner="祖父")
    registries = _registries(item, [GRANDFATHER])
    late = registries.registries.model_copy(
        update={
            "housing": [
                registries.registries.housing[0].model_copy(update={"registered_on": season.property_cutoff})
            ]
        }
    )
    v, _ = _judge(season, item, LocalRegistries(late).agencies())
    assert v.status == "not-eligible" and v.reasons == ["deed-after-cutoff", "owner-not-guardian"]


def test_a_registration_stored_before_guardians_had_id_numbers_is_judged_as_before(
    season: SeasonConfig,
) -> None:
    # Given a stored form from before the guardians' ID numbers were asked (still readable)
    item = _item(season, [_guardian("母亲", MOTHER)])
    old = copy.deepcopy(item)
    for g in old["request"]["guardians"]:
        del g["id_number"], g["id_type"]
    assert owner_candidates(old["request"]) == []
    # When it is verified: housing is not asked about owners, and the deed is not judged on them
    q = question("housing", old)
    assert q is not None and q.owner_id_numbers is None
    v, checks = _judge(season, old, _registries(old, [GRANDFATHER]).agencies())
    assert (v.status, v.reasons) == ("eligible", [])
    assert "owner_match" not in checks["housing"].facts


def test_a_housing_answer_that_does_not_say_whose_deed_goes_to_a_person(season: SeasonConfig) -> None:
    class Silent(LocalRegistries):
        def deed(self, deed_number: str, owner_id_numbers: Any = ()) -> Answer:
            return super().deed(deed_number)  # the owners asked about are ignored

    item = _item(season, [_guardian("母亲", MOTHER)])
    local = _registries(item, [MOTHER])
    v, _ = _judge(season, item, Silent(local.registries).agencies())
    assert (v.status, v.reasons) == ("review", ["agency-unanswered"])


def test_the_reason_reads_in_chinese_with_what_to_do_next(season: SeasonConfig) -> None:
    assert "监护人" in REASON_ZH["owner-not-guardian"]
    item = _item(season, [_guardian("母亲", MOTHER)], owner="祖父")
    v, checks = _judge(season, item, _registries(item, [GRANDFATHER]).agencies())
    view = verification_view(season, item, checks.values(), v, NOW)
    assert view["reasons"] == [
        {
            "code": "owner-not-guardian",
            "text_zh": REASON_ZH["owner-not-guardian"],
            "next_zh": REASON_NEXT_ZH["owner-not-guardian"],
        }
    ]
    assert "复核" in view["reasons"][0]["next_zh"] and "R-" not in view["reasons"][0]["next_zh"]
    case = console.case_row(v, item)
    assert case["reasons_zh"] == [REASON_ZH["owner-not-guardian"]]
    assert case["review_zh"] == [REASON_REVIEW_ZH["owner-not-guardian"]]


# The contract ----------------------------------------------------------------------------------------


def test_only_a_deed_check_names_owners_and_at_most_three() -> None:
    with pytest.raises(ValidationError, match="only a deed check"):
        CheckRequest(check_id="c1", kind="planned-use", deed_number=DEED, owner_id_numbers=[MOTHER])
    with pytest.raises(ValidationError):
        CheckRequest(
            check_id="c1", kind="deed", deed_number=DEED, owner_id_numbers=[MOTHER, FATHER, UNCLE, "X1"]
        )
    with pytest.raises(ValidationError):
        CheckRequest(check_id="c1", kind="deed", deed_number=DEED, owner_id_numbers=[])


# The form ----------------------------------------------------------------------------------------------


def _refused(config: SeasonConfig, guardians: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    with pytest.raises(RegistrationRefused) as e:
        parse_request(valid_body(config, guardians=guardians))
    return [(v.field, v.rule, v.message_zh) for v in e.value.violations]


def test_a_guardians_id_number_is_checked_like_the_childs(season: SeasonConfig) -> None:
    wrong = MOTHER[:17] + ("0" if MOTHER[17] != "0" else "1")
    assert _refused(season, [_guardian("母亲", wrong)]) == [
        ("guardians.0.id_number", "R-ID-1", "身份证号校验位不正确，请核对后重新输入")
    ]
    second = [_guardian("母亲", MOTHER), _guardian("父亲", "2202021986070813", "17000005678")]
    assert _refused(season, second) == [
        ("guardians.1.id_number", "R-ID-1", "身份证号应为18位：前17位为数字，最后一位为数字或大写X")
    ]
    missing = {k: v for k, v in _guardian("母亲", MOTHER).items() if k != "id_number"}
    assert _refused(season, [missing]) == [("guardians.0.id_number", "R-DATA-1", "此项为必填项")]
    passport = {**_guardian("母亲", MOTHER), "id_type": "passport"}
    assert _refused(season, [passport]) == [
        ("guardians.0.id_number", "R-ID-1", "该号码是居民身份证号，请将证件类型选为“居民身份证”")
    ]


def test_a_guardian_is_neither_the_child_nor_the_other_guardian(season: SeasonConfig) -> None:
    body = valid_body(season)
    body["guardians"] = [_guardian("母亲", body["child"]["id_number"])]
    with pytest.raises(RegistrationRefused) as e:
        parse_request(body)
    assert [(v.field, v.rule, v.message_zh) for v in e.value.violations] == [
        ("guardians.0.id_number", "R-ID-1", "监护人证件号码与儿童本人相同，请核对后重新填写")
    ]
    twice = [_guardian("母亲", MOTHER), _guardian("父亲", MOTHER, "17000005678")]
    assert _refused(season, twice) == [
        ("guardians.1.id_number", "R-ID-1", "监护人证件号码与另一位监护人相同，请核对后重新填写")
    ]


def test_a_guardians_number_is_folded_and_a_passport_accepted(season: SeasonConfig) -> None:
    full_width = MOTHER[:17].translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}) + MOTHER[17]
    req = parse_request(valid_body(season, guardians=[_guardian("母亲", " " + full_width.lower())]))
    assert req.guardians[0].id_number == MOTHER and req.guardians[0].id_type == "resident-id"
    foreign = {**_guardian("母亲", "E12345678"), "id_type": "passport"}
    assert parse_request(valid_body(season, guardians=[foreign])).guardians[0].id_number == "E12345678"


# Masking -----------------------------------------------------------------------------------------------


def test_the_guardians_id_numbers_are_masked_wherever_they_are_shown(season: SeasonConfig) -> None:
    item = _item(season, [_guardian("母亲", MOTHER), _guardian("父亲", FATHER, "17000005678")], "祖父")
    # the family's receipt and status page: nothing of the guardians
    assert MOTHER not in json.dumps(receipt(item, season), ensure_ascii=False)
    # the review queue: the guardians masked like the child (last four only)
    v, _ = _judge(season, item, _registries(item, [GRANDFATHER]).agencies())
    case = console.case_row(v, item)
    assert case["guardians"] == [
        {"name": "测***", "relationship": "母亲", "id_number": "*" * 14 + MOTHER[-4:]},
        {"name": "测***", "relationship": "父亲", "id_number": "*" * 14 + FATHER[-4:]},
    ]
    assert case["child"]["id_number"] == idcard.mask(item["request"]["child"]["id_number"])
    text = json.dumps(console.registration_row(season, item, v) | case, ensure_ascii=False)
    assert MOTHER not in text and FATHER not in text
    # a log line carrying the request (the logger masks every line)
    line = mask_text(json.dumps(item["request"], ensure_ascii=False))
    assert MOTHER not in line and FATHER not in line and MOTHER[-4:] in line
