"""The season's workbook (招生季工作簿): the city bureau fills it in, `read_workbook` makes it a SeasonConfig.

A workbook has one sheet per kind of thing, with Chinese headers and Chinese values in its cells
(docs/WORKBOOK.md describes every sheet and column):

- 说明: instructions, never read;
- 招生季: one row per item (项目, 值): year, city, timezone, the city's box and every date of annex 2;
- 区: one row per priority tier of a district, in order (the district's own columns on each row);
- 街路, 小区: roads (house numbers 1 to the largest, coordinates of both ends) and residential compounds;
- 学校, 民办学校, 特殊教育, 专门学校: schools, with their grades, plans and classes per grade;
- 片区: one row per member of a catchment zone: a road's house-number range (单号/双号/全部), a
  compound, or one of each (the zone's own columns on each row);
- 系统设置 (optional): the technical settings (verification, lottery, placement, staff sign-in,
  retention of personal data, SMS caps), one
  dotted key a row, so that `read_workbook(write_workbook(c), c.name) == c` holds for every config.

The city's box: 招生季 gives its southern, northern, western and eastern bounds; every coordinate in
the workbook must lie inside it (a typo in a degree puts a school in another city). An exported
workbook's box is the config's coordinates widened by 0.01 degree.

Dates are date cells; text in the forms 2024-05-11, 2024/5/11 and 2024年5月11日 is read as well.
Numbers stored as text are read as numbers. Every problem is collected (the sheet, the cell, Chinese
and English) and raised at once as `WorkbookProblems`; the SeasonConfig's own problems (field paths
like `zones[3].segments[0].road`) are mapped back to the cell they came from.
"""

from __future__ import annotations

import io
import math
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import BaseModel, ValidationError

from enrollment.core.config import (
    GRADES,
    ConfigProblems,
    LotterySettings,
    PlacementSettings,
    RetentionSettings,
    SeasonConfig,
    SmsCaps,
    SmsProvider,
    StaffSignIn,
    VerificationSettings,
)

SEASON = "招生季"
DISTRICTS = "区"
ROADS = "街路"
COMPOUNDS = "小区"
SCHOOLS = "学校"
PRIVATE = "民办学校"
SPECIAL = "特殊教育"
SPECIALISED = "专门学校"
ZONES = "片区"
SETTINGS = "系统设置"
INSTRUCTIONS = "说明"
SHEET_ORDER = (
    INSTRUCTIONS,
    SEASON,
    DISTRICTS,
    ROADS,
    COMPOUNDS,
    SCHOOLS,
    ZONES,
    PRIVATE,
    SPECIAL,
    SPECIALISED,
)
OPTIONAL_SHEETS = (COMPOUNDS, PRIVATE, SPECIAL, SPECIALISED, SETTINGS)
SCHOOL_SHEETS = {SCHOOLS: None, PRIVATE: "private", SPECIAL: "special-education", SPECIALISED: "specialised"}
BOX_MARGIN = 0.01  # degrees around an exported config's coordinates

GRADE_ZH = {1: "一年级", 7: "七年级"}
DISTRICT_KINDS = (("城区", "urban-district"), ("开发区", "development-zone"))
ASSIGNMENTS = (("延迟接受", "deferred-acceptance"), ("第一志愿优先", "first-choice-first"))
SCHOOL_KINDS = (("公办", "public"), ("民族", "ethnic"))
PARITIES = (("全部", "all"), ("单号", "odd"), ("双号", "even"))
TIER_FACTS = (
    ("政策性照顾", "policy-priority"),
    ("户籍在片区", "hukou-in-zone"),
    ("房产在片区", "deed-in-zone"),
    ("房户一致", "hukou-deed-match"),
    ("实际居住", "actual-residence"),
    ("居住证在片区", "residence-permit-in-zone"),
)
ALL_KINDS_ZH = {"public": "公办", "private": "民办", "ethnic": "民族", "special-education": "特殊教育"}
ALL_KINDS_ZH["specialised"] = "专门"
_SPLIT = re.compile(r"[、,，;；\s]+")
_DATE_TEXT = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?$")
_CELL = re.compile(r"^([A-Z]+)(\d+)$")


# --- problems ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the workbook: where (sheet, cell like "C14"; "" for the sheet or file) and why."""

    sheet: str
    cell: str
    zh: str
    en: str

    def __str__(self) -> str:
        at = f"{self.sheet}!{self.cell}" if self.cell else self.sheet
        return f"{at} {self.zh} / {self.en}"

    def sort_key(self) -> tuple[int, int, int, str]:
        order = SHEET_ORDER.index(self.sheet) if self.sheet in SHEET_ORDER else len(SHEET_ORDER)
        m = _CELL.match(self.cell)
        if not m:
            return (order, 0, 0, self.zh)
        return (order, int(m.group(2)), _column_number(m.group(1)), self.zh)


class WorkbookProblems(ValueError):
    """A workbook that does not make a valid season: every problem found, one line each."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


# --- columns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its Chinese header, what it holds and how a cell of it is read."""

    header: str
    key: str
    kind: str  # text, int, float, date, bool, enum, grade, grades, list, facts, any
    zh: str  # what to write (说明 and docs/WORKBOOK.md)
    en: str
    choices: tuple[tuple[str, str], ...] = ()  # (what the cell says, the config's value)
    width: int = 14


def _col(header: str, key: str, kind: str, zh: str, en: str, **kw: Any) -> Column:
    return Column(header, key, kind, zh, en, **kw)


def _coords(what: str) -> tuple[Column, Column]:
    return (
        _col(f"{what}纬度", f"{what}.lat", "float", f"{what}纬度（度，北纬为正）", "latitude (degrees)"),
        _col(f"{what}经度", f"{what}.lon", "float", f"{what}经度（度，东经为正）", "longitude (degrees)"),
    )


SEASON_COLUMNS = (
    _col("项目", "item", "text", "项目名称，勿改", "the item (do not change)", width=28),
    _col("值", "value", "any", "填写的值", "its value", width=18),
    _col("说明", "note", "any", "该项的说明，导入时不读", "what it means (not read)", width=60),
)
# (label, config path, kind, required, explanation)
SEASON_ITEMS: tuple[tuple[str, str, str, bool, str], ...] = (
    ("年度", "year", "int", True, "招生年度，如 2024"),
    ("招生季标识", "season", "text", False, "抽签记录中的招生季，如 2024；不填则为年度"),
    ("城市", "city", "text", True, "城市名称，如 吉林市"),
    ("时区", "timezone", "text", False, "时区，不填则为 Asia/Shanghai"),
    ("城市范围最南纬度", "box.south", "float", True, "全市所有坐标都应在此范围内"),
    ("城市范围最北纬度", "box.north", "float", True, "全市所有坐标都应在此范围内"),
    ("城市范围最西经度", "box.west", "float", True, "全市所有坐标都应在此范围内"),
    ("城市范围最东经度", "box.east", "float", True, "全市所有坐标都应在此范围内"),
    ("发布招生公告", "calendar.notice_issued", "date", True, "附件2：招生工作日程"),
    ("公布招生计划", "calendar.plans_published", "date", True, "各校招生计划向社会公布"),
    ("七年级报名开始", "calendar.grade7_registration.start", "date", True, "七年级网上报名第一天"),
    ("七年级报名截止", "calendar.grade7_registration.end", "date", True, "七年级网上报名最后一天"),
    ("一年级报名开始", "calendar.grade1_registration.start", "date", True, "一年级网上报名第一天"),
    ("一年级报名截止", "calendar.grade1_registration.end", "date", True, "一年级网上报名最后一天"),
    ("信息审核开始", "calendar.verification.start", "date", True, "部门联审开始"),
    ("信息审核结束", "calendar.verification.end", "date", True, "部门联审结束"),
    ("入户核查开始", "calendar.home_visits.start", "date", True, "社区入户核查开始"),
    ("入户核查结束", "calendar.home_visits.end", "date", True, "社区入户核查结束"),
    ("民办学校报名人数上报截止", "calendar.private_counts_due", "date", True, "民办学校报名人数上报"),
    ("民办学校电脑派位", "calendar.lottery_day", "date", True, "民办学校电脑随机派位日"),
    ("统筹安置开始", "calendar.coordination.start", "date", True, "复审与统筹安置开始"),
    ("统筹安置结束", "calendar.coordination.end", "date", True, "复审与统筹安置结束"),
    ("市级抽查开始", "calendar.spot_check.start", "date", True, "市教育局抽查开始"),
    ("市级抽查结束", "calendar.spot_check.end", "date", True, "市教育局抽查结束"),
    ("发放录取通知书", "calendar.admission_notices", "date", True, "录取通知书发放日"),
    ("新生报到", "calendar.reporting_day", "date", True, "新生到校报到日"),
    ("开学", "calendar.term_start", "date", True, "秋季学期开学日"),
    (
        "阳光分班提前天数",
        "calendar.class_assignment_days_before_term",
        "int",
        False,
        "开学前几天阳光分班，不填为 7",
    ),
)
_SEASON_LABELS = {path: label for label, path, *_ in SEASON_ITEMS}

