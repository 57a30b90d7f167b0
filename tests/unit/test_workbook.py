"""The season's workbook (enrollment.core.workbook): every bad workbook names the cell, in Chinese and English."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from enrollment.core import workbook
from enrollment.core.workbook import Problem, WorkbookProblems, read_workbook, workbook_bytes


def book(tmp_path: Path, edit: Callable[[Any], None] | None = None, name: str = "city.xlsx") -> Path:
    """The template (one example row a sheet, a valid season) with `edit` applied, saved as `name`."""
    wb = load_workbook(io.BytesIO(workbook_bytes(None)))
    if edit is not None:
        edit(wb)
    path = tmp_path / name
    wb.save(path)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(WorkbookProblems) as e:
        read_workbook(path, "example")
    return [str(p) for p in e.value.problems]


def test_the_template_is_a_valid_season_of_its_own(tmp_path: Path) -> None:
    config = read_workbook(book(tmp_path), "example")
    assert config == workbook.example_config()
    sheets = load_workbook(book(tmp_path)).sheetnames
    assert sheets == [
        "说明",
        "招生季",
        "区",
        "街路",
        "小区",
        "学校",
        "片区",
        "民办学校",
        "特殊教育",
        "专门学校",
        "系统设置",
    ]
    # one example row on every sheet of the city's things
    wb = load_workbook(book(tmp_path))
    for name in ("区", "街路", "小区", "学校", "片区", "民办学校", "特殊教育", "专门学校"):
        assert wb[name].max_row == 2, name
    assert wb["片区"]["E2"].value == "松江路" and wb["片区"]["I2"].value == "江畔花园"
    assert wb["片区"]["H2"].value == "全部" and wb["民办学校"]["O2"].value == "是"


def test_an_unknown_road_in_a_zone_names_the_cell(tmp_path: Path) -> None:
    path = book(tmp_path, lambda wb: wb["片区"].__setitem__("E2", "松花江路"))
    assert problems(path) == ["片区!E2 街路「松花江路」不存在 / unknown road"]


def test_unknown_school_compound_district_and_road_of_a_compound(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["片区"]["D2"] = "S-CY-09"
        wb["片区"]["I2"] = "江北家园"
        wb["街路"]["B2"] = "CX"
        wb["小区"]["C2"] = "解放路"

    assert problems(book(tmp_path, edit)) == [
        "街路!B2 区「CX」不存在 / unknown district",
        "小区!C2 街路「解放路」不存在 / unknown road",
        "片区!D2 学校「S-CY-09」不存在 / unknown school",
        "片区!E2 「松江路」在 CX 区，不在 CY 区 / 松江路 is in district CX, not CY",
        "片区!I2 小区「江北家园」不存在 / unknown compound",
    ]


def test_overlapping_zones(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["片区"].append(["Z-CY-1-02", "CY", "一年级", "S-CY-01", "松江路", 150, 300, "双号", None])

    assert problems(book(tmp_path, edit)) == [
        "片区!E3 与片区 Z-CY-1-01 在「松江路」上的门牌号重叠 / overlaps zone Z-CY-1-01 on 松江路"
    ]


def test_a_plan_of_zero_for_a_school_a_zone_names(tmp_path: Path) -> None:
    path = book(tmp_path, lambda wb: wb["学校"].__setitem__("J2", 0))
    assert problems(path) == [
        "学校!J2 一年级计划为 0，但片区 Z-CY-1-01 划入该校 / a plan of 0 for a school that zone Z-CY-1-01 names"
    ]


def test_a_plan_of_zero_without_a_zone_is_a_season_of_its_own(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["民办学校"]["I2"] = 0  # a private school that takes nobody this year

    assert read_workbook(book(tmp_path, edit), "example").school_index["P-CY-01"].plans == {1: 0}


def test_dates_out_of_order(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        ws = wb["招生季"]
        assert ws["A21"].value == "民办学校电脑派位" and ws["A20"].value == "民办学校报名人数上报截止"
        ws["B21"] = date(2024, 6, 12)

    assert problems(book(tmp_path, edit)) == [
        "招生季!B21 日期顺序不对：「民办学校电脑派位」（2024-06-12）早于「民办学校报名人数上报截止」（2024-06-16）"
        " / dates out of order: lottery_day comes before private_counts_due"
    ]


def test_a_window_that_ends_before_it_starts(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        assert wb["招生季"]["A17"].value == "信息审核结束"
        wb["招生季"]["B17"] = "2024-05-29"  # a date as text is read too

    assert problems(book(tmp_path, edit)) == [
        "招生季!B17 结束日期 2024-05-29 早于开始日期 2024-05-30 / the end is before the start"
    ]


def test_a_coordinate_outside_the_citys_box(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        ws = wb["招生季"]
        assert [ws[f"A{r}"].value for r in (6, 7, 8, 9)] == [
            "城市范围最南纬度",
            "城市范围最北纬度",
            "城市范围最西经度",
            "城市范围最东经度",
        ]
        assert [ws[f"B{r}"].value for r in (6, 7, 8, 9)] == [43.84, 43.87, 126.47, 126.55]
        wb["学校"]["G2"] = 44.85  # a typo in the degree: another city
        wb["街路"]["G2"] = 125.54

    assert problems(book(tmp_path, edit)) == [
        "街路!G2 经度 125.54 不在城市范围 126.47–126.55 内 / longitude 125.54 is outside the city's box",
        "学校!G2 纬度 44.85 不在城市范围 43.84–43.87 内 / latitude 44.85 is outside the city's box",
    ]


def test_duplicate_codes(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["街路"].append(["松江路", "CY", 300, 43.86, 126.48, 43.86, 126.52])
        wb["民办学校"]["B2"] = "S-CY-01"  # the public school's code again, on another sheet
        wb["区"].append(["CX", "昌邑区", "城区", "220202", "延迟接受", "policy", "政策性照顾", "政策性照顾"])
        wb["区"].append(["CY", "船营区", "城区", "220204", "延迟接受", "policy", "政策性照顾", "政策性照顾"])

    assert problems(book(tmp_path, edit)) == [
        "区!A4 区代码「CY」重复：同一区的行应连在一起（见第2行） / duplicate district code CY: a district's rows go together",
        "街路!A3 「松江路」重复 / duplicate code 松江路",
        "民办学校!B2 「S-CY-01」重复 / duplicate code S-CY-01",
    ]


def test_wrong_cell_types(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["学校"]["J2"] = "二百七十"
        wb["街路"]["D2"] = "北纬43度"
        wb["招生季"]["B26"] = "七月初"  # 发放录取通知书
        wb["片区"]["H2"] = "奇数"
        wb["民办学校"]["O2"] = "批准"
        wb["片区"]["C2"] = date(2024, 1, 1)

    assert problems(book(tmp_path, edit)) == [
        "招生季!B26 「发放录取通知书」应为日期（如 2024-05-11）（填的是「七月初」） / must be a date",
        "街路!D2 「起点纬度」应为数字（填的是「北纬43度」） / must be a number",
        "学校!J2 「一年级计划」应为整数（填的是「二百七十」） / must be a whole number",
        "片区!C2 「年级」应填「一年级」或「七年级」（填的是「2024-01-01」） / must be grade 1 or 7",
        "片区!H2 「单双号」应为以下之一：全部、单号、双号（填的是「奇数」） / must be one of: all, odd, even",
        "民办学校!O2 「跨区招生」应填「是」或「否」（填的是「批准」） / must be 是 or 否 (yes or no)",
    ]


def test_numbers_stored_as_text_and_text_dates_are_read(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["学校"]["J2"] = " 270 "
        wb["招生季"]["B21"] = "2024年6月17日"
        wb["街路"]["D2"] = "43.85"

    assert read_workbook(book(tmp_path, edit), "example") == workbook.example_config()


def test_merged_cells(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        ws = wb["片区"]
        ws.append(["Z-CY-1-01", "CY", "一年级", "S-CY-01", "松江路", 201, 260, "全部", None])
        ws.merge_cells("A2:A3")

    assert problems(book(tmp_path, edit))[0] == (
        "片区!A2 有合并单元格 A2:A3，请取消合并并在每一行填写 / merged cells A2:A3: unmerge them and fill in every row"
    )


def test_a_blank_required_cell_and_a_missing_sheet(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["学校"]["C2"] = None
        del wb["街路"]

    found = problems(book(tmp_path, edit))
    assert "街路 工作簿缺少此表 / the workbook has no sheet 街路" in found
    assert "学校!C2 必填 / required" in found


def test_every_problem_at_once_in_sheet_order(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["片区"]["E2"] = "松花江路"
        wb["学校"]["J2"] = "很多"
        wb["招生季"]["B21"] = date(2024, 6, 12)

    found = problems(book(tmp_path, edit))
    assert [line.split(" ")[0] for line in found] == ["招生季!B21", "学校!J2", "片区!E2"]


def test_an_xls_workbook_is_refused_saying_so(tmp_path: Path) -> None:
    old = tmp_path / "city.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)  # the OLE2 header of Excel 97-2003
    renamed = tmp_path / "renamed.xlsx"
    renamed.write_bytes(old.read_bytes())
    for path in (old, renamed):
        assert problems(path) == [
            f"{path.name} 是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为” Excel 工作簿（.xlsx）后再导入"
            " / an Excel 97-2003 workbook (.xls): save it as an Excel workbook (.xlsx) and import that"
        ]


def test_a_csv_file_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "片区.csv"
    path.write_text("片区代码,区代码\nZ-CY-1-01,CY\n", encoding="utf-8")
    assert problems(path) == [
        "片区.csv 是 CSV 文件，只能保存一张表；招生季需要整个工作簿，请导入 .xlsx 文件（enroll season template 生成）"
        " / a .csv file holds one sheet only: import the whole workbook as .xlsx (from enroll season template)"
    ]


def test_not_a_workbook_and_no_file(tmp_path: Path) -> None:
    text = tmp_path / "city.xlsx"
    text.write_text("not a workbook", encoding="utf-8")
    assert problems(text) == ["city.xlsx 不是 Excel 工作簿（.xlsx）文件 / not an Excel workbook (.xlsx)"]
    assert problems(tmp_path / "none.xlsx") == ["none.xlsx 文件不存在 / no such file"]


def test_unknown_columns_and_items(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["街路"]["H1"] = "备注"
        wb["招生季"].append(["开学典礼", date(2024, 9, 1)])

    assert problems(book(tmp_path, edit)) == [
        "招生季!A30 未知的项目「开学典礼」 / unknown item 开学典礼",
        "街路!H1 未知的列「备注」 / unknown column 备注",
    ]


def test_settings_are_kept_and_checked(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        ws = wb["系统设置"]
        for row in range(2, ws.max_row + 1):
            if ws[f"A{row}"].value == "placement.coordination_cap_km":
                ws[f"B{row}"] = 5
            if ws[f"A{row}"].value == "lottery.max_concurrency":
                ws[f"B{row}"] = 400
        ws.append(["verification.agencies.housing.base_url", "https://housing.example.cn"])
        ws.append(
            ["verification.agencies.housing.credentials_secret_arn", "arn:aws:secretsmanager:cn:1:secret:h"]
        )

    found = problems(book(tmp_path, edit))
    assert len(found) == 1 and found[0].startswith("系统设置!B") and "应不大于 40" in found[0]


def test_problem_lines_name_sheet_and_cell() -> None:
    assert (
        str(Problem("片区", "C14", "街路「松江路」不存在", "unknown road"))
        == "片区!C14 街路「松江路」不存在 / unknown road"
    )


def test_blank_rows_and_spaces_around_values_and_sheet_names_are_ignored(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["学校"].title = "学校 "
        wb["街路"]["A2"] = " 松江路 "
        wb["街路"].append([None, "  "])
        wb["街路"].append(["松江东路", "CY", 50, 43.85, 126.5, 43.86, 126.5])

    config = read_workbook(book(tmp_path, edit), "example")
    assert [r.name for r in config.roads] == ["松江路", "松江东路"]


def test_a_missing_column_and_a_missing_item(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["小区"]["D1"] = None
        wb["招生季"].delete_rows(28)  # 开学

    found = problems(book(tmp_path, edit))
    assert "招生季 缺少项目「开学」 / missing item 开学 (calendar.term_start)" in found
    assert "小区!A1 缺少列「门牌号」 / missing column 门牌号" in found
    assert len(found) == 2  # the missing column says it once, not once a row


def test_a_bad_code_does_not_hide_the_cross_references(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        wb["特殊教育"]["B2"] = "SE-CY-1"  # two digits at least
        wb["街路"].append(["松", "CY", 100, 43.86, 126.48, 43.86, 126.52])  # a name of one character
        wb["片区"]["E2"] = "松花江路"
        wb["片区"].append(["Z-CY-7-01", "CY", "七年级", "SE-CY-1", None, None, None, None, "江畔花园"])

    assert problems(book(tmp_path, edit)) == [
        "街路!A3 太短 / string should have at least 2 characters",
        "片区!E2 街路「松花江路」不存在 / unknown road",
        "特殊教育!B2 格式不对，应为如 S-CY-01（类别 1-2 个大写字母、区代码、2-3 位数字） / wrong format: like S-CY-01",
    ]


def test_an_agency_over_plain_http_off_this_machine_is_refused_by_cell(tmp_path: Path) -> None:
    def edit(wb: Any) -> None:
        ws = wb["系统设置"]
        ws.append(["verification.agencies.housing.base_url", "http://housing.example.cn"])
        ws.append(
            ["verification.agencies.housing.credentials_secret_arn", "arn:aws:secretsmanager:cn:1:secret:h"]
        )
        ws.append(["verification.agencies.housing.circuit_failures", 3])

    found = problems(book(tmp_path, edit))
    assert len(found) == 1 and found[0].startswith("系统设置!B")
    assert "https:// 开头的网址（http:// 仅限本机 127.0.0.1）" in found[0]


def test_an_agency_exchanging_files_is_set_in_the_settings_sheet_and_checked_by_cell(tmp_path: Path) -> None:
    # issue 17: `kind: files` beside the API's settings (docs/AGENCY-FILES.md)
    def edit(wb: Any) -> None:
        ws = wb["系统设置"]
        ws.append(["verification.agencies.planning.kind", "files"])
        ws.append(["verification.agencies.planning.link_expiry_s", 7200])

    config = read_workbook(book(tmp_path, edit), "example")
    planning = config.verification.agency_files()["planning"]
    assert (planning.kind, planning.link_expiry_s, planning.round_rows) == ("files", 7200, 1000)

    def wrong(wb: Any) -> None:
        ws = wb["系统设置"]
        ws.append(["verification.agencies.planning.kind", "files"])
        ws.append(["verification.agencies.planning.round_rows", 50000])

    found = problems(book(tmp_path, wrong))
    assert len(found) == 1 and found[0].startswith("系统设置!B") and "应不大于 5000" in found[0]
