"""The season's lists for the offices that take them next (issue 15, docs/EXPORTS.md).

Five exports, each built from the stores' records through `ports.ExportSources` (key and index
reads only) into `sheets.Sheet`s:

| kind | scope | what | who may take it |
| --- | --- | --- | --- |
| `admitted` | a school | the children placed there: name, sex, birth date, ID, route, guardians' phones, reporting status | the school's district, the city |
| `student-status` | a district | the national student-status system's new-student sheet (学籍), one sheet per school, arrived children | the district, the city |
| `private-applicants` | a private school | its pools as frozen for the draw: counts per grade and the list (R-LOT-1, 16 Jun) | the school's district, the city |
| `reporting` | a district | reporting-day arrivals and sunshine classes per school (within 10 days of term) | the district, the city |
| `public-results` | a school | the published lists from the archive: names as 张*明, ID numbers' last four only | every staff role |

Personal data goes only to the school's (or the asked) district and the city: auditors read the
archive and placements by registration id and take only the masked public lists (R-DATA-2). A
district's files hold the children placed at its schools, whatever district they registered in
(a child placed in a district is its pupil), and never a child placed elsewhere. `take` checks the
caller first, builds the export, renders it and records the download (who, role, district, what,
when, how many rows, the file's SHA-256) before the file is handed out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from enrollment.core import idcard
from enrollment.core.config import School, SeasonConfig
from enrollment.core.idcard import mask_name
from enrollment.core.staff import Forbidden, StaffError
from enrollment.exports.ports import DownloadLog, ExportSources
from enrollment.exports.sheets import CONTENT_TYPES, Sheet, to_csv, to_xlsx
from enrollment.placement.routes import ROUTE_ZH

Kind = Literal["admitted", "student-status", "private-applicants", "reporting", "public-results"]
Format = Literal["xlsx", "csv"]
KINDS: tuple[Kind, ...] = ("admitted", "student-status", "private-applicants", "reporting", "public-results")
SCHOOL_KINDS: frozenset[str] = frozenset({"admitted", "private-applicants", "public-results"})
KIND_ZH: dict[str, str] = {
    "admitted": "录取名单",
    "student-status": "学籍新生信息",
    "private-applicants": "民办学校报名情况",
    "reporting": "报到及分班情况",
    "public-results": "公示名单",
}
PUBLIC: frozenset[str] = frozenset({"public-results"})  # masked: every staff role may take them
GRADE_ZH = {1: "一年级", 7: "七年级"}
ID_TYPE_ZH = {"resident-id": "居民身份证", "passport": "护照"}
# 入学方式 in the student-status system: compulsory education is 就近入学 or 其他 (docs/EXPORTS.md)
NEARBY_ROUTES = frozenset({"catchment", "priority", "coordination"})
ID_COLUMNS = frozenset({"证件号码", "身份证件号", "监护人电话", "联系电话", "成员1联系电话", "成员2联系电话"})


class ExportRefused(StaffError):
    status = 422
    field = "format"
    rule = "EXPORT-FORMAT"


class NoSuchScope(StaffError):
    status = 404
    field = "path"


class NotYet(StaffError):
    status = 409


class NoLonger(StaffError):
    """After the retention date: the lists' personal data was erased (docs/RETENTION.md)."""

    status = 409


class ExportIncomplete(LookupError):
    """A child listed at a school has no registration: the stores disagree; nothing is handed out."""


@dataclass(frozen=True)
class Taker:
    """Who takes a file: a signed-in staff member, or an operator of `enroll export` (IAM)."""

    principal: str
    role: str
    district: str | None = None


