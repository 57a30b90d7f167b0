"""The public lottery ceremony (R-LOT-3), its archived record, and families' results (R-LOT-5).

One ceremony per private school and grade whose applicants exceed the plan. The workflow freezes
the pools when the lottery phase starts (`prepare`), then waits for each ceremony with a task token
(`open_wait`). District staff run it at the big screen, step by step as annex 3 orders them
(`enter_step`): #2 imports the list, #1-#3 each shuffle, #3 confirms the seats, #4-#6 each draw, #5's
slip picks the draw. Every input is written once and never replaced; after the slip the workflow
goes on and `record_admissions` writes `private/{school_id}-g{grade}.json` to the archive (identical
bytes if run again). Schools without a draw get their record too, without a ceremony.

When an admitted child declines, the seat goes to the first child of the draw's waitlist still
unplaced (`decline`), recorded with time and actor. A district decision over an admitted child
(deferral R-DEFER-1, the committee's plan R-DIS-1, an override R-VER-3) releases the seat the same
way (`release`), recorded with the staff member and the decision's reason; the archived record is
never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.idcard import mask_name
from enrollment.core.ports import ArchiveWriter, TaskTokenGone, TaskTokens
from enrollment.core.staff import Forbidden, StaffError, StaffMember, can_read, require_own_district
from enrollment.lottery import draw as lottery
from enrollment.lottery.pools import (
    CeremonyInputs,
    Pools,
    outcomes,
    record,
    record_bytes,
    record_key,
    utf8_sorted,
)

MAX_TYPED = 64  # characters a representative may type for one input
VIEW_LIMIT = 1_000  # ranks of each list a view shows unless asked for fewer or more (`Window`)
VIEW_MAX = 2_000  # at most: eight lists of 2,000 ids and their names stay far below 6 MB


@dataclass(frozen=True)
class Step:
    name: str
    representative: int  # 家长代表 #1-#6 (annex 3)
    title_zh: str


STEPS: tuple[Step, ...] = (
    Step("import", 2, "导入报名名单"),
    Step("shuffle-1", 1, "第一次打乱顺序"),
    Step("shuffle-2", 2, "第二次打乱顺序"),
    Step("shuffle-3", 3, "第三次打乱顺序"),
    Step("seats", 3, "录入派位名额"),
    Step("draw-1", 4, "第一次派位"),
    Step("draw-2", 5, "第二次派位"),
    Step("draw-3", 6, "第三次派位"),
    Step("slip", 5, "抽签确定采用哪一次派位结果"),
)
STEP_INDEX = {s.name: i for i, s in enumerate(STEPS)}

OUTCOME_ZH = {
    "admitted-without-draw": "录取（无需派位）",
    "admitted": "派位录取",
    "admitted-from-waitlist": "候补递补录取",
    "waitlisted": "候补",
    "not-admitted": "未录取（转统筹安排）",
    "declined": "已放弃",
    "released": "由区教育局另行安置，名额已递补",
}
ADMITTED = ("admitted-without-draw", "admitted", "admitted-from-waitlist")


class CeremonyError(StaffError):
    status = 409


class CeremonyNotFound(CeremonyError):
    status = 404


class BadWindow(StaffError):
    """A paging parameter of the big screen's view that is not valid; `field` names it (limit, cursor)."""

    status = 422

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.field = field


@dataclass(frozen=True)
class Window:
    """Which ranks of each of the ceremony's lists a view shows: `offset + 1` to `offset + limit`.

    A pool of tens of thousands would not fit one answer (eight full lists and every name), so the
    big screen asks for its lists a window at a time; a view's `next` is the following window's cursor."""

    offset: int = 0
    limit: int = VIEW_LIMIT


def window_request(cursor: str | None, limit: str | None) -> Window:
    """The query parameters `cursor` (a view's `next`: the ranks already shown) and `limit`, checked
    (422 naming the parameter)."""
    offset = 0
    if cursor:
        if not cursor.isdigit() or len(cursor) > 9:
            raise BadWindow(
                "cursor", "参数 cursor 无效，请从第一页重新查询", "query parameter cursor: not a cursor"
            )
        offset = int(cursor)
    size = VIEW_LIMIT
    if limit:
        if not limit.isdigit() or not 1 <= int(limit) <= VIEW_MAX:
            raise BadWindow(
                "limit", f"参数 limit 应为 1 到 {VIEW_MAX}", f"query parameter limit: 1 to {VIEW_MAX}"
            )
        size = int(limit)
    return Window(offset, size)