DISTRICT_COLUMNS = (
    _col("区代码", "code", "text", "2-4 个大写字母，如 CY", "district code: 2-4 capital letters"),
    _col("区名称", "name", "text", "如 船营区", "district name", width=16),
    _col(
        "类型", "kind", "enum", "城区 或 开发区", "urban district or development zone", choices=DISTRICT_KINDS
    ),
    _col("行政区划代码", "area_code", "text", "6 位数字，如 220204", "area code: 6 digits"),
    _col(
        "多校划片录取方式",
        "multi_school_assignment",
        "enum",
        "延迟接受 或 第一志愿优先；不填为延迟接受",
        "multi-school zones: deferred acceptance or first choice first",
        choices=ASSIGNMENTS,
        width=18,
    ),
    _col("顺位代码", "tier_id", "text", "小写字母、数字和 -，如 hukou-residence", "tier id", width=20),
    _col("顺位名称", "tier_name", "text", "向家长公布的顺位说明", "tier name as published", width=44),
    _col(
        "顺位条件",
        "tier_requires",
        "facts",
        "用顿号分隔：" + "、".join(zh for zh, _ in TIER_FACTS),
        "the facts the tier requires, separated by 、",
        choices=TIER_FACTS,
        width=36,
    ),
)
ROAD_COLUMNS = (
    _col("名称", "name", "text", "街路名称，全市唯一", "road name, unique in the city", width=16),
    _col("区代码", "district", "text", "所在区的代码", "district code"),
    _col("最大门牌号", "max_number", "int", "门牌号从 1 到此数", "house numbers run 1 to this"),
    *_coords("起点"),
    *_coords("终点"),
)
COMPOUND_COLUMNS = (
    _col("名称", "name", "text", "小区名称，全市唯一", "compound name, unique in the city", width=18),
    _col("区代码", "district", "text", "所在区的代码", "district code"),
    _col("街路", "road", "text", "小区大门所在街路", "the road of its gate", width=16),
    _col("门牌号", "number", "int", "小区大门的门牌号", "its gate's house number"),
    *_coords(""),
)


def _school_columns(sheet: str) -> tuple[Column, ...]:
    cols: list[Column] = [
        _col(
            "序号",
            "seq",
            "int",
            "学校在全市学校名单中的顺序（四张学校表统一编号）",
            "order in the city's list",
        ),
        _col("代码", "id", "text", "如 S-CY-01（公办 S、民办 P、民族 E、特教 SE、专门 T）", "school code"),
        _col("名称", "name", "text", "学校全称", "school name", width=28),
    ]
    if sheet == SCHOOLS:
        cols.append(_col("类型", "kind", "enum", "公办 或 民族", "public or ethnic", choices=SCHOOL_KINDS))
    cols += [
        _col("区代码", "district", "text", "所在区的代码", "district code"),
        _col("地址", "address", "text", "学校地址", "address", width=32),
        *_coords(""),
        _col("招生年级", "grades", "grades", "一年级、七年级，用顿号分隔", "grades taken", width=16),
        _col("一年级计划", "plan1", "int", "一年级招生计划数", "grade-1 plan (seats)"),
        _col("七年级计划", "plan7", "int", "七年级招生计划数", "grade-7 plan (seats)"),
        _col("一年级班数", "classes1", "int", "选填：一年级开设班数", "optional: grade-1 classes"),
        _col("一年级班额", "size1", "int", "选填：一年级每班人数", "optional: grade-1 class size"),
        _col("七年级班数", "classes7", "int", "选填：七年级开设班数", "optional: grade-7 classes"),
        _col("七年级班额", "size7", "int", "选填：七年级每班人数", "optional: grade-7 class size"),
    ]
    if sheet == PRIVATE:
        cols.append(
            _col("跨区招生", "cross", "bool", "是 或 否：市教育局是否批准跨区招生", "cross-district approved")
        )
    return tuple(cols)


ZONE_COLUMNS = (
    _col("片区代码", "id", "text", "如 Z-CY-1-01；同一片区的行连在一起", "zone id", width=16),
    _col("区代码", "district", "text", "片区所在区", "district code"),
    _col("年级", "grade", "grade", "一年级 或 七年级", "grade 1 or 7"),
    _col("学校", "schools", "list", "对口学校代码；多校划片用顿号分隔", "the zone's school(s)", width=22),
    _col("街路", "road", "text", "街路（与下三列一起）", "road of a house-number range", width=16),
    _col("起始门牌号", "from_number", "int", "门牌号范围的起点", "first house number"),
    _col("终止门牌号", "to_number", "int", "门牌号范围的终点", "last house number"),
    _col("单双号", "parity", "enum", "单号、双号 或 全部；不填为全部", "odd, even or all", choices=PARITIES),
    _col("小区", "compound", "text", "划入本片区的小区名称", "a compound of the zone", width=18),
)
SETTINGS_COLUMNS = (
    _col("设置项", "key", "text", "设置项，如 verification.batch_size", "dotted setting key", width=44),
    _col("值", "value", "any", "不填为默认值", "value (blank: the default)", width=30),
    _col("说明", "note", "any", "说明，导入时不读", "what it means (not read)", width=60),
)
SETTINGS_MODELS: tuple[tuple[str, type[BaseModel]], ...] = (
    ("verification", VerificationSettings),
    ("lottery", LotterySettings),
    ("placement", PlacementSettings),
    ("staff_sign_in", StaffSignIn),
    ("retention", RetentionSettings),
    ("sms", SmsCaps),
    ("sms_provider", SmsProvider),
)
_SETTINGS_NOTES = {
    "verification.batch_size": "审核批次大小",
    "verification.max_concurrency": "审核并发数",
    "verification.spot_check_rate": "市级抽查比例",
    "verification.spot_check_minimum": "每区最少抽查数",
    "lottery.max_concurrency": "派位并发数",
    "lottery.overdue_grace_hours": "派位逾期提醒间隔（小时）",
    "placement.coordination_cap_km": "统筹安置的最远距离（公里）",
    "staff_sign_in.issuer": "工作人员登录的 OIDC 签发方；不填为系统自带的用户池",
    "staff_sign_in.client_id": "控制台的 client id",
    "staff_sign_in.audience": "令牌的 audience；不填为 client id",
    "staff_sign_in.groups_claim": "令牌中表示角色组的字段",
    "staff_sign_in.scopes": "登录时申请的 scope",
    "retention.status_filing_days": "学籍建档在开学后的天数",
    "retention.appeal_days": "建档后家长申请复议或诉讼的期限（天）；期满后删除个人信息",
    "retention.exports_days": "导出文件的保存天数",
    "retention.work_files_days": "工作存储中其他文件（录取通知书等）的最长保存天数",
    "retention.log_days": "运行日志的保存天数",
    "sms.codes_per_phone_hour": "同一手机号每小时最多收到的验证码短信条数",
    "sms.codes_per_phone_day": "同一手机号每天（24小时内）最多收到的验证码短信条数",
    "sms.codes_per_hour": "全市每小时最多发送的验证码短信条数（超过即暂停发送并告警；录取通知短信不受限）",
    "sms_provider.provider": "短信服务商：sns（境外区域）、aliyun（阿里云）、tencent（腾讯云）或 outbox（本地演示）",
    "sms_provider.sign_name": "在服务商登记的短信签名（不含【】）",
    "sms_provider.credentials_secret_arn": "存放服务商密钥的 Secrets Manager 密钥 ARN（密钥本身不填在这里）",
    "sms_provider.region": "服务商的地域；不填为默认（阿里云 cn-hangzhou，腾讯云 ap-guangzhou）",
    "sms_provider.endpoint": "服务商的接口地址；不填为默认",
    "sms_provider.sdk_app_id": "腾讯云短信应用的 SdkAppId",
    "sms_provider.code_template": "验证码短信在服务商的模板编号（见 docs/SMS-TEMPLATES.md 的 parent-code）",
    "sms_provider.notice_template": "录取通知短信的模板编号（notice-admitted）",
    "sms_provider.notice_short_template": "录取通知短信简短版本的模板编号（notice-admitted-short）",
    "sms_provider.notice_shortest_template": "录取通知短信最短版本的模板编号（notice-admitted-shortest）",
    "sms_provider.registered_template": "报名成功短信（告知报名编号）的模板编号（registration-received）",
}
SHEET_COLUMNS: dict[str, tuple[Column, ...]] = {
    SEASON: SEASON_COLUMNS,
    DISTRICTS: DISTRICT_COLUMNS,
    ROADS: ROAD_COLUMNS,
    COMPOUNDS: COMPOUND_COLUMNS,
    SCHOOLS: _school_columns(SCHOOLS),
    ZONES: ZONE_COLUMNS,
    PRIVATE: _school_columns(PRIVATE),
    SPECIAL: _school_columns(SPECIAL),
    SPECIALISED: _school_columns(SPECIALISED),
    SETTINGS: SETTINGS_COLUMNS,
}
SHEET_NOTES = {
    SEASON: "招生季：年度、城市、时区、城市范围（经纬度）和附件2的全部日程。每行一项，只填「值」一列。",
    DISTRICTS: "区：每行是一个区的一个入学顺位，按顺位先后排列；同一区的行连在一起，区的各列每行相同。",
    ROADS: "街路：门牌号从 1 到最大门牌号，沿起点到终点排列；填起点和终点的经纬度。",
    COMPOUNDS: "小区：名称、大门所在街路和门牌号、坐标。片区可按小区划定；未被片区列出的小区按大门门牌号归属片区。",
    SCHOOLS: "学校：公办和民族学校。招生年级列出的每个年级都要填计划数；班数、班额选填。",
    ZONES: "片区：每行是片区的一段门牌号（街路、起止门牌号、单双号）或一个小区，或各一个；片区的各列每行相同。",
    PRIVATE: "民办学校：计划数按年级填写；跨区招生须经市教育局批准。",
    SPECIAL: "特殊教育学校。",
    SPECIALISED: "专门学校。",
    SETTINGS: "系统设置（选填，由技术人员填写）：审核、派位、统筹、工作人员登录、个人信息保存期限和短信上限的参数；不填为默认值。",
}


