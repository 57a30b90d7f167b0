"""What the staff console reads (issue 7): a district's registrations and placements, masked (R-DATA-2),
the season's phases with their gates, and the sealed archive's file list.

Pure functions over plain data and the store ports; the handlers (functions/verify/api.py,
functions/place/api.py, functions/gates/handler.py) fetch and call them. Every list is checked
against the data itself: a row whose stored district is not the one asked for is never shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from enrollment.core import idcard
from enrollment.core.config import SeasonConfig
from enrollment.core.gates import deadline_of
from enrollment.core.phases import phases
from enrollment.core.ports import Store
from enrollment.core.staff import Forbidden, StaffError, StaffMember
from enrollment.placement.routes import REASON_ZH as PLACEMENT_REASON_ZH
from enrollment.placement.routes import ROUTE_ZH
from enrollment.registration.demand import WITHDRAWN
from enrollment.registration.form import CATEGORY_ZH
from enrollment.verification.verdicts import REASON_REVIEW_ZH, REASON_ZH, Verdict

PAGE_DEFAULT = 200
PAGE_MAX = 500
GRADES = (1, 7)
VERDICT_ZH = {"eligible": "审核通过", "not-eligible": "审核未通过（统筹安排）", "review": "待人工复核"}
GATE_ZH = {"not-reached": "尚未开始", "open": "进行中", "advanced": "已结束"}
SOURCE_ZH = {
    "staff": "工作人员提前推进",
    "schedule": "到达截止时间自动推进",
    "deadline-passed": "开始时已过截止时间",
}
_CURSOR = re.compile(r"^(?P<grade>[17]):(?P<rid>R-[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})$")


class BadQuery(StaffError):
    """A query parameter the console API does not accept (names the parameter)."""

    status = 422


class NotYet(StaffError):
    """What was asked for does not exist yet in the season (placement not run, archive not sealed)."""

    status = 409


def mask_name(name: str) -> str:
    """The child's name in lists (R-DATA-2): the first character, the rest hidden (张三丰 -> 张**)."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


# Paging through a district's registrations -------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """Grade 1 then grade 7 (or one of them), by registration id; `after` is the last one shown."""

    grades: tuple[int, ...]
    after: tuple[int, str] | None
    limit: int


def page_request(grade: str | None, cursor: str | None, limit: str | None) -> PageRequest:
    """The query parameters `grade`, `cursor` and `limit`, checked (422 naming the parameter)."""
    grades: tuple[int, ...] = GRADES
    if grade:
        if grade not in ("1", "7"):
            raise BadQuery("参数 grade 只能是 1 或 7", "query parameter grade: 1 or 7")
        grades = (int(grade),)
    after = None
    if cursor:
        m = _CURSOR.fullmatch(cursor)
        if m is None or int(m["grade"]) not in grades:
            raise BadQuery("参数 cursor 无效，请从第一页重新查询", "query parameter cursor: not a cursor")
        after = (int(m["grade"]), m["rid"])
    size = PAGE_DEFAULT
    if limit:
        if not limit.isdigit() or not 1 <= int(limit) <= PAGE_MAX:
            raise BadQuery(f"参数 limit 应为 1 到 {PAGE_MAX}", f"query parameter limit: 1 to {PAGE_MAX}")
        size = int(limit)
    return PageRequest(grades, after, size)


DistrictQuery = Callable[[int, str | None, int], tuple[list[dict[str, Any]], bool]]


def district_page(query: DistrictQuery, page: PageRequest) -> tuple[list[dict[str, Any]], str | None]:
    """Up to `page.limit` registration items and the next cursor (None at the end).

    `query(grade, after, limit)` returns that grade's items of the district after `after`, by
    registration id, at most `limit`, and whether there are more.
    """
    items: list[dict[str, Any]] = []
    grades = list(page.grades)
    if page.after is not None:
        grades = grades[grades.index(page.after[0]) :]
    for grade in grades:
        after = page.after[1] if page.after is not None and page.after[0] == grade else None
        found, more = query(grade, after, page.limit - len(items))
        items += found
        if more:
            return items, f"{grade}:{items[-1]['registration_id']}"
        if len(items) >= page.limit and grade != grades[-1]:
            return items, f"{grade}:{items[-1]['registration_id']}"
    return items, None


