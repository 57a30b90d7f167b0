"""`enroll lottery`: the stand-alone ceremony from an annex 3 sheet (R-LOT-1, R-LOT-3, R-ID-1, LOTTERY.md).

Every person here is synthetic: names are made up, ID numbers are built with `idcard.make`.
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook

from enrollment.cli import main
from enrollment.core import idcard
from enrollment.lottery import standalone
from enrollment.lottery.pools import CeremonyInputs, Pools, check_record, record, record_bytes

HEADER = ["序号", "姓名", "性别", "身份证号"]
GIVEN = "明华伟洋静帆磊丽杰敏强悦"
FAMILY = "王李张刘陈杨赵黄周吴徐孙"
INPUTS = CeremonyInputs(("0417", "9023", "5561"), ("3390", "7704", "1286"), 1)
INPUTS_JSON = {
    "shuffle_inputs": ["0417", "9023", "5561"],
    "draw_inputs": ["3390", "7704", "1286"],
    "chosen_draw": 1,
}
SEASON, SCHOOL, GRADE, DISTRICT = "2023", "P-CY-01", 1, "CY"
Row = list[object]


def people(n: int) -> list[Row]:
    """n synthetic applicants: [序号 (int), 姓名, 性别, 身份证号] with valid, distinct ID numbers."""
    rows: list[Row] = []
    for i in range(1, n + 1):
        seq = 100 + i  # odd: male, even: female
        number = idcard.make("220204", date(2017, 1 + i % 12, 1 + i % 28), seq)
        rows.append([i, FAMILY[i % 12] + GIVEN[(i * 5) % 12] + "子", "男" if seq % 2 else "女", number])
    return rows


def write_csv(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER, encoding="utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def write_xlsx(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER, blank_rows: int = 0
) -> Path:
    wb = Workbook()
    ws = wb.active
    for _ in range(blank_rows):
        ws.append([])
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))  # 序号 stays a number, the ID number a text cell
    wb.save(path)
    return path


def expected_record(rows: Sequence[Row], seats: int, inputs: CeremonyInputs | None) -> dict[str, object]:
    pools = Pools.split(SCHOOL, GRADE, DISTRICT, seats, own=[str(r[0]) for r in rows], other=[])
    return record(SEASON, pools, inputs)


def sheet_record(path: Path, seats: int, inputs: CeremonyInputs | None = INPUTS) -> dict[str, object]:
    applicants = standalone.read_sheet(path)
    return record(SEASON, standalone.pools_for(applicants, SCHOOL, GRADE, DISTRICT, seats), inputs)


# ---------------------------------------------------------------- reading the sheet


def test_csv_and_xlsx_give_the_same_record_and_it_replays(tmp_path: Path) -> None:
    # Given the same 12 applicants as a csv and as an xlsx (序号 as numbers), for 3 seats
    rows = people(12)
    from_csv = sheet_record(write_csv(tmp_path / "a.csv", rows), 3)
    from_xlsx = sheet_record(write_xlsx(tmp_path / "a.xlsx", rows), 3)
    # Then both records are byte for byte the one private.record gives for the sheet's 序号 as one pool
    assert record_bytes(from_csv) == record_bytes(from_xlsx) == record_bytes(expected_record(rows, 3, INPUTS))
    assert from_csv["own_district_applicants"] == sorted(
        str(i) for i in range(1, 13)
    )  # UTF-8 order: "1", "10", ...
    assert from_csv["other_applicants"] == []
    assert from_csv["draw"]["pool"] == "own-district" and from_csv["draw"]["seats"] == 3  # type: ignore[index]
    assert check_record(from_csv) == []


def test_lottery_md_worked_example_through_a_sheet(tmp_path: Path) -> None:
    # Given the worked example's ids R0001…R0010 as the sheet's 序号, 3 seats and its inputs
    rows = people(10)
    for r in rows:
        r[0] = f"R{int(str(r[0])):04d}"
    rec = sheet_record(write_csv(tmp_path / "r.csv", rows), 3)
    # Then the draw is LOTTERY.md's
    d = rec["draw"]
    assert d["pool_digest"] == "19b1370c4a10cc801cf6f7e6076b08b5ba1d521a91561e8483ac3bc98c7f42c8"  # type: ignore[index]
    assert rec["admitted"] == ["R0001", "R0002", "R0004"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    rows = people(4)
    applicants = standalone.read_sheet(write_csv(tmp_path / "a.csv", rows, encoding=encoding))
    assert [(a.seq, a.name, a.sex, a.id_number) for a in applicants] == [
        (str(r[0]), r[1], r[2], r[3]) for r in rows
    ]


def test_xlsx_header_below_blank_rows_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    # Given a title-less sheet whose header is on row 3, with extra columns before and after
    rows = [["x", *r, "备注"] for r in people(3)]
    path = write_xlsx(tmp_path / "a.xlsx", rows, header=["班级", *HEADER, "备注"], blank_rows=2)
    applicants = standalone.read_sheet(path)
    # Then the applicants are read, numbered by the rows the spreadsheet shows
    assert [(a.row, a.seq) for a in applicants] == [(4, "1"), (5, "2"), (6, "3")]


def test_header_only_sheet_is_an_empty_pool(tmp_path: Path) -> None:
    applicants = standalone.read_sheet(write_csv(tmp_path / "a.csv", []))
    rec = record(SEASON, standalone.pools_for(applicants, SCHOOL, GRADE, DISTRICT, 5), None)
    assert applicants == [] and rec["draw"] is None and rec["admitted"] == []


def _with(rows: list[Row], i: int, col: int, value: object) -> list[Row]:
    rows[i][col] = value
    return rows


def _bad_date_id() -> str:
    first17 = "22020420170230101"  # 30 February
    return first17 + idcard.check_character(first17)


def _bad_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


P = people(4)
BAD_SHEETS = {
    # name: (header, rows, (row, column, reason fragment))
    "missing column": (["序号", "姓名", "性别"], [r[:3] for r in P], (1, "身份证号", "缺少必需的列")),
    "duplicate ID number": (HEADER, _with(people(4), 2, 3, P[0][3]), (4, "身份证号", "重复（与第2行相同）")),
    "bad check character": (
        HEADER,
        _with(people(4), 1, 3, _bad_check(str(P[1][3]))),
        (3, "身份证号", "校验位"),
    ),
    "invalid birth date": (HEADER, _with(people(4), 3, 3, _bad_date_id()), (5, "身份证号", "出生日期")),
    "duplicate 序号": (HEADER, _with(people(4), 3, 0, 1), (5, "序号", "序号重复")),
    "sex mismatch": (HEADER, _with(people(4), 0, 2, "女"), (2, "性别", "不符")),
    "sex not 男/女": (HEADER, _with(people(4), 0, 2, "M"), (2, "性别", "应为")),
    "empty name": (HEADER, _with(people(4), 2, 1, ""), (4, "姓名", "为空")),
    "empty 序号": (HEADER, _with(people(4), 2, 0, ""), (4, "序号", "为空")),
    "empty ID number": (HEADER, _with(people(4), 2, 3, ""), (4, "身份证号", "为空")),
}


@pytest.mark.parametrize("case", list(BAD_SHEETS))
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_bad_sheet_is_refused_naming_row_and_reason(tmp_path: Path, case: str, kind: str) -> None:
    header, rows, (row, column, reason) = BAD_SHEETS[case]
    path = (write_csv if kind == "csv" else write_xlsx)(tmp_path / f"a.{kind}", rows, header)
    with pytest.raises(standalone.SheetError) as e:
        standalone.read_sheet(path)
    assert [(p.row, p.column) for p in e.value.problems] == [(row, column)]
    problem = e.value.problems[0]
    assert reason in problem.reason_zh and problem.reason_en
    assert str(problem).startswith(f"第{row}行 {column}: ")


def test_every_problem_is_listed(tmp_path: Path) -> None:
    rows = _with(_with(people(5), 1, 1, ""), 4, 3, _bad_check(str(P[0][3])))
    with pytest.raises(standalone.SheetError) as e:
        standalone.read_sheet(write_csv(tmp_path / "a.csv", rows))
    assert [(p.row, p.column) for p in e.value.problems] == [(3, "姓名"), (6, "身份证号")]


def test_id_number_saved_as_a_number_in_excel_is_refused(tmp_path: Path) -> None:
    # Given Excel stored an 18-digit ID number as a float (it keeps 15 significant digits)
    rows = _with(people(2), 1, 3, float(str(P[1][3])[:17] + "0"))
    with pytest.raises(standalone.SheetError) as e:
        standalone.read_sheet(write_xlsx(tmp_path / "a.xlsx", rows))
    assert [(p.row, p.column) for p in e.value.problems] == [(3, "身份证号")]
    assert "文本格式" in e.value.problems[0].reason_zh


@pytest.mark.parametrize("name", ["a.xls", "a.txt", "a"])
def test_unknown_extension_is_a_clear_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("序号,姓名\n", encoding="utf-8")
    with pytest.raises(standalone.UnreadableSheet, match=r"\.xlsx or \.csv"):
        standalone.read_sheet(path)


def test_damaged_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"not a zip")
    with pytest.raises(standalone.UnreadableSheet, match="cannot read"):
        standalone.read_sheet(path)


# ---------------------------------------------------------------- the inputs


def test_inputs_file_json_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "i.json").write_text(json.dumps(INPUTS_JSON), encoding="utf-8")
    (tmp_path / "i.yaml").write_text(
        'shuffle_inputs: ["0417", "9023", "5561"]\ndraw_inputs: ["3390", "7704", "1286"]\nchosen_draw: 1\n',
        encoding="utf-8",
    )
    assert (
        standalone.load_inputs(tmp_path / "i.json") == standalone.load_inputs(tmp_path / "i.yaml") == INPUTS
    )


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("shuffle_inputs: [0417, 9023, 5561]\ndraw_inputs: ['1', '2', '3']\nchosen_draw: 1\n", "quote them"),
        ("shuffle_inputs: ['1', '2', '3']\ndraw_inputs: ['1', '2', '3']\nchosen_draw: 4\n", "chosen_draw"),
        ("shuffle_inputs: ['1', '', '3']\ndraw_inputs: ['1', '2', '3']\nchosen_draw: 1\n", "shuffle_inputs"),
        ("shuffle_inputs: ['1', '2']\ndraw_inputs: ['1', '2', '3']\nchosen_draw: 1\n", "three strings"),
        ("shuffle_inputs: ['1', '2', '3']\nchosen_draw: 1\n", "missing key 'draw_inputs'"),
        ("[1, 2]\n", "must be an object"),
    ],
)
def test_bad_inputs_file_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "i.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(standalone.InputsError, match=fragment):
        standalone.load_inputs(path)


class Script:
    """Scripted answers for input(); remembers every prompt."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