# --- reading cells ---------------------------------------------------------------------------------


class _Bad:
    """A cell whose value is of the wrong type (already reported)."""


BAD = _Bad()


def _text_of(value: Any) -> str | None:
    """A cell as text (numbers without `.0`), or None if it is not text-like."""
    if isinstance(value, (bool, datetime, date)):
        return None
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _kind_hint(kind: str, col: Column) -> tuple[str, str]:
    if kind == "int":
        return "应为整数", "must be a whole number"
    if kind == "float":
        return "应为数字", "must be a number"
    if kind == "date":
        return "应为日期（如 2024-05-11）", "must be a date"
    if kind == "bool":
        return "应填「是」或「否」", "must be 是 or 否 (yes or no)"
    if kind == "grade":
        return "应填「一年级」或「七年级」", "must be grade 1 or 7"
    if kind == "grades":
        return "应填「一年级」「七年级」，用顿号分隔", "must be grades 1 and/or 7"
    if kind in ("enum", "facts"):
        names = "、".join(zh for zh, _ in col.choices)
        return f"应为以下之一：{names}", "must be one of: " + ", ".join(v for _, v in col.choices)
    return "应为文字", "must be text"


def _convert(value: Any, kind: str, col: Column) -> Any:
    """The cell's value for the config, or BAD (wrong type); blank cells never come here."""
    if kind == "any":
        return value.strip() if isinstance(value, str) else value
    if kind == "text":
        text = _text_of(value)
        return BAD if text is None else text
    if kind == "int":
        if isinstance(value, (bool, datetime, date)):
            return BAD
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value.is_integer() else BAD
        if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value.strip())
        return BAD
    if kind == "float":
        if isinstance(value, (bool, datetime, date)):
            return BAD
        if isinstance(value, (int, float)):
            return float(value)
        try:
            number = float(str(value).strip())
        except ValueError:
            return BAD
        return number if math.isfinite(number) else BAD
    if kind == "date":
        if isinstance(value, datetime):
            return value.date() if value.time() == datetime.min.time() else BAD
        if isinstance(value, date):
            return value
        m = _DATE_TEXT.match(value.strip()) if isinstance(value, str) else None
        if not m:
            return BAD
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return BAD
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = _text_of(value)
        return {"是": True, "否": False}.get(text or "", BAD)
    if kind == "grade":
        text = _text_of(value)
        return {"一年级": 1, "七年级": 7, "1": 1, "7": 7}.get(text or "", BAD)
    if kind == "grades":
        text = _text_of(value)
        if not text:
            return BAD
        grades = [{"一年级": 1, "七年级": 7, "1": 1, "7": 7}.get(part) for part in _SPLIT.split(text) if part]
        if None in grades or len(set(grades)) != len(grades):
            return BAD
        return sorted(g for g in grades if g is not None)
    if kind == "enum":
        text = _text_of(value)
        for zh, v in col.choices:
            if text in (zh, v):
                return v
        return BAD
    if kind in ("list", "facts"):
        text = _text_of(value)
        if not text:
            return BAD
        parts = [p for p in _SPLIT.split(text) if p]
        if kind == "list":
            return parts
        mapping = {**dict(col.choices), **{v: v for _, v in col.choices}}
        facts = [mapping.get(p) for p in parts]
        return BAD if None in facts else facts
    raise ValueError(f"unknown column kind {kind!r}")  # pragma: no cover - a programming error


def _shown(value: Any) -> str:
    """A cell's value as a problem quotes it."""
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@dataclass
class _Row:
    sheet: str
    number: int
    values: dict[str, Any] = field(default_factory=dict)  # key -> value (blank and bad cells left out)
    cells: dict[str, str] = field(default_factory=dict)  # key -> "C14"
    bad: set[str] = field(default_factory=set)

    def cell(self, key: str) -> str:
        return self.cells.get(key, "A1")  # a missing column: reported at A1, once


@dataclass
class _Item:
    """One entry of a config list, with the cell of each of its fields (relative paths)."""

    data: dict[str, Any]
    cells: dict[str, tuple[str, str]]  # "" (the item), "id", "plans[1]", "location.lat" -> (sheet, cell)


