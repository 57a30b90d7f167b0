"""Driving the verification phase on the embedded backend, as the people and offices would.

Community offices answer home visits on the day their visit is done (through the callback API),
district staff sign their review queues, and the city records its spot-checks. `enroll demo` and the
tests use these; every call goes through the real handlers.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from datetime import date, timedelta
from typing import Any

import boto3

from enrollment.adapters.dynamodb import DynamoStore
from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.config import School, SeasonConfig
from enrollment.core.phases import phase
from enrollment.core.resources import function_name
from enrollment.core.staff import StaffDirectory, StaffMember
from enrollment.local.entropy import SeasonSeeds
from enrollment.local.http import AuthorizerRefused, forward, route
from enrollment.local.runtime import EmbeddedSeason
from enrollment.placement.seats import waitlist
from enrollment.synth.population import Population
from enrollment.verification.checks import LocalRegistries, checks_needed
from enrollment.verification.verdicts import Agency

# How long the driver waits for the workflow to reach its next step, real time. A season of 60,000
# or 300,000 children takes long between two gates; a workflow that fails is seen at once (every wait
# checks the execution's status), so the limit only stops a workflow that hangs.
WAIT_S = 4 * 3600.0


def staff(rt: EmbeddedSeason) -> StaffDirectory:
    return StaffDirectory.load(rt.name)


def member(rt: EmbeddedSeason, role: str, district: str | None = None) -> StaffMember:
    return next(m for m in staff(rt) if m.role == role and m.district == district)


def call(
    rt: EmbeddedSeason,
    method: str,
    path: str,
    body: Any,
    caller: str | None,
    query: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """A request as API Gateway would route it (enrollment.local.http.route), made by `caller`: on
    staff routes a seeded user signed in at the development issuer (their token goes through the
    real authorizer), on the agency route an IAM identity. None: nobody signed in."""
    target = route(method, path)
    if target is None:
        raise ValueError(f"no route for {method} {path}")
    token = rt.oidc.mint(caller) if target.auth == "staff" and caller in rt.oidc.users else None
    try:
        r = forward(
            rt,
            target,
            method,
            path,
            body,
            authorization=f"Bearer {token}" if token else None,
            caller=caller,
            query=query,
        )
    except AuthorizerRefused as e:
        return e.status, e.body
    text = r["body"]
    return int(r["statusCode"]), json.loads(text) if text and text.lstrip()[:1] in "{[" else text


def visit_plan(rt: EmbeddedSeason) -> list[tuple[date, str, bool]]:
    """Every pending home visit: (the day the community answers, registration id, lives there).

    Read as the handlers read: the season's registrations (an index query), then the community
    checks of those that need one, in batches; never the whole table."""
    agencies = LocalRegistries(rt.registries)
    items = {str(i["registration_id"]): i for i in DynamoStore(rt.table_name).registrations(rt.config.season)}
    wanted: dict[str, list[Agency]] = {
        rid: ["community"] for rid, i in items.items() if "community" in checks_needed(i)
    }
    plan = []
    for rid, case in DynamoVerificationStore(rt.table_name).cases(wanted).items():
        for c in case.checks:
            if c.agency == "community" and c.status == "pending":
                asked = c.asked_at.astimezone(rt.config.tz).date()
                answer = agencies.visit_answer(items[rid]["request"]["child"]["id_number"], asked)
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
    resolved by a person who looked at the originals; a failed case is confirmed. The queue is read
    a page at a time (the route's limit is 500), only as far as `per_district` cases."""
    season = rt.config.season
    signed = 0
    for d in rt.config.districts:
        reviewer = member(rt, "district", d.code).principal
        cases: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(cases) < per_district:
            query = {"limit": str(min(per_district - len(cases), 500))} | (
                {"cursor": cursor} if cursor else {}
            )
            path = f"/admin/verification/{season}/districts/{d.code}/queue"
            status, queue = call(rt, "GET", path, None, reviewer, query)
            cases += queue["cases"]
            cursor = queue["next"]
            if cursor is None:
                break
        for case in cases[:per_district]:
            if case["status"] == "review":
                body: dict[str, Any] = {
                    "action": "override",
                    "outcome": "eligible",
                    "reason": "现场核验原件，情况属实",
                }
                if "policy-priority" in case["facts"]:  # R-PRIO-1: the originals prove the claim
                    body["priority_verified"] = True
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