def test_interactive_ceremony_gives_the_inputs_file_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given 12 applicants for 3 seats and representatives who type (one empty input, a wrong seat count
    # and a slip that does not exist are each asked again)
    rows = people(12)
    applicants = standalone.read_sheet(write_csv(tmp_path / "a.csv", rows))
    pools = standalone.pools_for(applicants, SCHOOL, GRADE, DISTRICT, 3)
    script = Script(["", "0417", "9023", " 5561 ", "5", "3", "3390", "7704", "1286", "4", "2"])
    monkeypatch.setattr("builtins.input", script)
    # When the ceremony runs at the prompts
    typed = standalone.run_ceremony(SEASON, pools, applicants)
    # Then every answer was used, in annex 3's order, and the inputs are kept exactly as typed
    assert script.answers == []
    assert script.prompts == [
        "家长代表1号请输入打乱数字：",
        "家长代表1号请输入打乱数字：",
        "家长代表2号请输入打乱数字：",
        "家长代表3号请输入打乱数字：",
        "家长代表3号请输入派位人数：",
        "家长代表3号请输入派位人数：",
        "家长代表4号请输入派位数字：",
        "家长代表5号请输入派位数字：",
        "家长代表6号请输入派位数字：",
        "家长代表5号请输入抽中的签号（1、2或3）：",
        "家长代表5号请输入抽中的签号（1、2或3）：",
    ]
    assert typed == CeremonyInputs(("0417", "9023", " 5561 "), ("3390", "7704", "1286"), 2)
    shown = capsys.readouterr().out
    assert "共导入12人" in shown and "第3次打乱后" in shown and "第3次派位" in shown
    # And the record equals the one from an --inputs file holding the same inputs
    path = tmp_path / "i.json"
    path.write_text(
        json.dumps(
            {
                "shuffle_inputs": ["0417", "9023", " 5561 "],
                "draw_inputs": ["3390", "7704", "1286"],
                "chosen_draw": 2,
            }
        ),
        encoding="utf-8",
    )
    from_file = record(SEASON, pools, standalone.load_inputs(path))
    assert record(SEASON, pools, typed) == from_file
    assert check_record(from_file) == []


def test_what_the_big_screen_shows_is_the_recorded_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the worked example's pool (序号 R0001…R0010)
    rows = people(10)
    for r in rows:
        r[0] = f"R{int(str(r[0])):04d}"
    applicants = standalone.read_sheet(write_csv(tmp_path / "r.csv", rows))
    pools = standalone.pools_for(applicants, SCHOOL, GRADE, DISTRICT, 3)
    monkeypatch.setattr("builtins.input", Script(["0417", "9023", "5561", "3", "3390", "7704", "1286", "1"]))
    standalone.run_ceremony(SEASON, pools, applicants)
    out = capsys.readouterr().out
    # Then the first lines shown after shuffle 1 and after draw 1 are LOTTERY.md's
    after_shuffle_1 = [line.split()[4] for line in out.split("位置")[1].splitlines()[1:4]]
    assert after_shuffle_1 == ["R0008", "R0001", "R0010"]
    draw_1 = out.split("第1次派位")[1].splitlines()[1:4]
    assert [line.split()[1] for line in draw_1] == ["R0001", "R0004", "R0002"]
    # each child named as on the console's big screen: 张*明 and the ID number's last four, no more
    by_seq = {str(r[0]): r for r in rows}
    for line in draw_1:
        _, seq, name, tail = line.split()
        assert name == idcard.mask_name(str(by_seq[seq][1])) != by_seq[seq][1]
        assert tail == str(by_seq[seq][3])[-4:]
    # and what the hall reads is Chinese only (the sheet's 序号 R0001… are the bureau's own)
    shown = re.sub(r"\bR\d{4}\b", "", out)
    assert re.findall(r"[A-Za-z]{2,}", shown) == []


def test_r_lot_1_asks_for_nothing_and_has_no_draw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given 5 applicants and 5 seats (R-LOT-1)
    applicants = standalone.read_sheet(write_csv(tmp_path / "a.csv", people(5)))
    pools = standalone.pools_for(applicants, SCHOOL, GRADE, DISTRICT, 5)

    def no_input(prompt: str = "") -> str:
        raise AssertionError(f"asked {prompt!r} though no draw is needed")

    monkeypatch.setattr("builtins.input", no_input)
    # When the ceremony runs, Then nobody is asked anything and everyone is admitted without a draw
    assert standalone.run_ceremony(SEASON, pools, applicants) is None
    rec = record(SEASON, pools, None)
    assert rec["draw"] is None and rec["admitted"] == rec["admitted_without_draw"] == sorted(
        map(str, range(1, 6))
    )
    assert {r.result for r in standalone.list_rows(rec, applicants)} == {"录取"}
    assert {r.rank for r in standalone.list_rows(rec, applicants)} == {None}


def test_list_rows_rank_and_waitlist(tmp_path: Path) -> None:
    applicants = standalone.read_sheet(write_csv(tmp_path / "a.csv", people(6)))
    rec = record(SEASON, standalone.pools_for(applicants, SCHOOL, GRADE, DISTRICT, 2), INPUTS)
    rows = standalone.list_rows(rec, applicants)
    assert [r.seq for r in rows] == rec["draw"]["ranking"]
    assert [r.result for r in rows] == ["录取", "录取", "候补第1位", "候补第2位", "候补第3位", "候补第4位"]
    names = {a.seq: a for a in applicants}
    assert all(r.name == idcard.mask_name(names[r.seq].name) == f"{names[r.seq].name[0]}*子" for r in rows)
    assert all(r.id_tail == names[r.seq].id_number[-4:] for r in rows)


# ---------------------------------------------------------------- the command


def lottery_args(sheet: Path, out: Path, seats: int, *extra: str) -> list[str]:
    return [
        "lottery",
        str(sheet),
        *("--season", SEASON, "--school", SCHOOL, "--grade", str(GRADE), "--district", DISTRICT),
        *("--seats", str(seats), "--out", str(out), "--date", "2023-06-17", *extra),
    ]


def test_cli_writes_the_record_and_a_list_without_names_or_id_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an xlsx of 12 applicants (one name needs escaping) and an inputs file
    rows = _with(people(12), 4, 1, "<b>某")
    sheet = write_xlsx(tmp_path / "a.xlsx", rows)
    inputs = tmp_path / "i.json"
    inputs.write_text(json.dumps(INPUTS_JSON), encoding="utf-8")
    # When the command runs
    rc = main(
        lottery_args(sheet, tmp_path / "out", 3, "--inputs", str(inputs), "--school-name", "某民办学校")
    )
    # Then both files are written where it says
    assert rc == 0
    record_path = tmp_path / "out" / "private" / f"{SCHOOL}-g{GRADE}.json"
    list_path = tmp_path / "out" / f"{SCHOOL}-g{GRADE}-list.html"
    out = capsys.readouterr().out
    assert str(record_path) in out and str(list_path) in out
    assert record_path.read_bytes() == record_bytes(expected_record(rows, 3, INPUTS))
    assert check_record(json.loads(record_path.read_text(encoding="utf-8"))) == []
    # And the list is zh-CN, titled, with the inputs, masked, escaped and ready to sign
    page = list_path.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "@media print" in page
    assert "2023年某民办学校一年级招生电脑派位结果" in page and "2023年6月17日" in page
    assert all(s in page for s in ("0417", "9023", "5561", "3390", "7704", "1286", "采用第1次派位结果"))
    assert (
        all(f"家长代表{k}号签字" in page for k in range(1, 7))
        and "监督员签字" in page
        and "公证员签字" in page
    )
    for r in rows:
        assert str(r[3]) not in page and str(r[1]) not in page
        assert f"<td>{html.escape(idcard.mask_name(str(r[1])))}</td>" in page  # 张*明, as on the big screen
        assert f"<td>{str(r[3])[-4:]}</td>" in page  # the ID number's last four, as on the big screen
    assert "<b>" not in page and "&lt;*" in page
    # the district by its name, never its code; nothing a reader sees in Latin letters but the digest
    assert "<dt>所在区</dt><dd>船营区</dd>" in page and f">{DISTRICT}<" not in page
    text = html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S))
    shown = re.sub(r"\b[0-9a-f]{64}\b", " ", text)
    assert re.findall(r"[A-Za-z]{2,}", shown) == []
    assert page.count("<td>录取</td>") == 3 and "<td>候补第9位</td>" in page


