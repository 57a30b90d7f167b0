"""A stand-alone lottery ceremony (`enroll lottery`) for a bureau that only needs the draw (R-LOT-3).

Annex 3 of the source notice, steps 5 and 11-16: the bureau exports the applicants of one private
school and grade into a spreadsheet with the columns 序号, 姓名, 性别, 身份证号; representative #2
imports it, #1-#3 shuffle, #3 enters the seats, #4-#6 run three draws, #5 draws the slip choosing
one, and the list is printed, checked by #6 and signed. This module reads and checks the sheet,
runs the ceremony's prompts, and renders the printable list; the record is `enrollment.lottery.pools`'s,
byte for byte the LOTTERY.md format, so auditors replay it like any other.

One pool: every applicant of a stand-alone sheet is treated as own-district (`Pools.split(...,
own=ids, other=[])`). So R-LOT-1 applies as written (applicants <= seats: everyone admitted, no draw,
no inputs asked) and otherwise LOTTERY.md's own-district draw for all the seats. District priority
between own and other districts (R-LOT-2) is not split here: a bureau whose school has both imports
the pool being drawn with the seats it draws for, and the record then labels that pool own-district.

The registration ids in the record are the sheet's 序号 strings exactly as the sheet shows them
(`1`, not `1.0`). Names and ID numbers never reach the record. What the hall sees and the list
prints names each child as the console's big screen and the published lists do: the name masked
with its first and last characters (张*明, `idcard.mask_name`) and the ID number's last four only;
the district by its name (the season config's, or `--district-name`), never its code. What is shown
to the hall is Chinese only.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from enrollment.core import idcard
from enrollment.lottery.ceremony import MAX_TYPED
from enrollment.lottery.draw import pool_digest, shuffle, step_drbg
from enrollment.lottery.pools import CeremonyInputs, Pools, outcomes, record_key, utf8_sorted

COLUMNS = ("序号", "姓名", "性别", "身份证号")
SHOW_LINES = 10  # lines of each order shown on the big screen beside the previous one
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # school ids and seasons become file names
GRADE_ZH = {1: "一年级", 7: "七年级"}
CLASS_TYPED = ' class="typed"'


@dataclass(frozen=True)
class Applicant:
    row: int  # the row number the spreadsheet shows
    seq: str  # 序号: the registration id in the record
    name: str
    sex: str
    id_number: str


@dataclass(frozen=True)
class SheetProblem:
    row: int
    column: str
    reason_zh: str
    reason_en: str

    def __str__(self) -> str:
        return f"第{self.row}行 {self.column}: {self.reason_zh} / {self.reason_en}"


class SheetError(ValueError):
    """A sheet that cannot be used: every problem found, each with its row, column and reason."""

    def __init__(self, problems: Sequence[SheetProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


class UnreadableSheet(ValueError):
    """A file that is not a sheet this command reads (extension, encoding, damaged workbook)."""


class InputsError(ValueError):
    """An --inputs file that does not hold the six inputs and the slip."""


# ---------------------------------------------------------------- the sheet (annex 3 step 5)


def read_sheet(path: Path) -> list[Applicant]:
    """The applicants of an annex 3 sheet (.csv or .xlsx); raise SheetError listing every problem."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix == ".xlsx":
        rows = _xlsx_rows(path)
    else:
        raise UnreadableSheet(
            f"{path}: 不支持的文件类型“{path.suffix}”，请另存为 .xlsx 或 .csv / "
            f"unsupported file type {path.suffix!r}: save the sheet as .xlsx or .csv"
        )
    return parse_rows(rows)


def _csv_rows(path: Path) -> list[list[object]]:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UnreadableSheet(f"{path}: 无法读取 / cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")  # with or without a BOM
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # what Chinese Excel saves as "CSV"
        except UnicodeDecodeError:
            raise UnreadableSheet(
                f"{path}: 文件编码无法识别（应为 UTF-8 或 GB18030）/ the file is neither UTF-8 nor GB18030"
            ) from None
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""))]


def _xlsx_rows(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, data_only=True)
    except Exception as e:  # openpyxl raises zipfile, KeyError and its own errors for damaged files
        raise UnreadableSheet(f"{path}: 无法读取该 .xlsx 文件 / cannot read this .xlsx file: {e}") from None
    try:
        ws = wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    finally:
        wb.close()