@dataclass(frozen=True)
class Export:
    kind: Kind
    season: str
    district: str  # whose data: the school's district, or the district asked for
    scope: str  # a school id or a district code
    title: str  # the file's name without its extension (Chinese, for the person saving it)
    sheets: list[Sheet]

    @property
    def rows(self) -> int:
        return sum(len(s.rows) for s in self.sheets)

    def render(self, fmt: Format) -> bytes:
        if fmt == "xlsx":
            return to_xlsx(self.sheets)
        if len(self.sheets) != 1:
            raise ExportRefused(
                f"“{KIND_ZH[self.kind]}”有多个工作表，只能导出为xlsx",
                f"{self.kind} has {len(self.sheets)} sheets: xlsx only",
            )
        return to_csv(self.sheets[0])

    def file_name(self, fmt: Format) -> str:
        return f"{self.title}.{fmt}"


def formats(kind: Kind) -> tuple[Format, ...]:
    """The formats an export comes in: csv only where it is one sheet."""
    return ("xlsx", "csv") if kind == "admitted" else ("xlsx",)


def school_of(config: SeasonConfig, school_id: str) -> School:
    school = config.school_index.get(school_id)
    if school is None:
        raise NoSuchScope(f"没有学校 {school_id}", f"no school {school_id!r}")
    return school


def district_name(config: SeasonConfig, code: str) -> str:
    for d in config.districts:
        if d.code == code:
            return d.name
    raise NoSuchScope(f"没有区 {code}", f"no district {code!r}")


def scope_district(config: SeasonConfig, kind: Kind, scope: str) -> str:
    """The district whose data an export is: the school's for a school's lists, else the one asked."""
    if kind in SCHOOL_KINDS:
        return school_of(config, scope).district
    district_name(config, scope)
    return scope


def require_export(taker: Taker, kind: Kind, district: str) -> None:
    """Personal data to the data's district and the city only; the masked public lists to any staff."""
    if kind in PUBLIC and taker.role in ("district", "city", "auditor", "operator"):
        return
    if taker.role == "auditor":
        raise Forbidden(
            "审计人员不能下载含个人信息的名单（可下载公示名单，查看下载记录）",
            "forbidden: auditors take the masked public lists only",
        )
    if taker.role in ("city", "operator") or (taker.role == "district" and taker.district == district):
        return
    raise Forbidden(f"只能下载本区（{district}以外无权）的名单", "forbidden: another district's list")


# What a registration holds, as the lists print it ----------------------------------------------


def _child(reg: Mapping[str, Any]) -> Mapping[str, Any]:
    child: Mapping[str, Any] = reg["request"]["child"]
    return child