def own_items(items: Iterable[dict[str, Any]], staff: StaffMember, district: str) -> list[dict[str, Any]]:
    """The items of `district`, checked on the data: an item of another district is refused, not hidden."""
    out = []
    for item in items:
        stored = str(item.get("district"))
        if stored != district or not (staff.role in ("city", "auditor") or staff.district == stored):
            raise Forbidden(
                f"无权查看{stored}的报名信息（仅限本区）", f"forbidden: registrations of district {stored}"
            )
        out.append(item)
    return out


# Rows -----------------------------------------------------------------------------------------------


def _school(config: SeasonConfig, school_id: Any) -> dict[str, Any] | None:
    school = config.school_index.get(str(school_id)) if school_id else None
    return {"id": school.id, "name": school.name} if school else None


def child_of(item: Mapping[str, Any]) -> dict[str, str]:
    """The child as a list shows it (R-DATA-2): masked name and masked ID number, nothing else."""
    child = item.get("request", {}).get("child", {})
    return {
        "name": mask_name(str(child.get("name", ""))),
        "id_number": idcard.mask(str(item.get("masked_id", ""))),
    }


def guardians_of(item: Mapping[str, Any]) -> list[dict[str, str]]:
    """The guardians as the review queue shows them (R-DATA-2), masked like the child: whom the form
    names, to compare with the deed's owners (owner-not-guardian). No phone: staff call from exports."""
    return [
        {
            "name": mask_name(str(g.get("name", ""))),
            "relationship": str(g.get("relationship", "")),
            "id_number": idcard.mask(str(g.get("id_number", ""))),
        }
        for g in item.get("request", {}).get("guardians", [])
    ]


def registration_row(
    config: SeasonConfig, item: Mapping[str, Any], verdict: Verdict | None
) -> dict[str, Any]:
    """One registration in the district's list: masked, with its verification state."""
    return {
        "registration_id": item["registration_id"],
        "grade": int(item["grade"]),
        "category": item["category"],
        "category_zh": CATEGORY_ZH.get(str(item["category"]), str(item["category"])),
        "district": item["district"],
        "child": child_of(item),
        "target_school": _school(config, item.get("target_school")),
        "zone_id": item.get("zone_id"),
        "special_claims": list(item.get("special_claims", [])),
        "created_at": item.get("created_at"),
        "verification": verdict.status if verdict else None,
        "verification_zh": (
            "家长已撤回报名"  # in the window (issue 19): no verification follows
            if item.get("status") == WITHDRAWN
            else VERDICT_ZH.get(verdict.status, verdict.status)
            if verdict
            else "待核查"
        ),
        "reasons_zh": [REASON_ZH.get(r, r) for r in verdict.reasons] if verdict else [],
        "signed_by": verdict.decided_by if verdict and verdict.decided_by != "system" else None,
    }


def case_row(verdict: Verdict, item: Mapping[str, Any] | None) -> dict[str, Any]:
    """A review-queue case: the verdict, its reasons in Chinese and the masked child."""
    return {
        **verdict.model_dump(mode="json"),
        "status_zh": VERDICT_ZH.get(verdict.status, verdict.status),
        "reasons_zh": [REASON_ZH.get(r, r) for r in verdict.reasons],
        "review_zh": [REASON_REVIEW_ZH[r] for r in verdict.reasons if r in REASON_REVIEW_ZH],
        "child": child_of(item) if item else None,
        "guardians": guardians_of(item) if item else [],
    }