def _cell(value: object) -> str:
    """A cell as the spreadsheet shows it: numbers without `.0`, text stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def parse_rows(rows: Iterable[Sequence[object]]) -> list[Applicant]:
    """Check a sheet's rows (row 1 first): header = first non-empty row; extra columns ignored."""
    problems: list[SheetProblem] = []
    header_row = 0
    index: dict[str, int] = {}
    applicants: list[Applicant] = []
    first_seq: dict[str, int] = {}
    first_id: dict[str, int] = {}
    for n, raw in enumerate(rows, start=1):
        if not any(_cell(v) for v in raw):
            continue
        if not header_row:
            header_row = n
            names = [_cell(v) for v in raw]
            for col in COLUMNS:
                found = [i for i, h in enumerate(names) if h == col]
                if not found:
                    problems.append(
                        SheetProblem(n, col, f"缺少必需的列“{col}”", f"required column {col} is missing")
                    )
                elif len(found) > 1:
                    problems.append(
                        SheetProblem(n, col, f"列“{col}”出现了两次", f"column {col} appears twice")
                    )
                else:
                    index[col] = found[0]
            if problems:
                raise SheetError(problems)
            continue
        cells = {col: _cell(raw[i]) if i < len(raw) else "" for col, i in index.items()}
        raw_id = raw[index["身份证号"]] if index["身份证号"] < len(raw) else None
        seq, name, sex = cells["序号"], cells["姓名"], cells["性别"]
        id_number = cells["身份证号"].upper()  # a lower-case x is the same check character
        found_problems = len(problems)
        for col, value in (("序号", seq), ("姓名", name)):
            if not value:
                problems.append(SheetProblem(n, col, f"{col}为空", f"{col} is empty"))
        if seq and seq in first_seq:
            problems.append(
                SheetProblem(
                    n,
                    "序号",
                    f"序号重复（与第{first_seq[seq]}行相同）",
                    f"duplicate 序号 (as in row {first_seq[seq]})",
                )
            )
        elif seq:
            first_seq[seq] = n
        if sex not in ("男", "女"):
            problems.append(SheetProblem(n, "性别", "性别应为“男”或“女”", "性别 must be 男 or 女"))
        if isinstance(raw_id, float):
            problems.append(
                SheetProblem(
                    n,
                    "身份证号",
                    "身份证号以数字格式保存，末几位已丢失；请将该列设为文本格式后重新导出",
                    "the ID number is stored as a number and lost its last digits; format the column as text",
                )
            )
        elif not id_number:
            problems.append(SheetProblem(n, "身份证号", "身份证号为空", "身份证号 is empty"))
        else:
            if id_number in first_id:
                problems.append(
                    SheetProblem(
                        n,
                        "身份证号",
                        f"身份证号重复（与第{first_id[id_number]}行相同）",
                        f"duplicate ID number (as in row {first_id[id_number]})",
                    )
                )
            else:
                first_id[id_number] = n
            try:
                parsed = idcard.parse(id_number)  # R-ID-1
            except idcard.IdNumberError as e:
                problems.append(SheetProblem(n, "身份证号", e.message_zh, e.message_en))
            else:
                if sex in ("男", "女") and sex != parsed.sex:
                    problems.append(
                        SheetProblem(
                            n,
                            "性别",
                            f"性别“{sex}”与身份证号第17位（{parsed.sex}）不符",
                            f"性别 {sex} disagrees with the ID number's 17th digit ({parsed.sex})",
                        )
                    )
        if len(problems) == found_problems:
            applicants.append(Applicant(n, seq, name, sex, id_number))
    if not header_row:
        raise SheetError(
            [
                SheetProblem(1, col, f"缺少必需的列“{col}”", f"required column {col} is missing")
                for col in COLUMNS
            ]
        )
    if problems:
        raise SheetError(problems)
    return applicants


def pools_for(
    applicants: Sequence[Applicant], school_id: str, grade: int, district: str, seats: int
) -> Pools:
    """One pool: every applicant of the sheet as own-district (see the module docstring)."""
    return Pools.split(school_id, grade, district, seats, own=[a.seq for a in applicants], other=[])


# ---------------------------------------------------------------- the six inputs and the slip