def _guardians(reg: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = reg["request"].get("guardians") or []
    return found


def address(config: SeasonConfig, addr: Mapping[str, Any] | None) -> str:
    """`{city}{district}{road}{number}号{detail}`, as the form took it; "" for none."""
    if not addr:
        return ""
    names = {d.code: d.name for d in config.districts}
    where = names.get(str(addr.get("district")), str(addr.get("district") or ""))
    return f"{config.city}{where}{addr.get('road', '')}{addr.get('number', '')}号{addr.get('detail') or ''}"


def _registrations(sources: ExportSources, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(ids)
    found = sources.registrations_of(wanted)
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise ExportIncomplete(f"no registration for {missing[:10]}")
    return found


def _placed(sources: ExportSources, season: str, school: School) -> list[dict[str, Any]]:
    """The children placed at the school, by grade and id; each record checked against the school."""
    placed = sources.placed_at_school(season, school.id)
    wrong = [p["registration_id"] for p in placed if p.get("school_id") != school.id]
    if wrong:
        raise ExportIncomplete(f"placements listed at {school.id} name another school: {wrong[:10]}")
    return sorted(placed, key=lambda p: (int(p["grade"]), str(p["registration_id"])))


def _sheet_title(school: School) -> str:
    return f"{school.id} {school.name}"


def _file_title(config: SeasonConfig, kind: Kind, where: str) -> str:
    return f"{config.season}年{where}{KIND_ZH[kind]}"


# The exports ------------------------------------------------------------------------------------

ADMITTED_HEADERS = (
    "报名编号",
    "姓名",
    "性别",
    "出生日期",
    "证件类型",
    "证件号码",
    "年级",
    "录取途径",
    "监护人",
    "监护人电话",
    "报到状态",
)


def admitted(config: SeasonConfig, season: str, school_id: str, sources: ExportSources) -> Export:
    """One school's admitted list (R-NOTE-1): the school's district prepares its new pupils."""
    school = school_of(config, school_id)
    placed = _placed(sources, season, school)
    regs = _registrations(sources, (str(p["registration_id"]) for p in placed))
    arrived = sources.arrivals_at(season, school.id)
    rows = []
    for p in placed:
        rid = str(p["registration_id"])
        reg, child = regs[rid], _child(regs[rid])
        guardians = _guardians(reg)
        rows.append(
            (
                rid,
                str(child["name"]),
                str(child["sex"]),
                str(child["birth_date"]),
                ID_TYPE_ZH.get(str(child.get("id_type", "resident-id")), "其他"),
                str(child["id_number"]),
                GRADE_ZH.get(int(p["grade"]), str(p["grade"])),
                ROUTE_ZH.get(str(p.get("route")), str(p.get("route") or "")),
                "、".join(f"{g['name']}（{g['relationship']}）" for g in guardians),
                "、".join(str(g["phone"]) for g in guardians),
                "已报到" if rid in arrived else "未报到",
            )
        )
    sheet = Sheet(_sheet_title(school), ADMITTED_HEADERS, rows, ID_COLUMNS)
    return Export(
        "admitted", season, school.district, school.id, _file_title(config, "admitted", school.name), [sheet]
    )


# The national student-status system's new-student columns this season holds, in the system's order
# (docs/EXPORTS.md lists its other columns, which the season does not collect).
STUDENT_STATUS_HEADERS = (
    "姓名",
    "性别",
    "出生日期",
    "国籍/地区",
    "身份证件类型",
    "身份证件号",
    "户口所在地",
    "入学年月",
    "入学方式",
    "年级",
    "班级",
    "现住址",
    "联系电话",
    "成员1姓名",
    "成员1关系",
    "成员1联系电话",
    "成员2姓名",
    "成员2关系",
    "成员2联系电话",
)


def _classes(sources: ExportSources, season: str, school: School) -> dict[str, int]:
    """Registration id -> sunshine class number, from the signed classes addition ({} before it)."""
    out: dict[str, int] = {}
    for grade in sorted(school.plans):
        body = sources.archived(f"additions/{season}/classes/classes/{school.id}-g{grade}.json")
        if body is None:
            continue
        record = json.loads(body)
        for number, ids in enumerate(record["classes"], start=1):
            out.update(dict.fromkeys((str(i) for i in ids), number))
    return out


def _district_schools(config: SeasonConfig, district: str) -> list[School]:
    district_name(config, district)
    return sorted((s for s in config.schools if s.district == district), key=lambda s: s.id)


def student_status(config: SeasonConfig, season: str, district: str, sources: ExportSources) -> Export:
    """The new-student sheet for 全国中小学生学籍信息管理系统 (annex 2, 三（八）: within 30 days of
    term): one sheet per school of the district, its children who reported (R-NOTE-1)."""
    enrolled = config.calendar.term_start.strftime("%Y%m")
    sheets = []
    for school in _district_schools(config, district):
        placed = _placed(sources, season, school)
        arrived = sources.arrivals_at(season, school.id)
        came = [p for p in placed if str(p["registration_id"]) in arrived]
        regs = _registrations(sources, (str(p["registration_id"]) for p in came))
        class_of = _classes(sources, season, school)
        rows = []
        for p in came:
            rid = str(p["registration_id"])
            req, child = regs[rid]["request"], _child(regs[rid])
            passport = child.get("id_type") == "passport"
            residence = req.get("residence") or {}
            hukou = residence.get("hukou_address") if residence.get("basis") == "hukou" else None
            members: list[str] = []
            for g in [*_guardians(regs[rid]), {}, {}][:2]:
                members += [str(g.get("name", "")), str(g.get("relationship", "")), str(g.get("phone", ""))]
            guardians = _guardians(regs[rid])
            rows.append(
                (
                    str(child["name"]),
                    str(child["sex"]),
                    str(child["birth_date"]).replace("-", ""),
                    str(child.get("nationality") or "") if passport else "CHN",
                    ID_TYPE_ZH.get(str(child.get("id_type", "resident-id")), "其他"),
                    str(child["id_number"]),
                    address(config, hukou),
                    enrolled,
                    "就近入学" if p.get("route") in NEARBY_ROUTES else "其他",
                    GRADE_ZH.get(int(p["grade"]), str(p["grade"])),
                    f"{class_of[rid]}班" if rid in class_of else "",
                    address(config, req.get("home_address")),
                    str(guardians[0]["phone"]) if guardians else "",
                    *members,
                )
            )
        sheets.append(Sheet(_sheet_title(school), STUDENT_STATUS_HEADERS, rows, ID_COLUMNS))
    where = district_name(config, district)
    return Export(
        "student-status", season, district, district, _file_title(config, "student-status", where), sheets
    )


COUNT_HEADERS = ("年级", "招生计划", "本区报名", "外区报名", "合计", "录取方式")
APPLICANT_HEADERS = (
    "年级",
    "报名编号",
    "姓名",
    "性别",
    "出生日期",
    "证件号码",
    "户籍或居住所在区",
    "报名范围",
)


def _case_zh(plan: int, own: int, other: int) -> str:
    """How R-LOT-1 and R-LOT-2 decide the school's seats, from the counts (LOTTERY.md)."""
    if own + other <= plan:
        return "未超计划，全部录取"
    if own > plan:
        return "本区报名超计划，在本区报名者中电脑派位"
    return "本区全部录取，外区报名者电脑派位"


def private_applicants(config: SeasonConfig, season: str, school_id: str, sources: ExportSources) -> Export:
    """A private school's applicants as its pools were frozen for the draw (R-LOT-1, 16 Jun): the
    counts per grade against the plan, and the list, to the city."""
    school = school_of(config, school_id)
    if school.kind != "private":
        raise NoSuchScope(f"{school.name}不是民办学校", f"{school_id} is not a private school")
    counts, listed = [], []
    for grade in sorted(school.plans):
        pool = sources.lottery(season, school.id, grade)
        if pool is None:
            raise NotYet(
                "民办学校报名名单尚未确定（资格审核结束后统一确定）", "the private pools are not frozen yet"
            )
        own, other = [str(i) for i in pool.get("own", [])], [str(i) for i in pool.get("other", [])]
        plan = int(school.plans[grade])
        counts.append(
            (
                GRADE_ZH[grade],
                str(plan),
                str(len(own)),
                str(len(other)),
                str(len(own) + len(other)),
                _case_zh(plan, len(own), len(other)),
            )
        )
        regs = _registrations(sources, own + other)
        for rid in sorted(own + other):
            child = _child(regs[rid])
            listed.append(
                (
                    GRADE_ZH[grade],
                    rid,
                    str(child["name"]),
                    str(child["sex"]),
                    str(child["birth_date"]),
                    str(child["id_number"]),
                    district_name(config, str(regs[rid]["district"])),
                    "本区" if rid in set(own) else "外区",
                )
            )
    sheets = [
        Sheet("报名人数", COUNT_HEADERS, counts),
        Sheet("报名名单", APPLICANT_HEADERS, listed, ID_COLUMNS),
    ]
    return Export(
        "private-applicants",
        season,
        school.district,
        school.id,
        _file_title(config, "private-applicants", school.name),
        sheets,
    )


SUMMARY_HEADERS = ("学校", "学校名称", "年级", "录取人数", "已报到", "未报到", "分班数")
REPORTING_HEADERS = (
    "报名编号",
    "姓名",
    "性别",
    "出生日期",
    "年级",
    "录取途径",
    "报到状态",
    "报到时间",
    "班级",
)


def reporting(config: SeasonConfig, season: str, district: str, sources: ExportSources) -> Export:
    """Reporting day's arrivals and the sunshine classes, per school of the district (within 10 days
    of term): a summary sheet, then one sheet per school."""
    summary: list[tuple[str, ...]] = []
    sheets = []
    for school in _district_schools(config, district):
        placed = _placed(sources, season, school)
        arrived = sources.arrivals_at(season, school.id)
        regs = _registrations(sources, (str(p["registration_id"]) for p in placed))
        class_of = _classes(sources, season, school)
        rows = []
        for p in placed:
            rid = str(p["registration_id"])
            child = _child(regs[rid])
            rows.append(
                (
                    rid,
                    str(child["name"]),
                    str(child["sex"]),
                    str(child["birth_date"]),
                    GRADE_ZH.get(int(p["grade"]), str(p["grade"])),
                    ROUTE_ZH.get(str(p.get("route")), str(p.get("route") or "")),
                    "已报到" if rid in arrived else "未报到",
                    arrived.get(rid, ""),
                    f"{class_of[rid]}班" if rid in class_of else "",
                )
            )
        for grade in sorted(school.plans):
            mine = [p for p in placed if int(p["grade"]) == grade]
            came = sum(1 for p in mine if str(p["registration_id"]) in arrived)
            classes = {
                class_of[str(p["registration_id"])] for p in mine if str(p["registration_id"]) in class_of
            }
            summary.append(
                (
                    school.id,
                    school.name,
                    GRADE_ZH[grade],
                    str(len(mine)),
                    str(came),
                    str(len(mine) - came),
                    str(len(classes)),
                )
            )
        sheets.append(Sheet(_sheet_title(school), REPORTING_HEADERS, rows))
    where = district_name(config, district)
    return Export(
        "reporting",
        season,
        district,
        district,
        _file_title(config, "reporting", where),
        [Sheet("汇总", SUMMARY_HEADERS, summary), *sheets],
    )


RESULT_HEADERS = ("序号", "姓名", "证件号码", "年级", "录取途径")
LOTTERY_HEADERS = ("派位序号", "姓名", "证件号码", "报名范围", "结果")


def public_results(config: SeasonConfig, season: str, school_id: str, sources: ExportSources) -> Export:
    """A school's published lists (R-OPEN-1), from the signed archive: who was admitted, and for a
    private school each grade's lottery list in the draw's order; names as 张*明 and ID numbers'
    last four characters only, nothing else about a child (R-DATA-2)."""
    school = school_of(config, school_id)
    body = sources.archived(f"seasons/{season}/placements.jsonl")
    if body is None:
        raise NotYet("录取结果尚未公布", "the season's placements are not archived yet")
    here = sorted(
        (p for p in _lines(body) if p.get("school_id") == school.id),
        key=lambda p: (int(p["grade"]), str(p["registration_id"])),
    )
    records = []
    if school.kind == "private":
        for grade in sorted(school.plans):
            found = sources.archived(f"seasons/{season}/private/{school.id}-g{grade}.json")
            if found is not None:
                records.append((grade, json.loads(found)))
    ids = {str(p["registration_id"]) for p in here}
    for _, r in records:
        ids.update(str(i) for i in [*r["own_district_applicants"], *r["other_applicants"]])
    regs = _registrations(sources, sorted(ids))

    def who(rid: str) -> tuple[str, str]:
        child = _child(regs[rid])
        return mask_name(str(child["name"])), idcard.mask(str(child["id_number"]))

    rows = [
        (
            str(n),
            *who(str(p["registration_id"])),
            GRADE_ZH.get(int(p["grade"]), ""),
            ROUTE_ZH.get(str(p["route"]), ""),
        )
        for n, p in enumerate(here, start=1)
    ]
    sheets = [Sheet("录取名单", RESULT_HEADERS, rows)]
    for grade, r in records:
        sheets.append(Sheet(f"派位名单（{GRADE_ZH[grade]}）", LOTTERY_HEADERS, lottery_rows(r, who)))
    return Export(
        "public-results",
        season,
        school.district,
        school.id,
        _file_title(config, "public-results", school.name),
        sheets,
    )


@lru_cache(maxsize=2)
def _lines(body: bytes) -> tuple[dict[str, Any], ...]:
    """placements.jsonl's lines, parsed once for every school's list of one run (`enroll export all`)."""
    return tuple(json.loads(line) for line in body.decode("utf-8").splitlines() if line.strip())


def lottery_rows(record: Mapping[str, Any], who: Any) -> list[tuple[str, ...]]:
    """A private record's applicants as the printed list: the drawn ranking first, in its order
    (录取, then 候补 n), then those admitted without a draw and those not in the draw."""
    own = {str(i) for i in record["own_district_applicants"]}
    admitted = {str(i) for i in record["admitted"]}
    draw = record.get("draw") or {}
    ranking = [str(i) for i in draw.get("ranking", [])]
    seats = int(draw.get("seats", 0))
    rows: list[tuple[str, ...]] = []
    for n, rid in enumerate(ranking, start=1):
        result = "录取" if n <= seats else f"候补第{n - seats}位"
        rows.append((str(n), *who(rid), "本区" if rid in own else "外区", result))
    drawn = set(ranking)
    rest = sorted(
        (str(i) for i in [*record["own_district_applicants"], *record["other_applicants"]]), key=str
    )
    for rid in rest:
        if rid in drawn:
            continue
        rows.append(
            (
                "",
                *who(rid),
                "本区" if rid in own else "外区",
                "录取（未超计划）" if rid in admitted else "未录取",
            )
        )
    return rows


BUILDERS = {
    "admitted": admitted,
    "student-status": student_status,
    "private-applicants": private_applicants,
    "reporting": reporting,
    "public-results": public_results,
}


def build(kind: Kind, config: SeasonConfig, season: str, scope: str, sources: ExportSources) -> Export:
    return BUILDERS[kind](config, season, scope, sources)


@dataclass(frozen=True)
class Taken:
    export: Export
    fmt: Format
    data: bytes
    record: dict[str, Any]

    @property
    def file_name(self) -> str:
        return self.export.file_name(self.fmt)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.fmt]


def take(
    kind: Kind,
    config: SeasonConfig,
    season: str,
    scope: str,
    fmt: Format,
    taker: Taker,
    *,
    sources: ExportSources,
    log: DownloadLog,
    at: str,
) -> Taken:
    """The file `taker` asked for, once they may have it, its download recorded before it is handed out."""
    if fmt not in formats(kind):
        raise ExportRefused(
            f"“{KIND_ZH[kind]}”只能导出为{'或'.join(formats(kind))}格式", f"{kind}: formats {formats(kind)}"
        )
    district = scope_district(config, kind, scope)
    require_export(taker, kind, district)
    if datetime.fromisoformat(at) >= config.erase_from:  # the names and numbers are gone (docs/RETENTION.md)
        raise NoLonger(
            f"本招生季的个人信息已于{config.erase_from.date()}按保存期限删除，名单不再提供",
            f"the season's personal data was erased at the end of its retention period ({config.erase_from.date()})",
        )
    if kind != "private-applicants" and not sources.archive_has(f"seasons/{season}/placements.jsonl"):
        raise NotYet("录取结果尚未产生：统筹安排阶段结束后统一安置", "placement has not run yet")
    export = build(kind, config, season, scope, sources)
    data = export.render(fmt)
    record = {
        "season": season,
        "kind": kind,
        "scope": scope,
        "district": export.district,
        "format": fmt,
        "file_name": export.file_name(fmt),
        "rows": export.rows,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "by": taker.principal,
        "role": taker.role,
        "by_district": taker.district,
        "at": at,
    }
    log.record_download(record)
    return Taken(export, fmt, data, record)


def downloads_view(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The recorded downloads (in the order they were taken), latest first, with what each was in Chinese."""
    out = [{**r, "kind_zh": KIND_ZH.get(str(r.get("kind")), str(r.get("kind")))} for r in records]
    taken = sorted(enumerate(out), key=lambda n_r: (str(n_r[1].get("at")), n_r[0]), reverse=True)
    return [r for _, r in taken]  # the same time (a frozen local clock): the later record first