def to_review(rt: EmbeddedSeason, population: Population) -> dict[str, dict[str, Any]]:
    """Registration (every valid submission), the agencies' checks and the home visits, through their
    gates: the workflow then waits at the review gate. Returns each registration id's body."""
    rt.start()
    rt.wait_for_gate("grade7-registration")
    bodies = register_valid(rt, population)
    rt.wait_for_gate("home-visits", timeout=WAIT_S)
    run_home_visits(rt)
    rt.advance_clock(rt.config.day_end(rt.config.calendar.home_visits.end))
    rt.wait_for_gate("review", timeout=WAIT_S)
    return bodies


def run_verification(
    rt: EmbeddedSeason, config: SeasonConfig, reviews_per_district: int = 5
) -> dict[str, Any]:
    """From registration close to the end of the spot-check, through every gate on its schedule."""
    rt.wait_for_gate("home-visits", timeout=WAIT_S)
    visits = run_home_visits(rt)
    rt.advance_clock(rt.config.day_end(config.calendar.home_visits.end))
    rt.wait_for_gate("review", timeout=WAIT_S)
    reviews = review_queues(rt, reviews_per_district)
    rt.advance_clock(rt.config.day_end(config.calendar.private_counts_due))
    lotteries = run_lotteries(rt, config)
    rt.wait_for_gate("coordination", timeout=WAIT_S)
    decisions = enter_placement_decisions(rt, config)
    rt.advance_clock(rt.config.day_end(config.calendar.coordination.end))
    rt.wait_for_gate("spot-check", timeout=WAIT_S)
    spot = spot_check(rt)
    rt.advance_clock(rt.config.day_end(config.calendar.spot_check.end))
    rt.wait_for_gate("reporting", timeout=WAIT_S)  # notices are out and the archive is sealed
    reported = report_arrivals(rt, config)
    rt.advance_clock(rt.config.day_end(config.calendar.reporting_day))
    rt.wait_for_gate("classes", timeout=WAIT_S)
    rt.advance_clock(phase(config, "classes").deadline)
    return {
        "visits": visits,
        "reviews": reviews,
        "lotteries": lotteries,
        "placement_decisions": decisions,
        "spot_check": spot,
        "reporting": reported,
    }


ARRIVALS_PER_REQUEST = 500  # the arrivals route takes at most this many ids a request


def report_arrivals(rt: EmbeddedSeason, config: SeasonConfig, share: float = 0.97) -> dict[str, int]:
    """Reporting day: each district records, per school, the children who came (a few do not)."""
    body = boto3.client("s3").get_object(Bucket=rt.bucket, Key=f"seasons/{config.season}/placements.jsonl")
    by_school: dict[str, list[str]] = {}
    for line in map(json.loads, body["Body"].read().decode().splitlines()):
        if line["school_id"]:
            by_school.setdefault(line["school_id"], []).append(line["registration_id"])
    arrived = missing = 0
    for school_id, ids in sorted(by_school.items()):
        came = [rid for i, rid in enumerate(sorted(ids)) if (i * 37) % 100 < share * 100]
        caller = member(rt, "district", config.school_index[school_id].district).principal
        path = f"/admin/placement/{config.season}/schools/{school_id}/arrivals"
        for start in range(0, len(came), ARRIVALS_PER_REQUEST):  # a large school: several lists
            chunk = came[start : start + ARRIVALS_PER_REQUEST]
            status, answer = call(rt, "POST", path, {"registration_ids": chunk}, caller)
            if status != 201:
                raise RuntimeError(f"{school_id}: {status} {answer}")
        arrived += len(came)
        missing += len(ids) - len(came)  # what GET …/no-shows lists (tests/integration checks that route)
    return {"arrived": arrived, "no_shows": missing}