def load_inputs(path: Path) -> CeremonyInputs:
    """`{"shuffle_inputs": [3 strings], "draw_inputs": [3 strings], "chosen_draw": 1..3}`, JSON or YAML."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8-sig")
        if suffix == ".json":
            data: Any = json.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise InputsError(
                f"{path}: --inputs 应为 .json、.yaml 或 .yml 文件 / must be .json, .yaml or .yml"
            )
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as e:
        raise InputsError(f"{path}: 无法读取 / cannot read: {e}") from None
    problems: list[str] = []
    if not isinstance(data, dict):
        raise InputsError(
            f"{path}: 应为一个对象 / must be an object with shuffle_inputs, draw_inputs, chosen_draw"
        )
    keys = {"shuffle_inputs", "draw_inputs", "chosen_draw"}
    for k in sorted(set(map(str, data)) - keys):
        problems.append(f"unknown key {k!r}")
    for k in sorted(keys - set(data)):
        problems.append(f"missing key {k!r}")
    for k in ("shuffle_inputs", "draw_inputs"):
        v = data.get(k)
        if k not in data:
            continue
        if not (isinstance(v, list) and len(v) == 3):
            problems.append(f"{k}: 应为3个字符串 / must be a list of three strings")
        elif not all(typed_ok(s) for s in v):
            problems.append(
                f'{k}: 每项应为 1 到 {MAX_TYPED} 个字符的字符串（YAML 中请加引号，如 "0417"）/ each must be '
                f"a string of 1 to {MAX_TYPED} characters (quote them in YAML: 0417 unquoted is a number)"
            )
    chosen = data.get("chosen_draw")
    if "chosen_draw" in data and (type(chosen) is not int or chosen not in (1, 2, 3)):
        problems.append("chosen_draw: 应为 1、2 或 3 / must be 1, 2 or 3")
    if problems:
        raise InputsError(f"{path}: " + "; ".join(problems))
    s, d = data["shuffle_inputs"], data["draw_inputs"]
    return CeremonyInputs((s[0], s[1], s[2]), (d[0], d[1], d[2]), int(data["chosen_draw"]))


Ask = Callable[[str], str]
Say = Callable[[str], None]


def typed_ok(typed: object) -> bool:
    """A representative's input: 1 to MAX_TYPED characters, kept exactly as typed (as the workflow's)."""
    return isinstance(typed, str) and 0 < len(typed) <= MAX_TYPED


def _ask_typed(ask: Ask, say: Say, prompt: str) -> str:
    """One representative's input, exactly as typed; an empty or over-long one is asked again."""
    while True:
        typed = ask(prompt)
        if typed_ok(typed):
            return typed
        say(
            f"请输入 1 到 {MAX_TYPED} 个字符（按输入原样保存）/ type 1 to {MAX_TYPED} characters (kept as typed)"
        )


def _ask_choice(ask: Ask, say: Say, prompt: str, allowed: Sequence[int], wrong: str) -> int:
    while True:
        typed = ask(prompt).strip()
        if typed.isdigit() and int(typed) in allowed:
            return int(typed)
        say(wrong)


def run_ceremony(
    season: str,
    pools: Pools,
    applicants: Sequence[Applicant],
    ask: Ask | None = None,
    say: Say = print,
) -> CeremonyInputs | None:
    """The ceremony's prompts in annex 3's order (steps 12-15); None when R-LOT-1 needs no draw.

    Each shuffle's order is shown beside the previous one and each draw beside the earlier ones, as
    on the big screen; the computation is LOTTERY.md's, step by step, so the record replays it.
    """
    read = ask if ask is not None else input  # looked up when called, so tests can script input()
    say(announce(pools))
    if not pools.needs_draw:
        return None
    labels = {a.seq: f"{a.seq} {idcard.mask_name(a.name)} {a.id_number[-4:]}" for a in applicants}
    order = utf8_sorted(pools.pool)
    digest = pool_digest(order)
    shuffle_inputs: list[str] = []
    previous_title = "初始顺序"
    for k in (1, 2, 3):
        typed = _ask_typed(read, say, f"家长代表{k}号请输入打乱数字：")
        shuffle_inputs.append(typed)
        new = shuffle(order, step_drbg(season, pools.school_id, pools.grade, f"shuffle-{k}", digest, typed))
        title = f"第{k}次打乱后"
        say(side_by_side([previous_title, title], [order, new], labels, "位置"))
        order, previous_title = new, title
    _ask_choice(
        read,
        say,
        "家长代表3号请输入派位人数：",
        [pools.seats],
        "派位人数与招生计划不符，请核对后重新输入",
    )
    draw_inputs: list[str] = []
    draws: list[list[str]] = []
    for d in (1, 2, 3):
        typed = _ask_typed(read, say, f"家长代表{d + 3}号请输入派位数字：")
        draw_inputs.append(typed)
        draws.append(
            shuffle(order, step_drbg(season, pools.school_id, pools.grade, f"draw-{d}", digest, typed))
        )
        say(side_by_side([f"第{i}次派位" for i in range(1, d + 1)], draws, labels, "名次"))
        say(f"前{pools.seats}名为录取名单")
    chosen = _ask_choice(
        read,
        say,
        "家长代表5号请输入抽中的签号（1、2或3）：",
        [1, 2, 3],
        "签号应为1、2或3，请重新输入",
    )
    say(f"采用第{chosen}次派位结果")
    return CeremonyInputs(
        (shuffle_inputs[0], shuffle_inputs[1], shuffle_inputs[2]),
        (draw_inputs[0], draw_inputs[1], draw_inputs[2]),
        chosen,
    )