def test_cli_names_the_school_and_district_from_the_config_or_the_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = write_csv(tmp_path / "a.csv", people(3))
    # Given no names on the command line, When it runs, Then the season config names school and district
    assert main(lottery_args(sheet, tmp_path / "config", 3)) == 0
    page = (tmp_path / "config" / f"{SCHOOL}-g{GRADE}-list.html").read_text(encoding="utf-8")
    assert "<dt>学校</dt><dd>船营区启明民办小学</dd>" in page and "<dt>所在区</dt><dd>船营区</dd>" in page
    assert SCHOOL not in page
    # Given a district the config does not have, Then the command refuses it unless it is named
    args = lottery_args(sheet, tmp_path / "unknown", 3, "--district", "XX")
    with pytest.raises(SystemExit) as refused:
        main(args)
    assert refused.value.code == 2 and "--district 'XX'" in capsys.readouterr().err
    assert not (tmp_path / "unknown").exists()
    assert main([*args, "--district-name", "某某区"]) == 0
    page = (tmp_path / "unknown" / f"{SCHOOL}-g{GRADE}-list.html").read_text(encoding="utf-8")
    assert "<dt>所在区</dt><dd>某某区</dd>" in page


def test_cli_refuses_a_bad_sheet_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _with(people(4), 2, 3, P[0][3])
    rc = main(lottery_args(write_csv(tmp_path / "a.csv", rows), tmp_path / "out", 2))
    assert rc == 2
    err = capsys.readouterr().err
    assert "第4行 身份证号: 身份证号重复（与第2行相同） / duplicate ID number (as in row 2)" in err
    assert not (tmp_path / "out").exists()


