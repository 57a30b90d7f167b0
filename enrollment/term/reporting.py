"""Reporting day (R-NOTE-1) and sunshine classes (R-CLASS-1) for the children who reported.

Schools report arrivals through their district bureau (a child is marked once; marking again changes
nothing); children placed but not arrived are the no-shows the school follows up. A week before
term each school's arrived children are assigned to classes (`enrollment.term.classes`: balanced by sex
and birth month, random from a recorded seed) and the class lists become a separately signed
addition to the season's archive (`additions/{season}/classes/`, the same manifest, signature and
key files as LOTTERY.md's archive), never a rewrite of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from enrollment.core import idcard
from enrollment.core.config import School, SeasonConfig
from enrollment.core.ports import NotFound, Registrations
from enrollment.core.staff import Forbidden, StaffError, StaffMember
from enrollment.term import classes

CLASS_SIZE = {1: 45, 7: 50}  # the national standard class sizes for primary and junior secondary


class Arrivals(Protocol):
    def mark_arrival(self, season: str, school_id: str, registration_id: str, item: dict[str, Any]) -> bool:
        """Record an arrival once. True if newly recorded."""
        ...

    def arrivals(self, season: str, school_id: str) -> set[str]: ...


class SchoolArrivals(Protocol):
    def arrivals(self, season: str, school_id: str) -> set[str]:
        """One school's arrived registration ids (its own index range: one query, paged)."""
        ...


class ArrivalRefused(StaffError):
    status = 422


def mark_arrivals(
    config: SeasonConfig,
    season: str,
    school_id: str,
    registration_ids: Iterable[str],
    placed_at: Mapping[str, str | None],
    *,
    staff: StaffMember,
    store: Arrivals,
    at: str,
) -> dict[str, Any]:
    """The school's children who came with their notice (R-NOTE-1); refused for children placed elsewhere."""
    school_of(config, school_id, staff)
    ids = list(registration_ids)
    elsewhere = [rid for rid in ids if placed_at.get(rid) != school_id]
    if elsewhere:
        raise ArrivalRefused(
            f"以下学生未被本校录取：{', '.join(elsewhere[:10])}",
            f"not placed at {school_id}: {elsewhere[:10]}",
        )
    new = sum(store.mark_arrival(season, school_id, rid, {"at": at, "by": staff.principal}) for rid in ids)
    return {"school_id": school_id, "marked": new, "already": len(ids) - new}


NoticeCheck = Callable[[str, str], Mapping[str, Any]]
REFUSED_ZH = {
    "invalid": "核验码不符：报名编号与核验码不符，请核对通知书",
    "elsewhere": "不是本校录取的学生，请到录取学校报到",
}


def mark_notices(
    config: SeasonConfig,
    season: str,
    school_id: str,
    notices: Sequence[tuple[str, str]],
    check: NoticeCheck,
    placed_at: Mapping[str, str | None],
    children: Mapping[str, Mapping[str, Any]],
    *,
    staff: StaffMember,
    store: Arrivals,
    at: str,
) -> dict[str, Any]:
    """Reporting day by the notices themselves (R-NOTE-1): each notice's registration id and code,
    typed or scanned at the school's desk, checked as a school checks a notice (`check(rid, code)`:
    `enrollment.notices.corrected.check` for the school's district) and the child's arrival recorded
    in the same step. Row by row: a wrong code, a revoked notice, another school's child, or one who
    has reported already is refused with why in Chinese, and nothing is recorded for it; the others
    stand. Each row names the child as published lists do (张*明) and the school."""
    school = school_of(config, school_id, staff)
    results: list[dict[str, Any]] = []
    for rid, code in notices:
        row: dict[str, Any] = {"registration_id": rid, "school_id": school_id, "school_name": school.name}
        checked = check(rid, code)
        if checked.get("status") == "revoked":
            results.append(row | {"status": "refused", "reason": "revoked", "message": checked["message"]})
            continue
        if checked.get("status") != "valid":
            results.append(row | {"status": "refused", "reason": "invalid", "message": REFUSED_ZH["invalid"]})
            continue
        if checked.get("school_id") != school_id or placed_at.get(rid) != school_id:
            refused = {"status": "refused", "reason": "elsewhere", "message": REFUSED_ZH["elsewhere"]}
            results.append(row | refused)
            continue
        row["child_name"] = child_names({rid: children.get(rid, {})})[rid]
        if store.mark_arrival(season, school_id, rid, {"at": at, "by": staff.principal}):
            results.append(
                row | {"status": "arrived", "message": f"已报到：{row['child_name']}，{school.name}"}
            )
        else:
            results.append(
                row | {"status": "already", "reason": "already", "message": "已登记过报到，无需重复登记"}
            )
    counted = {k: sum(r["status"] == k for r in results) for k in ("arrived", "already", "refused")}
    return {"school_id": school_id, "school_name": school.name, "at": at, **counted, "results": results}


