"""Nobody sees what is not theirs (issue 7, R-DATA-2): every staff endpoint, every role, real tokens.

A small season is driven to reporting day on the embedded backend (the real workflow and handlers).
Then every staff route the handlers register is called as API Gateway would call it: through the
real token authorizer with tokens from the development issuer, by district B's staff against
district A's data, by an auditor with every write, without a token, and with a forged one. The
table below must name every staff route: a route added without a row here fails the test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from enrollment.adapters.archive import read_s3
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.launch import config_digest
from enrollment.exports.sheets import read_xlsx
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.local.serve import load
from enrollment.synth.population import generate
from tests.integration.conftest import small_season, table_items
from tests.integration.parent_session import family_call, sign_in
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("access")

A, B = "CH", "CY"  # district A's data; district B's staff try to reach it


@dataclass(frozen=True)
class Season:
    rt: EmbeddedSeason
    config: SeasonConfig
    rid: str  # a child of district A, placed at `school`
    school: str  # a public school of A with placed children
    private: tuple[str, int]  # a private school of A and grade, with a lottery case
    complaint: str  # a complaint of A's child


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Season]:
    config, path = small_season(load_season("seasons/jilin-2023.yaml"), tmp_path_factory.mktemp("access"))
    population = generate(config, 90, 143)
    start = datetime.fromisoformat(f"{config.calendar.plans_published} 09:00").replace(tzinfo=config.tz)
    with EmbeddedSeason(
        config, SimulatedClock(start), registries=population.registries, config_path=path
    ) as rt:
        load(rt, population, "reporting", lambda _: None)
        body = boto3.client("s3").get_object(
            Bucket=rt.bucket, Key=f"seasons/{config.season}/placements.jsonl"
        )
        placed = [json.loads(line) for line in body["Body"].read().decode().splitlines()]
        school_of = {p["registration_id"]: p["school_id"] for p in placed}
        mine = [
            i
            for i in table_items(rt)
            if i["sk"] == "REG" and i["district"] == A and school_of.get(str(i["registration_id"]))
        ]
        child = next(
            i for i in mine if config.school_index[school_of[str(i["registration_id"])]].district == A
        )
        rid = str(child["registration_id"])
        private = next(
            (s.id, g)
            for s in config.schools
            if s.kind == "private" and s.district == A
            for g in sorted(s.plans)
        )
        token = sign_in(rt, rid)
        text = "对审核结论有异议，我家实际居住在该地址，请安排复核。"
        status, filed, _ = family_call(
            rt, "POST", f"/api/registrations/{rid}/complaints", {"kind": "appeal", "text": text}, token=token
        )
        assert status == 201, filed
        yield Season(rt, rt.config, rid, school_of[rid], private, filed["complaint_id"])


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the handler's route, as its resolver registers it
    path: str  # filled in for district A's data
    body: dict[str, Any] | None = None
    district_data: bool = True  # False: season-wide, no child's data (every staff role may read)
    auditor: bool = True  # False: personal data even auditors may not take (the exports' lists)
    city_only: bool = False  # True: the city bureau's alone (the agencies' file exchange)


def rows(s: Season) -> list[Row]:
    season, rid, school = s.config.season, s.rid, s.school
    private, grade = s.private
    v, p, lot = f"/admin/verification/{season}", f"/admin/placement/{season}", f"/admin/lottery/{season}"
    x = f"/admin/exports/{season}"
    return [
        # the exports (docs/EXPORTS.md): personal data to the data's district and the city only
        Row(
            "GET",
            "/admin/exports/{season}/schools/{school_id}/admitted",
            f"{x}/schools/{school}/admitted",
            auditor=False,
        ),
        Row(
            "GET",
            "/admin/exports/{season}/schools/{school_id}/public-results",
            f"{x}/schools/{school}/public-results",
            district_data=False,  # masked as published: every staff role may take it
        ),
        Row(
            "GET",
            "/admin/exports/{season}/private/{school_id}/applicants",
            f"{x}/private/{private}/applicants",
            auditor=False,
        ),
        Row(
            "GET",
            "/admin/exports/{season}/districts/{district}/student-status",
            f"{x}/districts/{A}/student-status",
            auditor=False,
        ),
        Row(
            "GET",
            "/admin/exports/{season}/districts/{district}/reporting",
            f"{x}/districts/{A}/reporting",
            auditor=False,
        ),
        Row("GET", "/admin/exports/{season}/districts/{district}/downloads", f"{x}/districts/{A}/downloads"),
        Row("GET", "/admin/verification/{season}/districts/{district}/queue", f"{v}/districts/{A}/queue"),
        Row(
            "GET",
            "/admin/verification/{season}/districts/{district}/queue/export",
            f"{v}/districts/{A}/queue/export",
        ),
        Row(
            "GET",
            "/admin/verification/{season}/districts/{district}/registrations",
            f"{v}/districts/{A}/registrations",
        ),
        Row(
            "GET",
            "/admin/verification/{season}/districts/{district}/registrations/export",
            f"{v}/districts/{A}/registrations/export",
        ),
        Row(
            "POST",
            "/admin/verification/{season}/registrations/{registration_id}/decisions",
            f"{v}/registrations/{rid}/decisions",
            {"action": "override", "outcome": "eligible", "reason": "越权测试：另一区的人员不能改判"},
        ),
        Row(
            "GET",
            "/admin/verification/{season}/registrations/{registration_id}/history",
            f"{v}/registrations/{rid}/history",
        ),
        # bulk signing (issue 19): only the district's own staff; the presets are words, no data
        Row(
            "POST",
            "/admin/verification/{season}/districts/{district}/decisions",
            f"{v}/districts/{A}/decisions",
            {"registration_ids": [rid], "action": "override", "outcome": "eligible", "note": "越权测试"},
        ),
        Row(
            "GET",
            "/admin/verification/{season}/decision-presets",
            f"{v}/decision-presets",
            district_data=False,
        ),
        Row(
            "POST",
            "/admin/verification/{season}/districts/{district}/spot-checks/{registration_id}",
            f"{v}/districts/{A}/spot-checks/{rid}",
            {"outcome": "discrepancy", "note": "越权测试"},
        ),
        Row(
            "GET",
            "/admin/verification/{season}/districts/{district}/spot-checks",
            f"{v}/districts/{A}/spot-checks",
        ),
        Row(
            "POST",
            "/admin/placement/{season}/registrations/{registration_id}/decisions",
            f"{p}/registrations/{rid}/decisions",
            {"kind": "defer", "reason": "越权测试：另一区的人员不能登记缓学"},
        ),
        Row(
            "GET", "/admin/placement/{season}/districts/{district}/decisions", f"{p}/districts/{A}/decisions"
        ),
        Row(
            "GET",
            "/admin/placement/{season}/districts/{district}/placements",
            f"{p}/districts/{A}/placements",
        ),
        Row(
            "GET",
            "/admin/placement/{season}/districts/{district}/placements/export",
            f"{p}/districts/{A}/placements/export",
        ),
        Row(
            "GET",
            "/admin/placement/{season}/districts/{district}/manual-notices",
            f"{p}/districts/{A}/manual-notices",
        ),
        Row("GET", "/admin/placement/{season}/archive", f"{p}/archive", district_data=False),
        Row(
            "POST",
            "/admin/placement/{season}/schools/{school_id}/arrivals",
            f"{p}/schools/{school}/arrivals",
            {"registration_ids": [rid]},
        ),
        # reporting day by the notice itself: its registration id and code, checked and recorded at once
        Row(
            "POST",
            "/admin/placement/{season}/schools/{school_id}/arrivals",
            f"{p}/schools/{school}/arrivals",
            {"notices": [{"registration_id": rid, "code": "0000000000"}]},
        ),
        Row(
            "GET", "/admin/placement/{season}/schools/{school_id}/no-shows", f"{p}/schools/{school}/no-shows"
        ),
        # corrections after the results (issue 18): the child's district (and the city) only
        Row(
            "POST",
            "/admin/placement/{season}/corrections",
            f"{p}/corrections",
            {"kind": "decline", "registration_id": rid, "reason": "越权测试：另一区的人员不能更正安置结果"},
        ),
        Row(
            "GET",
            "/admin/placement/{season}/districts/{district}/corrections",
            f"{p}/districts/{A}/corrections",
        ),
        # a school checks a notice of the district's schools: revoked ones too (issue 18)
        Row(
            "GET",
            "/admin/placement/{season}/districts/{district}/notices/{registration_id}/codes/{code}",
            f"{p}/districts/{A}/notices/{rid}/codes/0000000000",
        ),
        # the pending corrections sealed now: the city bureau's alone (the chain is the whole city's)
        Row("POST", "/admin/placement/{season}/corrections/seal", f"{p}/corrections/seal", city_only=True),
        Row("GET", "/admin/lottery/{season}/ceremonies", f"{lot}/ceremonies", district_data=False),
        Row(
            "GET",
            "/admin/lottery/{season}/ceremonies/{school_id}/{grade}",
            f"{lot}/ceremonies/{private}/{grade}",
        ),
        Row(
            "POST",
            "/admin/lottery/{season}/ceremonies/{school_id}/{grade}/steps/{step}",
            f"{lot}/ceremonies/{private}/{grade}/steps/shuffle-1",
            {"value": "1234"},
        ),
        Row("GET", "/admin/seasons/{season}/phases", f"/admin/seasons/{season}/phases", district_data=False),
        Row(
            "GET",
            "/admin/seasons/{season}/districts/{district}/dead-letters",
            f"/admin/seasons/{season}/districts/{A}/dead-letters",
        ),
        Row(
            "POST",
            "/admin/seasons/{season}/phases/{phase}/advance",
            f"/admin/seasons/{season}/phases/reporting/advance",
            {"reason": "越权测试"},
        ),
        Row(
            "POST",
            "/admin/seasons/{season}/windows/{grade}/extend",
            f"/admin/seasons/{season}/windows/1/extend",
            {"until": f"{s.config.calendar.grade1_registration.end}", "reason": "越权测试"},
        ),
        # the season started and watched (issue 15): district staff read the status (their own
        # district's dead letters only); only city staff start the season
        Row("GET", "/admin/seasons/{season}/status", f"/admin/seasons/{season}/status", district_data=False),
        Row(
            "POST",
            "/admin/seasons/{season}/start",
            f"/admin/seasons/{season}/start",
            {"config_digest": config_digest(s.config)},
        ),
        # failures pause, they do not end (issue 16): every staff member reads the pauses, only city
        # staff resume one
        Row("GET", "/admin/seasons/{season}/pauses", f"/admin/seasons/{season}/pauses", district_data=False),
        Row(
            "POST",
            "/admin/seasons/{season}/pauses/{pause}/resume",
            f"/admin/seasons/{season}/pauses/pause-close-registration-1/resume",
            {"reason": "越权测试"},
        ),
        # home visits past their deadline (issue 17): every bureau role reads, district staff their own
        Row(
            "GET",
            "/admin/seasons/{season}/visits/overdue",
            f"/admin/seasons/{season}/visits/overdue",
            district_data=False,
        ),
        # SMS that did not reach a family (issue 17): the district's own staff, the city and auditors
        # read the list; only the district's own staff mark a family phoned
        Row(
            "GET",
            "/admin/placement/{season}/districts/{district}/sms-failures",
            f"/admin/placement/{season}/districts/{A}/sms-failures",
        ),
        Row(
            "POST",
            "/admin/placement/{season}/districts/{district}/sms-failures/{registration_id}/phoned",
            f"/admin/placement/{season}/districts/{A}/sms-failures/{rid}/phoned",
            {"purpose": "notice"},
        ),
        # the file exchange with an agency answering by file (issue 17, docs/AGENCY-FILES.md): the city
        # bureau's alone; the embedded season's planning agency exchanges files
        Row(
            "POST",
            "/admin/verification/{season}/agencies/{agency}/outbox",
            f"{v}/agencies/planning/outbox",
            city_only=True,
        ),
        Row(
            "GET",
            "/admin/verification/{season}/agencies/{agency}/outbox/{round_id}",
            f"{v}/agencies/planning/outbox/20230529T160000Z-01",
            city_only=True,
        ),
        Row(
            "POST",
            "/admin/verification/{season}/agencies/{agency}/answers/parts",
            f"{v}/agencies/planning/answers/parts",
            {"upload": "0" * 32, "part": 0, "content_base64": "5pyq5p+l5Yiw"},
            city_only=True,
        ),
        Row(
            "POST",
            "/admin/verification/{season}/agencies/{agency}/answers",
            f"{v}/agencies/planning/answers",
            {"name": "答复.xlsx", "upload": "0" * 32, "parts": 1, "sha256": "0" * 64},
            city_only=True,
        ),
        Row("GET", "/admin/me", "/admin/me", district_data=False),
        Row(
            "GET",
            "/admin/complaints/{season}/districts/{district}",
            f"/admin/complaints/{season}/districts/{A}",
        ),
        Row(
            "POST",
            "/admin/complaints/{season}/complaints/{complaint_id}/answer",
            f"/admin/complaints/{season}/complaints/{s.complaint}/answer",
            {"answer": "越权测试：另一区的人员不能答复"},
        ),
    ]


def staff_routes() -> set[tuple[str, str]]:
    """Every route the staff handlers register (not the console's public pages, not the agency's)."""
    from functions.complaints.api import app as complaints
    from functions.console.handler import app as console
    from functions.exports.api import app as exports
    from functions.gates.handler import admin as gates
    from functions.lottery.api import app as lottery
    from functions.place.api import app as place
    from functions.verify.api import app as verify

    found = set()
    for resolver in (verify, place, lottery, gates, console, complaints, exports):
        for r in resolver._static_routes + resolver._dynamic_routes:
            if r.openapi_path.startswith("/admin/"):
                found.add((r.method, r.openapi_path))
    return found


def snapshot(rt: EmbeddedSeason) -> list[dict[str, Any]]:
    """The table as stored, but the exports' download records: taking a list is recorded (who, when),
    which changes no data of the season (`test_a_download_is_recorded_and_a_refusal_is_not`)."""
    items = (i for i in table_items(rt) if i.get("type") != "export-download")
    return sorted(items, key=lambda i: (str(i["pk"]), str(i["sk"])))


def test_the_table_names_every_staff_route(season: Season) -> None:
    assert {(r.method, r.route) for r in rows(season)} == staff_routes()


def test_district_b_can_neither_read_nor_change_district_a(season: Season) -> None:
    before = snapshot(season.rt)
    b = drive.member(season.rt, "district", B).principal
    for row in rows(season):
        status, answer = drive.call(season.rt, row.method, row.path, row.body, b)
        if row.district_data:
            assert status == 403, (row.method, row.path, status, answer)
            assert answer["message"], row.path  # a clear message, in Chinese
        else:
            assert status in (200, 403), (row.method, row.path, status, answer)
    assert snapshot(season.rt) == before  # nothing stored, nothing changed


def test_district_b_lists_show_nothing_of_district_a(season: Season) -> None:
    b = drive.member(season.rt, "district", B).principal
    s = season.config.season
    status, ceremonies = drive.call(season.rt, "GET", f"/admin/lottery/{s}/ceremonies", None, b)
    assert status == 200
    schools = {c["school_id"] for c in ceremonies["ceremonies"]}
    assert schools and all(season.config.school_index[x].district == B for x in schools)
    status, own = drive.call(season.rt, "GET", f"/admin/complaints/{s}/districts/{B}", None, b)
    assert status == 200 and season.complaint not in json.dumps(own)
    status, own = drive.call(
        season.rt, "GET", f"/admin/verification/{s}/districts/{B}/registrations", None, b
    )
    assert status == 200 and season.rid not in json.dumps(own, ensure_ascii=False)


def test_district_b_sees_only_its_own_overdue_visits_and_the_city_every_district(season: Season) -> None:
    s = season.config.season
    b = drive.member(season.rt, "district", B).principal
    status, own = drive.call(season.rt, "GET", f"/admin/seasons/{s}/visits/overdue", None, b)
    assert status == 200 and [r["district"] for r in own["districts"]] == [B]
    city = drive.member(season.rt, "city").principal
    status, every = drive.call(season.rt, "GET", f"/admin/seasons/{s}/visits/overdue", None, city)
    assert status == 200 and {r["district"] for r in every["districts"]} == set(season.config.district_index)
    # reporting day: every visit was answered or closed at its deadline, none is still open
    assert all(r["overdue"] == 0 for r in every["districts"])


def test_district_a_reads_its_own_children(season: Season) -> None:
    a = drive.member(season.rt, "district", A).principal
    for row in rows(season):
        if row.method == "GET":
            status, answer = drive.call(season.rt, row.method, row.path, None, a)
            assert status == (403 if row.city_only else 200), (row.path, status, answer)


def test_an_auditor_reads_everything_and_writes_nothing(season: Season) -> None:
    before = snapshot(season.rt)
    auditor = drive.member(season.rt, "auditor").principal
    for row in rows(season):
        status, answer = drive.call(season.rt, row.method, row.path, row.body, auditor)
        if row.method == "GET" and row.auditor and not row.city_only:
            assert status == 200, (row.path, status, answer)
        else:
            assert status == 403, (row.path, status, answer)
    assert snapshot(season.rt) == before


def test_without_a_token_or_with_a_forged_one_nothing_opens(season: Season) -> None:
    rt = season.rt
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = jwt.decode(rt.oidc.mint("city-staff-01"), options={"verify_signature": False})
    forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": rt.oidc.kid})
    expired = rt.oidc.mint("city-staff-01", lifetime_s=-120)
    for row in rows(season):
        for header in (None, f"Bearer {forged}", f"Bearer {expired}", "Basic Y2l0eTpjaXR5"):
            status, answer = rt.authorize(header, row.method, row.path)
            assert (status, answer) == (401, {"message": "Unauthorized"}), (row.path, header and header[:12])


def test_a_token_without_a_staff_group_is_denied(season: Season) -> None:
    rt = season.rt
    token = rt.oidc.mint("cy-staff-01", groups=["teachers"])
    status, answer = rt.authorize(f"Bearer {token}", "GET", "/admin/me")
    assert status == 403 and "explicit deny" in answer["message"]


def test_a_district_reads_its_notices_to_issue_by_hand_and_no_other_district_does(season: Season) -> None:
    # Given a notice the batch could not draw, recorded for manual issue in district A (a made-up
    # registration id: the season's own children keep their notices)
    from enrollment.adapters.notifications import DynamoNoticeStore

    s = season.config.season
    item = {
        "registration_id": "G1-CH-MANUAL1",
        "season": s,
        "district": A,
        "school_id": season.school,
        "verification_code": "7K3QX0M2ZD",
        "status": "manual",
        "reason": "missing-glyphs",
        "code_points": ["U+30041"],
        "recorded_at": "2023-07-06T09:00:00+08:00",
    }
    DynamoNoticeStore(season.rt.table_name).notice_manual(item)
    path = f"/admin/placement/{s}/districts/{A}/manual-notices"
    # When district A's staff read the list, they see it
    a = drive.member(season.rt, "district", A).principal
    status, answer = drive.call(season.rt, "GET", path, None, a)
    assert status == 200, answer
    assert answer == {"district": A, "notices": [item]}
    # and district B's staff are refused, and B's own list is empty
    b = drive.member(season.rt, "district", B).principal
    assert drive.call(season.rt, "GET", path, None, b)[0] == 403
    status, own = drive.call(season.rt, "GET", f"/admin/placement/{s}/districts/{B}/manual-notices", None, b)
    assert status == 200 and own == {"district": B, "notices": []}


def test_a_download_is_recorded_and_a_refusal_is_not(season: Season) -> None:
    s, rt = season.config.season, season.rt
    downloads = [i for i in table_items(rt) if i.get("type") == "export-download"]
    before = len(downloads)
    b = drive.member(rt, "district", B).principal
    path = f"/admin/exports/{s}/schools/{season.school}/admitted"
    assert drive.call(rt, "GET", path, None, b)[0] == 403
    assert len([i for i in table_items(rt) if i.get("type") == "export-download"]) == before
    a = drive.member(rt, "district", A).principal
    status, answer = drive.call(rt, "GET", path, None, a)
    assert status == 200 and answer["rows"] > 0, answer
    status, listed = drive.call(rt, "GET", f"/admin/exports/{s}/districts/{A}/downloads", None, a)
    assert status == 200
    mine = [d for d in listed["downloads"] if d["by"] == a and d["scope"] == season.school]
    assert mine[0]["sha256"] == answer["sha256"] and mine[0]["role"] == "district"  # latest first
    assert all(d["district"] == A for d in listed["downloads"]) and listed["total"] == len(
        listed["downloads"]
    )


def test_a_district_phones_the_families_its_sms_did_not_reach_and_no_other_district_does(
    season: Season,
) -> None:
    # Given district A's child whose admission notice SMS failed after its sends, listed to A
    from enrollment.adapters.sms_message_store import DynamoSmsMessageStore
    from enrollment.core.sms_delivery import ERROR_ZH_UNDELIVERED, SmsFailure

    rt, s, rid = season.rt, season.config.season, season.rid
    [registration] = [i for i in table_items(rt) if i["pk"] == f"REG#{rid}" and i["sk"] == "REG"]
    phone = str(registration["request"]["guardians"][0]["phone"])
    store = DynamoSmsMessageStore(rt.table_name)
    failed_at = datetime.fromisoformat(f"{season.config.calendar.admission_notices}T18:00:09+08:00")
    failure = SmsFailure(
        s,
        A,
        rid,
        "notice",
        season.school,
        phone[:3] + "****" + phone[-4:],
        0,
        3,
        "MK:0001",
        failed_at,
        "900619746936498400^0",
    )
    store.put_failure(failure)
    path = f"/admin/placement/{s}/districts/{A}/sms-failures"
    a, b = drive.member(rt, "district", A).principal, drive.member(rt, "district", B).principal
    city = drive.member(rt, "city").principal
    # When district A's staff read their list, they see the child masked, the school, the phone to call
    status, listed = drive.call(rt, "GET", path, None, a)
    assert status == 200 and listed["may_mark_phoned"] is True, listed
    [row] = listed["failures"]
    assert row["registration_id"] == rid and row["phone"] == phone and row["attempts"] == 3
    assert row["school"] == season.config.school_index[season.school].name
    assert row["error_zh"] == ERROR_ZH_UNDELIVERED and row["child"].endswith("*") and not row["phoned"]
    # and district B's staff can neither read it nor mark it, and nothing changes
    before = snapshot(rt)
    assert drive.call(rt, "GET", path, None, b)[0] == 403
    status, refused = drive.call(rt, "POST", f"{path}/{rid}/phoned", {"purpose": "notice"}, b)
    assert status == 403 and refused["message"]
    # the city reads every district's list but leaves the calls to the district
    status, seen = drive.call(rt, "GET", path, None, city)
    assert status == 200 and seen["may_mark_phoned"] is False
    assert drive.call(rt, "POST", f"{path}/{rid}/phoned", {"purpose": "notice"}, city)[0] == 403
    assert snapshot(rt) == before
    # Then district A marks the family phoned, once: who and when are kept
    status, marked = drive.call(rt, "POST", f"{path}/{rid}/phoned", {"purpose": "notice"}, a)
    assert status == 200 and marked["phoned"] and marked["phoned_by"] == a, marked
    assert drive.call(rt, "POST", f"{path}/{rid}/phoned", {"purpose": "notice"}, a)[0] == 409
    assert drive.call(rt, "POST", f"{path}/{rid}/phoned", {"purpose": "code"}, a)[0] == 404
    status, bad = drive.call(rt, "POST", f"{path}/{rid}/phoned", {"purpose": "voice"}, a)
    assert status in (400, 422) and "purpose" in json.dumps(bad, ensure_ascii=False)


def test_the_lists_are_searched_filtered_and_sorted_on_the_server(season: Season) -> None:
    rt, s = season.rt, season.config.season
    a = drive.member(rt, "district", A).principal
    lists = {
        "registrations": f"/admin/verification/{s}/districts/{A}/registrations",
        "placements": f"/admin/placement/{s}/districts/{A}/placements",
        "cases": f"/admin/verification/{s}/districts/{A}/queue",
    }
    for key, path in lists.items():
        # a column the list is not sorted by: 422 naming `sort`, in Chinese naming the columns it takes
        status, bad = drive.call(rt, "GET", path, None, a, {"sort": "phone"})
        assert status == 422 and bad["errors"][0]["field"] == "sort", (key, bad)
        assert "R-" not in bad["message"] and "registration_id" in bad["message"]
        status, bad = drive.call(rt, "GET", path, None, a, {"sort": "grade", "order": "down"})
        assert status == 422 and bad["errors"][0]["field"] == "order", (key, bad)
    # every registration once, newest first, the same followed a page of three at a time
    path = lists["registrations"]
    status, whole = drive.call(rt, "GET", path, None, a, {"limit": "500"})
    assert status == 200 and whole["next"] is None
    query = {"sort": "created_at", "order": "desc", "limit": "500"}
    status, newest = drive.call(rt, "GET", path, None, a, query)
    assert status == 200, newest
    keys = [(r["created_at"], r["registration_id"]) for r in newest["registrations"]]
    assert keys == sorted(keys, reverse=True)
    assert sorted(k[1] for k in keys) == sorted(r["registration_id"] for r in whole["registrations"])
    paged: list[str] = []
    cursor = None
    while True:
        step = query | {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        status, page = drive.call(rt, "GET", path, None, a, step)
        assert status == 200, page
        paged += [r["registration_id"] for r in page["registrations"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert paged == [k[1] for k in keys]
    # the same sorted view as an .xlsx file: every row of it (not one page), masked as the list is
    status, made = drive.call(rt, "GET", f"{path}/export", None, a, {"sort": "created_at", "order": "desc"})
    assert status == 200 and made["rows"] == len(keys), made
    [(title, lines)] = read_xlsx(base64.b64decode(made["content_base64"])).items()
    assert made["file_name"] == f"{title}-{lines[0][0].split('（')[1][:10]}.xlsx" and "报名学生" in title
    assert lines[1][0] == "筛选条件：排序 报名时间 降序" and lines[2][:3] == (
        "报名编号",
        "儿童姓名",
        "身份证号",
    )
    assert [line[0] for line in lines[3:]] == [k[1] for k in keys]
    assert [line[2] for line in lines[3:]] == [r["child"]["id_number"] for r in newest["registrations"]]
    assert all(line[2].startswith("*" * 14) for line in lines[3:])
    status, bad = drive.call(rt, "GET", f"{path}/export", None, a, {"sort": "phone"})
    assert status == 422 and bad["errors"][0]["field"] == "sort" and "content_base64" not in bad
    # the placements: one child by its registration id, and the school's children by the school filter
    path = lists["placements"]
    status, found = drive.call(rt, "GET", path, None, a, {"q": season.rid.lower()})
    assert status == 200 and [r["registration_id"] for r in found["placements"]] == [season.rid]
    status, at = drive.call(rt, "GET", path, None, a, {"school": season.school, "sort": "route"})
    assert status == 200 and season.rid in {r["registration_id"] for r in at["placements"]}
    assert all(r["school"]["id"] == season.school for r in at["placements"])
    routes = [r["route"] or "" for r in at["placements"]]
    assert routes == sorted(routes)
    status, bad = drive.call(rt, "GET", path, None, a, {"status": "review"})
    assert status == 422 and bad["errors"][0]["field"] == "status"
    # exported: the school's children sorted by route, as listed, the filter named by the school's name
    query = {"school": season.school, "sort": "route"}
    status, made = drive.call(rt, "GET", f"{path}/export", None, a, query)
    assert status == 200, made
    [lines] = read_xlsx(base64.b64decode(made["content_base64"])).values()
    assert (
        season.config.school_index[season.school].name in lines[1][0] and "排序 录取途径 升序" in lines[1][0]
    )
    assert lines[2][5:7] == ("录取学校", "录取途径")
    assert [line[0] for line in lines[3:]] == [r["registration_id"] for r in at["placements"]]
    assert drive.call(rt, "GET", f"{path}/export", None, a, {"status": "review"})[0] == 422
    # district B searching district A's list is refused, not answered empty
    b = drive.member(rt, "district", B).principal
    assert drive.call(rt, "GET", path, None, b, {"q": season.rid})[0] == 403


def test_reporting_day_records_an_arrival_by_notice_and_code_and_refuses_the_rest(season: Season) -> None:
    from enrollment.adapters.notifications import DynamoNoticeStore

    rt, s, config = season.rt, season.config.season, season.config
    # Given two children of one school of A with their notices (not the child the correction test moves)
    issued: dict[str, list[dict[str, Any]]] = {}
    items = table_items(rt)
    came = {i["registration_id"] for i in items if i["sk"] == "ARRIVAL"}
    for i in items:
        if i["sk"] == "NOTICE" and i.get("status") not in ("manual", "revoked") and i.get("school_id"):
            if i["registration_id"] in came:
                continue
            at = config.school_index.get(str(i["school_id"]))
            if at and at.district == A and i["registration_id"] != season.rid:
                issued.setdefault(at.id, []).append(i)
    school, (first, second, *_) = next((k, v) for k, v in sorted(issued.items()) if len(v) >= 2)
    # and a revoked notice of the second child (a correction's: its code no longer admits)
    revoked_code = "ZZZZZ00000" if second["verification_code"] != "ZZZZZ00000" else "YYYYY00000"
    DynamoNoticeStore(rt.table_name).replace_notice(
        {
            "registration_id": second["registration_id"],
            "school_id": school,
            "verification_code": revoked_code,
            "revoked_on": "2023-07-06",
            "replaced_by_issued": "2023-07-07",
        },
        None,
    )
    path = f"/admin/placement/{s}/schools/{school}/arrivals"
    a, b = drive.member(rt, "district", A).principal, drive.member(rt, "district", B).principal
    before = snapshot(rt)
    # When the desk sends neither or both kinds of rows, or a wrong and a revoked code, or B's staff send
    # a right one: refused (the whole request, or row by row with why) and nothing is recorded
    both = {
        "registration_ids": [first["registration_id"]],
        "notices": [{"registration_id": first["registration_id"], "code": "x"}],
    }
    for body in ({}, both):
        status, bad = drive.call(rt, "POST", path, body, a)
        assert status == 422 and "registration_ids" in bad["message"] and "notices" in bad["message"], bad
    rows = [
        {"registration_id": first["registration_id"], "code": "00000-00000"},
        {"registration_id": second["registration_id"], "code": revoked_code.lower()},
    ]
    status, answer = drive.call(rt, "POST", path, {"notices": rows}, a)
    assert status == 201 and (answer["arrived"], answer["refused"]) == (0, 2), answer
    wrong, revoked = answer["results"]
    assert wrong["reason"] == "invalid" and wrong["message"].startswith("核验码不符")
    assert (
        revoked["reason"] == "revoked" and "作废" in revoked["message"] and "新通知书" in revoked["message"]
    )
    right = {"registration_id": first["registration_id"], "code": first["verification_code"]}
    status, refused = drive.call(rt, "POST", path, {"notices": [right]}, b)
    assert status == 403 and refused["message"]
    assert snapshot(rt) == before
    # Then the right code, as a scanner types it (lower case, the code's hyphen in): recorded once
    code = first["verification_code"]
    typed = {"registration_id": first["registration_id"].lower(), "code": f"{code[:5]}-{code[5:]}".lower()}
    status, answer = drive.call(rt, "POST", path, {"notices": [typed]}, a)
    assert status == 201 and answer["arrived"] == 1, answer
    [done] = answer["results"]
    assert done["status"] == "arrived" and "*" in done["child_name"]
    assert done["school_name"] == config.school_index[school].name
    status, again = drive.call(rt, "POST", path, {"notices": [right]}, a)
    assert (
        status == 201 and again["already"] == 1 and again["results"][0]["message"].startswith("已登记过报到")
    )
    # and the school's lists say so: arrived (when), not among the no-shows
    status, lists = drive.call(rt, "GET", f"/admin/placement/{s}/schools/{school}/no-shows", None, a)
    assert status == 200, lists
    assert first["registration_id"] in {x["registration_id"] for x in lists["arrived"]}
    assert first["registration_id"] not in lists["no_shows"]
    assert second["registration_id"] in lists["no_shows"]
    assert lists["counts"]["no_shows"] == len(lists["missing"]) == len(lists["no_shows"])


def test_district_a_corrects_its_own_child_through_the_route_and_the_city_lists_it(season: Season) -> None:
    """Last in the module: it changes the child's place. A refusal (no reason) stores nothing; the
    correction is answered with the seats it passed on, and listed for the district and the city."""
    rt, s = season.rt, season.config.season
    a, city = drive.member(rt, "district", A).principal, drive.member(rt, "city").principal
    path = f"/admin/placement/{s}/corrections"
    before = snapshot(rt)
    status, refused = drive.call(rt, "POST", path, {"kind": "decline", "registration_id": season.rid}, a)
    assert status == 422 and "理由" in refused["message"] and "R-" not in refused["message"], refused
    assert snapshot(rt) == before
    body = {"kind": "decline", "registration_id": season.rid, "reason": "家长书面申请放弃该学位，已核实签字"}
    status, made = drive.call(rt, "POST", path, body, a)
    assert status == 201, made
    written = len(made["corrections"])
    first, *passed_on = made["corrections"]
    assert first["kind"] == "decline" and first["actor"] == a and first["district"] == A
    assert all(c["follows"] for c in passed_on)
    listing = f"/admin/placement/{s}/districts/{A}/corrections"
    for who in (a, city):
        status, listed = drive.call(rt, "GET", listing, None, who)
        assert status == 200 and [c["correction_id"] for c in listed["corrections"]][:1] == [
            first["correction_id"]
        ]
        assert listed["corrections"][0]["sealed"] is False

    # a late registration (补录) by district B's staff for a child of B: the form's checks, field by
    # field, then the window's refusal recorded and the child placed by coordination
    b = drive.member(rt, "district", B).principal
    late = valid_body(season.config)
    assert late["home_address"]["district"] == B
    bad = {**late, "child": {**late["child"], "id_number": "123"}}
    status, refused = drive.call(
        rt, "POST", path, {"kind": "late-registration", "registration": bad, "reason": body["reason"]}, b
    )
    assert status == 422 and "child.id_number" in json.dumps(refused, ensure_ascii=False), refused
    status, made = drive.call(
        rt, "POST", path, {"kind": "late-registration", "registration": late, "reason": body["reason"]}, b
    )
    assert status == 201, made
    [placed] = made["corrections"][0]["changes"]
    assert placed["before"] is None and placed["after"]["route"] == "coordination"
    # and its checks asked at once through the season's agency path (verify-batch, in-process): the
    # fake agencies' APIs answered over loopback, planning (by files) holds the request for its next
    # outbox round, the home visit waits for the community office; no verdict, so it stays put
    late_id = placed["registration_id"]
    needed = ["public-security", "housing", "planning", "community"]
    stored = DynamoVerificationStore(rt.table_name).cases({late_id: needed})[late_id]
    checks = {c.agency: (c.status, c.reason) for c in stored.checks}
    assert checks["public-security"][0] == checks["housing"][0] == "answered", checks
    assert checks["planning"] == ("pending", "file-requested") and checks["community"][0] == "pending"
    assert stored.verdict is None
    status, round_ = drive.call(rt, "POST", f"/admin/verification/{s}/agencies/planning/outbox", None, city)
    assert status == 201 and round_["rows"] >= 1, round_
    csv = next(f for f in round_["files"] if f["name"] == "requests.csv")
    body = boto3.client("s3").get_object(Bucket=rt.work_bucket, Key=csv["key"])["Body"].read()
    assert late_id in body.decode("gb18030")
    # planning's clerk answers the round, then the community office the home visit: the verdict is
    # in, and verify-batch is invoked again to place the child by it; the agencies know no such child,
    # so it is not eligible in a catchment and keeps its coordination seat (no correction)
    rt.clerk.answer_rounds()
    batches = [ok for name, ok in rt.invocations if name.endswith("-verify-batch")]
    office = drive.member(rt, "community").principal
    visit = {"registration_id": late_id, "lives_there": True, "visited_on": "2023-07-20", "visitor": "网格员"}
    status, answered = drive.call(rt, "POST", "/agency/community/visits", visit, office)
    assert status == 201 and answered["judged"], answered
    verdict = DynamoVerificationStore(rt.table_name).verdict(late_id)
    assert verdict is not None and verdict.status != "eligible"
    assert [ok for name, ok in rt.invocations if name.endswith("-verify-batch")] == [*batches, True]
    status, listed = drive.call(rt, "GET", f"/admin/placement/{s}/districts/{B}/corrections", None, b)
    assert [c["kind"] for c in listed["corrections"] if c["changes"][0]["registration_id"] == late_id] == [
        "late-registration"
    ]

    # Then district A may not seal them now (403, nothing changed); the city seals them at once as
    # the next batch of the season's signed chain, which `enroll audit` replays from the bucket
    written += len(made["corrections"])
    seal = f"/admin/placement/{s}/corrections/seal"
    before, archived = snapshot(rt), _archive_keys(rt)
    status, refused = drive.call(rt, "POST", seal, None, a)
    assert status == 403 and "市教育局" in refused["message"], refused
    assert snapshot(rt) == before and _archive_keys(rt) == archived
    status, sealed = drive.call(rt, "POST", seal, None, city)
    assert status == 200, sealed
    assert sealed == {
        "season": s,
        "sealed": "now",
        "batches": [{"n": 1, "corrections": written}],
        "corrections": written,
        "head": sealed["head"],
    }
    assert sealed["head"].startswith("0001:")
    status, listed = drive.call(rt, "GET", listing, None, city)
    assert status == 200 and listed["corrections"] and all(c["sealed"] for c in listed["corrections"])
    assert drive.call(rt, "POST", seal, None, city)[1]["sealed"] == "nothing"  # nothing pending now
    from enrollment.archive.audit import audit
    from enrollment.cli.audit import _root

    files = read_s3(f"s3://{rt.bucket}/")
    _, parts = _root(files, s)
    report = audit(parts["season"], parts["corrections"], head=sealed["head"])
    assert report.ok and "1 batches applied in order" in report.render(), report.render()


def _archive_keys(rt: EmbeddedSeason) -> list[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=rt.bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))