def announce(pools: Pools) -> str:
    """Annex 3 steps 9 and 12: how many were imported, against the plan."""
    head = f"共导入{pools.applicants}人，招生计划{pools.plan}人"
    if pools.needs_draw:
        return head + f"\n报名人数超出招生计划数，进行电脑派位（{pools.seats}个学位）"
    return head + "\n报名人数未超出招生计划数，全部录取，无需派位"


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _width(s))


def side_by_side(
    titles: Sequence[str], columns: Sequence[Sequence[str]], labels: dict[str, str], first: str
) -> str:
    """The first SHOW_LINES lines of several orders, in columns, for the big screen."""
    width = (
        max([_width(t) for t in titles] + [_width(labels[i]) for c in columns for i in c[:SHOW_LINES]]) + 2
    )
    lines = [_pad(first, 6) + "".join(_pad(t, width) for t in titles)]
    total = max((len(c) for c in columns), default=0)
    for i in range(min(SHOW_LINES, total)):
        cells = [labels[c[i]] if i < len(c) else "" for c in columns]
        lines.append(_pad(str(i + 1), 6) + "".join(_pad(x, width) for x in cells))
    if total > SHOW_LINES:
        lines.append(f"…… 共{total}人")
    return "\n".join(line.rstrip() for line in lines)


# ---------------------------------------------------------------- the list (annex 3 step 16)


@dataclass(frozen=True)
class ListRow:
    rank: int | None
    seq: str
    name: str  # masked as published lists are: 张*明
    sex: str
    id_tail: str  # the ID number's last four, no more
    result: str


def list_rows(rec: dict[str, Any], applicants: Sequence[Applicant]) -> list[ListRow]:
    """The printed list: the chosen ranking in order (without a draw, the sheet's order)."""
    by_seq = {a.seq: a for a in applicants}
    out = outcomes(rec)
    ranking: list[str] = rec["draw"]["ranking"] if rec["draw"] else []
    without_draw = set(rec["admitted_without_draw"])
    placed = without_draw | set(ranking)
    order = (
        [a.seq for a in applicants if a.seq in without_draw]
        + ranking
        + [a.seq for a in applicants if a.seq not in placed]
    )
    rows = []
    for seq in order:
        a, o = by_seq[seq], out[seq]
        result = {"admitted-without-draw": "录取", "admitted": "录取", "not-admitted": "未录取"}.get(
            o["outcome"], ""
        )
        if o["outcome"] == "waitlisted":
            result = f"候补第{o['rank'] - o['seats']}位"
        rows.append(ListRow(o.get("rank"), seq, idcard.mask_name(a.name), a.sex, a.id_number[-4:], result))
    return rows


def list_text(rows: Sequence[ListRow]) -> str:
    """The final list on the screen, as it will be printed."""
    lines = ["名次  序号      姓名      性别  身份证号后四位  结果"]
    for r in rows:
        rank = str(r.rank) if r.rank is not None else "—"
        lines.append(
            f"{_pad(rank, 6)}{_pad(r.seq, 10)}{_pad(r.name, 10)}{_pad(r.sex, 6)}{_pad(r.id_tail, 16)}{r.result}"
        )
    return "\n".join(lines)


