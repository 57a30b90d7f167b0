"""The staff console's read APIs (issue 7) in moto: each checks the caller's district on the data itself.

- `GET /admin/verification/{season}/districts/{d}/registrations` (masked, paged, R-DATA-2)
- `GET /admin/seasons/{season}/phases` (every phase, its deadline and its gate)
- `GET /admin/placement/{season}/districts/{d}/placements` (after placement has run)
- `GET /admin/placement/{season}/archive` (the sealed archive's files, short-lived links)
- `GET /admin/me` and the console's public pages

A small season is driven to the review gate once (module fixture); the last tests drive it on to the
end of the season (`season_over`), so they run after the others in file order.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.exports.sheets import read_xlsx
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.report import page as report_page
from enrollment.synth.population import generate
from tests.integration.conftest import at

pytestmark = pytest.mark.xdist_group("moto-console-api")

APPLICANTS, SEED = 60, 11
MASKED_ID = re.compile(r"^\*{14}\d{3}[0-9X]$")  # the last four only (R-DATA-2)


@dataclass
class Day:
    rt: EmbeddedSeason
    config: SeasonConfig
    bodies: dict[str, dict[str, Any]]

    @property
    def season(self) -> str:
        return self.config.season

    def staff(self, role: str, district: str | None = None) -> str:
        return drive.member(self.rt, role, district).principal

    def district_of(self, rid: str) -> str:
        return str(self.bodies[rid]["home_address"]["district"])

    def ids_of(self, district: str) -> list[str]:
        return sorted(r for r in self.bodies if self.district_of(r) == district)


@pytest.fixture(scope="module")
def day(season: SeasonConfig) -> Iterator[Day]:
    """Registrations verified, home visits closed: the workflow waits at the review gate."""
    population = generate(season, APPLICANTS, seed=SEED)
    start = at(season, f"{season.calendar.grade7_registration.start} 08:00")
    with EmbeddedSeason(season, SimulatedClock(start), registries=population.registries) as rt:
        yield Day(rt, season, drive.to_review(rt, population))


@pytest.fixture(scope="module")
def season_over(day: Day) -> Day:
    """The same season on to its end: lotteries, placement, notices, the sealed archive, classes."""
    rt, config = day.rt, day.config
    rt.advance_clock(config.day_end(config.calendar.private_counts_due))
    drive.run_lotteries(rt, config)
    rt.wait_for_gate("coordination", timeout=600)
    drive.enter_placement_decisions(rt, config)
    rt.advance_clock(config.day_end(config.calendar.coordination.end))
    rt.wait_for_gate("spot-check", timeout=600)
    drive.spot_check(rt)
    rt.advance_clock(config.day_end(config.calendar.spot_check.end))
    rt.wait_for_gate("reporting", timeout=600)  # notices out, archive sealed
    return day


def two_districts(day: Day) -> tuple[str, str]:
    """The two districts with the most registrations: A and B."""
    counts = sorted(((len(day.ids_of(d.code)), d.code) for d in day.config.districts), reverse=True)
    assert counts[1][0] >= 3, counts
    return counts[0][1], counts[1][1]


# Registrations ---------------------------------------------------------------------------------


def test_district_staff_read_their_districts_registrations_masked(day: Day) -> None:
    a, _ = two_districts(day)
    path = f"/admin/verification/{day.season}/districts/{a}/registrations"
    status, page = drive.call(day.rt, "GET", path, None, day.staff("district", a))
    assert status == 200, page
    rows = page["registrations"]
    # Then every registration of the district is there, and only those
    assert sorted(r["registration_id"] for r in rows) == day.ids_of(a)
    assert {r["district"] for r in rows} == {a} and page["next"] is None
    for r in rows:
        full = day.bodies[r["registration_id"]]["child"]
        # masked (R-DATA-2): **************123X (no area code, no birth date) and the name's first character
        assert MASKED_ID.fullmatch(r["child"]["id_number"]), r["child"]
        assert r["child"]["id_number"][:14] == "*" * 14
        assert r["child"]["id_number"][-4:] == full["id_number"][-4:]
        assert r["child"]["name"] == full["name"][0] + "*" * (len(full["name"]) - 1)
        assert r["category_zh"] and r["verification"] in ("eligible", "not-eligible", "review")
    # and nothing personal beyond the masked child leaks into the answer
    text = json.dumps(page, ensure_ascii=False)
    for rid in day.ids_of(a):
        body = day.bodies[rid]
        assert body["child"]["id_number"] not in text
        assert all(g["phone"] not in text for g in body["guardians"])
        assert body["home_address"]["road"] not in text
    # City staff and auditors read any district
    for role in ("city", "auditor"):
        status, seen = drive.call(day.rt, "GET", path, None, day.staff(role))
        assert status == 200 and len(seen["registrations"]) == len(rows)


def test_another_districts_staff_are_refused_the_registrations(day: Day) -> None:
    a, b = two_districts(day)
    path = f"/admin/verification/{day.season}/districts/{a}/registrations"
    # When district B's staff ask for district A's registrations
    status, answer = drive.call(day.rt, "GET", path, None, day.staff("district", b))
    # Then 403 with the Chinese message, and no data
    assert status == 403 and "仅限本区" in answer["message"] and "registrations" not in answer
    # nobody signed in: 401 from the authorizer
    assert drive.call(day.rt, "GET", path, None, None)[0] == 401


def test_registrations_come_in_pages_by_grade(day: Day) -> None:
    a, _ = two_districts(day)
    path = f"/admin/verification/{day.season}/districts/{a}/registrations"
    who = day.staff("district", a)
    seen: list[str] = []
    cursor = None
    for _ in range(len(day.ids_of(a)) + 1):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        status, page = drive.call(day.rt, "GET", path, None, who, query)
        assert status == 200 and len(page["registrations"]) <= 2, page
        seen += [r["registration_id"] for r in page["registrations"]]
        cursor = page["next"]
        if cursor is None:
            break
    # every registration once: grade 1 first, then grade 7, each by registration id
    grade = {rid: int(day.bodies[rid]["grade"]) for rid in day.ids_of(a)}
    assert seen == sorted(day.ids_of(a), key=lambda r: (grade[r], r))
    status, ones = drive.call(day.rt, "GET", path, None, who, {"grade": "1"})
    assert status == 200 and {r["grade"] for r in ones["registrations"]} <= {1}
    assert len(ones["registrations"]) == sum(1 for g in grade.values() if g == 1)
    # a wrong parameter is named
    status, answer = drive.call(day.rt, "GET", path, None, who, {"limit": "9999"})
    assert status == 422 and "limit" in answer["message"]
    status, answer = drive.call(day.rt, "GET", path, None, who, {"cursor": "nonsense"})
    assert status == 422 and "cursor" in answer["message"]


# The review queue and decisions: the case's own district, whatever the path says ---------------


def test_a_case_of_another_district_is_refused_whatever_the_path_names(day: Day) -> None:
    a, b = two_districts(day)
    season = day.season
    cases: dict[str, list[dict[str, Any]]] = {}
    for d in (a, b):
        status, queue = drive.call(
            day.rt, "GET", f"/admin/verification/{season}/districts/{d}/queue", None, day.staff("district", d)
        )
        assert status == 200
        cases[d] = queue["cases"]
        for c in queue["cases"]:  # masked child and reasons in Chinese, for the reviewer
            assert c["district"] == d and c["child"]["name"].endswith("*")
            assert MASKED_ID.fullmatch(c["child"]["id_number"])
            assert len(c["reasons_zh"]) == len(c["reasons"])
    case = next(iter(cases[b] or cases[a]))
    owner = case["district"]
    stranger = a if owner == b else b
    rid = case["registration_id"]
    intruder = day.staff("district", stranger)
    # the stranger's own district in the path, another district's registration id in it: 403
    sign = {"action": "override", "outcome": "eligible", "reason": "越权改判"}
    status, answer = drive.call(
        day.rt, "POST", f"/admin/verification/{season}/registrations/{rid}/decisions", sign, intruder
    )
    assert status == 403 and "仅限本区" in answer["message"]
    status, _ = drive.call(
        day.rt, "GET", f"/admin/verification/{season}/registrations/{rid}/history", None, intruder
    )
    assert status == 403
    placing = {"kind": "defer", "reason": "越权缓学"}
    status, _ = drive.call(
        day.rt, "POST", f"/admin/placement/{season}/registrations/{rid}/decisions", placing, intruder
    )
    assert status == 403
    # the auditor reads the queue and the history but signs nothing
    auditor = day.staff("auditor")
    assert (
        drive.call(day.rt, "GET", f"/admin/verification/{season}/districts/{owner}/queue", None, auditor)[0]
        == 200
    )
    assert (
        drive.call(day.rt, "GET", f"/admin/verification/{season}/registrations/{rid}/history", None, auditor)[
            0
        ]
        == 200
    )
    status, answer = drive.call(
        day.rt, "POST", f"/admin/verification/{season}/registrations/{rid}/decisions", sign, auditor
    )
    assert status == 403 and "只能查看" in answer["message"]
    assert (
        drive.call(
            day.rt, "POST", f"/admin/placement/{season}/registrations/{rid}/decisions", placing, auditor
        )[0]
        == 403
    )
    # and nothing was recorded by any of them
    status, hist = drive.call(
        day.rt, "GET", f"/admin/verification/{season}/registrations/{rid}/history", None, auditor
    )
    assert hist["decisions"] == []


def test_the_review_queue_comes_in_pages_by_registration_id(day: Day) -> None:
    season = day.season
    queues = {
        d.code: drive.call(
            day.rt, "GET", f"/admin/verification/{season}/districts/{d.code}/queue", None, day.staff("city")
        )[1]
        for d in day.config.districts
    }
    d = max(queues, key=lambda code: (len(queues[code]["cases"]), code))
    whole = [c["registration_id"] for c in queues[d]["cases"]]
    assert len(whole) >= 2 and queues[d]["next"] is None  # all of it fits the default page
    assert whole == sorted(whole)
    path = f"/admin/verification/{season}/districts/{d}/queue"
    who = day.staff("district", d)
    for limit in (1, 2):
        seen: list[str] = []
        cursor = None
        for _ in range(len(whole) + 1):
            query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
            status, page = drive.call(day.rt, "GET", path, None, who, query)
            assert status == 200 and 1 <= len(page["cases"]) <= limit and page["district"] == d, page
            assert all(c["district"] == d and c["child"]["name"].endswith("*") for c in page["cases"])
            seen += [c["registration_id"] for c in page["cases"]]
            cursor = page["next"]
            if cursor is None:
                break
            assert cursor == seen[-1]
        # every case exactly once, in the order of the whole queue
        assert seen == whole, limit
    # a district without cases: one empty page
    empty = [code for code, q in queues.items() if not q["cases"]]
    for code in empty[:1]:
        status, page = drive.call(
            day.rt, "GET", f"/admin/verification/{season}/districts/{code}/queue", None, day.staff("city")
        )
        assert status == 200 and page == {"district": code, "cases": [], "next": None}
    # a wrong parameter is refused in the one shape, naming it; never a 5xx
    for query, field in [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"cursor": "nonsense"}, "cursor"),
        ({"cursor": "R-AAAA-AAAA-AAAA-AAA"}, "cursor"),
    ]:
        status, answer = drive.call(day.rt, "GET", path, None, who, query)
        assert status == 422 and field in answer["message"], (query, answer)
        assert [e["field"] for e in answer["errors"]] == [field]
    # the last page's cursor: nothing after it
    status, page = drive.call(day.rt, "GET", path, None, who, {"cursor": whole[-1]})
    assert status == 200 and page["cases"] == [] and page["next"] is None


def test_the_review_queue_is_searched_and_filtered_on_the_server(day: Day) -> None:
    season = day.season
    queues = {
        d.code: drive.call(
            day.rt, "GET", f"/admin/verification/{season}/districts/{d.code}/queue", None, day.staff("city")
        )[1]["cases"]
        for d in day.config.districts
    }
    d = max(queues, key=lambda code: (len(queues[code]), code))
    whole = queues[d]
    path = f"/admin/verification/{season}/districts/{d}/queue"
    clerk = day.staff("district", d)

    def found(query: dict[str, str]) -> list[str]:
        status, page = drive.call(day.rt, "GET", path, None, clerk, query)
        assert status == 200, (query, page)
        return [c["registration_id"] for c in page["cases"]]

    case = whole[-1]
    rid = case["registration_id"]
    body = day.bodies[rid]
    # by registration id, by the full ID number (keyed, never compared in the clear), by its last four,
    # by a guardian's phone and by the child's name: the case is found
    assert found({"q": rid}) == [rid]
    assert found({"q": body["child"]["id_number"]}) == [rid]
    assert rid in found({"q": body["child"]["id_number"][-4:]})
    assert rid in found({"q": body["guardians"][0]["phone"]})
    assert rid in found({"q": body["child"]["name"]})
    # the answer shows the child masked, as the unfiltered queue does
    status, page = drive.call(day.rt, "GET", path, None, clerk, {"q": body["child"]["id_number"]})
    assert body["child"]["id_number"] not in json.dumps(page) and body["child"]["name"] not in json.dumps(
        page, ensure_ascii=False
    )
    # each filter keeps exactly the queue's cases that match it, in the queue's order
    for key, value, keep in [
        ("status", case["status"], lambda c: c["status"] == case["status"]),
        ("reason", case["reasons"][0], lambda c: case["reasons"][0] in c["reasons"]),
        ("grade", str(case["grade"]), lambda c: c["grade"] == case["grade"]),
        ("category", case["category"], lambda c: c["category"] == case["category"]),
    ]:
        assert found({key: value}) == [c["registration_id"] for c in whole if keep(c)], key
    school = body.get("target_school") or day.config.schools[0].id
    assert set(found({"school": school})) <= {c["registration_id"] for c in whole}
    # pages of one keep the cursors
    status, page = drive.call(day.rt, "GET", path, None, clerk, {"status": case["status"], "limit": "1"})
    assert status == 200 and len(page["cases"]) == 1
    # another district's staff find nothing of it; a wrong parameter is named; never a 5xx
    other = next(x.code for x in day.config.districts if x.code != d)
    status, _ = drive.call(day.rt, "GET", path, None, day.staff("district", other), {"q": rid})
    assert status == 403
    for query, field in [
        ({"status": "eligible"}, "status"),
        ({"q": "abc"}, "q"),
        ({"school": "S-NOPE"}, "school"),
    ]:
        status, answer = drive.call(day.rt, "GET", path, None, clerk, query)
        assert status == 422 and [e["field"] for e in answer["errors"]] == [field], (query, answer)
        status, answer = drive.call(day.rt, "GET", path + "/export", None, clerk, query)
        assert status == 422 and [e["field"] for e in answer["errors"]] == [field], (query, answer)
    # the view as an .xlsx file: the same cases, masked as shown
    status, made = drive.call(day.rt, "GET", path + "/export", None, clerk, {"status": case["status"]})
    assert status == 200, made
    assert made["file_name"].endswith(".xlsx") and made["truncated"] is False
    [lines] = read_xlsx(base64.b64decode(made["content_base64"])).values()
    lines = lines[2:]  # the title and the filters in words, then the header
    same = [c for c in whole if c["status"] == case["status"]]
    assert made["rows"] == len(same) and [line[0] for line in lines[1:]] == [
        c["registration_id"] for c in same
    ]
    assert [line[2] for line in lines[1:]] == [c["child"]["id_number"] for c in same]
    assert all(MASKED_ID.fullmatch(line[2]) and line[1].endswith("*") for line in lines[1:])
    status, _ = drive.call(day.rt, "GET", path + "/export", None, day.staff("district", other))
    assert status == 403


def test_a_clerk_signs_several_cases_at_once_each_recorded_on_its_own(day: Day) -> None:
    season = day.season
    status, listed = drive.call(
        day.rt, "GET", f"/admin/verification/{season}/decision-presets", None, day.staff("auditor")
    )
    assert status == 200 and listed["max_cases"] == 100 and len(listed["presets"]) >= 5
    preset = listed["presets"][0]
    queues = {
        d.code: drive.call(
            day.rt, "GET", f"/admin/verification/{season}/districts/{d.code}/queue", None, day.staff("city")
        )[1]["cases"]
        for d in day.config.districts
    }
    d = max(queues, key=lambda code: (len(queues[code]), code))
    not_eligible = [c["registration_id"] for c in queues[d] if c["status"] == "not-eligible"]
    assert not_eligible, queues[d]
    other = next(c["registration_id"] for code, cs in queues.items() if code != d for c in cs)
    path = f"/admin/verification/{season}/districts/{d}/decisions"
    clerk = day.staff("district", d)
    ids = [*not_eligible[:2], other]
    body = {"registration_ids": ids, "action": "confirm", "preset": preset["id"], "note": "已告知家长"}
    # a request wrong as a whole signs nothing and names its field; never a 5xx
    for wrong, field in [
        ({**body, "preset": "nonsense"}, "preset"),
        ({**body, "preset": None, "note": ""}, "reason"),
        ({**body, "registration_ids": [ids[0], ids[0]]}, "registration_ids"),
        ({**body, "registration_ids": []}, "registration_ids"),
    ]:
        status, answer = drive.call(day.rt, "POST", path, wrong, clerk)
        assert status == 422 and field in [e["field"] for e in answer["errors"]], (wrong, answer)
    # nobody but the district's own staff signs its cases
    for intruder in (day.staff("auditor"), day.staff("city"), day.staff("district", other_district(day, d))):
        status, answer = drive.call(day.rt, "POST", path, body, intruder)
        assert status == 403, answer
    for rid in ids:
        status, hist = drive.call(
            day.rt,
            "GET",
            f"/admin/verification/{season}/registrations/{rid}/history",
            None,
            day.staff("city"),
        )
        assert hist["decisions"] == [], rid
    # the clerk signs them: each of the district's cases recorded on its own, the other refused by itself
    status, answer = drive.call(day.rt, "POST", path, body, clerk)
    assert status == 200, answer
    reason = f"{preset['text_zh']}；已告知家长"
    assert answer["reason"] == reason
    assert [r["registration_id"] for r in answer["results"]] == ids
    assert [r["signed"] for r in answer["results"]] == [True] * (len(ids) - 1) + [False]
    assert answer["results"][-1]["status"] == 403 and "仅限本区" in answer["results"][-1]["message"]
    for rid in ids[:-1]:
        status, hist = drive.call(
            day.rt, "GET", f"/admin/verification/{season}/registrations/{rid}/history", None, clerk
        )
        [signed] = hist["decisions"]
        assert (signed["actor"], signed["reason"], signed["action"], signed["outcome"]) == (
            clerk,
            reason,
            "confirm",
            "not-eligible",
        )
    # signed cases leave the queue; the other district's case is still waiting
    status, queue = drive.call(
        day.rt, "GET", f"/admin/verification/{season}/districts/{d}/queue", None, clerk
    )
    assert not set(ids[:-1]) & {c["registration_id"] for c in queue["cases"]}
    status, hist = drive.call(
        day.rt, "GET", f"/admin/verification/{season}/registrations/{other}/history", None, day.staff("city")
    )
    assert hist["decisions"] == []


def other_district(day: Day, d: str) -> str:
    return next(x.code for x in day.config.districts if x.code != d)


# Phases ----------------------------------------------------------------------------------------


def test_every_staff_member_reads_the_phases_with_deadlines_and_gates(day: Day) -> None:
    a, _ = two_districts(day)
    path = f"/admin/seasons/{day.season}/phases"
    status, board = drive.call(day.rt, "GET", path, None, day.staff("district", a))
    assert status == 200, board
    phases = {p["phase"]: p for p in board["phases"]}
    assert list(phases)[:4] == ["grade7-registration", "grade1-registration", "home-visits", "review"]
    # the registration gates were advanced by their schedules; review is open; the rest not reached
    g7 = phases["grade7-registration"]
    assert g7["state"] == "advanced" and g7["state_zh"] == "已结束" and g7["source"] == "schedule"
    assert g7["advanced_at"] and g7["advanced_by"]
    review = phases["review"]
    assert review["state"] == "open" and review["title_zh"] == "审核复核与签字"
    deadline = day.config.day_end(day.config.calendar.private_counts_due).isoformat()
    assert review["deadline"] == deadline and review["overdue"] is False
    assert (
        phases["coordination"]["state"] == "not-reached" and phases["coordination"]["state_zh"] == "尚未开始"
    )
    assert board["may_advance"] is False  # only the city advances a gate
    for role in ("city", "auditor"):
        status, seen = drive.call(day.rt, "GET", path, None, day.staff(role))
        assert status == 200 and [p["phase"] for p in seen["phases"]] == list(phases)
    assert drive.call(day.rt, "GET", path, None, day.staff("city"))[1]["may_advance"] is True
    assert drive.call(day.rt, "GET", path, None, None)[0] == 401
    status, answer = drive.call(day.rt, "GET", "/admin/seasons/1999/phases", None, day.staff("city"))
    assert status == 404 and "1999" in answer["message"]


def test_an_auditor_cannot_advance_a_phase(day: Day) -> None:
    path = f"/admin/seasons/{day.season}/phases/review/advance"
    status, _ = drive.call(day.rt, "POST", path, {"reason": "审计试图推进"}, day.staff("auditor"))
    assert status == 403
    status, board = drive.call(
        day.rt, "GET", f"/admin/seasons/{day.season}/phases", None, day.staff("auditor")
    )
    assert {p["phase"]: p["state"] for p in board["phases"]}["review"] == "open"


# Before placement has run ---------------------------------------------------------------------


def test_placements_and_the_archive_are_not_there_before_their_time(day: Day) -> None:
    a, _ = two_districts(day)
    status, answer = drive.call(
        day.rt,
        "GET",
        f"/admin/placement/{day.season}/districts/{a}/placements",
        None,
        day.staff("district", a),
    )
    assert status == 409 and "尚未" in answer["message"]
    status, answer = drive.call(
        day.rt, "GET", f"/admin/placement/{day.season}/archive", None, day.staff("auditor")
    )
    assert status == 409 and "尚未封存" in answer["message"]


# The console itself -----------------------------------------------------------------------------


def test_who_is_signed_in_and_the_console_pages(day: Day) -> None:
    a, _ = two_districts(day)
    status, me = drive.call(day.rt, "GET", "/admin/me", None, day.staff("district", a))
    assert status == 200
    name = day.config.district_index[a].name
    assert me == {
        "principal": day.staff("district", a),
        "role": "district",
        "role_zh": "区教育局",
        "district": a,
        "district_name": name,
    }
    status, me = drive.call(day.rt, "GET", "/admin/me", None, day.staff("auditor"))
    assert status == 200 and me["role"] == "auditor" and me["district"] is None
    assert drive.call(day.rt, "GET", "/admin/me", None, None)[0] == 401
    # the pages are public and hold no data; the sign-in settings name the issuer and the client
    for path, kind in (
        ("/console", "text/html"),
        ("/console/ceremony", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
        ("/console/ceremony.js", "text/javascript"),
        ("/console/ceremony.css", "text/css"),
        ("/console/common.js", "text/javascript"),
        ("/console/config.json", "application/json"),
    ):
        r = day.rt.call_api("console", "GET", path, resource="/console/{proxy+}")
        assert r["statusCode"] == 200, path
        headers = {k.lower(): v[0] for k, v in r["multiValueHeaders"].items()}
        assert headers["content-type"].startswith(kind), headers
        if kind == "text/html":  # the sign-in code in the address bar never leaves in a referrer
            assert headers["referrer-policy"] == "no-referrer"
    config = json.loads(day.rt.call_api("console", "GET", "/console/config.json")["body"])
    assert config["season"] == day.season and config["redirect_path"] == "/console"
    # the season as people name it (the season panel's 吉林市2023年义务教育招生), not the config's id
    assert (config["city"], config["year"]) == (day.config.city, day.config.year)
    assert config["issuer"] and config["client_id"] and "openid" in config["scopes"]
    assert {d["code"] for d in config["districts"]} == {d.code for d in day.config.districts}
    assert day.rt.call_api("console", "GET", "/console/nothing-here")["statusCode"] == 404


# After the season: placements and the archive ----------------------------------------------------


def test_district_staff_read_their_childrens_places(season_over: Day) -> None:
    day = season_over
    a, b = two_districts(day)
    path = f"/admin/placement/{day.season}/districts/{a}/placements"
    status, page = drive.call(day.rt, "GET", path, None, day.staff("district", a))
    assert status == 200, page
    rows = {r["registration_id"]: r for r in page["placements"]}
    assert sorted(rows) == day.ids_of(a) and page["next"] is None
    # the same places the archive holds, with the route and why in Chinese
    archived = (
        boto3.client("s3")
        .get_object(Bucket=day.rt.bucket, Key=f"seasons/{day.season}/placements.jsonl")["Body"]
        .read()
    )
    lines = {x["registration_id"]: x for x in map(json.loads, archived.decode().splitlines())}
    for rid, row in rows.items():
        line = lines[rid]
        assert row["route"] == line["route"] and row["route_zh"]
        assert (row["school"] or {}).get("id") == line["school_id"]
        if line["route"] == "coordination":
            assert row["reason"] == line["reason"] and row["reason_zh"] and row["reason_zh"] != row["reason"]
        assert row["child"]["name"].endswith("*") and MASKED_ID.fullmatch(row["child"]["id_number"])
    # District B's staff: 403, and the auditor and the city read
    status, answer = drive.call(day.rt, "GET", path, None, day.staff("district", b))
    assert status == 403 and "仅限本区" in answer["message"]
    for role in ("auditor", "city"):
        status, seen = drive.call(day.rt, "GET", path, None, day.staff(role))
        assert status == 200 and len(seen["placements"]) == len(rows)


def test_the_sealed_archive_lists_its_files_with_short_lived_links(season_over: Day) -> None:
    day = season_over
    status, archive = drive.call(
        day.rt, "GET", f"/admin/placement/{day.season}/archive", None, day.staff("auditor")
    )
    assert status == 200, archive
    s3 = boto3.client("s3")
    manifest = json.loads(
        s3.get_object(Bucket=day.rt.bucket, Key=f"seasons/{day.season}/manifest.json")["Body"].read()
    )
    assert [f["key"] for f in archive["files"]] == [f["key"] for f in manifest["files"]]
    assert {f["key"] for f in archive["signed"]} == {"manifest.json", "manifest.sig.json", "public-key.pem"}
    assert "placements.jsonl" in {f["key"] for f in archive["files"]}
    for f in archive["files"] + archive["signed"]:
        url = urlsplit(f["url"])
        query = parse_qs(url.query)
        # a presigned GET of exactly that object, valid for five minutes
        assert url.path.endswith(f"seasons/{day.season}/{f['key']}"), f["url"]
        assert query.get("X-Amz-Expires") == ["300"] or query.get("Expires"), f["url"]
    assert archive["links_expire_in"] == 300
    # the summary counts every placed child once, by route and by the placing school's district
    summary = archive["summary"]
    assert summary["total"] == len(day.bodies)
    assert sum(r["count"] for r in summary["by_route"].values()) == summary["total"]
    assert sum(d["placed"] for d in summary["by_district"]) == summary["placed"]
    # district staff and the city read it too; a write on the placement API by the auditor is refused
    a, _ = two_districts(day)
    for who in (day.staff("district", a), day.staff("city")):
        assert drive.call(day.rt, "GET", f"/admin/placement/{day.season}/archive", None, who)[0] == 200
    some = day.ids_of(a)[0]
    school = next(s.id for s in day.config.schools if s.kind == "public" and s.district == a)
    status, _ = drive.call(
        day.rt,
        "POST",
        f"/admin/placement/{day.season}/schools/{school}/arrivals",
        {"registration_ids": [some]},
        day.staff("auditor"),
    )
    assert status == 403


def test_the_workflow_writes_the_season_report_beside_the_archive_and_the_console_links_it(
    season_over: Day,
) -> None:
    """WriteSeasonReport ran after SealArchive: one Chinese page at reports/{season}/report.html, with
    the season's own numbers, listed in the archive panel as 招生季报告 and written once."""
    day = season_over
    key = f"reports/{day.season}/report.html"
    written = day.rt.state_output("WriteSeasonReport")["phases"]["report"]["report"]
    assert written["key"] == key and written["written"] == "written"
    assert written["sections"] == ["demand", "lotteries", "verification", "placement"]
    # the console's archive listing links it (a five-minute presigned GET of exactly that object)
    status, archive = drive.call(
        day.rt, "GET", f"/admin/placement/{day.season}/archive", None, day.staff("auditor")
    )
    assert status == 200, archive
    report = archive["report"]
    assert report["key"] == key and report["title_zh"] == "招生季报告"
    url = urlsplit(report["url"])
    assert url.path.endswith(key) and parse_qs(url.query).get("X-Amz-Expires") == ["300"]
    # beside the archive, not in it: the sealed manifest does not list it
    s3 = boto3.client("s3")
    manifest = s3.get_object(Bucket=day.rt.bucket, Key=f"seasons/{day.season}/manifest.json")["Body"].read()
    assert b"report" not in manifest
    obj = s3.get_object(Bucket=day.rt.bucket, Key=key)
    assert obj["ContentType"] == "text/html; charset=utf-8"  # opens in the browser
    body = obj["Body"].read()
    assert len(body) == written["bytes"]
    text = body.decode("utf-8")
    # Chinese only, for a phone and for print
    assert not re.search(r"R-[A-Z]+-\d", text)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert "@media print" in text
    # the page the browser test reads (tests/e2e/test_report_page.py): the same generator's stylesheet,
    # its rows ready to be a phone's cards
    assert report_page.CSS in text and text.count(' data-label="') > 10
    for heading in re.findall(r"<h[123][^>]*>([^<]*)</h[123]>", text):
        assert re.search(r"[\u4e00-\u9fff]", heading) and not re.search(r"[A-Za-z]{3,}", heading), heading
    assert re.findall(r"<h2>([^<]*)</h2>", text) == [
        "报名与学位预警",
        "民办学校招生与电脑派位",
        "信息审核结果",
        "招生录取结果",
    ]
    # the season's own numbers: every child placed, the verdicts, the applicants counted at close
    lines = [
        json.loads(x)
        for x in s3.get_object(Bucket=day.rt.bucket, Key=f"seasons/{day.season}/placements.jsonl")["Body"]
        .read()
        .splitlines()
    ]
    coordinated = sum(1 for x in lines if x["route"] == "coordination")
    assert f'<span class="n">{len(lines)}</span><span class="l">录取儿童</span>' in text
    assert f'<span class="n">{coordinated}</span><span class="l">统筹安排</span>' in text
    verification = day.rt.state_output("SummarizeVerification")["phases"]["verification_final"]["outcome"]
    assert f'<span class="n">{verification["verdicts"]}</span><span class="l">审核人数</span>' in text
    for rid in day.bodies:  # no child appears
        assert rid not in text
    # a rerun (the workflow retrying after a timeout) finds the same bytes: nothing new is written
    versions = s3.list_object_versions(Bucket=day.rt.bucket, Prefix=key)["Versions"]
    again = json.loads(
        boto3.client("lambda")
        .invoke(FunctionName=day.rt.function_arns["report"], Payload=json.dumps({"season": day.season}))[
            "Payload"
        ]
        .read()
    )
    assert again["written"] == "identical" and again["sha256"] == written["sha256"]
    assert s3.list_object_versions(Bucket=day.rt.bucket, Prefix=key)["Versions"] == versions
