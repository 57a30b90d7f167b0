"""Driving the verification phase on the embedded backend, as the people and offices would.

Community offices answer home visits on the day their visit is done (through the callback API),
district staff sign their review queues, and the city records its spot-checks. `enroll demo` and the
tests use these; every call goes through the real handlers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import boto3

from enrollment.checks import LocalRegistries
from enrollment.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason
from enrollment.staff import StaffDirectory, StaffMember


def staff(rt: EmbeddedSeason) -> StaffDirectory:
    return StaffDirectory.load(rt.name)


def member(rt: EmbeddedSeason, role: str, district: str | None = None) -> StaffMember:
    return next(m for m in staff(rt) if m.role == role and m.district == district)


def call(rt: EmbeddedSeason, method: str, path: str, body: Any, caller: str) -> tuple[int, Any]:
    resource = "/agency/community/visits" if path.startswith("/agency/") else "/admin/verification/{proxy+}"
    proxy = {"proxy": path.removeprefix("/admin/verification/")} if resource.endswith("{proxy+}") else None
    r = rt.call_api("verify-api", method, path, body, resource=resource, path_parameters=proxy, caller=caller)
    return int(r["statusCode"]), json.loads(r["body"])


def _scan(rt: EmbeddedSeason) -> Iterator[dict[str, Any]]:
    table = boto3.resource("dynamodb").Table(rt.table_name)
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def visit_plan(rt: EmbeddedSeason) -> list[tuple[date, str, bool]]:
    """Every pending home visit: (the day the community answers, registration id, lives there)."""
    agencies = LocalRegistries(rt.registries)
    items = list(_scan(rt))
    ids = {str(i["registration_id"]): i["request"]["child"]["id_number"] for i in items if i["sk"] == "REG"}
    plan = []
    for i in items:
        if i["sk"] == "CHECK#community" and i["status"] == "pending":
            rid = str(i["registration_id"])
            asked = datetime.fromisoformat(str(i["asked_at"])).astimezone(rt.config.tz).date()
            answer = agencies.visit_answer(ids[rid], asked)
            if answer is not None:
                plan.append((answer[0], rid, answer[1]))
    return sorted(plan)


def run_home_visits(rt: EmbeddedSeason) -> dict[str, int]:
    """Day by day until the home-visit deadline, the community answers the visits it has done."""
    cal = rt.config.calendar
    community = member(rt, "community").principal
    plan = visit_plan(rt)
    answered = 0
    day = cal.verification.start
    while day <= cal.home_visits.end:
        rt.clock.set(max(rt.clock.now(), rt.config.day_start(day) + timedelta(hours=17)))
        for when, rid, lives in plan:
            if when == day:
                body = {
                    "registration_id": rid,
                    "lives_there": lives,
                    "visited_on": day.isoformat(),
                    "visitor": "社区网格员",
                }
                status, _ = call(rt, "POST", "/agency/community/visits", body, community)
                answered += status == 201
        day += timedelta(days=1)
    return {
        "requested": len(plan),
        "answered": answered,
        "late": sum(1 for w, _, _ in plan if w > cal.home_visits.end),
    }


def review_queues(rt: EmbeddedSeason, per_district: int) -> dict[str, int]:
    """District staff sign the first cases of their queue: an unanswered or unconfirmed case is
    resolved by a person who looked at the originals; a failed case is confirmed."""
    season = rt.config.season
    signed = 0
    for d in rt.config.districts:
        reviewer = member(rt, "district", d.code).principal
        status, queue = call(
            rt, "GET", f"/admin/verification/{season}/districts/{d.code}/queue", None, reviewer
        )
        for case in queue["cases"][:per_district]:
            if case["status"] == "review":
                body = {"action": "override", "outcome": "eligible", "reason": "现场核验原件，情况属实"}
            else:
                body = {"action": "confirm", "reason": "核查属实，维持审核结论"}
            path = f"/admin/verification/{season}/registrations/{case['registration_id']}/decisions"
            status, _ = call(rt, "POST", path, body, reviewer)
            signed += status == 201
    return {"signed": signed}


def spot_check(rt: EmbeddedSeason) -> dict[str, int]:
    """City staff re-check every sampled case (R-VER-5) and record what they found."""
    season = rt.config.season
    city = member(rt, "city").principal
    rt.clock.set(
        max(rt.clock.now(), rt.config.day_start(rt.config.calendar.spot_check.start) + timedelta(hours=9))
    )
    recorded = sampled = 0
    for d in rt.config.districts:
        _, found = call(rt, "GET", f"/admin/verification/{season}/districts/{d.code}/spot-checks", None, city)
        ids = (found.get("sample") or {}).get("sample", [])
        sampled += len(ids)
        for rid in ids:
            body = {"outcome": "confirmed", "note": "复核无误"}
            status, _ = call(
                rt, "POST", f"/admin/verification/{season}/districts/{d.code}/spot-checks/{rid}", body, city
            )
            recorded += status == 201
    return {"sampled": sampled, "recorded": recorded}


def run_verification(
    rt: EmbeddedSeason, config: SeasonConfig, reviews_per_district: int = 5
) -> dict[str, Any]:
    """From registration close to the end of the spot-check, through every gate on its schedule."""
    rt.wait_for_gate("home-visits", timeout=3600)  # moto runs the Map on 2 cores: large seasons take long
    visits = run_home_visits(rt)
    rt.advance_clock(rt.config.day_end(config.calendar.home_visits.end))
    rt.wait_for_gate("review", timeout=3600)
    reviews = review_queues(rt, reviews_per_district)
    rt.advance_clock(rt.config.day_end(config.calendar.private_counts_due))
    rt.wait_for_gate("spot-check", timeout=600)
    spot = spot_check(rt)
    rt.advance_clock(rt.config.day_end(config.calendar.spot_check.end))
    return {"visits": visits, "reviews": reviews, "spot_check": spot}
