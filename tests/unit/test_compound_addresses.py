"""Compound addresses (小区): the form's refusals and acceptances, and verification with compound records.

An address is a road and house number, or a compound with building and unit; never both, never
neither. The season decides which compounds exist, in which district, and which zone each is in
(tests/compounds.py builds such a season from jilin-2023).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.registration.form import RegistrationRefused, check_registration, parse_request
from enrollment.registration.registrar import targets
from enrollment.verification.checks import LocalRegistries, verdict
from enrollment.verification.registries import DeedRecord, HukouRecord, RecordAddress, Registries
from enrollment.verification.verdicts import Check
from tests.compounds import compound_address, compound_season
from tests.support import valid_body

NOW = datetime(2023, 6, 1, 9, tzinfo=UTC)
IN_WINDOW = datetime(2023, 5, 21, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def config(season: SeasonConfig) -> SeasonConfig:
    return compound_season(season)


def body_at(config: SeasonConfig, address: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = valid_body(config, **overrides)
    body["home_address"] = dict(address)
    body["residence"]["hukou_address"] = dict(address)
    return body


def refusals(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(RegistrationRefused) as e:
        parse_request(body)
    return [(v.field, v.rule, v.message_zh) for v in e.value.violations]


# The form -------------------------------------------------------------------------------------


def test_a_compound_address_is_accepted_and_placed_in_its_compounds_only_zone(config: SeasonConfig) -> None:
    req = parse_request(body_at(config, compound_address("江湾小区")))
    assert check_registration(req, config, IN_WINDOW) == []
    assert targets(req, config) == ("Z-CY-1-90", "S-CY-90")
    # stored as given: no road or house number appears
    assert req.model_dump(mode="json")["home_address"] == {
        "district": "CY",
        "compound": "江湾小区",
        "building": 3,
        "unit": 2,
        "detail": "501室",
    }


def test_a_compound_is_in_the_zone_that_names_it_not_where_its_gate_is(config: SeasonConfig) -> None:
    assert config.zone_for(1, "黄山东路", 20).id == "Z-CY-1-06"  # type: ignore[union-attr]
    req = parse_request(body_at(config, compound_address("锦绣家园")))
    assert targets(req, config) == ("Z-CY-1-01", "S-CY-01")
    # a compound no zone names is in its gate's zone (康乐大路 60)
    req = parse_request(body_at(config, compound_address("松苑小区")))
    assert targets(req, config)[0] == config.zone_for(1, "康乐大路", 60).id  # type: ignore[union-attr]


def test_building_and_unit_are_optional_and_a_full_width_name_is_the_same_compound(
    config: SeasonConfig,
) -> None:
    req = parse_request(body_at(config, {"district": "CY", "compound": " 江湾小区 "}))
    assert check_registration(req, config, IN_WINDOW) == []
    assert req.home_address.compound == "江湾小区"
    assert req.home_address.model_dump() == {"district": "CY", "compound": "江湾小区", "detail": ""}


def test_a_road_address_is_stored_exactly_as_before(config: SeasonConfig) -> None:
    body = valid_body(config)
    req = parse_request(body)
    assert req.model_dump(mode="json")["home_address"] == body["home_address"]
    assert set(req.model_dump(mode="json")["residence"]["hukou_address"]) == {
        "district",
        "road",
        "number",
        "detail",
    }


@pytest.mark.parametrize(
    ("address", "field", "rule", "zh"),
    [
        (
            {"district": "CY", "compound": "江湾小区", "road": "康乐大路", "number": 60},
            "home_address.compound",
            "R-PUB-1",
            "门牌地址和小区只能填写一种：住在小区的请只填写小区、楼栋和单元",
        ),
        (
            {"district": "CY", "compound": "江湾小区", "number": 60},
            "home_address.compound",
            "R-PUB-1",
            "门牌地址和小区只能填写一种：住在小区的请只填写小区、楼栋和单元",
        ),
        (
            {"district": "CY", "detail": "501室"},
            "home_address.road",
            "R-PUB-1",
            "请填写街路和门牌号，住在小区的也可以选择小区",
        ),
        ({"district": "CY", "road": "康乐大路"}, "home_address.number", "R-DATA-1", "此项为必填项"),
        ({"district": "CY", "number": 60}, "home_address.road", "R-DATA-1", "此项为必填项"),
        (
            {"district": "CY", "road": "康乐大路", "number": 60, "building": 3},
            "home_address.building",
            "R-PUB-1",
            "楼栋号只在选择小区时填写，门牌地址的楼栋、单元请填在详细地址中",
        ),
        (
            {"district": "CY", "road": "康乐大路", "number": 60, "unit": 2},
            "home_address.unit",
            "R-PUB-1",
            "单元号只在选择小区时填写，门牌地址的楼栋、单元请填在详细地址中",
        ),
    ],
)
def test_half_filled_or_both_kinds_are_refused_naming_the_field(
    config: SeasonConfig, address: dict[str, Any], field: str, rule: str, zh: str
) -> None:
    body = valid_body(config)
    body["home_address"] = address
    assert refusals(body) == [(field, rule, zh)]


def test_the_hukou_address_is_checked_the_same_way(config: SeasonConfig) -> None:
    body = valid_body(config)
    body["residence"]["hukou_address"] = {"district": "CY", "compound": "江湾小区", "road": "康乐大路"}
    [(field, rule, _)] = refusals(body)
    assert (field, rule) == ("residence.hukou_address.compound", "R-PUB-1")


@pytest.mark.parametrize(
    ("key", "value", "zh"),
    [
        ("building", 0, "楼栋号应为1至999的整数"),
        ("building", 1000, "楼栋号应为1至999的整数"),
        ("building", "3", "楼栋号应为1至999的整数"),
        ("building", 3.0, "楼栋号应为1至999的整数"),
        ("unit", 100, "单元号应为1至99的整数"),
        ("unit", True, "单元号应为1至99的整数"),
        ("compound", " ", "请选择所在小区"),
        ("compound", "", "请选择所在小区"),
    ],
)
def test_building_unit_and_compound_have_a_shape(config: SeasonConfig, key: str, value: Any, zh: str) -> None:
    body = body_at(config, compound_address("江湾小区"))
    body["home_address"][key] = value
    assert refusals(body) == [(f"home_address.{key}", "R-DATA-1", zh)]


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ({"district": "CY", "compound": "不存在小区"}, "no such compound"),
        ({"district": "CH", "compound": "江湾小区"}, "in another district"),
    ],
)
def test_an_unknown_compound_in_that_district_is_refused(
    config: SeasonConfig, address: dict[str, Any], why: str
) -> None:
    req = parse_request(body_at(config, address))
    found = [(v.field, v.rule, v.message_zh) for v in check_registration(req, config, IN_WINDOW)]
    assert ("home_address.compound", "R-PUB-1", "该区没有这个小区，请从列表中选择，或按门牌填写") in found, (
        why
    )
    assert all("R-" not in zh for _, _, zh in found)


def test_a_season_without_compounds_refuses_every_compound(season: SeasonConfig) -> None:
    req = parse_request(body_at(season, compound_address("江湾小区")))
    assert [v.field for v in check_registration(req, season, IN_WINDOW)] == [
        "home_address.compound",
        "residence.hukou_address.compound",
    ]


def test_preferences_of_a_compound_family_are_its_zones_schools(config: SeasonConfig) -> None:
    req = parse_request(body_at(config, compound_address("江湾小区"), school_preferences=["S-CY-90"]))
    # a single-school zone: no preferences to rank
    assert [v.field for v in check_registration(req, config, IN_WINDOW)] == ["school_preferences"]


# Verification --------------------------------------------------------------------------------


def item(config: SeasonConfig, address: dict[str, Any]) -> dict[str, Any]:
    body = body_at(config, address)
    return {
        "registration_id": "R-TEST-0000-0000-0001",
        "season": config.season,
        "grade": 1,
        "category": "public",
        "district": "CY",
        "target_school": None,
        "special_claims": [],
        "request": parse_request(body).model_dump(mode="json"),
    }


def answered(agency: str, reason: str = "found", **facts: Any) -> Check:
    return Check(
        registration_id="R-TEST-0000-0000-0001",
        agency=agency,  # type: ignore[arg-type]
        status="answered",
        asked_at=NOW,
        answered_at=NOW,
        reason=reason,
        facts=facts,
    )


def checks_with(
    hukou: RecordAddress, deed: RecordAddress, registries: Registries | None = None
) -> list[Check]:
    """The four agencies' answers through the local adapter, from records at these addresses."""
    reg = registries or Registries(
        public_security=[
            HukouRecord(id_number="C1234567", kind="hukou", address=hukou, since=date(2018, 1, 1))
        ],
        housing=[
            DeedRecord(
                deed_number="JL-2019-000123",
                owner_id_numbers=["P1"],
                address=deed,
                registered_on=date(2019, 5, 1),
            )
        ],
    )
    local = LocalRegistries(reg)
    police, housing = local.lookup("resident-id", "C1234567"), local.deed("JL-2019-000123", ["P1"])
    return [
        answered("public-security", police.reason, **police.facts),
        answered("housing", housing.reason, **housing.facts),
        answered("planning", planned_use="residential"),
        answered("community", "lives-there", lives_there=True),
    ]