def test_cli_interactive_and_r_lot_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given 4 applicants and 4 seats, and nobody at the keyboard
    sheet = write_csv(tmp_path / "a.csv", people(4))
    monkeypatch.setattr("builtins.input", Script([]))  # any prompt would fail: pop from an empty list
    # When the command runs without --inputs, Then it asks nothing and records no draw
    assert main(lottery_args(sheet, tmp_path / "out", 4)) == 0
    rec = json.loads((tmp_path / "out" / "private" / f"{SCHOOL}-g{GRADE}.json").read_text(encoding="utf-8"))
    assert rec["draw"] is None and len(rec["admitted"]) == 4
    assert "无需派位" in capsys.readouterr().out


def test_cli_interactive_draw_equals_inputs_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = write_csv(tmp_path / "a.csv", people(8))
    monkeypatch.setattr(
        "builtins.input", Script(["0417", "", "9023", "5561", "2", "3390", "7704", "1286", "1"])
    )
    assert main(lottery_args(sheet, tmp_path / "typed", 2)) == 0
    inputs = tmp_path / "i.json"
    inputs.write_text(json.dumps(INPUTS_JSON), encoding="utf-8")
    assert main(lottery_args(sheet, tmp_path / "file", 2, "--inputs", str(inputs))) == 0
    key = Path("private") / f"{SCHOOL}-g{GRADE}.json"
    assert (tmp_path / "typed" / key).read_bytes() == (tmp_path / "file" / key).read_bytes()


def test_cli_never_overwrites_a_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = write_csv(tmp_path / "a.csv", people(3))
    assert main(lottery_args(sheet, tmp_path / "out", 3)) == 0
    before = (tmp_path / "out" / "private" / f"{SCHOOL}-g{GRADE}.json").read_bytes()
    assert main(lottery_args(sheet, tmp_path / "out", 5)) == 1
    assert "never overwritten" in capsys.readouterr().err
    assert (tmp_path / "out" / "private" / f"{SCHOOL}-g{GRADE}.json").read_bytes() == before


def test_cli_stopped_ceremony_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert main(lottery_args(write_csv(tmp_path / "a.csv", people(4)), tmp_path / "out", 2)) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "extra", [["--school", "../x"], ["--seats", "-1"], ["--grade", "3"], ["--season", "20 23"]]
)
def test_cli_rejects_bad_arguments(tmp_path: Path, extra: list[str]) -> None:
    args = lottery_args(write_csv(tmp_path / "a.csv", people(2)), tmp_path / "out", 2)
    args += extra  # argparse keeps the last value of a repeated option
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