def school_of(config: SeasonConfig, school_id: str, staff: StaffMember) -> School:
    """The school whose arrivals are recorded, by its own district's staff only."""
    school = config.school_index.get(school_id)
    if school is None:
        raise ArrivalRefused(f"没有学校 {school_id}", f"no school {school_id!r}")
    if not (staff.role == "district" and staff.district == school.district):
        district = config.district_index.get(school.district)
        raise Forbidden(
            f"只有{district.name if district else '本区'}教育局可以登记本区学校报到",
            "only the school's district records arrivals",
        )
    return school


def no_shows(placed: Iterable[str], arrived: set[str]) -> list[str]:
    """Children placed at the school (`placed`) who have not reported: the school follows them up (R-NOTE-1)."""
    return sorted(rid for rid in placed if rid not in arrived)


def child_names(registrations: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Children's names as published lists print them (张*明), by registration id."""
    return {
        rid: idcard.mask_name(str(item.get("request", {}).get("child", {}).get("name", "")))
        for rid, item in registrations.items()
    }


def student(registration: Mapping[str, Any]) -> classes.Student:
    child = registration["request"]["child"]
    return classes.Student(
        str(registration["registration_id"]), child["sex"], date.fromisoformat(str(child["birth_date"])).month
    )


def school_students(
    season: str,
    school_id: str,
    placed: Iterable[str],
    *,
    arrivals: SchoolArrivals,
    registrations: Registrations,
) -> list[classes.Student]:
    """One school's arrived children among `placed` (the ids placed at one of its grades, in the
    order given) as the dealing's students: the school's arrivals in one read, their registrations
    in batches (`get_registrations`), never one read per child, nor the season's arrivals."""
    came = arrivals.arrivals(season, school_id)
    arrived = [rid for rid in placed if rid in came]
    found = registrations.get_registrations(arrived)
    missing = sorted(rid for rid in arrived if rid not in found)
    if missing:
        raise NotFound(", ".join(missing[:10]))
    return [student(found[rid]) for rid in arrived]


def class_count(arrived: int, grade: int, school: School | None = None) -> int:
    """How many sunshine classes `arrived` children make: the school's published classes for the
    grade (班数; never more than the children, a class is never empty), else the children at the
    school's class size (班额), else at the national class size (CLASS_SIZE)."""
    if school is not None and grade in school.classes:
        return max(1, min(school.classes[grade], arrived))
    size = school.class_size.get(grade) if school is not None else None
    return max(1, math.ceil(arrived / (size or CLASS_SIZE.get(grade, 45))))


def assign_school(
    season: str,
    school_id: str,
    grade: int,
    students: list[classes.Student],
    seed: str,
    school: School | None = None,
) -> dict[str, object] | None:
    """One school and grade's sunshine classes, as the record the addition archives (None: nobody came).
    `school`: its config, whose classes or class size for the grade decide the number of classes."""
    if not students:
        return None
    count = class_count(len(students), grade, school)
    return classes.assign(season, school_id, grade, students, count, seed, seed_source="system").record()
