"""A family edits or withdraws its registration while the window is open, and each change is recorded
(issue 19): on moto, through the register function as API Gateway calls it."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

import pytest

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason
from enrollment.registration import demand
from enrollment.registration.season import count_shard
from tests.integration.conftest import at, post, registration_items
from tests.integration.parent_session import family_call, sign_in
from tests.support import child_id, valid_body

pytestmark = pytest.mark.xdist_group("moto-registration")


@pytest.fixture
def rt(embedded: EmbeddedSeason, season: SeasonConfig) -> EmbeddedSeason:
    embedded.clock.set(at(season, f"{season.calendar.grade1_registration.start} 10:00"))
    return embedded


def register(rt: EmbeddedSeason, body: dict[str, Any]) -> str:
    status, answer = post(rt, body)
    assert status == 201, answer
    return str(answer["registration_id"])


def stored(rt: EmbeddedSeason, rid: str) -> dict[str, Any]:
    [item] = [i for i in registration_items(rt) if i["pk"] == f"REG#{rid}" and i["sk"] == "REG"]
    return item


def applicants(rt: EmbeddedSeason, scope: str, ident: str, grade: int = 1) -> int:
    status, view, _ = family_call(rt, "GET", "/api/warnings")
    assert status == 200
    [g] = [g for g in view["grades"] if g["grade"] == grade]
    return sum(int(r["applicants"]) for r in g["rows"] if r["scope"] == scope and r["id"] == ident)


def private_school(season: SeasonConfig, body: dict[str, Any]) -> str:
    return next(
        s.id
        for s in season.schools
        if s.kind == "private" and s.plan(1) and s.district == body["home_address"]["district"]
    )


def listed(rt: EmbeddedSeason, season: SeasonConfig) -> tuple[list[str], int]:
    """What the later phases see: the season's listing, and the registrations registration close counts."""
    store = DynamoStore(rt.table_name)
    ids = [str(r["registration_id"]) for r in store.registrations(season.season)]
    counted = sum(
        count_shard(season, season.season, n, store=store)["registrations"] for n in range(store.shards)
    )
    return ids, counted