def flat(compound: str, building: int = 3, unit: int = 2) -> RecordAddress:
    return RecordAddress(district="CY", compound=compound, building=building, unit=unit, detail="501室")


def test_compound_records_in_the_zone_are_eligible(config: SeasonConfig) -> None:
    reg = item(config, compound_address("江湾小区"))
    v = verdict(config, reg, checks_with(flat("江湾小区"), flat("江湾小区")), NOW)
    assert (v.status, v.zone_id, v.reasons) == ("eligible", "Z-CY-1-90", [])
    assert v.facts == {
        "hukou-in-zone": True,
        "deed-in-zone": True,
        "hukou-deed-match": True,
        "actual-residence": True,
    }


def test_police_answer_carries_the_compound_not_a_road() -> None:
    reg = Registries(
        public_security=[
            HukouRecord(id_number="C1234567", kind="hukou", address=flat("江湾小区"), since=date(2018, 1, 1))
        ]
    )
    facts = LocalRegistries(reg).lookup("resident-id", "C1234567").facts
    assert facts == {
        "kind": "hukou",
        "district": "CY",
        "compound": "江湾小区",
        "building": 3,
        "unit": 2,
        "permit_number": None,
        "since": "2018-01-01",
    }


def test_a_compound_the_season_does_not_know_is_outside_every_zone(config: SeasonConfig) -> None:
    reg = item(config, compound_address("江湾小区"))
    v = verdict(config, reg, checks_with(flat("江湾小区"), flat("江湾小区")), NOW)
    assert v.status == "eligible"
    v = verdict(config, reg, checks_with(flat("别处小区"), flat("别处小区")), NOW)
    assert v.status == "not-eligible"
    assert {"hukou-address-mismatch", "hukou-outside-zone"} <= set(v.reasons)
    assert v.facts["hukou-in-zone"] is False and v.facts["deed-in-zone"] is False


