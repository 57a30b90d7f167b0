"""`enroll season template/import/export`: exit codes, one line a problem, nothing written on error."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from enrollment.cli import main
from enrollment.core.config import load_season
from enrollment.core.workbook import example_config, read_workbook


def test_template_import_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = tmp_path / "city.xlsx"
    assert main(["season", "template", "--out", str(template)]) == 0
    assert load_workbook(template).sheetnames[0] == "说明"
    out = tmp_path / "seasons"
    assert main(["season", "import", str(template), "--name", "example-2024", "--out-dir", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["example-2024.staff.yaml", "example-2024.yaml"]
    config = load_season(out / "example-2024.yaml")
    assert config == example_config().model_copy(update={"name": "example-2024"})
    staff = (out / "example-2024.staff.yaml").read_text(encoding="utf-8")
    assert "district: CY" in staff and "role: city" in staff and "role: auditor" in staff
    assert "已导入 imported" in capsys.readouterr().out
    back = tmp_path / "back.xlsx"
    assert main(["season", "export", str(out / "example-2024.yaml"), "--out", str(back)]) == 0
    assert read_workbook(back, "example-2024") == config


def test_an_existing_staff_directory_is_kept(tmp_path: Path) -> None:
    template = tmp_path / "city.xlsx"
    main(["season", "template", "--out", str(template)])
    (tmp_path / "example-2024.staff.yaml").write_text("staff: []\n", encoding="utf-8")
    assert (
        main(["season", "import", str(template), "--name", "example-2024", "--out-dir", str(tmp_path)]) == 0
    )
    assert (tmp_path / "example-2024.staff.yaml").read_text(encoding="utf-8") == "staff: []\n"


def test_a_bad_workbook_exits_2_one_line_a_problem_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "city.xlsx"
    main(["season", "template", "--out", str(template)])
    wb = load_workbook(template)
    wb["片区"]["E2"] = "松花江路"
    wb["学校"]["J2"] = "很多"
    wb.save(template)
    capsys.readouterr()
    out = tmp_path / "seasons"
    assert main(["season", "import", str(template), "--name", "example-2024", "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{template}: 工作簿有 2 处问题，未导入 / 2 problem(s), nothing was written:",
        "学校!J2 「一年级计划」应为整数（填的是「很多」） / must be a whole number",
        "片区!E2 街路「松花江路」不存在 / unknown road",
    ]
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("city.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "Excel 97-2003（.xls）"),
        ("city.csv", "片区代码,区代码\n".encode(), "是 CSV 文件"),
        ("city.xlsx", b"PK not really", "不是 Excel 工作簿"),
    ],
)
def test_not_an_xlsx_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["season", "import", str(path), "--name", "x-2024", "--out-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert says in err and err.splitlines()[1].startswith(name)
    assert not (tmp_path / "out").exists()


def test_bad_arguments_and_an_unknown_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["season", "import", "city.xlsx", "--name", "Siping 2024"])
    assert e.value.code == 2
    with pytest.raises(SystemExit):
        main(["season", "template", "--out", str(tmp_path / "city.xls")])
    assert not (tmp_path / "city.xls").exists()
    assert main(["season", "export", str(tmp_path / "none.yaml"), "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "no such file" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()


def test_the_deployed_seasons_start_and_status_are_subcommands_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("start", "status"):
        with pytest.raises(SystemExit) as stopped:
            main(["season", name, "--help"])
        assert stopped.value.code == 0
        assert "--stack" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stopped:  # the stack is required: a usage error, exit 2
        main(["season", "status"])
    assert stopped.value.code == 2


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["season", "--help"])
    text = capsys.readouterr().out
    assert all(word in text for word in ("template", "import", "export", "招生季工作簿"))
