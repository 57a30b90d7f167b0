"""A console list's current view as an .xlsx file (issue 19), one writer for the three lists: the
review queue (every page followed, cut at EXPORT_MAX and saying so) and a district's registrations
and placements (every row of the searched, filtered and sorted view, bounded as sorting is); the
rows masked as the list shows them, under the sheet's title and the filters in words."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook

from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.staff import StaffDirectory, StaffMember
from enrollment.exports import views as queue_export
from enrollment.exports.sheets import XLSX, read_xlsx
from enrollment.people import console, lists
from enrollment.verification import search
from enrollment.verification.search import BadSearch
from tests.unit.test_list_search import _district, _query
from tests.unit.test_list_search import _pages as _list_pages
from tests.unit.test_queue_search import ID_NUMBERS, KEYER
from tests.unit.test_review import SEASON


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("seasons/jilin-2023.yaml")


@pytest.fixture(scope="module")
def cy() -> StaffMember:
    return StaffDirectory.load("jilin-2023").lookup("cy-staff-01")


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
    made = queue_export.workbook(queue_export.QUEUE, "船营区", collected, date(2023, 6, 14))
    assert made["file_name"] == "船营区待审核案件-2023-06-14.xlsx" and made["media_type"] == XLSX
    assert made["rows"] == 7
    [(title, lines)] = read_xlsx(made["content"]).items()
    assert title == "船营区待审核案件"
    assert lines[0][0] == "船营区待审核案件（2023-06-14导出，共7条）" and lines[1][0] == "筛选条件：全部"
    lines = lines[2:]
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
    made = queue_export.workbook(queue_export.QUEUE, "船营区", [], date(2023, 6, 14))
    assert made["rows"] == 0
    [lines] = read_xlsx(made["content"]).values()
    assert lines[2:] == [queue_export.HEADERS]


# A district's registrations: the file is the list's answer, every page of it -------------------------


def test_the_registrations_file_is_the_filtered_sorted_list_every_page_masked(
    config: SeasonConfig, cy: StaffMember
) -> None:
    items, verdicts = _district(40)
    params = {"category": "public", "status": "not-eligible", "sort": "created_at", "order": "desc"}
    # What the list answers, page after page (5 rows a page)
    listed = _list_pages(config, cy, items, verdicts, **params)
    assert len(listed) >= 3
    # The export's rows: the same view, read whole
    sort = search.sort_request("created_at", "desc", lists.REGISTRATION_SORTS)
    flt = lists.registration_filter(params, season=SEASON, schools=config.school_index, keyer=KEYER)
    take = lists.registration_rows(config, flt, lambda ids: {i: verdicts[i] for i in ids if i in verdicts})
    rows = lists.district_view(_query(items), (1, 7), cy, "CY", take, sort)
    assert rows == listed
    filters = queue_export.registrations_summary(config, params | {"q": str(items[3]["masked_id"])[-4:]})
    made = queue_export.workbook(queue_export.REGISTRATIONS, "船营区", rows, date(2023, 6, 14), filters)
    assert made["file_name"] == "船营区报名学生-2023-06-14.xlsx" and made["rows"] == len(listed)
    # Opened with openpyxl: the title, the filters in words, the Chinese header, then the list's rows
    ws = load_workbook(io.BytesIO(made["content"]), read_only=True).active
    lines = [tuple("" if v is None else str(v) for v in r) for r in ws.iter_rows(values_only=True)]
    assert ws.title == "船营区报名学生" and lines[0][0].startswith("船营区报名学生（2023-06-14导出")
    assert lines[1][0].startswith("筛选条件：") and "审核状态" not in lines[1][0]
    assert "状态 审核未通过（统筹安排）" in lines[1][0] and "报名类别 公办学校" in lines[1][0]
    assert "排序 报名时间 降序" in lines[1][0]
    assert lines[2] == (
        "报名编号", "儿童姓名", "身份证号", "年级", "报名类别", "志愿学校", "报名时间", "审核状态", "原因"
    )  # fmt: skip
    body = lines[3:]
    assert [b[0] for b in body] == [r["registration_id"] for r in listed]
    assert [b[6] for b in body] == [r["created_at"] for r in listed]  # sorted as the list is
    for b, r in zip(body, listed, strict=True):
        assert b[1] == r["child"]["name"] and b[2] == r["child"]["id_number"]  # masked as listed
        assert b[2].startswith("*" * 14) and b[7] == "审核未通过（统筹安排）" and b[4] == "公办学校"
        assert b[8] == "；".join(r["reasons_zh"]) and b[8]
        assert b[5] == (r["target_school"] or {}).get("name", "")
    # no full ID number anywhere in the file
    text = "".join("".join(line) for line in lines)
    assert not any(number in text for number in ID_NUMBERS)


def test_a_full_id_number_searched_for_is_shown_by_its_last_four(config: SeasonConfig) -> None:
    words = queue_export.registrations_summary(config, {"q": "220202201601011234", "grade": "1"})
    assert words == "筛选条件：年级 一年级；查找 **************1234"
    assert "13912345678" not in queue_export.placements_summary(config, {"q": "13912345678"})
    assert queue_export.placements_summary(config, {"status": "coordination"}) == "筛选条件：状态 统筹安排"


def test_a_view_too_long_to_export_is_refused_naming_the_parameter(
    config: SeasonConfig, cy: StaffMember, monkeypatch: pytest.MonkeyPatch
) -> None:
    items, verdicts = _district(20)
    monkeypatch.setattr(search, "SORT_MAX", 10)
    flt = lists.registration_filter({}, season=SEASON, schools=config.school_index, keyer=KEYER)
    take = lists.registration_rows(config, flt, lambda ids: {i: verdicts[i] for i in ids if i in verdicts})
    with pytest.raises(BadSearch) as e:
        lists.district_view(_query(items), (1, 7), cy, "CY", take, None)
    assert e.value.field == "q" and e.value.status == 422 and "无法导出" in e.value.message_zh
    by = search.sort_request("grade", None, lists.REGISTRATION_SORTS)
    with pytest.raises(BadSearch) as e:
        lists.district_view(_query(items), (1, 7), cy, "CY", take, by)
    assert e.value.field == "sort"
    # one grade is within the bound: exported whole, in the list's order
    monkeypatch.setattr(search, "SORT_MAX", 15)
    rows = lists.district_view(_query(items), (1,), cy, "CY", take, None)
    assert [r["grade"] for r in rows] == [1] * len(rows) and len(rows) == sum(i["grade"] == 1 for i in items)
    assert console.page_request("1", None, None).grades == (1,)