def enter_placement_decisions(rt: EmbeddedSeason, config: SeasonConfig) -> dict[str, int]:
    """Each district enters what the notice asks of it before coordination ends: the disability expert
    committee's plan for every child who claimed one (R-DIS-1) and every deferral applied for (R-DEFER-1)."""
    special = [s for s in config.schools if s.kind == "special-education"]
    seated: Counter[tuple[str, int]] = Counter()
    regular: dict[
        tuple[str, int], list[School]
    ] = {}  # (district, grade) -> its public schools taking the grade
    for s in config.schools:
        for g in (1, 7):
            if s.kind == "public" and s.plan(g):
                regular.setdefault((s.district, g), []).append(s)
    entered: Counter[str] = Counter()
    for item in DynamoStore(rt.table_name).registrations(config.season):
        claims, grade, rid = item.get("special_claims", []), int(item["grade"]), str(item["registration_id"])
        body: dict[str, Any] | None = None
        if "defer-health" in claims:
            body = {"kind": "defer", "reason": "监护人因儿童身体原因申请缓学，经区教育局审核同意"}
        elif "disability" in claims:
            # the committee places with the special school while it has seats (at school or at home),
            # then in a regular class of a public school of the child's district (随班就读)
            school = next((s for s in special if seated[(s.id, grade)] < s.plan(grade)), None)
            if school is not None:
                seated[(school.id, grade)] += 1
                plan = "home-delivery" if entered["committee"] % 3 == 2 else "special-education"
            else:
                public = regular.get((str(item["district"]), grade), [])
                school = public[entered["committee"] % len(public)] if public else None
                plan = "regular-class"
            body = {
                "kind": "committee",
                "plan": plan,
                "school_id": school.id if school else None,
                "reason": "残疾人教育专家委员会评估意见（一人一案）",
            }
        if body is None:
            continue
        caller = member(rt, "district", str(item["district"])).principal
        status, answer = call(
            rt, "POST", f"/admin/placement/{config.season}/registrations/{rid}/decisions", body, caller
        )
        if status != 201:
            raise RuntimeError(f"{rid}: {status} {answer}")
        entered[body["kind"]] += 1
    return dict(entered)


def register_valid(rt: EmbeddedSeason, population: Population) -> dict[str, dict[str, Any]]:
    """Post every valid submission on its day; both registration gates resumed by their schedules.

    The workflow must already wait at the grade-7 gate. Returns each registration id's body.
    """
    config = rt.config
    bodies: dict[str, dict[str, Any]] = {}
    windows = {7: config.calendar.grade7_registration, 1: config.calendar.grade1_registration}
    for grade in (7, 1):
        for sub in population.submissions:
            if sub.grade == grade and sub.intent == "valid":
                when = config.day_start(sub.submit_day).replace(hour=9)
                if when > rt.clock.now():
                    rt.clock.set(when)
                status, answer = call(rt, "POST", "/api/registrations", sub.body, None)
                if status == 201:
                    bodies[answer["registration_id"]] = sub.body
        rt.advance_clock(config.day_end(windows[grade].end))
        if grade == 7:
            rt.wait_for_gate("grade1-registration")
    return bodies


# The lottery (R-LOT-3) ------------------------------------------------------------------------


def wait_for_lotteries(rt: EmbeddedSeason, timeout: float = WAIT_S) -> dict[str, Any]:
    """Wait until the pools are frozen (PrepareLotteries' output, every school to draw stored); the
    prepare output. The ceremonies need not wait for the workflow: the Map waits on at most the
    season's `lottery.max_concurrency` of them at once, and a ceremony held before its turn resumes
    the workflow as soon as it gets there (`ceremony.open_wait`)."""
    store = DynamoLotteryStore(rt.table_name)
    end = time.monotonic() + timeout
    pause = 0.05
    prepared: dict[str, Any] | None = None
    while time.monotonic() < end:
        if prepared is None:  # the history grows with the season: read it until the output is there
            try:
                prepared = rt.state_output("PrepareLotteries")["lotteries"]
            except KeyError:
                prepared = None
        if prepared is not None:
            stored = {(i["school_id"], int(i["grade"])) for i in store.schools(rt.config.season)}
            wanted = {(i["school_id"], int(i["grade"])) for i in prepared["schools"] if i["needs_draw"]}
            if wanted <= stored:
                return prepared
        if rt.describe()["status"] != "RUNNING":
            raise RuntimeError(f"the workflow stopped before the lotteries: {rt.describe()}")
        time.sleep(pause)
        pause = min(pause * 1.5, 1.0)  # reading the history grows with the season: ask less often
    raise TimeoutError(f"the workflow did not reach the lotteries in {timeout}s")