def test_another_building_of_the_same_compound_is_another_house(config: SeasonConfig) -> None:
    reg = item(config, compound_address("江湾小区", building=3, unit=2))
    v = verdict(
        config, reg, checks_with(flat("江湾小区", building=3, unit=2), flat("江湾小区", building=7)), NOW
    )
    # in the zone either way, but the deed is not the hukou's flat (房户不一致)
    assert v.facts["deed-in-zone"] is True and v.facts["hukou-deed-match"] is False
    assert v.reasons == ["deed-address-mismatch"]
    v = verdict(config, reg, checks_with(flat("江湾小区", unit=5), flat("江湾小区", unit=5)), NOW)
    assert v.reasons == ["hukou-address-mismatch"]  # the family stated unit 2


def test_a_building_and_unit_the_family_left_out_are_not_compared(config: SeasonConfig) -> None:
    reg = item(config, {"district": "CY", "compound": "江湾小区", "detail": ""})
    v = verdict(
        config,
        reg,
        checks_with(flat("江湾小区", building=9, unit=1), flat("江湾小区", building=9, unit=1)),
        NOW,
    )
    assert (v.status, v.reasons) == ("eligible", [])
    # but another compound is another house, building or not
    v = verdict(config, reg, checks_with(flat("滨江壹号"), flat("滨江壹号")), NOW)
    assert v.reasons == ["hukou-address-mismatch"] and v.zone_id == "Z-CY-1-90"