def test_a_family_edits_its_form_and_the_change_is_recorded(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    # Given a registered child at its catchment school, and the family signed in
    body = valid_body(season)
    rid = register(rt, body)
    first = stored(rt, rid)
    public = str(first["target_school"])
    token = sign_in(rt, rid)
    assert applicants(rt, "school", public) == 1

    # The stored form comes back to edit, with how long it may still be changed
    status, form, _ = family_call(rt, "GET", f"/api/registrations/{rid}/form", token=token)
    assert status == 200, form
    assert form["editable"] is True and form["why_not"] is None
    assert form["editable_until"] == season.calendar.grade1_registration.end.isoformat()
    assert form["form"]["child"]["id_number"] == body["child"]["id_number"]
    assert form["form"]["grade"] == 1 and form["form"]["home_address"] == body["home_address"]

    # When it changes the guardian's phone and asks for a private school instead
    rt.clock.set(rt.clock.now() + timedelta(minutes=5))
    edited = copy.deepcopy(form["form"])
    edited["guardians"][0]["phone"] = "17000005678"
    edited["category"] = "private"
    edited["private_school_id"] = private_school(season, body)
    status, answer, _ = family_call(rt, "PUT", f"/api/registrations/{rid}", edited, token=token)

    # Then the registration is the new one, under the same id, first registered when it was
    assert status == 200, answer
    assert answer["registration_id"] == rid and answer["category"] == "private"
    assert answer["school"]["id"] == edited["private_school_id"] and answer["status_zh"] == "已报名，待审核"
    item = stored(rt, rid)
    assert item["created_at"] == first["created_at"] and item["child_key"] == first["child_key"]
    assert item["category"] == "private" and item["target_school"] == edited["private_school_id"]
    assert item["zone_id"] is None and item["request"]["guardians"][0]["phone"] == "17000005678"
    # and the change is recorded: when, by whom, which fields, and no value of any field
    [change] = answer["changes"]
    assert change["kind"] == "edited" and change["by"] == "guardian"
    assert change["fields"] == ["category", "guardians.0.phone", "private_school_id"]
    assert change["at"].startswith(str(season.calendar.grade1_registration.start))
    assert item["changes"] == [change]
    assert "17000001234" not in str(item["changes"]) and body["child"]["id_number"] not in str(
        item["changes"]
    )

    # And the live seat warnings moved with it, and agree with the registrations close would count
    assert applicants(rt, "school", public) == 0
    assert applicants(rt, "school", edited["private_school_id"]) == 1
    store = DynamoStore(rt.table_name)
    assert demand.rows(season, store.live_counts(season.season)) == demand.demand(
        season, store.registrations(season.season)
    )

    # The same form again changes and records nothing
    status, again, _ = family_call(rt, "PUT", f"/api/registrations/{rid}", edited, token=token)
    assert status == 200 and again["changes"] == [change]
    assert stored(rt, rid) == item


def test_an_edit_that_breaks_a_rule_is_refused_and_stores_nothing(
    rt: EmbeddedSeason, season: SeasonConfig
) -> None:
    body = valid_body(season)
    rid = register(rt, body)
    token = sign_in(rt, rid)
    before = stored(rt, rid)

    def put(change: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, answer, _ = family_call(rt, "PUT", f"/api/registrations/{rid}", change, token=token)
        return status, answer

    other_child = copy.deepcopy(body)
    other_child["child"]["id_number"] = child_id(season, date.fromisoformat(body["child"]["birth_date"]))
    grade7 = valid_body(season, grade=7)
    grade7["child"] = body["child"]
    bad_phone = copy.deepcopy(body)
    bad_phone["guardians"][0]["phone"] = "12345"
    unknown = {**body, "income": 9000}
    no_school = {**body, "category": "private", "private_school_id": "NO-SUCH-SCHOOL"}
    cases = [
        (other_child, 422, "child.id_number", "儿童身份证号不能修改"),
        (grade7, 422, "grade", "年级不能修改"),
        (bad_phone, 422, "guardians.0.phone", None),
        (unknown, 422, "income", None),
        (no_school, 422, "private_school_id", None),
    ]
    for change, code, field, words in cases:
        status, answer = put(change)
        assert status == code, (field, answer)
        assert field in [e["field"] for e in answer["errors"]], (field, answer)
        if words:
            assert any(words in e["message"] for e in answer["errors"]), answer
    assert stored(rt, rid) == before

    # After the window (its last day over), neither an edit nor a withdrawal is taken
    rt.clock.set(at(season, f"{season.calendar.grade1_registration.end + timedelta(days=1)} 09:00"))
    token = sign_in(rt, rid)
    changed = copy.deepcopy(body)
    changed["guardians"][0]["phone"] = "17000005678"
    status, answer = put(changed)
    assert status == 409 and answer["errors"][0]["field"] == "grade"
    assert "截止" in answer["errors"][0]["message"]
    status, answer, _ = family_call(
        rt, "POST", f"/api/registrations/{rid}/withdraw", {"confirm": True}, token=token
    )
    assert status == 409 and "截止" in answer["errors"][0]["message"]
    status, form, _ = family_call(rt, "GET", f"/api/registrations/{rid}/form", token=token)
    assert status == 200 and form["editable"] is False and "截止" in form["why_not"]
    assert stored(rt, rid) == before


def test_a_withdrawn_registration_counts_nowhere_and_the_child_may_register_again(
    rt: EmbeddedSeason, season: SeasonConfig
) -> None:
    # Given two registered children at the same catchment school
    body = valid_body(season)
    rid, other = register(rt, body), register(rt, valid_body(season))
    school = str(stored(rt, rid)["target_school"])
    token = sign_in(rt, rid)
    assert applicants(rt, "school", school) == 2
    assert listed(rt, season) == (sorted([rid, other]), 2)

    # A withdrawal must be confirmed, and its reason is at most 200 characters
    for unconfirmed in ({}, {"confirm": False}):
        status, answer, _ = family_call(
            rt, "POST", f"/api/registrations/{rid}/withdraw", unconfirmed, token=token
        )
        assert status == 422 and answer["errors"][0]["field"] == "confirm", answer
    status, answer, _ = family_call(
        rt, "POST", f"/api/registrations/{rid}/withdraw", {"confirm": True, "reason": "长" * 201}, token=token
    )
    assert status == 422 and answer["errors"][0]["field"] == "reason", answer
    assert stored(rt, rid)["status"] == "registered"

    # When the family withdraws, with a reason
    status, answer, _ = family_call(
        rt,
        "POST",
        f"/api/registrations/{rid}/withdraw",
        {"confirm": True, "reason": "已迁居外地"},
        token=token,
    )
    assert status == 200, answer
    assert answer["status"] == "withdrawn" and answer["status_zh"] == "已撤回报名"
    [change] = answer["changes"]
    assert (change["kind"], change["by"], change["reason"]) == ("withdrawn", "guardian", "已迁居外地")

    # Then it counts nowhere: not in the seat warnings, not in the listing every later phase reads
    # (verification, the lottery's pools, placement), not in the demand registration close records
    assert applicants(rt, "school", school) == 1
    assert listed(rt, season) == ([other], 1)
    # but it is still there, by its id, with its history: the family reads it as withdrawn
    status, shown, _ = family_call(rt, "GET", f"/api/registrations/{rid}", token=token)
    assert status == 200 and shown["status_zh"] == "已撤回报名" and shown["stage"] == "withdrawn"
    status, form, _ = family_call(rt, "GET", f"/api/registrations/{rid}/form", token=token)
    assert form["editable"] is False and "撤回" in form["why_not"]
    # and it can be neither withdrawn again nor edited
    assert (
        family_call(rt, "POST", f"/api/registrations/{rid}/withdraw", {"confirm": True}, token=token)[0]
        == 409
    )
    assert family_call(rt, "PUT", f"/api/registrations/{rid}", body, token=token)[0] == 409

    # When the same child registers again in the window, with the very same form
    status, again = post(rt, body)
    assert status == 201, again
    assert again["registration_id"] == rid and again["status"] == "registered"
    item = stored(rt, rid)
    assert item["status"] == "registered"
    assert [c["kind"] for c in item["changes"]] == ["withdrawn", "re-registered"]
    assert applicants(rt, "school", school) == 2
    assert listed(rt, season) == (sorted([rid, other]), 2)
    # and a registration of the same child while this one is active is still refused (the very same
    # body again is a retry: it gets the answer already given, as before)
    elsewhere = {**body, "category": "private", "private_school_id": private_school(season, body)}
    assert post(rt, elsewhere)[0] == 409
    assert stored(rt, rid) == item


def test_only_the_childs_own_session_changes_it(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    mine, other = register(rt, body), register(rt, valid_body(season))
    token = sign_in(rt, mine)
    before = stored(rt, other)
    calls = [
        ("GET", f"/api/registrations/{other}/form", None),
        ("PUT", f"/api/registrations/{other}", valid_body(season)),
        ("POST", f"/api/registrations/{other}/withdraw", {"confirm": True}),
    ]
    for method, path, payload in calls:
        for who in (None, token, token + "x"):
            status, answer, _ = family_call(rt, method, path, payload, token=who)
            assert status == 401, (method, path, answer)
            assert answer["errors"][0]["field"] == "Authorization"
    assert stored(rt, other) == before
