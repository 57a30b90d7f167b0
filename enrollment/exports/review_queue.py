"""The review queue as the clerk sees it, as an `.xlsx` file (issue 19): the same cases the console
shows for the same search and filters, masked as the console masks them (R-DATA-2), so taking the
file discloses nothing the screen does not. Written by the exports' one sheet writer
(`enrollment.exports.sheets`: text cells, a bold frozen header).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from enrollment.exports.sheets import XLSX, Sheet, to_xlsx
from enrollment.registration.form import CATEGORY_ZH

EXPORT_MAX = 2000  # cases in one file; a longer list is cut there and says so (`truncated`)
HEADERS = ("报名编号", "儿童姓名", "身份证号", "年级", "报名类别", "当前结论", "原因")
GRADE_ZH = {1: "一年级", 7: "七年级"}

Page = Callable[[str | None], tuple[list[dict[str, Any]], str | None]]


def collect(page: Page) -> tuple[list[dict[str, Any]], bool]:
    """Every case the pages give, following their cursors, up to `EXPORT_MAX`; and whether cut."""
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        found, after = page(after)
        rows += found
        if len(rows) >= EXPORT_MAX:
            return rows[:EXPORT_MAX], len(rows) > EXPORT_MAX or after is not None
        if after is None:
            return rows, False


def _line(row: Mapping[str, Any]) -> tuple[str, ...]:
    child = row.get("child") or {}
    return (
        str(row["registration_id"]),
        str(child.get("name", "")),
        str(child.get("id_number", "")),
        GRADE_ZH.get(int(row["grade"]), f"{row['grade']}年级"),
        CATEGORY_ZH.get(str(row["category"]), str(row["category"])),
        str(row.get("status_zh", "")),
        "；".join(row.get("reasons_zh", [])),
    )


def workbook(district_name: str, rows: Sequence[Mapping[str, Any]], day: date) -> dict[str, Any]:
    """The file and its name: `{区名}待审核案件-{日期}.xlsx`, one sheet of the rows (console rows)."""
    sheet = Sheet(f"{district_name}待审核案件", HEADERS, [_line(r) for r in rows], frozenset({"身份证号"}))
    return {
        "file_name": f"{district_name}待审核案件-{day.isoformat()}.xlsx",
        "media_type": XLSX,
        "rows": len(rows),
        "content": to_xlsx([sheet]),
    }