class InvalidStepValue(CeremonyError):
    """A typed value that breaks a rule: names the field and the rule."""

    status = 422

    def __init__(self, field: str, rule: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.field = field
        self.rule = rule


class DeclineRefused(CeremonyError):
    pass


class LotteryStore(Protocol):
    """Ceremonies, their inputs and each applicant's result. Writes are conditional: safe to retry."""

    def put_school(self, item: dict[str, Any]) -> bool:
        """Freeze a school's pools: written only if absent. True if written."""
        ...

    def school(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None: ...

    def schools(self, season: str) -> list[dict[str, Any]]: ...

    def set_school(self, season: str, school_id: str, grade: int, changes: dict[str, Any]) -> None: ...

    def finish_school(
        self, season: str, school_id: str, grade: int, status: str, changes: dict[str, Any]
    ) -> bool:
        """Move to `status` (drawn, recorded) once: False if it already is there."""
        ...

    def steps(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]:
        """The ceremony's recorded inputs, in step order."""
        ...

    def put_step(self, season: str, school_id: str, grade: int, step: dict[str, Any]) -> bool:
        """Record an input once; False if that step is already recorded (never replaced)."""
        ...

    def put_outcome(self, item: dict[str, Any]) -> bool:
        """An applicant's result, written once (later changes go through change_outcome)."""
        ...

    def outcome(self, registration_id: str) -> dict[str, Any] | None: ...

    def outcomes_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Many applicants' results at once (batched reads); those without one are absent."""
        ...

    def change_outcome(self, registration_id: str, expected: str, changes: dict[str, Any]) -> bool:
        """Change a result only if its outcome is still `expected`. True if changed."""
        ...

    def claim_next(self, season: str, school_id: str, grade: int, expected_next: int) -> bool:
        """Move the school's waitlist pointer from expected_next to expected_next + 1, once."""
        ...

    def append_event(self, season: str, school_id: str, grade: int, event: dict[str, Any]) -> None: ...

    def events(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]: ...


def archive_key(season: str, key: str) -> str:
    return f"seasons/{season}/{key}"


def _iso(config: SeasonConfig, now: datetime) -> str:
    return now.astimezone(config.tz).isoformat()


# Pools --------------------------------------------------------------------------------------------


def pools_of(
    config: SeasonConfig, registrations: Iterable[dict[str, Any]], own_district_ids: Iterable[str]
) -> list[Pools]:
    """Every private school and grade with a plan: own-district (verified) and other applicants.

    `own_district_ids`: the registrations whose verdict holds the fact `own-district`, read once (a
    stream will do); only the private applicants' among them are kept."""
    applicants: dict[tuple[str, int], list[str]] = {}
    for r in registrations:
        if r.get("category") == "private" and r.get("target_school"):
            applicants.setdefault((str(r["target_school"]), int(r["grade"])), []).append(
                str(r["registration_id"])
            )
    private = {i for ids in applicants.values() for i in ids}
    own_district = {i for i in own_district_ids if i in private}
    del private
    out = []
    for s in config.schools:
        if s.kind != "private":
            continue
        for grade in sorted(s.plans):
            ids = applicants.get((s.id, grade), [])
            own = [i for i in ids if i in own_district]
            other = [i for i in ids if i not in own_district]
            out.append(Pools.split(s.id, grade, s.district, s.plan(grade), own, other))
    return out


def screen_label(name: str, masked_id: str) -> str:
    """What the frozen pool keeps of a child for the big screen (R-DATA-2): the name as published
    lists mask it (张*明) and the ID number's last four characters, one string with a space between
    (the store pages one string a child; a masked name has no space). Enough for a hall to tell two
    children of one surname apart, and nothing a published list does not show."""
    tail = masked_id.strip()[-4:] if len(masked_id.strip()) >= 4 else ""
    return f"{mask_name(''.join(name.split()))} {tail}".rstrip()


def label_parts(label: str) -> tuple[str, str]:
    """A frozen label's masked name and ID tail (`""` for a pool frozen before tails were kept)."""
    name, _, tail = label.partition(" ")
    return name, tail


def school_item(season: str, pools: Pools, names: dict[str, str]) -> dict[str, Any]:
    return {
        "season": season,
        "school_id": pools.school_id,
        "grade": pools.grade,
        "district": pools.district,
        "plan": pools.plan,
        "case": pools.case,
        "needs_draw": pools.needs_draw,
        "seats": pools.seats,
        "pool_name": pools.pool_name,
        "own": list(pools.own),
        "other": list(pools.other),
        "names": {rid: names.get(rid, "") for rid in (*pools.own, *pools.other)},
        "status": "prepared" if pools.needs_draw else "no-draw",
    }


def pools_from(item: dict[str, Any]) -> Pools:
    return Pools.split(
        item["school_id"], int(item["grade"]), item["district"], int(item["plan"]), item["own"], item["other"]
    )


def timeout_seconds(config: SeasonConfig, deadline: datetime, now: datetime) -> int:
    """How long the workflow waits for a ceremony: until the deadline (a second if it has passed)."""
    return max(1, int((deadline - now).total_seconds()))


def prepare(
    config: SeasonConfig,
    season: str,
    pools: list[Pools],
    names: dict[str, str],
    *,
    store: LotteryStore,
    now: datetime,
) -> dict[str, Any]:
    """Freeze the pools (a rerun keeps the first) and list the Map's items, ceremonies first."""
    deadline = config.day_end(config.calendar.lottery_day)
    items = []
    for p in pools:
        store.put_school(school_item(season, p, names))
        frozen = pools_from(store.school(season, p.school_id, p.grade) or school_item(season, p, names))
        items.append(
            {
                "school_id": p.school_id,
                "grade": p.grade,
                "needs_draw": frozen.needs_draw,
                "timeout_seconds": timeout_seconds(config, deadline, now),
            }
        )
    items.sort(key=lambda i: (not i["needs_draw"], i["school_id"], i["grade"]))
    return {
        "schools": items,
        "ceremonies": sum(1 for i in items if i["needs_draw"]),
        "max_concurrency": config.lottery.max_concurrency,
        "deadline": _iso(config, deadline),
    }


# The workflow's wait ------------------------------------------------------------------------------


def _school(store: LotteryStore, season: str, school_id: str, grade: int) -> dict[str, Any]:
    item = store.school(season, school_id, grade)
    if item is None:
        raise CeremonyNotFound(
            f"没有{school_id}（{grade}年级）的民办学校招生记录",
            f"no private admission {school_id} grade {grade}",
        )
    return item


def open_wait(
    config: SeasonConfig,
    season: str,
    school_id: str,
    grade: int,
    *,
    token: str,
    timeout_s: int,
    store: LotteryStore,
    tokens: TaskTokens,
    now: datetime,
) -> dict[str, Any]:
    """Store the token the workflow waits on; a ceremony already finished resumes it at once."""
    item = _school(store, season, school_id, grade)
    deadline = now + timedelta(seconds=timeout_s)
    store.set_school(
        season,
        school_id,
        grade,
        {"task_token": token, "opened_at": _iso(config, now), "deadline": _iso(config, deadline)},
    )
    if item["status"] in ("drawn", "recorded"):
        with contextlib.suppress(TaskTokenGone):
            tokens.succeed(token, {"school_id": school_id, "grade": grade, "status": item["status"]})
    return {
        "school_id": school_id,
        "grade": grade,
        "status": item["status"],
        "deadline": _iso(config, deadline),
    }


def overdue(
    config: SeasonConfig, season: str, school_id: str, grade: int, *, store: LotteryStore, now: datetime
) -> dict[str, Any]:
    """The deadline passed without the ceremony: flag it (for the city to see) and wait a grace longer.
    The event is written before the flag, so a ceremony shown overdue always has its event."""
    item = _school(store, season, school_id, grade)
    count = int(item.get("overdue_count", 0)) + 1
    store.append_event(
        season,
        school_id,
        grade,
        {"event": "overdue", "at": _iso(config, now), "actor": "workflow", "deadline": item.get("deadline")},
    )
    store.set_school(
        season, school_id, grade, {"overdue_count": count, "overdue_since": item.get("deadline")}
    )
    return {
        "school_id": school_id,
        "grade": grade,
        "needs_draw": True,
        "timeout_seconds": config.lottery.overdue_grace_hours * 3600,
    }


# The ceremony -------------------------------------------------------------------------------------


def require_run(staff: StaffMember, district: str) -> None:
    """R-LOT-3: the district bureau runs its own schools' lotteries (never the school, the city or auditors)."""
    require_own_district(
        staff,
        district,
        auditor_zh="操作派位",
        city=("电脑派位由学校所在区教育局组织", "forbidden: the district bureau runs the lottery"),
        others=(f"无权操作{district}的电脑派位（仅限本区）", f"forbidden: lotteries of district {district}"),
    )


def _inputs(steps: dict[str, str]) -> CeremonyInputs:
    return CeremonyInputs(
        (steps["shuffle-1"], steps["shuffle-2"], steps["shuffle-3"]),
        (steps["draw-1"], steps["draw-2"], steps["draw-3"]),
        int(steps["slip"]),
    )


def _check_value(pools: Pools, step: str, value: str) -> str:
    if step == "import":
        return str(len(pools.pool))
    if step == "seats":
        if value.strip() != str(pools.seats):
            raise InvalidStepValue(
                "value",
                "R-LOT-2",
                f"派位名额应为 {pools.seats}（计划 {pools.plan}，区内已录取 {len(pools.admitted_without_draw)}），请核对后重新录入",
                f"the draw fills {pools.seats} seats, not {value!r}",
            )
        return str(pools.seats)
    if step == "slip":
        if value.strip() not in ("1", "2", "3"):
            raise InvalidStepValue("value", "R-LOT-3", "抽签结果只能是 1、2 或 3", "the slip is 1, 2 or 3")
        return value.strip()
    if not value or len(value) > MAX_TYPED:
        raise InvalidStepValue(
            "value",
            "R-LOT-3",
            f"请输入 1 到 {MAX_TYPED} 个字符（按输入原样保存）",
            f"type 1 to {MAX_TYPED} characters (kept exactly as typed)",
        )
    return value  # kept exactly as typed (LOTTERY.md)


def enter_step(
    config: SeasonConfig,
    season: str,
    school_id: str,
    grade: int,
    step: str,
    value: str,
    *,
    staff: StaffMember,
    store: LotteryStore,
    tokens: TaskTokens,
    now: datetime,
) -> dict[str, Any]:
    """Record one representative's input, in annex 3's order; inputs once recorded are never replaced."""
    item = _school(store, season, school_id, grade)
    require_run(staff, item["district"])
    if step not in STEP_INDEX:
        raise InvalidStepValue("step", "R-LOT-3", f"没有名为 {step} 的派位步骤", f"no ceremony step {step!r}")
    if item["status"] in ("drawn", "recorded"):
        raise CeremonyError(
            "本校本年级的电脑派位已经完成，不能再次派位，已录入的数字不可更改",
            "this school and grade already held its lottery: a second ceremony is refused, inputs are final",
        )
    if item["status"] == "no-draw":
        raise CeremonyError(
            "报名人数未超过招生计划，全部录取，无需派位",
            "applicants do not exceed the plan: all admitted, no draw (R-LOT-1)",
        )
    if not item.get("task_token"):
        raise CeremonyError(
            "尚未到电脑派位阶段（审核结束后才能导入名单）", "the workflow has not reached the lottery yet"
        )
    s = STEPS[STEP_INDEX[step]]
    done = {r["step"] for r in store.steps(season, school_id, grade)}
    want = STEPS[len(done)] if len(done) < len(STEPS) else None
    if step in done:
        raise _recorded_already(s)
    if want is None or step != want.name:
        expected = want.title_zh if want else "无"
        raise CeremonyError(
            f"请按顺序进行：下一步是“{expected}”", f"out of order: next is {want and want.name}"
        )
    pools = pools_from(item)
    kept = _check_value(pools, step, value)
    written = store.put_step(
        season,
        school_id,
        grade,
        {
            "step": step,
            "index": STEP_INDEX[step],
            "value": kept,
            "representative": s.representative,
            "entered_by": staff.principal,
            "at": _iso(config, now),
        },
    )
    if not written:  # someone else recorded this step a moment earlier
        raise _recorded_already(s)
    if step == "slip":
        _finish(config, season, item, store, tokens, now, staff.principal)
    return view(config, season, school_id, grade, staff=staff, store=store)


def _recorded_already(step: Step) -> CeremonyError:
    return CeremonyError(
        f"“{step.title_zh}”已录入，不可替换",
        f"step {step.name} is already recorded and cannot be replaced",
    )


def _finish(
    config: SeasonConfig,
    season: str,
    item: dict[str, Any],
    store: LotteryStore,
    tokens: TaskTokens,
    now: datetime,
    actor: str,
) -> None:
    school_id, grade = item["school_id"], int(item["grade"])
    steps = {s["step"]: s["value"] for s in store.steps(season, school_id, grade)}
    rec = record(season, pools_from(item), _inputs(steps))
    store.finish_school(season, school_id, grade, "drawn", {"drawn_at": _iso(config, now), "drawn_by": actor})
    fresh = store.school(season, school_id, grade) or item
    with contextlib.suppress(TaskTokenGone):  # timed out meanwhile: the reopened wait sees "drawn"
        tokens.succeed(
            str(fresh["task_token"]),
            {"school_id": school_id, "grade": grade, "admitted": len(rec["admitted"])},
        )


def view(
    config: SeasonConfig,
    season: str,
    school_id: str,
    grade: int,
    *,
    staff: StaffMember,
    store: LotteryStore,
    window: Window = Window(),
) -> dict[str, Any]:
    """What the big screen shows: the list, each order beside the previous one, each draw, the result.

    Each list (`order0`, `orders`, `draws`, `ranking`, `winners`) is shown from rank `window.offset + 1`,
    at most `window.limit` ranks of it, with the names of the children shown (masked as published
    lists are) and their ID numbers' last four characters (`id_tails`); `pool_size` is the
    whole list's length and `next` the cursor of the following window (None when this one reaches
    the end, or before the list is imported)."""
    item = _school(store, season, school_id, grade)
    if not can_read(staff, item["district"]):
        raise Forbidden(
            f"无权查看{item['district']}的电脑派位（仅限本区）",
            f"forbidden: lotteries of district {item['district']}",
        )
    pools = pools_from(item)
    school = config.school_index.get(school_id)
    district = config.district_index.get(item["district"])
    names: dict[str, str] = item.get("names", {})
    shown = slice(window.offset, window.offset + window.limit)
    recorded = store.steps(season, school_id, grade)
    values = {s["step"]: s["value"] for s in recorded}
    out: dict[str, Any] = {
        "season": season,
        "school_id": school_id,
        "school_name": school.name if school else school_id,
        "grade": grade,
        "district": item["district"],
        "district_name": district.name if district else item["district"],
        "plan": pools.plan,
        "case": pools.case,
        "status": item["status"],
        "deadline": item.get("deadline"),
        "overdue": int(item.get("overdue_count", 0)) > 0,
        "own_district_applicants": len(pools.own),
        "other_applicants": len(pools.other),
        "admitted_without_draw": len(pools.admitted_without_draw),
        "pool_name": pools.pool_name,
        "seats": pools.seats,
        # whether the reader may enter the steps (R-LOT-3: the school's district); others only watch
        "may_run": staff.role == "district" and staff.district == item["district"],
        "steps": [
            {
                "step": s.name,
                "title_zh": s.title_zh,
                "representative": s.representative,
                "value": values.get(s.name),
                "entered_by": next((r["entered_by"] for r in recorded if r["step"] == s.name), None),
                "at": next((r["at"] for r in recorded if r["step"] == s.name), None),
            }
            for s in STEPS
        ],
        "next_step": STEPS[len(recorded)].name if len(recorded) < len(STEPS) and pools.needs_draw else None,
        "pool_size": len(pools.pool) if pools.needs_draw else 0,
        "offset": window.offset,
        "next": None,
        "names": {},
        "id_tails": {},
    }
    if not pools.needs_draw or "import" not in values:
        return out
    if window.offset + window.limit < len(pools.pool):
        out["next"] = str(window.offset + window.limit)
    order = utf8_sorted(pools.pool)
    digest = lottery.pool_digest(order)
    out["pool_digest"] = digest
    out["order0"] = order[shown]
    orders: list[list[str]] = []
    for k in (1, 2, 3):
        typed = values.get(f"shuffle-{k}")
        if typed is None:
            break
        order = lottery.shuffle(
            order, lottery.step_drbg(season, school_id, grade, f"shuffle-{k}", digest, typed)
        )
        orders.append(order[shown])
    out["orders"] = orders
    draws = []
    for d in (1, 2, 3):
        typed = values.get(f"draw-{d}")
        if typed is None:
            break
        drawn = lottery.shuffle(
            order, lottery.step_drbg(season, school_id, grade, f"draw-{d}", digest, typed)
        )
        draws.append(drawn[shown])
    out["draws"] = draws
    if "slip" in values:
        ranking = draws[int(values["slip"]) - 1]
        out["chosen_draw"] = int(values["slip"])
        out["ranking"] = ranking
        out["winners"] = ranking[: max(0, pools.seats - window.offset)]
    on_screen = {rid for ids in (out["order0"], *orders, *draws) for rid in ids}
    shown_labels = {rid: label_parts(label) for rid, label in names.items() if rid in on_screen}
    out["names"] = {rid: name for rid, (name, _) in shown_labels.items()}
    out["id_tails"] = {rid: tail for rid, (_, tail) in shown_labels.items()}
    return out


# The record ---------------------------------------------------------------------------------------


def record_admissions(
    config: SeasonConfig,
    season: str,
    school_id: str,
    grade: int,
    *,
    store: LotteryStore,
    archive: ArchiveWriter,
    now: datetime,
) -> dict[str, Any]:
    """Write `private/{school_id}-g{grade}.json` and each applicant's result. Rerun: identical record."""
    item = _school(store, season, school_id, grade)
    pools = pools_from(item)
    inputs = None
    if pools.needs_draw:
        steps = {s["step"]: s["value"] for s in store.steps(season, school_id, grade)}
        if "slip" not in steps:
            raise CeremonyError("派位尚未完成，不能公布结果", "the ceremony has not finished")
        inputs = _inputs(steps)
    rec = record(season, pools, inputs)
    body = record_bytes(rec)
    key = record_key(school_id, grade)
    written = archive.put_once(archive_key(season, key), body)
    sha = hashlib.sha256(body).hexdigest()
    d = rec["draw"]
    for rid, result in outcomes(rec).items():
        store.put_outcome(
            {
                "registration_id": rid,
                "season": season,
                "school_id": school_id,
                "grade": grade,
                "district": pools.district,
                "recorded_at": _iso(config, now),
                **result,
            }
        )
    store.finish_school(
        season,
        school_id,
        grade,
        "recorded",
        {
            "ranking": d["ranking"] if d else [],
            "next_waitlist_rank": int(d["seats"]) + 1 if d else 1,
            "record_key": key,
            "record_sha256": sha,
            "recorded_at": _iso(config, now),
        },
    )
    return {
        "school_id": school_id,
        "grade": grade,
        "case": pools.case,
        "applicants": pools.applicants,
        "plan": pools.plan,
        "admitted": len(rec["admitted"]),
        "not_admitted": len(rec["not_admitted"]),
        "key": key,
        "sha256": sha,
        "archive": written,
    }


# Families -----------------------------------------------------------------------------------------


def family_view(config: SeasonConfig, store: LotteryStore, registration_id: str) -> dict[str, Any] | None:
    """A private applicant's own result: how admitted, or rank and current waitlist position."""
    o = store.outcome(registration_id)
    if o is None:
        return None
    school = config.school_index.get(o["school_id"])
    out = {
        "school_id": o["school_id"],
        "school_name": school.name if school else o["school_id"],
        "grade": int(o["grade"]),
        "outcome": o["outcome"],
        "outcome_zh": OUTCOME_ZH.get(o["outcome"], o["outcome"]),
        "rank": o.get("rank"),
        "seats": o.get("seats"),
        "pool": o.get("pool"),
        "waitlist_position": None,
    }
    if o["outcome"] == "waitlisted" and o.get("rank") is not None:
        item = store.school(str(o["season"]), o["school_id"], int(o["grade"])) or {}
        nxt = int(item.get("next_waitlist_rank", int(o["seats"]) + 1))
        out["waitlist_position"] = int(o["rank"]) - nxt + 1
    for key in ("declined_at", "promoted_at", "released_at"):
        if o.get(key):
            out[key] = o[key]
    return out


def decline(
    config: SeasonConfig,
    registration_id: str,
    *,
    actor: str,
    reason: str,
    store: LotteryStore,
    now: datetime,
    placed: Any = None,
) -> dict[str, Any]:
    """An admitted child gives up the private seat; it goes to the first waitlisted child still unplaced.

    `placed(rid) -> bool` says whether a waitlisted child already has a place elsewhere (skipped).
    """
    o = store.outcome(registration_id)
    if o is None or o["outcome"] not in ADMITTED:
        raise DeclineRefused(
            "只有已被民办学校录取的学生可以放弃录取", "only a child admitted to a private school can decline"
        )
    at = _iso(config, now)
    if not store.change_outcome(
        registration_id,
        o["outcome"],
        {
            "outcome": "declined",
            "declined_at": at,
            "declined_by": actor,
            "decline_reason": reason,
            "was": o["outcome"],
        },
    ):
        raise DeclineRefused("该录取已放弃或已变更", "this admission was already declined or changed")
    season, school_id, grade = str(o["season"]), str(o["school_id"]), int(o["grade"])
    store.append_event(
        season,
        school_id,
        grade,
        {"event": "decline", "registration_id": registration_id, "at": at, "actor": actor},
    )
    promoted = _backfill(config, season, school_id, grade, registration_id, store, now, placed)
    return {
        "registration_id": registration_id,
        "outcome": "declined",
        "declined_at": at,
        "seat_went_to": promoted,
    }


def release(
    config: SeasonConfig,
    registration_id: str,
    *,
    actor: str,
    reason: str,
    store: LotteryStore,
    now: datetime,
    placed: Any = None,
) -> dict[str, Any] | None:
    """A district decision places a child the private school admitted: the seat goes back to the
    school and on to the first waitlisted child still unplaced, exactly as a decline's does.

    `actor` and `reason` are the decision's (R-VER-3: who and why). Releasing is idempotent: a child
    whose seat is already released (or declined, or who holds none) releases nothing, so a seat is
    released once however often placement runs. None when nothing was released.
    """
    o = store.outcome(registration_id)
    if o is None or o["outcome"] not in ADMITTED:
        return None
    at = _iso(config, now)
    changes = {
        "outcome": "released",
        "released_at": at,
        "released_by": actor,
        "release_reason": reason,
        "was": o["outcome"],
    }
    if not store.change_outcome(registration_id, o["outcome"], changes):
        return None  # changed meanwhile (released or declined): that change passed the seat on
    season, school_id, grade = str(o["season"]), str(o["school_id"]), int(o["grade"])
    store.append_event(
        season,
        school_id,
        grade,
        {"event": "release", "registration_id": registration_id, "at": at, "actor": actor, "reason": reason},
    )
    promoted = _backfill(config, season, school_id, grade, registration_id, store, now, placed)
    return {
        "registration_id": registration_id,
        "school_id": school_id,
        "grade": grade,
        "outcome": "released",
        "released_at": at,
        "seat_went_to": promoted,
    }


def _backfill(
    config: SeasonConfig,
    season: str,
    school_id: str,
    grade: int,
    freed_by: str,
    store: LotteryStore,
    now: datetime,
    placed: Any,
) -> str | None:
    """The first waitlisted child still unplaced takes the seat (LOTTERY.md step 7)."""
    while True:
        item = _school(store, season, school_id, grade)
        ranking: list[str] = item.get("ranking", [])
        nxt = int(item.get("next_waitlist_rank", len(ranking) + 1))
        if nxt > len(ranking):
            return None  # nobody left on the waitlist: the seat stays free
        if not store.claim_next(season, school_id, grade, nxt):
            continue  # another decline moved the pointer first: look again
        candidate = ranking[nxt - 1]
        if placed is not None and placed(candidate):
            store.append_event(
                season,
                school_id,
                grade,
                {
                    "event": "skip",
                    "registration_id": candidate,
                    "rank": nxt,
                    "at": _iso(config, now),
                    "actor": "system",
                },
            )
            continue
        changes = {
            "outcome": "admitted-from-waitlist",
            "promoted_at": _iso(config, now),
            "promoted_because": freed_by,
        }
        if store.change_outcome(candidate, "waitlisted", changes):
            store.append_event(
                season,
                school_id,
                grade,
                {
                    "event": "promote",
                    "registration_id": candidate,
                    "rank": nxt,
                    "seat_of": freed_by,
                    "at": _iso(config, now),
                    "actor": "system",
                },
            )
            return candidate