def typed_inputs(seeds: SeasonSeeds | None = None, school_id: str = "", grade: int = 0) -> dict[str, str]:
    """What six parent representatives might type, and #5's slip: four digits each, never chosen by us.
    With a local season's `seeds`, what that season's representatives type at this ceremony (the same
    for the same seed); without, fresh random digits."""
    if seeds is not None:
        return seeds.typed_inputs(school_id, grade)
    inputs = {f"shuffle-{k}": f"{secrets.randbelow(10000):04d}" for k in (1, 2, 3)}
    inputs |= {f"draw-{k}": f"{secrets.randbelow(10000):04d}" for k in (1, 2, 3)}
    inputs["slip"] = str(1 + secrets.randbelow(3))
    return inputs


def run_ceremony(
    rt: EmbeddedSeason, school_id: str, grade: int, caller: str, inputs: dict[str, str]
) -> dict[str, Any]:
    """A ceremony through the API, step by step as annex 3 orders it, from wherever it stands."""
    base = f"/admin/lottery/{rt.config.season}/ceremonies/{school_id}/{grade}"
    status, view = call(rt, "GET", base, None, caller)
    if status != 200:
        raise RuntimeError(f"{school_id} grade {grade}: {status} {view}")
    values = {"import": "", **inputs, "seats": str(view["seats"])}
    for step in [s["step"] for s in view["steps"] if s["value"] is None]:
        status, view = call(rt, "POST", f"{base}/steps/{step}", {"value": values[step]}, caller)
        if status != 201:
            raise RuntimeError(f"{school_id} grade {grade} {step}: {status} {view}")
    return dict(view)


def run_lotteries(rt: EmbeddedSeason, config: SeasonConfig, timeout: float = WAIT_S) -> dict[str, Any]:
    """Every ceremony the workflow waits for, by its district's staff with generated inputs; then the records."""
    prepared = wait_for_lotteries(rt, timeout)
    held = []
    for item in prepared["schools"]:
        if not item["needs_draw"]:
            continue
        school = config.school_index[item["school_id"]]
        view = run_ceremony(
            rt,
            school.id,
            int(item["grade"]),
            member(rt, "district", school.district).principal,
            typed_inputs(rt.seeds, school.id, int(item["grade"])),
        )
        held.append(
            {
                "school_id": school.id,
                "grade": int(item["grade"]),
                "case": view["case"],
                "pool": view["pool_size"],  # the view's lists are one window of ranks
                "seats": view["seats"],
                "chosen_draw": view["chosen_draw"],
                "inputs": [s["value"] for s in view["steps"] if s["step"] not in ("import", "seats")],
            }
        )
    return {"schools": len(prepared["schools"]), "ceremonies": held}


def reissue_corrected_notices(rt: EmbeddedSeason, attempts: int = 3) -> dict[str, Any]:
    """The corrected children's notices re-issued, as the 15-minute rule's run does in AWS (issue 18):
    notify-batch's function invoked with `task: corrected-notices`, which the embedded backend's clock
    does not fire by itself. A failed run is run again, as the rule's target retries it and the next
    quarter hour's run would (each step is claimed before it is done: a rerun repeats nothing). Its
    answer: how many issued, revoked, ..."""
    event = {"season": rt.config.season, "task": "corrected-notices"}
    for _ in range(attempts):
        reply = boto3.client("lambda").invoke(
            FunctionName=function_name(rt.config.name, "notify-batch"), Payload=json.dumps(event).encode()
        )
        out: dict[str, Any] = json.loads(reply["Payload"].read())
        if not reply.get("FunctionError"):
            return out
    raise RuntimeError(f"the corrected notices' run failed {attempts} times: {out}")


