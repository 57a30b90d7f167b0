"""R-VER-1, R-MIG-1, R-PRIO-1, R-LOT-2 rule edges, on hand-made registrations and agency answers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.verification.checks import (
    AgencyUnavailable,
    Faulty,
    LocalRegistries,
    checks_needed,
    is_complete,
    verdict,
)
from enrollment.verification.registries import (
    DeedRecord,
    HukouRecord,
    PlanningRecord,
    RecordAddress,
    Registries,
)
from enrollment.verification.verdicts import REASON_ZH, Check
from tests.support import valid_body

NOW = datetime(2023, 6, 1, 9, tzinfo=UTC)


def item(config: SeasonConfig, **overrides: Any) -> dict[str, Any]:
    body = valid_body(config, **overrides)
    return {
        "registration_id": "R-TEST-0000-0000-0001",
        "season": config.season,
        "grade": body["grade"],
        "category": body["category"],
        "district": body["home_address"]["district"],
        "target_school": body.get("private_school_id"),
        "special_claims": body.get("special_claims", []),
        "request": body,
    }


def answered(agency: str, reason: str = "found", **facts: Any) -> Check:
    return Check(
        registration_id="R-TEST-0000-0000-0001",
        agency=agency,
        status="answered",
        asked_at=NOW,  # type: ignore[arg-type]
        answered_at=NOW,
        reason=reason,
        facts=facts,
    )


def good_checks(
    reg: dict[str, Any], registered_on: date = date(2019, 5, 1), use: str = "residential", lives: bool = True
) -> list[Check]:
    a = reg["request"]["home_address"]
    house = {"district": a["district"], "road": a["road"], "number": a["number"]}
    return [
        answered("public-security", kind="hukou", **house),
        answered(
            "housing",
            registered_on=registered_on.isoformat(),
            owners=1,
            owner_match=True,
            owners_matched=1,
            **house,
        ),
        answered("planning", planned_use=use),
        answered("community", "lives-there", lives_there=lives),
    ]


def test_all_facts_hold_eligible_for_the_zone(season: SeasonConfig) -> None:
    reg = item(season)
    v = verdict(season, reg, good_checks(reg), NOW)
    assert v.status == "eligible" and v.reasons == [] and v.zone_id
    assert v.facts == {
        "hukou-in-zone": True,
        "deed-in-zone": True,
        "hukou-deed-match": True,
        "actual-residence": True,
    }


@pytest.mark.parametrize(("registered_on", "ok"), [(date(2020, 8, 30), True), (date(2020, 8, 31), False)])
def test_property_date_boundary(season: SeasonConfig, registered_on: date, ok: bool) -> None:
    assert season.property_cutoff == date(2020, 8, 31)
    reg = item(season)
    v = verdict(season, reg, good_checks(reg, registered_on=registered_on), NOW)
    assert (v.status == "eligible") is ok
    assert ("deed-after-cutoff" in v.reasons) is not ok


def test_commercial_use_and_not_living_there_are_both_reported(season: SeasonConfig) -> None:
    reg = item(season)
    v = verdict(season, reg, good_checks(reg, use="commercial", lives=False), NOW)
    assert v.status == "not-eligible"
    assert v.reasons == ["not-residential", "not-living-there"]


def test_deed_elsewhere_and_stated_hukou_differing_from_police(season: SeasonConfig) -> None:
    reg = item(season)
    checks = good_checks(reg)
    checks[1] = answered(
        "housing",
        registered_on="2019-01-01",
        district=reg["district"],
        road=reg["request"]["home_address"]["road"],
        number=9999,
    )
    v = verdict(season, reg, checks, NOW)
    assert "deed-address-mismatch" in v.reasons and v.facts["hukou-deed-match"] is False
    checks = good_checks(reg)
    checks[0] = answered("public-security", kind="hukou", district="XX", road="无名路", number=1)
    v = verdict(season, reg, checks, NOW)
    assert {"hukou-address-mismatch", "hukou-outside-zone"} <= set(v.reasons)


def test_unanswered_agency_and_unconfirmed_visit_go_to_review(season: SeasonConfig) -> None:
    reg = item(season)
    checks = good_checks(reg)
    checks[2] = Check(
        registration_id=reg["registration_id"],
        agency="planning",
        status="unanswered",
        asked_at=NOW,
        reason="timeout",
    )
    assert verdict(season, reg, checks, NOW).status == "review"
    checks = good_checks(reg)
    checks[3] = Check(
        registration_id=reg["registration_id"],
        agency="community",
        status="not-confirmed",
        asked_at=NOW,
        reason="deadline-passed",
    )
    v = verdict(season, reg, checks, NOW)
    assert (v.status, v.reasons) == ("review", ["visit-not-confirmed"])


def test_a_pending_visit_is_not_judged_yet(season: SeasonConfig) -> None:
    reg = item(season)
    checks = [
        *good_checks(reg)[:3],
        Check(
            registration_id=reg["registration_id"],
            agency="community",
            status="pending",
            asked_at=NOW,
            reason="visit-requested",
        ),
    ]
    assert not is_complete(reg, checks)
    with pytest.raises(ValueError, match="not complete"):
        verdict(season, reg, checks, NOW)


def test_migrant_with_permit_in_zone_and_without_property(season: SeasonConfig) -> None:
    reg = item(season, residence={"basis": "residence-permit", "residence_permit_number": "JZ-2201-000001"})
    a = reg["request"]["home_address"]
    police = answered(
        "public-security",
        kind="residence-permit",
        permit_number="JZ-2201-000001",
        district=a["district"],
        road=a["road"],
        number=a["number"],
    )
    assert checks_needed(reg) == ["public-security", "community"]
    v = verdict(season, reg, [police, answered("community", "lives-there", lives_there=True)], NOW)
    assert v.status == "eligible" and v.facts["residence-permit-in-zone"]
    wrong = answered(
        "public-security",
        kind="residence-permit",
        permit_number="JZ-OTHER-1",
        **{k: a[k] for k in ("district", "road", "number")},
    )
    assert (
        "permit-not-found"
        in verdict(season, reg, [wrong, answered("community", "lives-there", lives_there=True)], NOW).reasons
    )


def test_priority_claim_is_verified_by_a_person(season: SeasonConfig) -> None:
    reg = item(season, special_claims=["military"])
    reg["special_claims"] = ["military"]
    v = verdict(season, reg, good_checks(reg), NOW)
    assert (v.status, v.reasons, v.facts["policy-priority"]) == ("review", ["priority-not-verified"], False)


def test_private_applicant_own_district_fact(season: SeasonConfig) -> None:
    school = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    reg = item(season, category="private", private_school_id=school.id)
    assert checks_needed(reg) == ["public-security"]
    own = answered("public-security", kind="hukou", district=school.district, road="x", number=1)
    other = answered("public-security", kind="hukou", district="ZZ", road="x", number=1)
    assert verdict(season, reg, [own], NOW).facts == {"own-district": True}
    assert verdict(season, reg, [other], NOW).facts == {"own-district": False}


def test_foreign_child_needs_the_foreign_affairs_check(season: SeasonConfig) -> None:
    reg = item(season)
    reg["request"]["child"]["id_type"] = "passport"
    assert checks_needed(reg) == []
    assert verdict(season, reg, [], NOW).reasons == ["foreign-check-pending"]


def test_every_reason_has_chinese_text() -> None:
    from typing import get_args

    from enrollment.verification.verdicts import ReasonCode

    assert set(get_args(ReasonCode)) == set(REASON_ZH)


def test_local_agencies_and_faults() -> None:
    addr = RecordAddress(district="CY", road="松江路", number=3)
    reg = Registries(
        public_security=[
            HukouRecord(id_number="X1234567", kind="hukou", address=addr, since=date(2015, 1, 1))
        ],
        housing=[
            DeedRecord(
                deed_number="JL-0001-01", owner_id_numbers=["Y"], address=addr, registered_on=date(2019, 1, 1)
            )
        ],
        planning=[PlanningRecord(deed_number="JL-0001-01", planned_use="commercial")],
    )
    local = LocalRegistries(reg)
    assert local.lookup("resident-id", "X1234567").facts["road"] == "松江路"
    assert local.lookup("resident-id", "nobody").reason == "no-record"
    assert local.planned_use("JL-0001-01").facts == {"planned_use": "commercial"}
    flaky = Faulty(local, 1)
    with pytest.raises(AgencyUnavailable):
        flaky.deed("JL-0001-01")
    assert flaky.deed("JL-0001-01").reason == "found"
    assert local.visit_answer("nobody", date(2023, 6, 1)) is None


def test_ethnic_applicants_are_not_judged_by_catchment(season: SeasonConfig) -> None:
    reg = item(season, category="ethnic")
    assert checks_needed(reg) == ["public-security"]
    v = verdict(
        season, reg, [answered("public-security", kind="hukou", district="CY", road="x", number=1)], NOW
    )
    assert (v.status, v.reasons) == ("eligible", [])


def test_planning_without_a_record_goes_to_review(season: SeasonConfig) -> None:
    reg = item(season)
    checks = good_checks(reg)
    checks[2] = answered("planning", "no-record")
    v = verdict(season, reg, checks, NOW)
    assert (v.status, v.reasons) == ("review", ["agency-unanswered"])