def placement_row(
    config: SeasonConfig, item: Mapping[str, Any], placed: Mapping[str, Any] | None
) -> dict[str, Any]:
    """One child's place (after placement has run): school, route and why (R-COORD-1)."""
    route = str(placed["route"]) if placed else None
    reason = placed.get("reason") if placed else None
    return {
        "registration_id": item["registration_id"],
        "grade": int(item["grade"]),
        "category": item["category"],
        "category_zh": CATEGORY_ZH.get(str(item["category"]), str(item["category"])),
        "child": child_of(item),
        "school": _school(config, placed.get("school_id")) if placed else None,
        "route": route,
        "route_zh": ROUTE_ZH.get(route, route) if route else None,
        "reason": reason,
        "reason_zh": PLACEMENT_REASON_ZH.get(str(reason), reason) if route == "coordination" else reason,
        "status": placed.get("status") if placed else None,
    }


# The season's phases ------------------------------------------------------------------------------


def phase_board(config: SeasonConfig, store: Store, season: str, now: datetime) -> list[dict[str, Any]]:
    """Every phase in order: its deadline (after extensions) and its gate: not reached, open, advanced."""
    out = []
    for p in phases(config):
        gate = store.get_gate(season, p.name)
        state = "not-reached" if gate is None else str(gate.get("status", "open"))
        deadline = deadline_of(config, store, season, p.name)
        row: dict[str, Any] = {
            "phase": p.name,
            "title_zh": p.title_zh,
            "deadline": deadline.astimezone(config.tz).isoformat(),
            "published_deadline": p.deadline.astimezone(config.tz).isoformat(),
            "extended": deadline != p.deadline,
            "state": state,
            "state_zh": GATE_ZH.get(state, state),
            "opened_at": gate.get("opened_at") if gate else None,
            "overdue": state == "open" and now >= deadline,
        }
        if state == "advanced" and gate is not None:
            source = str(gate.get("source", ""))
            row |= {
                "advanced_at": gate.get("advanced_at"),
                "advanced_by": gate.get("advanced_by"),
                "source": source,
                "source_zh": SOURCE_ZH.get(source, source),
                "reason": gate.get("reason"),
            }
        out.append(row)
    return out


# The sealed archive -------------------------------------------------------------------------------


def archive_listing(
    prefix: str, manifest_bytes: bytes | None, link: Callable[[str], str], seconds: int
) -> dict[str, Any]:
    """The archive's files as its manifest lists them, plus the manifest, signature and public key,
    each with a short-lived download link (`link(key)`)."""
    if manifest_bytes is None:
        raise NotYet("归档尚未封存：招生结束后由系统签名封存", "the archive is not sealed yet")
    manifest = json.loads(manifest_bytes)
    files = [
        {"key": f["key"], "sha256": f["sha256"], "bytes": f["bytes"], "url": link(prefix + f["key"])}
        for f in manifest["files"]
    ]
    signed = [
        {"key": k, "url": link(prefix + k)} for k in ("manifest.json", "manifest.sig.json", "public-key.pem")
    ]
    return {
        "prefix": prefix,
        "created_at": manifest.get("created_at"),
        "files": files,
        "signed": signed,
        "links_expire_in": seconds,
    }


def placement_summary(config: SeasonConfig, placements_jsonl: bytes | None) -> dict[str, Any] | None:
    """The season's places at a glance (no child named): by route and by the placing school's district."""
    if placements_jsonl is None:
        return None
    by_route: dict[str, int] = {}
    by_district: dict[str, int] = {d.code: 0 for d in config.districts}
    total = placed = 0
    for raw in placements_jsonl.splitlines():  # a line at a time: a city's season is 300,000 lines
        if not raw.strip():
            continue
        line = json.loads(raw)
        total += 1
        placed += bool(line.get("school_id"))
        by_route[line["route"]] = by_route.get(line["route"], 0) + 1
        school = config.school_index.get(str(line.get("school_id")))
        if school is not None:
            by_district[school.district] = by_district.get(school.district, 0) + 1
    return {
        "total": total,
        "placed": placed,
        "deferred": total - placed,
        "by_route": {r: {"route_zh": ROUTE_ZH.get(r, r), "count": n} for r, n in sorted(by_route.items())},
        "by_district": [
            {
                "code": code,
                "name": config.district_index[code].name if code in config.district_index else code,
                "placed": n,
            }
            for code, n in by_district.items()
        ],
    }