class _Reader:
    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.problems: list[Problem] = []
        self.where: dict[str, tuple[str, str]] = {}
        self.suppressed: set[str] = set()
        self.read_cells: set[tuple[str, str]] = set()  # cells with a problem found while reading
        self.raw: dict[str, Any] = {}
        self.missing_columns: set[str] = set()  # sheets with a column missing
        self.duplicated: set[str] = set()
        self.coordinates: list[tuple[str, str, float, str]] = []  # sheet, cell, value, "lat"/"lon"

    def problem(self, sheet: str, cell: str, zh: str, en: str) -> None:
        if cell == "A1" and sheet in self.missing_columns and not zh.startswith(("缺少列", "未知的列")):
            return  # a cell of a missing column: the column's problem says it
        self.problems.append(Problem(sheet, cell, zh, en))

    # sheets -----------------------------------------------------------------------------------

    def rows(self, name: str) -> list[_Row]:
        """The sheet's non-blank rows below its header, each cell read by its column's kind."""
        columns = SHEET_COLUMNS[name]
        sheets = {title.strip(): title for title in self.wb.sheetnames}  # "学校 " is 学校
        if name not in sheets:
            if name not in OPTIONAL_SHEETS:
                self.problem(name, "", "工作簿缺少此表", f"the workbook has no sheet {name}")
            return []
        ws = self.wb[sheets[name]]
        for merged in sorted(ws.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
            first = f"{get_column_letter(merged.min_col)}{merged.min_row}"
            self.problem(
                name,
                first,
                f"有合并单元格 {merged.coord}，请取消合并并在每一行填写",
                f"merged cells {merged.coord}: unmerge them and fill in every row",
            )
        by_header = {c.header: c for c in columns}
        at: dict[str, int] = {}
        for cell in next(ws.iter_rows(min_row=1, max_row=1), ()):
            text = _text_of(cell.value) or ""
            if not text:
                continue
            col = by_header.get(text)
            if col is None:
                self.problem(name, cell.coordinate, f"未知的列「{text}」", f"unknown column {text}")
            elif col.key in at:
                self.problem(name, cell.coordinate, f"列「{text}」重复", f"column {text} is there twice")
            else:
                at[col.key] = cell.column - 1
        for col in columns:
            if col.key not in at:
                self.problem(name, "A1", f"缺少列「{col.header}」", f"missing column {col.header}")
                self.missing_columns.add(name)
        rows: list[_Row] = []
        for cells in ws.iter_rows(min_row=2):
            if all(_blank(c.value) for c in cells):
                continue
            row = _Row(name, cells[0].row)
            for col in columns:
                i = at.get(col.key)
                if i is None or i >= len(cells):
                    continue
                cell = cells[i]
                row.cells[col.key] = cell.coordinate
                if _blank(cell.value):
                    continue
                value = _convert(cell.value, col.kind, col)
                if value is BAD:
                    zh, en = _kind_hint(col.kind, col)
                    self.problem(
                        name, cell.coordinate, f"「{col.header}」{zh}（填的是「{_shown(cell.value)}」）", en
                    )
                    row.bad.add(col.key)
                    continue
                row.values[col.key] = value
            rows.append(row)
        return rows

    def required(self, row: _Row, *keys: str) -> bool:
        """True if every key has a value; reports each blank one (bad cells are reported already)."""
        ok = True
        for key in keys:
            if key in row.values:
                continue
            ok = False
            if key not in row.bad:
                header = next(c.header for c in SHEET_COLUMNS[row.sheet] if c.key == key)
                self.problem(row.sheet, row.cell(key), f"「{header}」必填", f"{header} is required")
        return ok

    def coordinate(self, row: _Row, key: str, axis: str, into: dict[str, Any], rel: dict[str, str]) -> None:
        if key in row.values:
            into[axis] = row.values[key]
            self.coordinates.append((row.sheet, row.cells[key], row.values[key], axis))
        elif key in row.bad:
            into[axis] = 0.0  # a stand-in, so the rest is checked: the cell's problem is reported
        rel[axis] = row.cell(key)

    def register(self, prefix: str, sheet: str, cells: Mapping[str, str]) -> None:
        for rel, cell in cells.items():
            path = prefix if not rel else (f"{prefix}{rel}" if rel.startswith("[") else f"{prefix}.{rel}")
            self.where[path] = (sheet, cell)

    # the season sheet -------------------------------------------------------------------------

    def season(self, raw: dict[str, Any]) -> dict[str, float]:
        rows = self.rows(SEASON)
        items = {label: (path, kind, required) for label, path, kind, required, _ in SEASON_ITEMS}
        seen: dict[str, int] = {}
        box: dict[str, float] = {}
        for row in rows:
            label = row.values.get("item")
            if label is None:
                if "value" in row.values:
                    self.problem(SEASON, row.cell("item"), "「项目」必填", "the item is required")
                continue
            if label not in items:
                self.problem(SEASON, row.cell("item"), f"未知的项目「{label}」", f"unknown item {label}")
                continue
            if label in seen:
                self.problem(
                    SEASON, row.cell("item"), f"项目「{label}」重复（第{seen[label]}行）", "duplicate item"
                )
                continue
            seen[label] = row.number
            path, kind, _ = items[label]
            cell = row.cell("value")
            self.where[path] = (SEASON, cell)
            value = row.values.get("value")
            if value is None:
                continue
            col = _col(label, path, kind, "", "")
            converted = _convert(value, kind, col)
            if converted is BAD:
                zh, en = _kind_hint(kind, col)
                self.problem(SEASON, cell, f"「{label}」{zh}（填的是「{_shown(value)}」）", en)
                continue
            if path.startswith("box."):
                box[path[4:]] = converted
            else:
                _put(raw, path, converted)
        for label, (path, _kind, required) in items.items():
            if required and label not in seen:
                self.problem(SEASON, "", f"缺少项目「{label}」", f"missing item {label} ({path})")
                self.suppressed.add(path)
            elif (
                required
                and path.startswith("box.")
                and path[4:] not in box
                and (SEASON, self.where[path][1]) not in {(p.sheet, p.cell) for p in self.problems}
            ):
                self.problem(SEASON, self.where[path][1], f"「{label}」必填", f"{label} is required")
        raw.setdefault("timezone", "Asia/Shanghai")
        if "season" not in raw and isinstance(raw.get("year"), int):
            raw["season"] = str(raw["year"])
        return box

    # districts, roads, compounds --------------------------------------------------------------

    def districts(self) -> list[_Item]:
        out: list[_Item] = []
        by_code: dict[str, tuple[_Item, int]] = {}
        last = ""
        fields = ("name", "kind", "area_code", "multi_school_assignment")
        for row in self.rows(DISTRICTS):
            if not self.required(row, "code"):
                continue
            code = row.values["code"]
            found = by_code.get(code)
            if found is not None and code != last:
                self.problem(
                    DISTRICTS,
                    row.cell("code"),
                    f"区代码「{code}」重复：同一区的行应连在一起（见第{found[1]}行）",
                    f"duplicate district code {code}: a district's rows go together",
                )
                continue
            last = code
            if found is None:
                item = _Item({"code": code, "priority_tiers": []}, {"": (DISTRICTS, row.cell("code"))})
                item.cells["code"] = (DISTRICTS, row.cell("code"))
                for f in fields:
                    item.cells[f] = (DISTRICTS, row.cell(f))
                    if f in row.values:
                        item.data[f] = row.values[f]
                by_code[code] = (item, row.number)
                out.append(item)
            else:
                item, first = found
                for f in fields:
                    if f not in row.values:
                        continue
                    if f not in item.data:
                        item.data[f] = row.values[f]
                        item.cells[f] = (DISTRICTS, row.cell(f))
                    elif item.data[f] != row.values[f]:
                        header = next(c.header for c in DISTRICT_COLUMNS if c.key == f)
                        self.problem(
                            DISTRICTS,
                            row.cell(f),
                            f"「{header}」与本区第{first}行不一致",
                            f"{header} differs from the district's row {first}",
                        )
            tiers = item.data["priority_tiers"]
            if any(k in row.values or k in row.bad for k in ("tier_id", "tier_name", "tier_requires")):
                t = len(tiers)
                tier: dict[str, Any] = {}
                for key, name in (("tier_id", "id"), ("tier_name", "name"), ("tier_requires", "requires")):
                    item.cells[f"priority_tiers[{t}].{name}"] = (DISTRICTS, row.cell(key))
                    if key in row.values:
                        tier[name] = row.values[key]
                item.cells[f"priority_tiers[{t}]"] = (DISTRICTS, row.cell("tier_id"))
                tiers.append(tier)
        return out

    def roads(self) -> list[_Item]:
        out = []
        for row in self.rows(ROADS):
            data: dict[str, Any] = {}
            rel = {"": row.cell("name")}
            for key in ("name", "district", "max_number"):
                rel[key] = row.cell(key)
                if key in row.values:
                    data[key] = row.values[key]
            for end in ("起点", "终点"):
                point: dict[str, Any] = {}
                prel: dict[str, str] = {}
                self.coordinate(row, f"{end}.lat", "lat", point, prel)
                self.coordinate(row, f"{end}.lon", "lon", point, prel)
                name = "start" if end == "起点" else "end"
                data[name] = point
                rel.update({f"{name}.{k}": v for k, v in prel.items()})
                rel[name] = prel["lat"]
            out.append(_Item(data, {k: (ROADS, v) for k, v in rel.items()}))
        return out

    def compounds(self) -> list[_Item]:
        out = []
        for row in self.rows(COMPOUNDS):
            data: dict[str, Any] = {}
            rel = {"": row.cell("name")}
            for key in ("name", "district", "road", "number"):
                rel[key] = row.cell(key)
                if key in row.values:
                    data[key] = row.values[key]
            point: dict[str, Any] = {}
            prel: dict[str, str] = {}
            self.coordinate(row, ".lat", "lat", point, prel)
            self.coordinate(row, ".lon", "lon", point, prel)
            data["location"] = point
            rel.update({f"location.{k}": v for k, v in prel.items()})
            rel["location"] = prel["lat"]
            out.append(_Item(data, {k: (COMPOUNDS, v) for k, v in rel.items()}))
        return out

    # schools ----------------------------------------------------------------------------------

    def schools(self) -> list[_Item]:
        found: list[tuple[tuple[int, int, int, int], _Item]] = []
        seqs: dict[int, str] = {}
        for s, (sheet, kind) in enumerate(SCHOOL_SHEETS.items()):
            for row in self.rows(sheet):
                data: dict[str, Any] = {}
                rel = {"": row.cell("id")}
                for key in ("id", "name", "district", "address"):
                    rel[key] = row.cell(key)
                    if key in row.values:
                        data[key] = row.values[key]
                rel["kind"] = row.cell("kind") if kind is None else row.cell("id")
                if kind is not None:
                    data["kind"] = kind
                elif "kind" in row.values:
                    data["kind"] = row.values["kind"]
                elif "kind" not in row.bad:
                    self.required(row, "kind")
                point: dict[str, Any] = {}
                prel: dict[str, str] = {}
                self.coordinate(row, ".lat", "lat", point, prel)
                self.coordinate(row, ".lon", "lon", point, prel)
                data["location"] = point
                rel.update({f"location.{k}": v for k, v in prel.items()})
                rel["location"] = prel["lat"]
                self._plans(row, data, rel)
                if sheet == PRIVATE and "cross" in row.values:
                    data["cross_district_approved"] = row.values["cross"]
                rel["cross_district_approved"] = row.cell("cross")
                seq = row.values.get("seq")
                if seq is not None:
                    if seq in seqs:
                        self.problem(
                            sheet,
                            row.cell("seq"),
                            f"序号 {seq} 重复（{seqs[seq]}）",
                            f"sequence {seq} is used twice",
                        )
                    seqs[seq] = f"{sheet}!{row.cell('seq')}"
                order = (0 if seq is not None else 1, seq or 0, s, row.number)
                found.append((order, _Item(data, {k: (sheet, v) for k, v in rel.items()})))
        found.sort(key=lambda pair: pair[0])
        return [item for _, item in found]

    def _plans(self, row: _Row, data: dict[str, Any], rel: dict[str, str]) -> None:
        grades: list[int] = row.values.get("grades", [])
        rel["plans"] = row.cell("grades")
        if "grades" not in row.values and "grades" not in row.bad:
            self.required(row, "grades")
        plans: dict[int, int] = {}
        for g in GRADES:
            key = f"plan{g}"
            rel[f"plans[{g}]"] = row.cell(key)
            if g in grades:
                if key in row.values:
                    plans[g] = row.values[key]
                elif key in row.bad:
                    plans[g] = 1  # a stand-in, so the rest is checked: the cell's problem is reported
                else:
                    self.problem(
                        row.sheet,
                        row.cell(key),
                        f"招生年级含{GRADE_ZH[g]}，须填{GRADE_ZH[g]}计划",
                        f"grade {g} is taken: its plan is required",
                    )
            elif key in row.values and "grades" in row.values:
                self.problem(
                    row.sheet,
                    row.cell(key),
                    f"{GRADE_ZH[g]}不在招生年级中，不应填计划",
                    f"grade {g} is not among the school's grades",
                )
            for name, short in (("classes", "classes"), ("class_size", "size")):
                rel[f"{name}[{g}]"] = row.cell(f"{short}{g}")
                if f"{short}{g}" in row.values:
                    data.setdefault(name, {})[g] = row.values[f"{short}{g}"]
        if grades or "grades" not in row.bad:
            data["plans"] = plans

    # zones ------------------------------------------------------------------------------------

    def zones(self) -> list[_Item]:
        out: list[_Item] = []
        by_id: dict[str, tuple[_Item, int]] = {}
        last = ""
        for row in self.rows(ZONES):
            if not self.required(row, "id"):
                continue
            zid = row.values["id"]
            found = by_id.get(zid)
            if found is not None and zid != last:
                self.problem(
                    ZONES,
                    row.cell("id"),
                    f"片区代码「{zid}」重复：同一片区的行应连在一起（见第{found[1]}行）",
                    f"duplicate zone id {zid}: a zone's rows go together",
                )
                continue
            last = zid
            if found is None:
                item = _Item({"id": zid, "segments": [], "compounds": []}, {"": (ZONES, row.cell("id"))})
                item.cells["id"] = (ZONES, row.cell("id"))
                for f in ("district", "grade", "schools"):
                    item.cells[f] = (ZONES, row.cell(f))
                    if f in row.values:
                        item.data[f] = row.values[f]
                if "schools" in row.values:
                    for j in range(len(row.values["schools"])):
                        item.cells[f"schools[{j}]"] = (ZONES, row.cell("schools"))
                by_id[zid] = (item, row.number)
                out.append(item)
            else:
                item, first = found
                for f in ("district", "grade", "schools"):
                    if f in row.values and f in item.data and item.data[f] != row.values[f]:
                        header = next(c.header for c in ZONE_COLUMNS if c.key == f)
                        self.problem(
                            ZONES,
                            row.cell(f),
                            f"「{header}」与本片区第{first}行不一致",
                            f"{header} differs from the zone's row {first}",
                        )
                    elif f in row.values and f not in item.data:
                        item.data[f] = row.values[f]
                        item.cells[f] = (ZONES, row.cell(f))
            range_keys = ("road", "from_number", "to_number", "parity")
            has_range = any(k in row.values or k in row.bad for k in range_keys)
            has_compound = "compound" in row.values or "compound" in row.bad
            if not has_range and not has_compound:
                self.problem(
                    ZONES,
                    row.cell("road"),
                    "每行须填一段门牌号（街路、起止门牌号）或一个小区",
                    "each row needs a house-number range (road, first and last number) or a compound",
                )
            if has_range:
                k = len(item.data["segments"])
                seg: dict[str, Any] = {}
                item.cells[f"segments[{k}]"] = (ZONES, row.cell("road"))
                for key in range_keys:
                    item.cells[f"segments[{k}].{key}"] = (ZONES, row.cell(key))
                    if key in row.values:
                        seg[key] = row.values[key]
                item.data["segments"].append(seg)
            if "compound" in row.values:
                k = len(item.data["compounds"])
                item.cells[f"compounds[{k}]"] = (ZONES, row.cell("compound"))
                item.data["compounds"].append(row.values["compound"])
        return out

    # settings ---------------------------------------------------------------------------------

    def settings(self, raw: dict[str, Any]) -> None:
        tops = {name for name, _ in SETTINGS_MODELS}
        seen: dict[str, int] = {}
        for row in self.rows(SETTINGS):
            key = row.values.get("key")
            if key is None:
                if "value" in row.values:
                    self.required(row, "key")
                continue
            parts = key.split(".")
            if parts[0] not in tops or len(parts) < 2 or not all(parts):
                self.problem(SETTINGS, row.cell("key"), f"未知的设置项「{key}」", f"unknown setting {key}")
                continue
            if key in seen:
                self.problem(
                    SETTINGS, row.cell("key"), f"设置项「{key}」重复（第{seen[key]}行）", "duplicate setting"
                )
                continue
            seen[key] = row.number
            self.where[key] = (SETTINGS, row.cell("value"))
            if "value" in row.values:
                _put(raw, key, row.values["value"])

    # checks of the workbook's own ------------------------------------------------------------

    def check_box(self, box: Mapping[str, float]) -> None:
        if set(box) != {"south", "north", "west", "east"}:
            return
        cell = self.where.get("box.north", (SEASON, ""))[1]
        if not (-90 <= box["south"] < box["north"] <= 90 and -180 <= box["west"] < box["east"] <= 180):
            self.problem(SEASON, cell, "城市范围不对：应南小于北、西小于东", "the city's box is not a box")
            return
        span = {"lat": (box["south"], box["north"]), "lon": (box["west"], box["east"])}
        for sheet, at, value, axis in self.coordinates:
            low, high = span[axis]
            if not low <= value <= high:
                what = "纬度" if axis == "lat" else "经度"
                self.problem(
                    sheet,
                    at,
                    f"{what} {value} 不在城市范围 {low}–{high} 内",
                    f"{'latitude' if axis == 'lat' else 'longitude'} {value} is outside the city's box",
                )

    def check_plans(self, schools: list[_Item], zones: list[_Item]) -> None:
        """A zone naming a school whose plan for the zone's grade is 0 (the plan cell is named)."""
        by_id: dict[str, _Item] = {}
        for item in schools:
            by_id.setdefault(str(item.data.get("id")), item)
        for i, z in enumerate(zones):
            grade = z.data.get("grade")
            for j, sid in enumerate(z.data.get("schools", [])):
                s = by_id.get(sid)
                if s is None or grade not in GRADES or s.data.get("plans", {}).get(grade) != 0:
                    continue
                sheet, cell = s.cells[f"plans[{grade}]"]
                self.problem(
                    sheet,
                    cell,
                    f"{GRADE_ZH[grade]}计划为 0，但片区 {z.data['id']} 划入该校",
                    f"a plan of 0 for a school that zone {z.data['id']} names",
                )
                self.suppressed.add(f"zones[{i}].schools[{j}]")


def _put(raw: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        raw = raw.setdefault(part, {})
    raw[parts[-1]] = value


# --- reading a workbook ---------------------------------------------------------------------------


def open_workbook(path: Path) -> Any:
    """The openpyxl workbook at `path`, or WorkbookProblems saying why it is not one this reads."""
    name = path.name
    suffix = path.suffix.lower()
    try:
        head = path.read_bytes()[:8]
    except FileNotFoundError:
        raise WorkbookProblems([Problem(name, "", "文件不存在", "no such file")]) from None
    except OSError as e:
        raise WorkbookProblems([Problem(name, "", "无法读取文件", f"cannot read the file: {e}")]) from None
    if suffix == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise WorkbookProblems(
            [
                Problem(
                    name,
                    "",
                    "是旧版 Excel 97-2003（.xls）文件，请在 Excel 中“另存为” Excel 工作簿（.xlsx）后再导入",
                    "an Excel 97-2003 workbook (.xls): save it as an Excel workbook (.xlsx) and import that",
                )
            ]
        )
    if suffix == ".csv":
        raise WorkbookProblems(
            [
                Problem(
                    name,
                    "",
                    "是 CSV 文件，只能保存一张表；招生季需要整个工作簿，请导入 .xlsx 文件（enroll season template 生成）",
                    "a .csv file holds one sheet only: import the whole workbook as .xlsx (from enroll season template)",
                )
            ]
        )
    if not zipfile.is_zipfile(path):
        raise WorkbookProblems(
            [Problem(name, "", "不是 Excel 工作簿（.xlsx）文件", "not an Excel workbook (.xlsx)")]
        )
    try:
        with warnings.catch_warnings():  # Excel's extensions openpyxl drops (data validation lists)
            warnings.simplefilter("ignore", UserWarning)
            return load_workbook(path, data_only=True)
    except Exception as e:  # openpyxl raises zipfile, KeyError and its own errors for damaged files
        raise WorkbookProblems(
            [Problem(name, "", "无法读取该 .xlsx 文件（可能已损坏）", f"cannot read this .xlsx file: {e}")]
        ) from None


def read_workbook(path: str | Path, name: str) -> SeasonConfig:
    """The season config the workbook at `path` describes, named `name` (e.g. `siping-2024`).

    Raises WorkbookProblems with every problem found, each naming its sheet and cell."""
    wb = open_workbook(Path(path))
    try:
        return parse_workbook(wb, name)
    finally:
        wb.close()


def parse_workbook(wb: Any, name: str) -> SeasonConfig:
    """The season config of an open openpyxl workbook (see `read_workbook`)."""
    reader = _Reader(wb)
    raw: dict[str, Any] = {"name": name}
    reader.where["name"] = (SEASON, "")
    box = reader.season(raw)
    lists: dict[str, list[_Item]] = {
        "districts": reader.districts(),
        "roads": reader.roads(),
        "compounds": reader.compounds(),
        "schools": reader.schools(),
        "zones": reader.zones(),
    }
    for key, items in lists.items():
        raw[key] = [item.data for item in items]
        for i, item in enumerate(items):
            for rel, (sheet, cell) in item.cells.items():
                reader.register(f"{key}[{i}]", sheet, {rel: cell})
    reader.settings(raw)
    reader.check_box(box)
    reader.check_plans(lists["schools"], lists["zones"])
    reader.read_cells = {(p.sheet, p.cell) for p in reader.problems if p.cell}
    reader.raw, reader.duplicated = raw, _duplicated(raw)
    try:
        config = SeasonConfig.model_validate(raw)
    except ValidationError as e:
        errors = e.errors()
        for err in errors:
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, ConfigProblems):
                for path, message in cause.problems:
                    _config_problem(reader, path, message)
            else:
                _pydantic_problem(reader, err)
        _cross_references(reader, raw, errors)
        config = None
    if reader.problems or config is None:
        raise WorkbookProblems(_unique(reader.problems))
    return config


_SEASON_WIDE = ("name", "season", "year", "city", "timezone", "calendar", *(n for n, _ in SETTINGS_MODELS))


_LIST_KEYS = {"districts": "code", "roads": "name", "compounds": "name", "schools": "id", "zones": "id"}


def _cross_references(reader: _Reader, raw: dict[str, Any], errors: list[Any]) -> None:
    """The city's cross-references even when some field failed (pydantic checks them only once
    every field is valid): validated again with the example's calendar and settings in place of
    failed season-wide fields and without the list items that failed, whose problems are reported;
    what the config says of a left-out item's code or name is not (it would be about the stand-in)."""
    failed_items: dict[str, set[int]] = {}
    for err in errors:
        loc = err["loc"]
        if isinstance((err.get("ctx") or {}).get("error"), ConfigProblems):
            return  # the cross-references ran
        top = str(loc[0]) if loc else ""
        if top in _LIST_KEYS and len(loc) > 1 and isinstance(loc[1], int):
            failed_items.setdefault(top, set()).add(loc[1])
        elif top not in _SEASON_WIDE:
            return
    example = example_config().model_dump()
    patched = {**raw, **{k: example[k] for k in _SEASON_WIDE}}
    kept: dict[str, list[int]] = {}
    left_out: set[str] = set()
    for key, bad in failed_items.items():
        kept[key] = [i for i in range(len(raw[key])) if i not in bad]
        patched[key] = [raw[key][i] for i in kept[key]]
        left_out |= {v for i in bad if isinstance(v := raw[key][i].get(_LIST_KEYS[key]), str)}
    if not patched["districts"] or not patched["schools"]:
        return
    try:
        SeasonConfig.model_validate(patched)
    except ValidationError as e:
        for err in e.errors():
            cause = (err.get("ctx") or {}).get("error")
            if not isinstance(cause, ConfigProblems):
                continue
            for path, message in cause.problems:
                if any(f"'{k}'" in message or message.startswith(f"{k} ") for k in left_out):
                    continue
                m = re.match(r"^(\w+)\[(\d+)\](.*)$", path)
                if m and m.group(1) in kept:
                    path = f"{m.group(1)}[{kept[m.group(1)][int(m.group(2))]}]{m.group(3)}"
                _config_problem(reader, path, message)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    """Sorted by sheet, row and column; one problem a cell (the first found: the cell's own type)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for p in problems:
        if (p.sheet, p.cell, p.zh) not in seen:
            seen.add((p.sheet, p.cell, p.zh))
            out.append(p)
    return sorted(out, key=Problem.sort_key)


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TOP_SHEETS = {
    "districts": DISTRICTS,
    "roads": ROADS,
    "compounds": COMPOUNDS,
    "schools": SCHOOLS,
    "zones": ZONES,
    "verification": SETTINGS,
    "lottery": SETTINGS,
    "placement": SETTINGS,
    "staff_sign_in": SETTINGS,
    "retention": SETTINGS,
    "sms": SETTINGS,
    "sms_provider": SETTINGS,
}


def _locate(reader: _Reader, path: str) -> tuple[str, str] | None:
    """The (sheet, cell) a config field came from: the longest registered prefix of its path."""
    probe = path
    while probe:
        if probe in reader.where:
            return reader.where[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        if cut <= 0:
            break
        probe = probe[:cut]
    return None


def _add(reader: _Reader, path: str, zh: str, en: str) -> None:
    if path in reader.suppressed:
        return
    found = _locate(reader, path)
    if found is None:
        if any(s.startswith(f"{path}.") for s in reader.suppressed):
            return  # its missing rows are reported already
        sheet = _TOP_SHEETS.get(re.split(r"[.\[]", path)[0], SEASON)
        label = _SEASON_LABELS.get(path)
        if label is not None:
            zh = f"缺少项目「{label}」" if zh == "必填" else f"「{label}」{zh}"
        reader.problem(sheet, "", zh, f"{path}: {en}")
        return
    sheet, cell = found
    if cell and (sheet, cell) in reader.read_cells:
        return  # the cell's own problem (a wrong type, a blank) is already reported
    reader.problem(sheet, cell, zh, en)


# ConfigProblems' messages (enrollment/core/config.py) in Chinese: pattern, zh, en (groups by number).
_CONFIG_MESSAGES: tuple[tuple[str, str, str], ...] = (
    (r"^'(.*)' is used twice$", "「{0}」重复", "duplicate code {0}"),
    (r"^unknown district '(.*)'$", "区「{0}」不存在", "unknown district"),
    (r"^unknown road '(.*)'$", "街路「{0}」不存在", "unknown road"),
    (r"^unknown school '(.*)'$", "学校「{0}」不存在", "unknown school"),
    (r"^unknown compound '(.*)'$", "小区「{0}」不存在", "unknown compound"),
    (
        r"^'(.*)' is in district (\S+), not (\S+)$",
        "「{0}」在 {1} 区，不在 {2} 区",
        "{0} is in district {1}, not {2}",
    ),
    (r"^(\d+) is not within 1-(\d+)$", "门牌号 {0} 不在 1–{1} 之间", "house number {0} is not within 1-{1}"),
    (
        r"^(\d+)-(\d+) is not within 1-(\d+)$",
        "门牌号范围 {0}–{1} 不在 1–{2} 之内",
        "house numbers {0}-{1} are not within 1-{2}",
    ),
    (
        r"^(\S+) is not a public school taking grade (\d)$",
        "「{0}」不是招收该年级的公办学校",
        "{0} is not a public school taking grade {1}",
    ),
    (r"^overlaps zone (\S+) on '(.*)'$", "与片区 {0} 在「{1}」上的门牌号重叠", "overlaps zone {0} on {1}"),
    (
        r"^'(.*)' is already in zone (\S+)$",
        "小区「{0}」已划入片区 {1}",
        "compound {0} is already in zone {1}",
    ),
    (r"^is not in the season year (\d+)$", "不在招生年度 {0} 内", "is not in the season year {0}"),
)


def _duplicated(raw: Mapping[str, Any]) -> set[str]:
    """Codes and names given twice in one list: what else the config says of them may be about the other."""
    out: set[str] = set()
    for key, field_name in (
        ("roads", "name"),
        ("compounds", "name"),
        ("schools", "id"),
        ("districts", "code"),
    ):
        seen: set[str] = set()
        for item in raw.get(key, []):
            value = item.get(field_name)
            if isinstance(value, str):
                if value in seen:
                    out.add(value)
                seen.add(value)
    return out


def _about_duplicated(raw: Mapping[str, Any], path: str, message: str, duplicated: set[str]) -> bool:
    if not duplicated or message.endswith("is used twice"):
        return False
    if any(f"'{d}'" in message or message.startswith(f"{d} ") for d in duplicated):
        return True
    m = re.match(r"^compounds\[(\d+)\]", path)
    if m:
        compound = raw["compounds"][int(m.group(1))]
        return compound.get("road") in duplicated or compound.get("district") in duplicated
    return False


def _config_problem(reader: _Reader, path: str, message: str) -> None:
    if _about_duplicated(reader.raw, path, message, reader.duplicated):
        return  # the duplicate is reported; what follows from it would mislead
    for pattern, zh, en in _CONFIG_MESSAGES:
        m = re.match(pattern, message)
        if m:
            _add(reader, path, zh.format(*m.groups()), en.format(*m.groups()))
            return
    _add(reader, path, f"填写有误：{message}", message)  # pragma: no cover - a message not translated yet


_FORMATS = {
    "code": ("2-4 个大写字母，如 CY", "2-4 capital letters, e.g. CY"),
    "area_code": ("6 位数字，如 220204", "6 digits"),
    "name": ("小写字母、数字和 -，如 siping-2024", "lowercase letters, digits and -"),
    "season": ("字母、数字和 -，如 2024", "letters, digits and -"),
    "issuer": ("https:// 开头的网址", "an https:// URL"),
    "base_url": (
        "https:// 开头的网址（http:// 仅限本机 127.0.0.1）",
        "an https:// URL (http:// only to this machine)",
    ),
}
_ID_FORMATS = {
    "schools": ("如 S-CY-01（类别 1-2 个大写字母、区代码、2-3 位数字）", "like S-CY-01"),
    "zones": ("如 Z-CY-1-01（区代码、年级 1 或 7、2-3 位数字）", "like Z-CY-1-01"),
    "priority_tiers": ("小写字母、数字和 -，如 hukou-residence", "lowercase letters, digits and -"),
}


def _pydantic_problem(reader: _Reader, err: Any) -> None:
    loc = tuple(err["loc"])
    if loc[:2] == ("verification", "agencies") and len(loc) > 4 and loc[3] in ("api", "files"):
        loc = loc[:3] + loc[4:]  # the union's tag (an agency's `kind`) is not a cell of the sheet
    path = _path(loc)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    message = str(err["msg"])
    if kind == "missing":
        _add(reader, path, "必填", "required")
    elif kind == "string_pattern_mismatch":
        last = str(loc[-1])
        hint = _ID_FORMATS.get(str(loc[-3])) if last == "id" and len(loc) >= 3 else None
        zh, en = hint or _FORMATS.get(last, ("格式不对", f"does not match {ctx.get('pattern')}"))
        _add(reader, path, f"格式不对，应为{zh}", f"wrong format: {en}")
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()))
        zh = {"greater_than_equal": "不小于", "greater_than": "大于", "less_than_equal": "不大于"}.get(
            kind, "小于"
        )
        _add(reader, path, f"应{zh} {bound}", message.lower())
    elif kind in ("too_short", "string_too_short"):
        _add(reader, path, "不能为空" if kind == "too_short" else "太短", message.lower())
    elif kind in ("too_long", "string_too_long"):
        _add(reader, path, "太长", message.lower())
    elif kind == "literal_error":
        _add(reader, path, f"取值不对，应为 {ctx.get('expected')}", message.lower())
    elif kind == "extra_forbidden":
        _add(reader, path, "未知的设置项", "unknown setting")
    elif kind == "value_error":
        _value_problem(reader, path, str(ctx.get("error", message)))
    else:
        _add(reader, path, f"类型不对：{message}", message)


def _value_problem(reader: _Reader, path: str, text: str) -> None:
    if m := re.match(r"^(\S+) \((\S+)\) comes before (\S+) \((\S+)\)$", text):
        later, later_day, earlier, earlier_day = m.groups()
        a = _SEASON_LABELS.get(f"calendar.{later}", later)
        b = _SEASON_LABELS.get(f"calendar.{earlier}", earlier)
        _add(
            reader,
            f"calendar.{later}",
            f"日期顺序不对：「{a}」（{later_day}）早于「{b}」（{earlier_day}）",
            f"dates out of order: {later} comes before {earlier}",
        )
    elif m := re.match(r"^end (\S+) is before start (\S+)$", text):
        _add(
            reader,
            f"{path}.end",
            f"结束日期 {m.group(1)} 早于开始日期 {m.group(2)}",
            "the end is before the start",
        )
    elif m := re.match(r"^unknown timezone '(.*)'$", text):
        _add(reader, path, f"未知的时区「{m.group(1)}」", "unknown timezone")
    elif m := re.match(r"^(issuer|client_id): (.*)$", text):
        _add(reader, f"{path}.{m.group(1)}", "OIDC 签发方和 client id 须同时填写或同时不填", m.group(2))
    else:
        _add(reader, path, f"填写有误：{text}", text)


# --- writing a workbook ---------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_EXAMPLE_FILL = PatternFill("solid", fgColor="FFF2CC")


def _cell_value(value: Any, col: Column) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and float(f"{value:.16g}") != value:
        return repr(value)  # openpyxl writes 16 digits: the 17th of this float survives only as text
    if col.kind == "enum":
        return next(zh for zh, v in col.choices if v == value)
    if col.kind == "bool":
        return "是" if value else "否"
    if col.kind == "grade":
        return GRADE_ZH[value]
    if col.kind == "grades":
        return "、".join(GRADE_ZH[g] for g in value)
    if col.kind == "facts":
        names = {v: zh for zh, v in col.choices}
        return "、".join(names[f] for f in value)
    if col.kind == "list":
        return "、".join(value)
    return value


def _sheet(wb: Any, name: str, rows: Iterable[Mapping[str, Any]], *, example: bool) -> None:
    columns = SHEET_COLUMNS[name]
    ws = wb.create_sheet(name)
    ws.append([c.header for c in columns])
    for i, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    for values in rows:
        ws.append([_cell_value(values.get(c.key), c) for c in columns])
        r = ws.max_row
        for i, col in enumerate(columns, start=1):
            cell = ws.cell(row=r, column=i)
            value = cell.value
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            elif col.kind == "text":
                cell.number_format = "@"
            if example:
                cell.fill = _EXAMPLE_FILL
    for i, col in enumerate(columns, start=1):
        if col.kind in ("enum", "grade", "bool"):
            options = (
                [zh for zh, _ in col.choices]
                if col.kind == "enum"
                else (list(GRADE_ZH.values()) if col.kind == "grade" else ["是", "否"])
            )
            dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
            letter = get_column_letter(i)
            dv.add(f"{letter}2:{letter}5000")
            ws.add_data_validation(dv)


def _box(config: SeasonConfig) -> dict[str, float]:
    points = [p for r in config.roads for p in (r.start, r.end)]
    points += [c.location for c in config.compounds] + [s.location for s in config.schools]
    lats, lons = [p.lat for p in points], [p.lon for p in points]

    def down(x: float) -> float:
        return math.floor(round((x - BOX_MARGIN) * 100, 6)) / 100

    def up(x: float) -> float:
        return math.ceil(round((x + BOX_MARGIN) * 100, 6)) / 100

    return {
        "south": max(-90.0, down(min(lats))),
        "north": min(90.0, up(max(lats))),
        "west": max(-180.0, down(min(lons))),
        "east": min(180.0, up(max(lons))),
    }


def _season_rows(config: SeasonConfig) -> list[dict[str, Any]]:
    data = config.model_dump()
    data["box"] = _box(config)
    rows = []
    for label, path, _kind, _required, note in SEASON_ITEMS:
        value: Any = data
        for part in path.split("."):
            value = value[part]
        rows.append({"item": label, "value": value, "note": note})
    return rows


def _district_rows(config: SeasonConfig) -> list[dict[str, Any]]:
    return [
        {
            "code": d.code,
            "name": d.name,
            "kind": d.kind,
            "area_code": d.area_code,
            "multi_school_assignment": d.multi_school_assignment,
            "tier_id": t.id,
            "tier_name": t.name,
            "tier_requires": list(t.requires),
        }
        for d in config.districts
        for t in d.priority_tiers
    ]


def _road_rows(config: SeasonConfig) -> list[dict[str, Any]]:
    return [
        {
            "name": r.name,
            "district": r.district,
            "max_number": r.max_number,
            "起点.lat": r.start.lat,
            "起点.lon": r.start.lon,
            "终点.lat": r.end.lat,
            "终点.lon": r.end.lon,
        }
        for r in config.roads
    ]


def _compound_rows(config: SeasonConfig) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "district": c.district,
            "road": c.road,
            "number": c.number,
            ".lat": c.location.lat,
            ".lon": c.location.lon,
        }
        for c in config.compounds
    ]


def _school_rows(config: SeasonConfig, kinds: Sequence[str]) -> list[dict[str, Any]]:
    rows = []
    for seq, s in enumerate(config.schools, start=1):
        if s.kind not in kinds:
            continue
        row: dict[str, Any] = {
            "seq": seq,
            "id": s.id,
            "name": s.name,
            "kind": s.kind,
            "district": s.district,
            "address": s.address,
            ".lat": s.location.lat,
            ".lon": s.location.lon,
            "grades": sorted(s.plans),
            "cross": s.cross_district_approved,
        }
        for g in GRADES:
            row[f"plan{g}"] = s.plans.get(g)
            row[f"classes{g}"] = s.classes.get(g)
            row[f"size{g}"] = s.class_size.get(g)
        rows.append(row)
    return rows


def _zone_rows(config: SeasonConfig, *, pair: bool = False) -> list[dict[str, Any]]:
    """One row per segment, then one per compound; `pair`: a segment and a compound share rows."""
    rows = []
    for z in config.zones:
        head = {"id": z.id, "district": z.district, "grade": z.grade, "schools": list(z.schools)}
        segments: list[dict[str, Any]] = [
            {"road": s.road, "from_number": s.from_number, "to_number": s.to_number, "parity": s.parity}
            for s in z.segments
        ]
        compounds: list[dict[str, Any]] = [{"compound": c} for c in z.compounds]
        if pair:
            count = max(len(segments), len(compounds))
            members = [
                {**(segments[k] if k < len(segments) else {}), **(compounds[k] if k < len(compounds) else {})}
                for k in range(count)
            ]
        else:
            members = segments + compounds
        rows += [{**head, **m} for m in members]
    return rows


def _settings_rows(config: SeasonConfig) -> list[dict[str, Any]]:
    rows = []
    for top, _model in SETTINGS_MODELS:
        for key, value in _flatten(top, getattr(config, top).model_dump()):
            rows.append({"key": key, "value": value, "note": _SETTINGS_NOTES.get(key, "")})
    return rows


def _flatten(prefix: str, data: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, Mapping):
            yield from _flatten(f"{prefix}.{key}", value)
        else:
            yield f"{prefix}.{key}", value


def _instructions(wb: Any) -> None:
    ws = wb.create_sheet(INSTRUCTIONS, 0)
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 100
    lines: list[tuple[str, str]] = [
        ("招生季工作簿", "义务教育招生入学：由市教育局填写，导入后生成招生季配置"),
        ("导入", "enroll season import 本文件.xlsx --name 配置名（如 siping-2024）"),
        ("示例", "黄色行是示例，请改成本市的数据；每张表第一行是表头，请勿修改"),
        ("格式", "日期填日期（如 2024-05-11）；坐标填经纬度（度）；是/否 填「是」或「否」；不要合并单元格"),
        ("", ""),
    ]
    for name in (*SHEET_ORDER[1:], SETTINGS):
        lines.append((name, SHEET_NOTES[name]))
        if name not in (SEASON, SETTINGS):
            lines += [(f"  {c.header}", c.zh) for c in SHEET_COLUMNS[name]]
        lines.append(("", ""))
    for key, text in lines:
        ws.append([key, text])
        if key and not key.startswith(" "):
            ws.cell(row=ws.max_row, column=1).font = _HEADER_FONT
        ws.cell(row=ws.max_row, column=2).alignment = Alignment(wrap_text=True)


def write_workbook(config: SeasonConfig | None = None) -> Any:
    """The workbook of `config` (an openpyxl Workbook); None: the template, one example row a sheet."""
    example = config is None
    if config is None:
        config = example_config()
    wb = Workbook()
    wb.remove(wb.active)
    _instructions(wb)
    writers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        SEASON: lambda: _season_rows(config),
        DISTRICTS: lambda: _district_rows(config),
        ROADS: lambda: _road_rows(config),
        COMPOUNDS: lambda: _compound_rows(config),
        SCHOOLS: lambda: _school_rows(config, ("public", "ethnic")),
        ZONES: lambda: _zone_rows(config, pair=example),
        PRIVATE: lambda: _school_rows(config, ("private",)),
        SPECIAL: lambda: _school_rows(config, ("special-education",)),
        SPECIALISED: lambda: _school_rows(config, ("specialised",)),
        SETTINGS: lambda: _settings_rows(config),
    }
    for name, rows in writers.items():
        _sheet(wb, name, rows(), example=example and name not in (SEASON, SETTINGS))
    return wb


def workbook_bytes(config: SeasonConfig | None = None) -> bytes:
    """`write_workbook(config)` as the bytes of an .xlsx file."""
    out = io.BytesIO()
    write_workbook(config).save(out)
    return out.getvalue()


def example_config() -> SeasonConfig:
    """The template's example: one row on every sheet, a valid season of its own."""
    spot = {"lat": 43.8502, "lon": 126.4955}
    school = {"district": "CY", "location": spot}
    return SeasonConfig.model_validate(
        {
            "name": "example",
            "season": "2024",
            "year": 2024,
            "city": "吉林市",
            "timezone": "Asia/Shanghai",
            "calendar": {
                "notice_issued": date(2024, 5, 11),
                "plans_published": date(2024, 5, 12),
                "grade7_registration": {"start": date(2024, 5, 13), "end": date(2024, 5, 19)},
                "grade1_registration": {"start": date(2024, 5, 20), "end": date(2024, 5, 29)},
                "verification": {"start": date(2024, 5, 30), "end": date(2024, 6, 9)},
                "home_visits": {"start": date(2024, 6, 10), "end": date(2024, 6, 15)},
                "private_counts_due": date(2024, 6, 16),
                "lottery_day": date(2024, 6, 17),
                "coordination": {"start": date(2024, 6, 19), "end": date(2024, 6, 26)},
                "spot_check": {"start": date(2024, 6, 27), "end": date(2024, 7, 5)},
                "admission_notices": date(2024, 7, 6),
                "reporting_day": date(2024, 7, 8),
                "term_start": date(2024, 9, 1),
            },
            "districts": [
                {
                    "code": "CY",
                    "name": "船营区",
                    "kind": "urban-district",
                    "area_code": "220204",
                    "priority_tiers": [
                        {
                            "id": "hukou-residence",
                            "name": "户籍在片区内且实际居住",
                            "requires": ["hukou-in-zone", "actual-residence"],
                        }
                    ],
                }
            ],
            "roads": [
                {
                    "name": "松江路",
                    "district": "CY",
                    "start": {"lat": 43.85, "lon": 126.48},
                    "end": {"lat": 43.85, "lon": 126.54},
                    "max_number": 300,
                }
            ],
            "compounds": [
                {
                    "name": "江畔花园",
                    "district": "CY",
                    "road": "松江路",
                    "number": 240,
                    "location": {"lat": 43.8512, "lon": 126.5285},
                }
            ],
            "schools": [
                {
                    **school,
                    "id": "S-CY-01",
                    "name": "船营区第一实验小学",
                    "kind": "public",
                    "address": "吉林市船营区松江路88号",
                    "plans": {1: 270},
                    "classes": {1: 6},
                    "class_size": {1: 45},
                },
                {
                    **school,
                    "id": "P-CY-01",
                    "name": "船营区启明民办小学",
                    "kind": "private",
                    "address": "吉林市船营区松江路120号",
                    "plans": {1: 36},
                    "cross_district_approved": True,
                },
                {
                    **school,
                    "id": "SE-CY-01",
                    "name": "船营区启智特殊教育学校",
                    "kind": "special-education",
                    "address": "吉林市船营区松江路150号",
                    "plans": {1: 24, 7: 24},
                },
                {
                    **school,
                    "id": "T-CY-01",
                    "name": "船营区育新专门学校",
                    "kind": "specialised",
                    "address": "吉林市船营区松江路180号",
                    "plans": {7: 40},
                },
            ],
            "zones": [
                {
                    "id": "Z-CY-1-01",
                    "district": "CY",
                    "grade": 1,
                    "schools": ["S-CY-01"],
                    "segments": [{"road": "松江路", "from_number": 1, "to_number": 200, "parity": "all"}],
                    "compounds": ["江畔花园"],
                }
            ],
        }
    )
