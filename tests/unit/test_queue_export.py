"""The review queue as an .xlsx file (issue 19): the console's rows, masked as shown, every page
followed, cut at EXPORT_MAX and saying so."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from enrollment.exports import review_queue as queue_export
from enrollment.exports.sheets import XLSX, read_xlsx


def _row(n: int) -> dict[str, Any]:
    return {
        "registration_id": f"R-AAAA-AAAA-AAAA-{n:04d}",
        "grade": 7 if n % 2 else 1,
        "category": "private" if n % 3 == 0 else "public",
        "status_zh": "待人工复核",
        "reasons_zh": ["房产登记时间晚于规定日期", "未提供房产信息"] if n % 2 else [],
        "child": {"name": "王**", "id_number": "**************001X"},
    }


def _pages(rows: list[dict[str, Any]], size: int) -> Any:
    def page(after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        start = (
            0 if after is None else next(i for i, r in enumerate(rows) if r["registration_id"] == after) + 1
        )
        found = rows[start : start + size]
        more = start + size < len(rows)
        return found, found[-1]["registration_id"] if more else None

    return page


def test_the_file_holds_every_page_of_the_view_masked_as_shown() -> None:
    rows = [_row(n) for n in range(7)]
    collected, truncated = queue_export.collect(_pages(rows, 3))
    assert collected == rows and not truncated
    made = queue_export.workbook("船营区", collected, date(2023, 6, 14))
    assert made["file_name"] == "船营区待审核案件-2023-06-14.xlsx" and made["media_type"] == XLSX
    assert made["rows"] == 7
    [(title, lines)] = read_xlsx(made["content"]).items()
    assert title == "船营区待审核案件"
    assert lines[0] == queue_export.HEADERS
    assert lines[2] == (
        "R-AAAA-AAAA-AAAA-0001",
        "王**",
        "**************001X",
        "七年级",
        "公办学校",
        "待人工复核",
        "房产登记时间晚于规定日期；未提供房产信息",
    )
    assert [line[0] for line in lines[1:]] == [r["registration_id"] for r in rows]


@pytest.mark.parametrize("extra", [0, 1, 600])
def test_a_longer_view_is_cut_at_the_limit_and_says_so(monkeypatch: pytest.MonkeyPatch, extra: int) -> None:
    monkeypatch.setattr(queue_export, "EXPORT_MAX", 5)
    rows = [_row(n) for n in range(5 + extra)]
    collected, truncated = queue_export.collect(_pages(rows, 2))
    assert collected == rows[:5] and truncated == (extra > 0)


def test_an_empty_view_is_a_file_with_its_header_only() -> None:
    made = queue_export.workbook("船营区", [], date(2023, 6, 14))
    assert made["rows"] == 0
    assert list(read_xlsx(made["content"]).values()) == [[queue_export.HEADERS]]