_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimSun", sans-serif;
  margin: 2em; color: #000; }
h1 { font-size: 1.4em; text-align: center; margin-bottom: .2em; }
p.sub { text-align: center; margin-top: 0; }
table { border-collapse: collapse; width: 100%; font-size: .95em; }
th, td { border: 1px solid #000; padding: .25em .5em; text-align: left; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
dl.inputs { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.inputs dd { margin: 0; word-break: break-all; }
dl.inputs dd.typed { font-family: monospace; }
.signatures { display: grid; grid-template-columns: repeat(2, 1fr); gap: 1.6em 3em; margin-top: 2.5em;
  page-break-inside: avoid; }
.signatures div { border-bottom: 1px solid #000; padding-top: 1.5em; }
@page { size: A4; margin: 15mm; }
@media print { body { margin: 0; } }
""".strip()


def list_html(
    rec: dict[str, Any],
    applicants: Sequence[Applicant],
    held_on: date,
    school_name: str | None = None,
    *,
    district_name: str,
) -> str:
    """The printable list (zh-CN only): title, inputs and chosen draw, the table, the signature lines."""
    e = html.escape
    grade = int(rec["grade"])
    school = school_name or rec["school_id"]
    title = f"{rec['season']}年{school}{GRADE_ZH.get(grade, f'{grade}年级')}招生电脑派位结果"
    when = f"{held_on.year}年{held_on.month}月{held_on.day}日"
    d = rec["draw"]
    mono: set[str] = set()  # values shown in a fixed-width font: typed inputs and digests
    facts = [
        ("学校", school),
        ("所在区", district_name),
        ("报名人数", str(len(applicants))),
        ("招生计划", str(rec["plan"])),
    ]
    if d is None:
        facts.append(("派位", "报名人数未超出招生计划数，全部录取，无需派位"))
    else:
        facts += [
            ("派位学位", str(d["seats"])),
        ]
        typed = [
            ("名单校验值", d["pool_digest"]),
            *((f"家长代表{k}号打乱数字", s) for k, s in enumerate(d["shuffle_inputs"], start=1)),
            *((f"家长代表{k}号派位数字", s) for k, s in enumerate(d["draw_inputs"], start=4)),
        ]
        facts += typed
        mono = {k for k, _ in typed}
        facts.append(("家长代表5号抽签结果", f"采用第{d['chosen_draw']}次派位结果"))
    body_rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{e(v)}</td>"
            for v in (str(r.rank) if r.rank is not None else "—", r.seq, r.name, r.sex, r.id_tail, r.result)
        )
        + "</tr>"
        for r in list_rows(rec, applicants)
    )
    signers = [f"家长代表{k}号签字：" for k in range(1, 7)] + ["监督员签字：", "公证员签字：", "学校盖章："]
    note = (
        "<p>候补：录取学生放弃学位时，按候补顺序依次递补。</p>"
        if d is not None and len(d["ranking"]) > int(d["seats"])
        else ""
    )
    facts_html = "".join(
        f"<dt>{e(k)}</dt><dd{CLASS_TYPED if k in mono else ''}>{e(v)}</dd>" for k, v in facts
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{e(title)}</title>
<style>
{_CSS}
</style>
</head>
<body>
<h1>{e(title)}</h1>
<p class="sub">{e(rec["season"])}年 · {e(GRADE_ZH.get(grade, str(grade)))} · 派位日期 {e(when)}</p>
<dl class="inputs">
{facts_html}
</dl>
<table>
<thead><tr><th>名次</th><th>序号</th><th>姓名</th><th>性别</th><th>身份证号后四位</th><th>结果</th></tr></thead>
<tbody>
{body_rows}
</tbody>
</table>
{note}
<div class="signatures">
{"".join(f"<div>{e(s)}</div>" for s in signers)}
</div>
</body>
</html>
"""


def output_paths(out: Path, school_id: str, grade: int) -> tuple[Path, Path]:
    """Where the record (LOTTERY.md's key under DIR) and the printable list go."""
    return out / record_key(school_id, grade), out / f"{school_id}-g{grade}-list.html"


def check_id(value: str, what: str) -> str | None:
    """Why a school id or season cannot be used in file names and the record, or None."""
    return None if SAFE_ID.match(value) else f"{what} {value!r}: use letters, digits, '.', '_' or '-'"