# Corrections after the results (issue 18) -------------------------------------------------------------

CORRECTION_REASONS = {
    "late-registration": "家庭新迁入本区，监护人持户籍和房产证明到区教育局申请补录",
    "private-decline": "家长书面申请放弃民办学校学位，已核实监护人签字",
    "public-decline": "家长书面申请放弃公办学校学位，孩子随父母到外省就读",
    "transfer": "家庭搬迁，经转出和转入两校同意，转入离家更近的学校",
}


def _placed_lines(rt: EmbeddedSeason) -> dict[str, dict[str, Any]]:
    """The sealed placements.jsonl, one line a child (what the corrections change)."""
    body = (
        boto3.client("s3")
        .get_object(Bucket=rt.bucket, Key=f"seasons/{rt.config.season}/placements.jsonl")["Body"]
        .read()
    )
    return {line["registration_id"]: line for line in map(json.loads, body.decode().splitlines())}


def _private_records(rt: EmbeddedSeason, lines: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The archived lottery records of the private school-grades, those with a waitlist first."""
    s3, found = boto3.client("s3"), []
    for school_id, grade in sorted({(x["school_id"], x["grade"]) for x in lines.values() if x["school_id"]}):
        if rt.config.school_index[school_id].kind != "private":
            continue
        key = f"seasons/{rt.config.season}/private/{school_id}-g{grade}.json"
        found.append(json.loads(s3.get_object(Bucket=rt.bucket, Key=key)["Body"].read()))
    return sorted(found, key=lambda rec: not waitlist(rec))


class _Corrector:
    """Staff's corrections through the route, with the season's places as they stand after each."""

    def __init__(self, rt: EmbeddedSeason) -> None:
        self.rt, self.config = rt, rt.config
        self.path = f"/admin/placement/{rt.config.season}/corrections"
        self.lines = _placed_lines(rt)
        self.store = DynamoStore(rt.table_name)
        self.made: list[dict[str, Any]] = []
        self.refused: list[dict[str, str]] = []
        self.unexpected: list[str] = []

    def district_of(self, rid: str) -> str:
        return str(self.store.get_registrations([rid])[rid]["district"])

    def taken(self, school_id: str, grade: int) -> int:
        return sum(1 for x in self.lines.values() if x["school_id"] == school_id and x["grade"] == grade)

    def ask(
        self, what: str, body: dict[str, Any], district: str | None, *, refused: bool = False
    ) -> dict[str, Any] | None:
        """The correction, by the district's staff (None: the city's); its answer, or None if refused.
        `refused`: the self-check must refuse it (422); an answer other than the one expected is kept
        in `unexpected`."""
        who = member(self.rt, "district", district) if district else member(self.rt, "city")
        status, answer = call(self.rt, "POST", self.path, body, who.principal)
        if (status == 422) != refused or status not in (201, 422):
            self.unexpected.append(f"correction {what}: answered {status}: {answer.get('message', answer)}")
        if status != 201:
            self.refused.append({"what": what, "status": str(status), "message": answer["message"]})
            return None
        for c in answer["corrections"]:
            for ch in c["changes"]:
                self.lines[ch["registration_id"]] = ch["after"]
        self.made.append({"what": what, "by": who.role, "corrections": answer["corrections"]})
        return dict(answer)


def run_corrections(
    rt: EmbeddedSeason, late: dict[str, Any] | None, *, seal_between: bool = True
) -> dict[str, Any]:
    """After the notices, a few corrections as district and city staff make them, each through the
    route: a late registration (补录) of `late` (a registration form), a private seat declined (its
    waitlist's next child promoted; first offered out of the waitlist's order, refused), a public seat
    declined (its catchment's next child), a transfer with both schools' consent, and a transfer into
    a full school, refused by the self-check; each where the season has such a child (a small one may
    not). With `seal_between`, the city seals the first ones
    (the late registration and the private decline) on demand before the rest are made.
    Returns what was made, refused and sealed on demand."""
    config, fix = rt.config, _Corrector(rt)
    body: dict[str, Any]
    if late is not None:
        body = {
            "kind": "late-registration",
            "registration": late,
            "reason": CORRECTION_REASONS["late-registration"],
        }
        fix.ask("补录", body, str(late["home_address"]["district"]))
    for rec in _private_records(rt, fix.lines):
        admitted = [r for r in rec["admitted"] if fix.lines.get(r, {}).get("school_id") == rec["school_id"]]
        if not admitted:
            continue
        body = {
            "kind": "decline",
            "registration_id": admitted[0],
            "reason": CORRECTION_REASONS["private-decline"],
        }
        owner, queue = fix.district_of(admitted[0]), waitlist(rec)
        # the seat offered out of the waitlist's order (its second child), or to a child not on it
        other = queue[1:2] or [
            rid
            for rid, x in sorted(fix.lines.items())
            if x["grade"] == rec["grade"] and x["route"] in ("catchment", "coordination") and rid not in queue
        ]
        if other:
            what = "不按候补顺序递补" if queue[1:2] else "递补不在候补名单上的学生"
            fix.ask(what, {**body, "promote": other[0]}, owner, refused=True)
        fix.ask("放弃民办学位", body, owner)
        break
    sealed = [seal_corrections_now(rt)] if seal_between else []
    public = sorted(
        rid
        for rid, x in fix.lines.items()
        if x["route"] == "catchment" and config.school_index[x["school_id"]].kind == "public"
    )
    if public:
        body = {
            "kind": "decline",
            "registration_id": public[0],
            "reason": CORRECTION_REASONS["public-decline"],
        }
        fix.ask("放弃公办学位", body, fix.district_of(public[0]))
    movable = [
        (rid, x)
        for rid, x in sorted(fix.lines.items())
        if x["route"] in ("catchment", "coordination") and rid not in public[:1]
    ]
    moved = full = None
    for rid, x in movable:
        here = config.school_index[x["school_id"]]
        others = [
            s
            for s in config.schools
            if s.district == here.district and s.kind == "public" and s.id != here.id and s.plan(x["grade"])
        ]
        free = [s for s in others if fix.taken(s.id, x["grade"]) < s.plan(x["grade"])]
        taken = [s for s in others if fix.taken(s.id, x["grade"]) >= s.plan(x["grade"])]
        if moved is None and free:
            moved = (rid, here.id, free[0].id, here.district)
        elif full is None and taken:
            full = (rid, here.id, taken[0].id, here.district)
        if moved and full:
            break
    for what, chosen in (("转学", moved), ("转入已满的学校", full)):
        if chosen is None:  # a small season may have no such child or school
            continue
        rid, source, target, owner = chosen
        consents = [
            {"school_id": source, "given_by": "转出学校校长"},
            {"school_id": target, "given_by": "转入学校校长"},
        ]
        body = {
            "kind": "transfer",
            "registration_id": rid,
            "school_id": target,
            "consents": consents,
            "reason": CORRECTION_REASONS["transfer"],
        }
        fix.ask(what, body, owner, refused=chosen is full)
    return {"made": fix.made, "refused": fix.refused, "sealed": sealed, "unexpected": fix.unexpected}


def seal_corrections_now(rt: EmbeddedSeason, attempts: int = 3) -> dict[str, Any]:
    """City staff seal the pending corrections at once (the route); the seal's answer. A 503 (the seal
    busy or throttled) is tried again, as a person presses again."""
    path, city = f"/admin/placement/{rt.config.season}/corrections/seal", member(rt, "city").principal
    for _ in range(attempts):
        status, answer = call(rt, "POST", path, None, city)
        if status != 503:
            break
    if status != 200:
        raise RuntimeError(f"sealing the corrections: {status} {answer}")
    return dict(answer)