def test_a_compound_never_equals_its_gates_road_address(config: SeasonConfig) -> None:
    # 江湾小区's gate is 滨江北街 30; a deed there is a road address, not the compound's flat
    gate = RecordAddress(district="CY", road="滨江北街", number=30)
    reg = item(config, compound_address("江湾小区"))
    v = verdict(config, reg, checks_with(flat("江湾小区"), gate), NOW)
    assert v.facts["hukou-deed-match"] is False and "deed-address-mismatch" in v.reasons
    # and the gate's house number is in the gate's zone (Z-CY-1-04), not the compound's
    assert v.zone_id == "Z-CY-1-90"
    stated = item(config, {"district": "CY", "road": "滨江北街", "number": 30, "detail": ""})
    v = verdict(config, stated, checks_with(flat("江湾小区"), flat("江湾小区")), NOW)
    assert "hukou-address-mismatch" in v.reasons


def test_a_residence_permit_in_a_compound_places_by_the_compound(config: SeasonConfig) -> None:
    body = body_at(config, compound_address("锦绣家园"))
    body["residence"] = {"basis": "residence-permit", "residence_permit_number": "JZ220204202000001"}
    reg = {
        **item(config, compound_address("锦绣家园")),
        "request": parse_request(body).model_dump(mode="json"),
    }
    registries = Registries(
        public_security=[
            HukouRecord(
                id_number="C1234567",
                kind="residence-permit",
                address=flat("锦绣家园"),
                permit_number="JZ220204202000001",
                since=date(2020, 1, 1),
            )
        ]
    )
    police = LocalRegistries(registries).lookup("resident-id", "C1234567")
    checks = [
        answered("public-security", police.reason, **police.facts),
        answered("community", "lives-there", lives_there=True),
    ]
    v = verdict(config, reg, checks, NOW)
    assert (v.status, v.zone_id) == ("eligible", "Z-CY-1-01")
    assert v.facts["residence-permit-in-zone"] is True


def test_agency_addresses_are_one_kind_or_the_other() -> None:
    with pytest.raises(ValueError, match="no road or house number"):
        RecordAddress(district="CY", compound="江湾小区", road="滨江北街", number=30)
    with pytest.raises(ValueError, match="road and house number, or a compound"):
        RecordAddress(district="CY", road="滨江北街")
    with pytest.raises(ValueError, match="road and house number, or a compound"):
        RecordAddress(district="CY", road="滨江北街", number=30, building=2)
    assert RecordAddress(district="CY", road="滨江北街", number=30).model_dump_json(exclude_none=True) == (
        '{"district":"CY","road":"滨江北街","number":30,"detail":""}'
    )


def test_the_api_refuses_both_kinds_naming_the_compound_in_chinese(config: SeasonConfig) -> None:
    """Through the register function as API Gateway calls it: 422, the field, no rule id in the message."""
    import json

    from enrollment.local.runtime import api_event
    from functions.register.handler import app

    body = body_at(config, {"district": "CY", "compound": "江湾小区", "road": "康乐大路", "number": 60})
    event = api_event(
        "POST", "/api/registrations", json.dumps(body), headers={"Content-Type": "application/json"}
    )
    r = app.resolve(event, None)  # type: ignore[arg-type]
    answer = json.loads(r["body"])
    assert r["statusCode"] == 422
    assert [(e["field"], e["rule"]) for e in answer["errors"]] == [
        ("home_address.compound", "R-PUB-1"),
        ("residence.hukou_address.compound", "R-PUB-1"),
    ]
    assert answer["message"] == "门牌地址和小区只能填写一种：住在小区的请只填写小区、楼栋和单元"


def test_the_portal_lists_each_districts_compounds(config: SeasonConfig, season: SeasonConfig) -> None:
    from enrollment.core.ports import SeasonState
    from functions.register.public import season_info

    state = SeasonState(advanced_gates=frozenset(), extended_to={})
    info = season_info(config, NOW, state)
    assert info["compounds"]["CY"] == ["松苑小区", "江湾小区", "滨江壹号", "锦绣家园"]
    assert all(info["compounds"][d.code] == [] for d in config.districts if d.code != "CY")
    # a season without compounds: every district's list is empty, so the page shows no choice
    assert all(names == [] for names in season_info(season, NOW, state)["compounds"].values())
