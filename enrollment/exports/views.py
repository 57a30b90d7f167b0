"""A console list's current view as an `.xlsx` file (issue 19): the review queue, a district's
registrations and its placements, each with the rows the console shows for the same search, filters
and sort, masked as the console masks them (R-DATA-2: names as 王**, ID numbers' last four only),
so taking the file discloses nothing the screen does not. One writer for the three: a `View` names
the sheet and its columns (Chinese headers, each cell read from the list's row as the API answers
it); the sheet starts with its title and the filter summary, then the header and the rows
(`enrollment.exports.sheets`: text cells, a bold frozen header).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from enrollment.core import idcard
from enrollment.core.config import SeasonConfig
from enrollment.exports.sheets import XLSX, Sheet, to_xlsx
from enrollment.people.console import VERDICT_ZH
from enrollment.placement.routes import REASON_ZH as PLACEMENT_REASON_ZH
from enrollment.placement.routes import ROUTE_ZH
from enrollment.registration.form import CATEGORY_ZH
from enrollment.verification.verdicts import REASON_ZH

EXPORT_MAX = 2000  # the queue's cases in one file; a longer queue is cut there and says so (`truncated`)
GRADE_ZH = {1: "一年级", 7: "七年级"}
Row = Mapping[str, Any]
Page = Callable[[str | None], tuple[list[dict[str, Any]], str | None]]


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Row], str]


@dataclass(frozen=True)
class View:
    title: str  # the sheet's and the file's name after the district's: `{区名}{title}`
    columns: tuple[Column, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)


def _child(key: str) -> Callable[[Row], str]:
    return lambda r: str((r.get("child") or {}).get(key, ""))


def _grade(r: Row) -> str:
    return GRADE_ZH.get(int(r["grade"]), f"{r['grade']}年级")


def _category(r: Row) -> str:
    return CATEGORY_ZH.get(str(r["category"]), str(r["category"]))


def _school(key: str) -> Callable[[Row], str]:
    return lambda r: str((r.get(key) or {}).get("name", ""))


def _text(key: str) -> Callable[[Row], str]:
    return lambda r: "" if r.get(key) is None else str(r[key])


def _reasons(r: Row) -> str:
    return "；".join(r.get("reasons_zh") or [])


RID = Column("报名编号", _text("registration_id"))
NAME = Column("儿童姓名", _child("name"))
ID_NUMBER = Column("身份证号", _child("id_number"))  # masked by the list: `**************123X`
GRADE = Column("年级", _grade)
CATEGORY = Column("报名类别", _category)

QUEUE = View(
    "待审核案件",
    (RID, NAME, ID_NUMBER, GRADE, CATEGORY, Column("当前结论", _text("status_zh")), Column("原因", _reasons)),
)
REGISTRATIONS = View(
    "报名学生",
    (
        RID,
        NAME,
        ID_NUMBER,
        GRADE,
        CATEGORY,
        Column("志愿学校", _school("target_school")),
        Column("报名时间", _text("created_at")),
        Column("审核状态", _text("verification_zh")),
        Column("原因", _reasons),
    ),
)
PLACEMENTS = View(
    "学生安置结果",
    (
        RID,
        NAME,
        ID_NUMBER,
        GRADE,
        CATEGORY,
        Column("录取学校", _school("school")),
        Column("录取途径", _text("route_zh")),
        Column("原因", _text("reason_zh")),
    ),
)
HEADERS = QUEUE.headers


def collect(page: Page) -> tuple[list[dict[str, Any]], bool]:
    """Every queue case the pages give, following their cursors, up to `EXPORT_MAX`; and whether cut."""
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        found, after = page(after)
        rows += found
        if len(rows) >= EXPORT_MAX:
            return rows[:EXPORT_MAX], len(rows) > EXPORT_MAX or after is not None
        if after is None:
            return rows, False


# What the view was filtered by, in words ------------------------------------------------------------

SORT_ZH = {
    "registration_id": "报名编号",
    "created_at": "报名时间",
    "grade": "年级",
    "category": "报名类别",
    "school": "学校",
    "status": "审核状态",
    "route": "录取途径",
}
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_PHONE = re.compile(r"^1\d{10}$")


def shown_query(q: str | None) -> str:
    """The search text as the file may show it: a full ID number by its last four, a mobile number
    as 138****1234 (the lists show neither in full)."""
    value = re.sub(r"\s+", "", q or "").upper()
    if _ID_NUMBER.fullmatch(value):
        return idcard.mask(value)
    if _PHONE.fullmatch(value):
        return f"{value[:3]}****{value[-4:]}"
    return value


def summary(
    config: SeasonConfig,
    params: Mapping[str, str | None],
    states_zh: Mapping[str, str],
    reasons_zh: Mapping[str, str],
) -> str:
    """`筛选条件：年级 一年级；查找 …；状态 …；排序 报名时间 降序` (or `全部`), from the list's
    parameters as checked by the list (unknown values never reach here)."""
    parts: list[str] = []
    if params.get("grade"):
        parts.append(f"年级 {GRADE_ZH.get(int(str(params['grade'])), params['grade'])}")
    if params.get("q"):
        parts.append(f"查找 {shown_query(params['q'])}")
    if params.get("status"):
        parts.append(f"状态 {states_zh.get(str(params['status']), params['status'])}")
    if params.get("reason"):
        parts.append(f"原因 {reasons_zh.get(str(params['reason']), params['reason'])}")
    if params.get("category"):
        parts.append(f"报名类别 {CATEGORY_ZH.get(str(params['category']), params['category'])}")
    if params.get("school"):
        school = config.school_index.get(str(params["school"]))
        parts.append(f"学校 {school.name if school else params['school']}")
    if params.get("sort"):
        way = "降序" if params.get("order") == "desc" else "升序"
        parts.append(f"排序 {SORT_ZH.get(str(params['sort']), params['sort'])} {way}")
    return "筛选条件：" + ("；".join(parts) if parts else "全部")


REGISTRATION_STATES_ZH = {**VERDICT_ZH, "pending": "待核查"}
QUEUE_STATES_ZH = VERDICT_ZH


def registrations_summary(config: SeasonConfig, params: Mapping[str, str | None]) -> str:
    return summary(config, params, REGISTRATION_STATES_ZH, REASON_ZH)


def placements_summary(config: SeasonConfig, params: Mapping[str, str | None]) -> str:
    return summary(config, params, ROUTE_ZH, PLACEMENT_REASON_ZH)


def queue_summary(config: SeasonConfig, params: Mapping[str, str | None]) -> str:
    return summary(config, params, QUEUE_STATES_ZH, REASON_ZH)


# The file ------------------------------------------------------------------------------------------


def workbook(
    view: View, district_name: str, rows: Sequence[Row], day: date, filters: str = "筛选条件：全部"
) -> dict[str, Any]:
    """The file and its name, `{区名}{title}-{日期}.xlsx`: one sheet, its title and `filters` on the
    first two lines, then the header and the rows (the list's rows, masked as answered)."""
    title = f"{district_name}{view.title}"
    sheet = Sheet(
        title,
        view.headers,
        [tuple(c.cell(r) for c in view.columns) for r in rows],
        frozenset({ID_NUMBER.header}),
        notes=(f"{title}（{day.isoformat()}导出，共{len(rows)}条）", filters),
    )
    return {
        "file_name": f"{title}-{day.isoformat()}.xlsx",
        "media_type": XLSX,
        "rows": len(rows),
        "content": to_xlsx([sheet]),
    }
