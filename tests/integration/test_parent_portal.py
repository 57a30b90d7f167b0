"""The parents' side on moto: SMS code and session (R-DATA-2), live seat warnings (R-WARN-1),
complaints answered by the child's district (R-OPEN-1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from enrollment.adapters.dynamodb import DynamoStore, live_key
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.people import parents
from enrollment.registration import demand
from tests.integration.conftest import at, post, registration_items, table_items
from tests.integration.parent_session import codes, family_call, last_code, sign_in, status_of
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-registration")

UNKNOWN = "R-AAAA-BBBB-CCCC-DDDD"


@pytest.fixture
def rt(embedded: EmbeddedSeason, season: SeasonConfig) -> EmbeddedSeason:
    embedded.clock.set(at(season, f"{season.calendar.grade1_registration.start} 10:00"))
    return embedded


def register(rt: EmbeddedSeason, season: SeasonConfig, **overrides: Any) -> str:
    status, answer = post(rt, valid_body(season, **overrides))
    assert status == 201, answer
    return str(answer["registration_id"])


def later(rt: EmbeddedSeason, **delta: float) -> None:
    rt.clock.set(rt.clock.now() + timedelta(**delta))


# Codes and sessions --------------------------------------------------------------------------


def test_a_parents_code_opens_only_that_childs_status(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    # Given two children registered, and the first one's family signed in with its SMS code
    mine, other = register(rt, season), register(rt, season)
    token = sign_in(rt, mine)

    # Then the family reads its own child's status, with verification progress
    status, shown, _ = family_call(rt, "GET", f"/api/registrations/{mine}", token=token)
    assert status == 200 and shown["registration_id"] == mine
    assert shown["verification"]["state"] == "not-started"
    assert [s["agency"] for s in shown["verification"]["steps"]] == [
        "public-security",
        "housing",
        "planning",
        "community",
    ]
    assert shown["lottery"] is None and shown["placement"] is None and shown["notice"] is None

    # But the same token does not open another child, and no token opens nothing: one answer for all
    refused = [
        family_call(rt, "GET", f"/api/registrations/{other}", token=token),
        family_call(rt, "GET", f"/api/registrations/{mine}"),
        family_call(rt, "GET", f"/api/registrations/{UNKNOWN}", token=token),
        family_call(rt, "GET", f"/api/registrations/{mine}", token=token + "x"),
    ]
    assert {s for s, _, _ in refused} == {401}
    assert all(body == refused[0][1] for _, body, _ in refused)
    assert (
        refused[0][1]["errors"][0]["field"] == "Authorization"
        and refused[0][1]["errors"][0]["rule"] == "R-DATA-2"
    )
    assert refused[0][2]["www-authenticate"] == "Bearer"
    # nor its complaints, nor its notice
    assert family_call(rt, "GET", f"/api/registrations/{other}/complaints", token=token)[0] == 401
    assert family_call(rt, "POST", f"/api/registrations/{other}/notice", {}, token=token)[0] == 401


def test_a_wrong_code_reveals_nothing(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    rid = register(rt, season)
    # Asking for a code: the same answer for a registration that exists and one that does not
    known = family_call(rt, "POST", f"/api/registrations/{rid}/code")
    unknown = family_call(rt, "POST", f"/api/registrations/{UNKNOWN}/code")
    assert known[:2] == unknown[:2] and known[0] == 202
    assert "若报名编号正确" in known[1]["message"]
    # only the real registration's guardian got an SMS (phone masked in the outbox)
    assert [m["to"] for m in codes(rt)] == ["170****1234"]
    code = last_code(rt, rid)
    assert code is not None and last_code(rt, UNKNOWN) is None

    # A wrong code for the real id, any code for the unknown id: one and the same answer
    wrong = next(c for c in ("000000", "111111") if c != code)
    answers = [
        family_call(rt, "POST", f"/api/registrations/{rid}/session", {"code": wrong}),
        family_call(rt, "POST", f"/api/registrations/{UNKNOWN}/session", {"code": code}),
        family_call(rt, "POST", f"/api/registrations/{UNKNOWN}/session", {"code": wrong}),
    ]
    assert [a[0] for a in answers] == [401, 401, 401]
    assert answers[0][1] == answers[1][1] == answers[2][1]
    assert answers[0][1]["errors"][0]["field"] == "code"

    # The right code still works once (four wrong tries are allowed), and only once
    ok = family_call(rt, "POST", f"/api/registrations/{rid}/session", {"code": code})
    assert ok[0] == 200 and ok[1]["expires_in"] == 1800
    used = family_call(rt, "POST", f"/api/registrations/{rid}/session", {"code": code})
    assert used[:2] == answers[0][:2]

    # Nothing stored holds a code or a token in the clear
    stored = str(table_items(rt))
    assert code not in stored and ok[1]["token"] not in stored


def test_five_wrong_codes_void_it(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    rid = register(rt, season)
    family_call(rt, "POST", f"/api/registrations/{rid}/code")
    code = last_code(rt, rid)
    wrong = [c for c in ("000000", "111111", "222222", "333333", "444444", "555555") if c != code][:5]
    for c in wrong:
        assert family_call(rt, "POST", f"/api/registrations/{rid}/session", {"code": c})[0] == 401
    assert family_call(rt, "POST", f"/api/registrations/{rid}/session", {"code": code})[0] == 401


@pytest.mark.parametrize("exists", [True, False], ids=["registered", "unknown-id"])
def test_codes_are_rate_limited_alike_for_every_id(
    rt: EmbeddedSeason, season: SeasonConfig, exists: bool
) -> None:
    rid = register(rt, season) if exists else UNKNOWN
    path = f"/api/registrations/{rid}/code"
    assert family_call(rt, "POST", path)[0] == 202
    later(rt, seconds=15)
    status, body, headers = family_call(rt, "POST", path)
    assert status == 429 and headers["retry-after"] == "45"
    assert body["errors"][0]["rule"] == "R-DATA-2" and "45秒后再试" in body["message"]
    # a minute after each send another code may go, five in an hour, then not before the hour is up
    for _ in range(parents.SENDS_PER_WINDOW - 1):
        later(rt, seconds=60)
        assert family_call(rt, "POST", path)[0] == 202
    later(rt, seconds=60)
    status, _, headers = family_call(rt, "POST", path)
    assert status == 429 and int(headers["retry-after"]) > 60 * 50
    assert len(codes(rt)) == (parents.SENDS_PER_WINDOW if exists else 0)


def test_codes_and_sessions_expire(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    rid = register(rt, season)
    family_call(rt, "POST", f"/api/registrations/{rid}/code")
    code = last_code(rt, rid)
    later(rt, minutes=10)
    assert family_call(rt, "POST", f"/api/registrations/{rid}/session", {"code": code})[0] == 401

    token = sign_in(rt, rid)
    later(rt, minutes=29, seconds=59)
    assert family_call(rt, "GET", f"/api/registrations/{rid}", token=token)[0] == 200
    later(rt, seconds=1)
    assert family_call(rt, "GET", f"/api/registrations/{rid}", token=token)[0] == 401


def test_signing_out_ends_the_session(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    rid = register(rt, season)
    token = sign_in(rt, rid)
    assert family_call(rt, "DELETE", f"/api/registrations/{rid}/session", token=token)[0] == 204
    assert family_call(rt, "GET", f"/api/registrations/{rid}", token=token)[0] == 401
    status, again, _ = family_call(rt, "DELETE", f"/api/registrations/{rid}/session", token=token)
    assert status == 401 and again["errors"][0]["field"] == "Authorization"


def test_the_notice_and_the_decline_take_the_session_only(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    rid = post(rt, body)[1]["registration_id"]
    token = sign_in(rt, rid)
    # signed in: past the check, to "not issued yet"
    status, answer, _ = family_call(rt, "POST", f"/api/registrations/{rid}/notice", {}, token=token)
    assert status == 404 and answer["errors"][0]["rule"] == "R-NOTE-1"
    # The child's ID number is no proof any more (it can be guessed from a masked one): refused with
    # the very answer a bad session gets, on both routes, and nothing changes
    bad_session = family_call(rt, "POST", f"/api/registrations/{rid}/notice", {}, token="not-a-token")
    own = body["child"]["id_number"]
    refused = [
        family_call(rt, "POST", f"/api/registrations/{rid}/notice", {"id_number": own}),
        family_call(rt, "POST", f"/api/registrations/{rid}/decline", {"id_number": own}),
        family_call(rt, "POST", f"/api/registrations/{rid}/decline", {"id_number": own, "reason": "搬家"}),
        family_call(rt, "POST", f"/api/registrations/{UNKNOWN}/notice", {"id_number": own}),
        family_call(rt, "POST", f"/api/registrations/{rid}/notice", {}),
    ]
    assert bad_session[0] == 401 and bad_session[2]["www-authenticate"] == "Bearer"
    assert all(r[:2] == bad_session[:2] and r[2]["www-authenticate"] == "Bearer" for r in refused)
    assert bad_session[1]["errors"][0]["field"] == "Authorization"
    # with the session, an ID number is just a field these routes do not take
    status, answer, _ = family_call(
        rt, "POST", f"/api/registrations/{rid}/notice", {"id_number": own}, token=token
    )
    assert status == 422 and answer["errors"][0]["field"] == "id_number"
    assert family_call(rt, "GET", f"/api/registrations/{rid}", token=token)[1]["lottery"] is None


def attempts(rt: EmbeddedSeason, scope: str, subject: str) -> dict[str, Any]:
    [item] = [i for i in table_items(rt) if i.get("type") == "parent-attempts" and i["subject"] == subject]
    assert item["scope"] == scope and int(item["expires_epoch"]) > 0
    return item


def test_failed_proofs_lock_the_client_out(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    rid, other = register(rt, season), register(rt, season)
    ip, elsewhere = "198.51.100.23", "203.0.113.50"
    token = sign_in(rt, rid, source_ip=elsewhere)  # the family, on another network
    later(rt, minutes=1)
    family_call(rt, "POST", f"/api/registrations/{rid}/code", source_ip=ip)
    code = last_code(rt, rid)
    wrong = [c for c in ("000000", "111111", "222222", "333333") if c != code][:3]
    own = valid_body(season)["child"]["id_number"]
    # Given one client fails every kind of proof, against several ids (each answered 401 as always)
    tries = [
        *[("POST", f"/api/registrations/{rid}/session", {"code": c}, None) for c in wrong],
        ("POST", f"/api/registrations/{UNKNOWN}/session", {"code": "123456"}, None),
        ("GET", f"/api/registrations/{rid}", None, "guessed-token"),
        ("GET", f"/api/registrations/{other}", None, "guessed-token-2"),
        ("POST", f"/api/registrations/{other}/notice", {"id_number": own}, None),
        ("POST", f"/api/registrations/{other}/decline", {"id_number": own}, None),
    ]
    tries += [("GET", f"/api/registrations/{UNKNOWN}", None, f"t{i}") for i in range(10 - len(tries))]
    assert len(tries) == parents.CLIENT_FAILURES
    for method, path, body, guess in tries:
        assert family_call(rt, method, path, body, token=guess, source_ip=ip)[0] == 401
    # Then it is locked out: every proof it presents, right or wrong, for any id, gets one 429
    locked = [
        family_call(rt, "POST", f"/api/registrations/{rid}/session", {"code": code}, source_ip=ip),
        family_call(rt, "POST", f"/api/registrations/{UNKNOWN}/session", {"code": code}, source_ip=ip),
        family_call(rt, "POST", f"/api/registrations/{rid}/code", source_ip=ip),
        family_call(rt, "POST", f"/api/registrations/{UNKNOWN}/code", source_ip=ip),
        family_call(rt, "GET", f"/api/registrations/{rid}", token=token, source_ip=ip),
    ]
    assert {s for s, _, _ in locked} == {429}
    assert all(body == locked[0][1] for _, body, _ in locked)
    assert {h["retry-after"] for _, _, h in locked} == {str(int(parents.CLIENT_LOCKOUT.total_seconds()))}
    assert "尝试次数过多" in locked[0][1]["message"] and "R-" not in locked[0][1]["message"]
    # while another client is not affected
    assert family_call(rt, "GET", f"/api/registrations/{rid}", token=token, source_ip=elsewhere)[0] == 200
    # The attempts are recorded for staff to see: per client, and per registration id
    client = attempts(rt, "client", ip)
    assert int(client["total_failures"]) == parents.CLIENT_FAILURES and int(client["lockouts"]) == 1
    assert int(attempts(rt, "registration", rid)["total_failures"]) == len(wrong) + 1
    assert int(attempts(rt, "registration", other)["total_failures"]) == 3
    # After the lockout the client may try again
    later(rt, minutes=30)
    assert (
        family_call(rt, "GET", f"/api/registrations/{rid}", token=sign_in(rt, rid, ip), source_ip=ip)[0]
        == 200
    )


def test_a_client_may_ask_for_so_many_codes(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    rid = register(rt, season)
    ip = "198.51.100.24"
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    ids = [f"R-AAAA-BBBB-CCCC-DDD{letters[i]}" for i in range(parents.CLIENT_CODE_REQUESTS)]
    for unknown in ids:
        assert family_call(rt, "POST", f"/api/registrations/{unknown}/code", source_ip=ip)[0] == 202
    # past the limit, the same 429 for a registration that exists and one that does not
    known = family_call(rt, "POST", f"/api/registrations/{rid}/code", source_ip=ip)
    unknown = family_call(rt, "POST", f"/api/registrations/{UNKNOWN}/code", source_ip=ip)
    assert known[0] == 429 and known[:2] == unknown[:2] and known[2]["retry-after"] == "1800"
    assert codes(rt) == []
    assert int(attempts(rt, "client", ip)["total_requests"]) == parents.CLIENT_CODE_REQUESTS + 1


# Live seat warnings (R-WARN-1) ----------------------------------------------------------------


def warning_row(rt: EmbeddedSeason, school: str, grade: int = 1) -> dict[str, Any]:
    status, view, _ = family_call(rt, "GET", "/api/warnings")
    assert status == 200
    [g] = [g for g in view["grades"] if g["grade"] == grade]
    [row] = [r for r in g["rows"] if r["scope"] == "school" and r["id"] == school]
    return dict(row)


def live_items(rt: EmbeddedSeason) -> list[dict[str, Any]]:
    return sorted((i for i in table_items(rt) if "#LIVE#" in str(i["pk"])), key=lambda i: str(i["sk"]))


def test_live_warnings_change_as_registrations_arrive(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    zone = season.zone_for(1, body["home_address"]["road"], body["home_address"]["number"])
    assert zone is not None
    school = zone.schools[0]
    before = warning_row(rt, school)
    assert (
        before["applicants"] == 0
        and before["warning"] is None
        and before["plan"] == season.school_index[school].plan(1)
    )

    # When two children register for it
    assert post(rt, body)[0] == 201
    assert post(rt, valid_body(season))[0] == 201
    assert warning_row(rt, school)["applicants"] == 2
    counted = live_items(rt)

    # Then a refused registration changes no counter: the same child again (R-REG-2) ...
    again = valid_body(
        season,
        category="private",
        private_school_id=next(
            s.id
            for s in season.schools
            if s.kind == "private" and s.plan(1) and s.district == body["home_address"]["district"]
        ),
    )
    again["child"] = body["child"]
    assert post(rt, again)[0] == 409
    # ... or a bad ID number (R-ID-1)
    bad = valid_body(season)
    bad["child"]["id_number"] = bad["child"]["id_number"][:17] + (
        "0" if bad["child"]["id_number"][17] != "0" else "1"
    )
    assert post(rt, bad)[0] == 422
    assert live_items(rt) == counted and warning_row(rt, school)["applicants"] == 2

    # and the live counters agree with what registration close records from the stored registrations
    store = DynamoStore(rt.table_name)
    assert demand.rows(season, store.live_counts(season.season)) == demand.demand(
        season, store.registrations(season.season)
    )


def test_a_school_near_its_plan_gets_a_warning(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    # Given a private school with a small plan (one seat would do, but use the config's)
    body = valid_body(season)
    private = min(
        (
            s
            for s in season.schools
            if s.kind == "private" and s.plan(1) and s.district == body["home_address"]["district"]
        ),
        key=lambda s: s.plan(1),
    )
    needed = -(-int(private.plan(1) * demand.NEAR_FULL * 100) // 100)  # ceil(plan * 0.9)
    table = boto3.resource("dynamodb").Table(rt.table_name)
    # the counter as if `needed - 1` children had registered (registering that many is slow on moto)
    table.put_item(
        Item={
            "pk": live_key(season.season, 0),
            "sk": f"school#{private.id}#g1",
            "scope": "school",
            "id": private.id,
            "grade": 1,
            "applicants": needed - 1,
        }
    )
    assert warning_row(rt, private.id)["warning"] is None
    assert post(rt, valid_body(season, category="private", private_school_id=private.id))[0] == 201
    row = warning_row(rt, private.id)
    assert (row["applicants"], row["warning"], row["warning_zh"]) == (needed, "near", "接近计划")


# Complaints (R-OPEN-1) ------------------------------------------------------------------------


def staff(rt: EmbeddedSeason, role: str, district: str | None = None) -> str:
    return drive.member(rt, role, district).principal


def test_complaints_are_answered_by_the_childs_district(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    body = valid_body(season)
    rid = post(rt, body)[1]["registration_id"]
    home = body["home_address"]["district"]
    other = next(
        d.code for d in season.districts if d.code != home and d.code in {m.district for m in drive.staff(rt)}
    )
    token = sign_in(rt, rid)
    path = f"/api/registrations/{rid}/complaints"

    # Bad input names field and rule, and stores nothing
    status, refused, _ = family_call(rt, "POST", path, {"kind": "praise", "text": "短"}, token=token)
    assert status == 422
    assert {(e["field"], e["rule"]) for e in refused["errors"]} == {
        ("kind", "R-OPEN-1"),
        ("text", "R-OPEN-1"),
    }
    assert not [i for i in table_items(rt) if str(i["pk"]).startswith("COMPLAINT#")]
    # and without the session nothing is filed
    assert (
        family_call(rt, "POST", path, {"kind": "appeal", "text": "对审核结论有异议，我家实际居住在该地址。"})[
            0
        ]
        == 401
    )

    # The family files an appeal
    text = "对审核结论有异议，我家实际居住在该地址，请安排复核。"
    status, filed, _ = family_call(rt, "POST", path, {"kind": "appeal", "text": text}, token=token)
    assert status == 201 and filed["status"] == "open" and filed["kind_zh"].startswith("申诉")
    cid = filed["complaint_id"]
    later(rt, hours=26)

    # Staff of another district neither list nor answer it; the city lists it, cannot answer; auditors read only
    mine = f"/admin/complaints/{season.season}/districts/{home}"
    answer_path = f"/admin/complaints/{season.season}/complaints/{cid}/answer"
    reply = {"answer": "已安排社区复核入户，请保持电话畅通。"}
    assert drive.call(rt, "GET", mine, None, staff(rt, "district", other))[0] == 403
    status, refusal = drive.call(rt, "POST", answer_path, reply, staff(rt, "district", other))
    assert status == 403 and "仅限本区" in refusal["message"]
    status, refusal = drive.call(rt, "POST", answer_path, reply, staff(rt, "auditor"))
    assert status == 403 and "审计" in refusal["message"]
    status, refusal = drive.call(rt, "POST", answer_path, reply, staff(rt, "city"))
    assert status == 403 and "区教育局答复" in refusal["message"]
    status, listed = drive.call(rt, "GET", mine, None, staff(rt, "city"))
    assert status == 200 and [c["complaint_id"] for c in listed["complaints"]] == [cid]
    assert listed["open"] == 1 and listed["complaints"][0]["waited_zh"] == "已等待1天2小时"
    assert drive.call(rt, "GET", mine, None, staff(rt, "auditor"))[0] == 200

    # The child's district lists it, unanswered first, and answers; who and when are recorded
    reviewer = staff(rt, "district", home)
    status, listed = drive.call(rt, "GET", mine, None, reviewer)
    assert status == 200 and listed["complaints"][0]["status"] == "open"
    status, answered = drive.call(rt, "POST", answer_path, reply, reviewer)
    assert status == 201, answered
    [a] = answered["answers"]
    assert (
        a["by"] == reviewer
        and a["district"] == home
        and a["at"].startswith(rt.clock.now().astimezone(season.tz).date().isoformat())
    )
    # a bad answer is refused naming field and rule
    status, bad = drive.call(rt, "POST", answer_path, {"answer": "好"}, reviewer)
    assert status == 422 and bad["errors"][0]["field"] == "answer" and bad["errors"][0]["rule"] == "R-OPEN-1"

    # The family reads the answer, from the bureau (not the person)
    status, mine_now, _ = family_call(rt, "GET", path, token=sign_in(rt, rid))
    assert status == 200
    [c] = mine_now["complaints"]
    assert c["status_zh"] == "已答复" and c["answers"][0]["text"] == reply["answer"]
    assert c["answers"][0]["by_zh"] == season.district_index[home].name + "教育局"
    assert reviewer not in str(mine_now)


def test_the_status_helper_reads_what_the_family_reads(rt: EmbeddedSeason, season: SeasonConfig) -> None:
    rid = register(rt, season)
    assert status_of(rt, rid)["registration_id"] == rid
    assert status_of(rt, rid)["status"] == "registered"  # the same session, reused while it lasts
    assert len(codes(rt)) == 1
    [item] = registration_items(rt)  # the sign-in wrote nothing under the registration's key
    assert item["registration_id"] == rid
