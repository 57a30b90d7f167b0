"""Agencies that exchange files instead of answering an API (issue 17, docs/AGENCY-FILES.md).

For an agency configured `kind: files` (`AgencyFiles`), `checks.ask` stores the check pending
(`file-requested`) and puts the request on the agency's worklist (`FileRequests.request_file`). The
case stays without a verdict until the answer comes. `write_outbox` writes the worklist as one
round's files in the work bucket: `requests.xlsx`, `requests.csv` (GB18030) and `manifest.json`
(each file's rows and SHA-256), and gives a download link for each. The agency's clerk fills in the
answer columns and uploads the file to the inbox; `record_answer_file` checks it row by row (a bad
row is reported by its row number and column, in Chinese, the good rows are kept) and records the
good rows through `season.record_answers`, the use case every agency answer goes through.

A row carries only what the agency needs to answer (R-DATA-2): the request id (the registration id,
an unguessable code) and the ID type and number (public security) or the deed number (housing,
planning). Never a name, address or phone.

The answer columns are the API's (`agency_api.CheckAnswer`): the reason code, the source register,
when it answered, and the facts, one column each, typed as the registries give them.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from enrollment.core.config import MAX_ANSWER_BYTES, AgencyFiles, SeasonConfig
from enrollment.core.ports import NotFound, Store
from enrollment.core.retention import is_erased
from enrollment.core.staff import Forbidden, StaffError, StaffMember
from enrollment.verification.agency_api import MAX_OWNER_CANDIDATES, CheckAnswer
from enrollment.verification.checks import Answer, answer_of, owner_candidates
from enrollment.verification.season import SeasonVerificationStore, record_answers
from enrollment.verification.verdicts import AGENCY_ZH, Agency

FileAgency = Literal["public-security", "housing", "planning"]
HEADER_ROWS = 2  # row 1: the columns in Chinese; row 2: their keys; the requests from row 3
CSV_ENCODING = "gb18030"
SHEET = "核查请求"
OPEN_CHUNK = 100  # listed requests whose registrations and checks are read at a time (BatchGetItem)

# Columns: key -> the Chinese header the clerk reads.
REQUEST_ID = "request_id"
SUBJECT: dict[FileAgency, tuple[str, ...]] = {
    "public-security": ("id_type", "id_number"),
    "housing": ("deed_number", "owner_id_numbers"),
    "planning": ("deed_number",),
}
OWNER_SEPARATOR = ";"  # the people whose ownership housing confirms, in one cell
ADDRESS = ("district", "road", "number", "compound", "building", "unit")
FACTS: dict[FileAgency, tuple[str, ...]] = {
    "public-security": ("kind", *ADDRESS, "permit_number", "since"),
    "housing": (*ADDRESS, "registered_on", "owners", "owner_match", "owners_matched"),
    "planning": ("planned_use",),
}
ANSWER = ("reason", "source", "answered_at")
HEADER_ZH: dict[str, str] = {
    REQUEST_ID: "请求编号",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "deed_number": "不动产权证号",
    "reason": "核查结果",
    "source": "数据来源",
    "answered_at": "答复时间",
    "kind": "户籍类别",
    "district": "所在区代码",
    "road": "道路",
    "number": "门牌号",
    "compound": "小区",
    "building": "楼栋",
    "unit": "单元",
    "permit_number": "居住证号",
    "since": "登记日期",
    "registered_on": "不动产登记日期",
    "owners": "权利人数",
    "owner_id_numbers": "核验人证件号码（分号分隔）",
    "owner_match": "核验人是否为权利人",
    "owners_matched": "核验人中权利人数",
    "planned_use": "规划用途",
}
# what a clerk may write for the reason code (the API's codes, or their Chinese)
REASONS = {"found": "found", "查到": "found", "no-record": "no-record", "未查到": "no-record"}
YES_NO = {"是": True, "否": False}  # what a clerk may write for whether the people own the deed


def columns(agency: FileAgency) -> tuple[str, ...]:
    """Every column of the agency's request and answer files, in order."""
    return (REQUEST_ID, *SUBJECT[agency], *ANSWER, *FACTS[agency])


# The worklist -----------------------------------------------------------------------------------


class FileRequest(BaseModel):
    """A check waiting for a files agency's answer: listed per (season, agency) by request id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str
    season: str
    agency: FileAgency
    requested_at: datetime

    @property
    def registration_id(self) -> str:
        return self.request_id  # the registration id: unguessable, and one check per agency


class FileRequestStore(Protocol):
    def put_file_request(self, request: FileRequest) -> None:
        """Store (or store again: a retried batch) the open request."""
        ...

    def drop_file_request(self, registration_id: str, agency: Agency) -> None:
        """Remove the open request, if any (answered); safe to repeat."""
        ...

    def file_requests(self, season: str, agency: FileAgency) -> Iterator[FileRequest]:
        """The agency's open requests, by request id, a page at a time as consumed."""
        ...


class FileRequests:
    """The agency port of an agency exchanging files: asking it puts the request on its worklist
    (`checks.ask` then stores the check pending). It answers nothing by itself."""

    def __init__(self, season: str, requests: FileRequestStore) -> None:
        self.season = season
        self.requests = requests

    def request_file(self, agency: FileAgency, item: dict[str, Any], now: datetime) -> None:
        self.requests.put_file_request(
            FileRequest(
                request_id=str(item["registration_id"]), season=self.season, agency=agency, requested_at=now
            )
        )

    def _never(self, *_: Any) -> Answer:
        raise TypeError("an agency exchanging files is asked through request_file (checks.ask)")

    lookup = deed = planned_use = _never


# The outbox ------------------------------------------------------------------------------------


class OutboxFiles(Protocol):
    """The work bucket, as the file exchange uses it."""

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def download_url(self, key: str, seconds: int = 600) -> str: ...


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=GB18030"


def rounds_prefix(season: str, agency: FileAgency) -> str:
    """Under the season's prefix of the work bucket, so the erasure deletes it with the season's files."""
    return f"seasons/{season}/outbox/{agency}/"


def outbox_prefix(season: str, agency: FileAgency, round_id: str) -> str:
    return f"{rounds_prefix(season, agency)}{round_id}/"


def inbox_prefix(season: str, agency: FileAgency) -> str:
    return f"seasons/{season}/inbox/{agency}/"


ROUND_NAME = r"\d{8}T\d{6}Z(-\d{2})?"
MAX_ROUND_PARTS = 99  # the workflow's parts of one round (each at most `round_rows` requests)


def round_id(now: datetime, part: int | None = None) -> str:
    """A round is named by the UTC second it was written: rounds sort by time. The workflow writes
    every open request at once, in parts of `round_rows` requests each: `...Z-01`, `...Z-02`, ..."""
    name = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return name if part is None else f"{name}-{part:02d}"


def _subject(agency: FileAgency, item: Mapping[str, Any]) -> dict[str, str]:
    req = item["request"]
    if agency == "public-security":
        child = req["child"]
        return {"id_type": str(child.get("id_type", "resident-id")), "id_number": str(child["id_number"])}
    deed = {"deed_number": str((req["residence"].get("property") or {}).get("deed_number", ""))}
    if agency == "housing":  # housing confirms whether these people own the deed (checks.question)
        deed["owner_id_numbers"] = OWNER_SEPARATOR.join(owner_candidates(req))
    return deed


def open_rows(
    config: SeasonConfig,
    agency: FileAgency,
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    requests: FileRequestStore,
    limit: int,
    prune: bool = True,
    after: str = "",
) -> tuple[list[dict[str, str]], int]:
    """The agency's first `limit` open requests as rows, by request id (each still pending, its
    registration not erased), and how many more are listed after them. The list is read whole (its
    items are small), the registrations and checks only a chunk at a time until `limit` rows are
    found. A listed request whose check was answered meanwhile, or whose registration is gone or
    erased, is left out, and taken off the list if `prune` (the workflow's round, which only reads
    the table, leaves that to the next round written by staff or to the answer's recording).
    `after`: only the requests listed after this request id (the next part of the workflow's round)."""
    listed = sorted(
        r.request_id for r in requests.file_requests(config.season, agency) if r.request_id > after
    )
    rows: list[dict[str, str]] = []
    seen = 0
    while seen < len(listed) and len(rows) < limit:
        chunk = listed[seen : seen + OPEN_CHUNK]
        seen += len(chunk)
        items = store.get_registrations(chunk)
        cases = vstore.cases({rid: [agency] for rid in items}) if items else {}
        for rid in chunk:
            item = items.get(rid)
            pending = item is not None and any(c.status == "pending" for c in cases[rid].checks)
            if item is None or is_erased(item) or not pending:
                if prune:
                    requests.drop_file_request(rid, agency)
            elif len(rows) < limit:
                rows.append({REQUEST_ID: rid, **_subject(agency, item)})
            else:
                seen -= 1  # open, and left for the next round
    return rows, len(listed) - seen


def xlsx_bytes(agency: FileAgency, rows: Iterable[Mapping[str, Any]]) -> bytes:
    import openpyxl  # imported when used: every function's wiring imports this module

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    keys = columns(agency)
    ws.append([HEADER_ZH[k] for k in keys])
    ws.append(list(keys))
    for row in rows:
        ws.append([row.get(k) for k in keys])
    for cell in ws[1]:
        cell.font = openpyxl.styles.Font(bold=True)
    ws.freeze_panes = "A3"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(agency: FileAgency, rows: Iterable[Mapping[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    keys = columns(agency)
    w.writerow([HEADER_ZH[k] for k in keys])
    w.writerow(keys)
    for row in rows:
        w.writerow(["" if row.get(k) is None else row.get(k) for k in keys])
    return out.getvalue().encode(CSV_ENCODING)


def write_outbox(
    config: SeasonConfig,
    agency: FileAgency,
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    requests: FileRequestStore,
    files: OutboxFiles,
    now: datetime,
    prune: bool = True,
    part: int | None = None,
    after: str = "",
) -> dict[str, Any]:
    """Write the agency's open requests as one round (xlsx, GB18030 csv, manifest) and sign a download
    link for each, valid for the agency's `link_expiry_s`. No open request: no round, no files.
    `prune`, `after`: as `open_rows`'s (the workflow's round does not write to the table, and writes
    its requests in parts); `part`: which part of the round this is (`round_id`)."""
    settings = _settings(config, agency)
    # at most a round's rows: the rest wait for the next round, so each answer file fits one upload
    rows, waiting = open_rows(
        config, agency, store=store, vstore=vstore, requests=requests, limit=settings.round_rows,
        prune=prune, after=after,
    )  # fmt: skip
    if not rows:
        return {"agency": agency, "round": None, "rows": 0, "waiting": 0, "files": []}
    rid = round_id(now, part)
    prefix = outbox_prefix(config.season, agency, rid)
    written = {
        "requests.xlsx": (xlsx_bytes(agency, rows), XLSX),
        "requests.csv": (csv_bytes(agency, rows), CSV),
    }
    manifest = {
        "season": config.season,
        "agency": agency,
        "round": rid,
        "created_at": now.astimezone(config.tz).isoformat(),
        "rows": len(rows),
        "header_rows": HEADER_ROWS,
        "columns": [{"key": k, "header": HEADER_ZH[k]} for k in columns(agency)],
        "files": [
            {
                "name": name,
                "content_type": kind,
                "bytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
            for name, (body, kind) in written.items()
        ],
    }
    written["manifest.json"] = (
        json.dumps(manifest, ensure_ascii=False, indent=2).encode(),
        "application/json",
    )
    for name, (body, kind) in written.items():
        files.put_bytes(prefix + name, body, kind)
    return {
        "agency": agency,
        "round": rid,
        "created_at": manifest["created_at"],
        "rows": len(rows),
        "waiting": waiting,  # requests listed after this round's, for the next round
        "last_request": rows[-1][REQUEST_ID],  # where the next part of the workflow's round starts
        "expires_in_s": settings.link_expiry_s,
        "files": [
            {
                "name": name,
                "key": prefix + name,
                "url": files.download_url(prefix + name, settings.link_expiry_s),
            }
            for name in written
        ],
    }


# The inbox -------------------------------------------------------------------------------------


class AnswerFileRefused(StaffError):
    """A file that cannot be read as an answer file at all: nothing of it is recorded."""

    status = 422
    field = "file"

    @property
    def zh(self) -> str:
        return self.message_zh


class NotAFilesAgency(StaffError):
    """The agency named is not one this season exchanges files with."""

    status = 404
    field = "agency"


class NoSuchRound(StaffError):
    status = 404
    field = "round"


@dataclass(frozen=True)
class RowProblem:
    """A bad row of an answer file: its row number as the spreadsheet shows it, the column, and why."""

    row: int
    column: str
    problem: str  # Chinese, for the clerk

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "header": HEADER_ZH.get(self.column, ""),
            "problem": self.problem,
        }


@dataclass
class AnswerReport:
    """What became of an answer file: rows recorded, rows already recorded (the same answer), bad rows."""

    agency: FileAgency
    rows: int = 0
    recorded: int = 0
    already: int = 0
    judged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "rows": self.rows,
            "recorded": self.recorded,
            "already": self.already,
            "judged": self.judged,
            "problems": [p.as_json() for p in self.problems],
        }


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    district: str | None = Field(default=None, min_length=1, max_length=20)
    road: str | None = Field(default=None, min_length=2, max_length=60)
    number: int | None = Field(default=None, ge=1, le=9999)
    compound: str | None = Field(default=None, min_length=2, max_length=60)
    building: int | None = Field(default=None, ge=1, le=999)
    unit: int | None = Field(default=None, ge=1, le=99)
    kind: Literal["hukou", "residence-permit"] | None = None
    permit_number: str | None = Field(default=None, pattern=r"^[A-Z0-9-]{6,30}$")
    since: date | None = None
    registered_on: date | None = None
    owners: int | None = Field(default=None, ge=1, le=99)
    owner_match: bool | None = None
    owners_matched: int | None = Field(default=None, ge=0, le=MAX_OWNER_CANDIDATES)
    planned_use: Literal["residential", "commercial", "industrial"] | None = None


_REQUIRED_FOUND: dict[FileAgency, tuple[str, ...]] = {
    "public-security": ("kind", "district", "since"),
    "housing": ("district", "registered_on", "owners"),
    "planning": ("planned_use",),
}
_DATETIME = TypeAdapter(datetime)


def _zh(error: Mapping[str, Any]) -> str:
    """A pydantic error as the clerk reads it."""
    kind = str(error["type"])
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "必须填写"
    if kind == "literal_error":
        return f"只能填写：{ctx.get('expected', '')}"
    if kind.startswith("date") or kind.startswith("datetime") or kind == "timezone_aware":
        return "日期或时间格式不正确，应为 2023-06-01 或 2023-06-01T10:00:00+08:00"
    if kind.startswith("int") or kind in ("greater_than_equal", "less_than_equal"):
        limits = f"（{ctx['ge']} 到 {ctx['le']}）" if "ge" in ctx and "le" in ctx else ""
        return "应为整数" + limits if not limits else f"应为整数，且在允许范围内{limits}"
    if kind == "string_too_short":
        return "内容过短"
    if kind == "string_too_long":
        return "内容过长"
    if kind == "string_pattern_mismatch":
        return "格式不正确（只能是大写字母、数字和连字符）"
    return "填写不正确"


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _rows_xlsx(data: bytes) -> Iterator[list[Any]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on a file that is not a workbook
        raise AnswerFileRefused(
            "文件不是有效的 Excel (.xlsx) 文件", f"not an xlsx workbook: {type(e).__name__}"
        ) from e
    ws = wb.worksheets[0]
    for row in ws.iter_rows(values_only=True):
        yield [_cell(v) for v in row]


def _rows_csv(data: bytes) -> Iterator[list[Any]]:
    try:
        text = data.decode(CSV_ENCODING)
    except UnicodeDecodeError as e:
        raise AnswerFileRefused("CSV 文件须为 GB18030 编码", "the csv is not GB18030") from e
    for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")):
        yield [_cell(v) for v in row]


def _table(
    name: str, data: bytes, agency: FileAgency
) -> tuple[list[str | None], list[tuple[int, list[Any]]]]:
    """The file's column keys and its data rows with their spreadsheet row numbers."""
    lower = name.lower()
    if lower.endswith(".xlsx"):
        rows = list(_rows_xlsx(data))
    elif lower.endswith(".csv"):
        rows = list(_rows_csv(data))
    else:
        raise AnswerFileRefused("只接受 .xlsx 或 .csv 文件", "only .xlsx or .csv files are accepted")
    if len(rows) < HEADER_ROWS:
        raise AnswerFileRefused(
            "文件缺少表头（第 1 行中文列名，第 2 行列代码）", "the file has no header rows"
        )
    wanted = set(columns(agency))
    keys = [str(k) if k is not None else None for k in rows[1]]
    start = HEADER_ROWS
    if not {REQUEST_ID, "reason"} <= set(keys):  # no key row: the Chinese headers name the columns
        by_header = {v: k for k, v in HEADER_ZH.items()}
        keys = [by_header.get(str(h)) if h is not None else None for h in rows[0]]
        start = 1
    missing = [k for k in (REQUEST_ID, *SUBJECT[agency], *ANSWER) if k not in keys]
    if missing:
        if lower.endswith(".csv") and _utf8(data):
            raise AnswerFileRefused(
                "CSV 文件须为 GB18030 编码（此文件似为 UTF-8），请在 Excel 中另存为“CSV（逗号分隔）”",
                "the csv looks like UTF-8, not GB18030",
            )
        names = "、".join(HEADER_ZH[k] for k in missing)
        raise AnswerFileRefused(f"文件缺少列：{names}", f"missing columns: {', '.join(missing)}")
    unknown = [k for k in keys if k is not None and k not in wanted]
    if unknown:
        names = "、".join(HEADER_ZH.get(k, k) for k in unknown)
        raise AnswerFileRefused(
            f"文件有本部门答复不用的列：{names}", f"columns this agency does not answer: {unknown}"
        )
    body = [(n, r) for n, r in enumerate(rows[start:], start=start + 1) if any(v is not None for v in r)]
    return keys, body


def _utf8(data: bytes) -> bool:
    """Whether the bytes read as UTF-8 text beyond ASCII (a clerk's tool saving UTF-8, not GB18030)."""
    try:
        return not data.decode("utf-8").isascii()
    except UnicodeDecodeError:
        return False


def _answered_at(value: Any, tz: tzinfo) -> Any:
    """A time as the clerk wrote it: a spreadsheet time or text, in the season's zone when it names none."""
    if isinstance(value, str):
        try:
            value = _DATETIME.validate_python(value)
        except ValidationError:
            return value
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=tz)
    return value


def _row(
    agency: FileAgency, n: int, values: Mapping[str, Any], tz: tzinfo
) -> tuple[str, Answer] | list[RowProblem]:
    """One data row as (request id, the agency's answer), or its problems."""
    problems: list[RowProblem] = []
    reason_text = values.get("reason")
    reason = REASONS.get(str(reason_text)) if reason_text is not None else None
    if reason is None:
        problems.append(RowProblem(n, "reason", "只能填写：查到 / 未查到（或 found / no-record）"))
    raw_facts = {k: values.get(k) for k in FACTS[agency] if values.get(k) is not None}
    if isinstance(said := raw_facts.get("owner_match"), str) and said in YES_NO:
        raw_facts["owner_match"] = YES_NO[said]
    for k in ("since", "registered_on"):
        if isinstance(when := raw_facts.get(k), datetime):
            raw_facts[k] = when.date()  # a spreadsheet's date cell
    try:
        facts = _Facts.model_validate(raw_facts)
    except ValidationError as e:
        problems += [RowProblem(n, str(err["loc"][0]), _zh(err)) for err in e.errors()]
        facts = None
    try:
        answer = CheckAnswer.model_validate(
            {
                "check_id": values.get(REQUEST_ID) or "",
                "reason": reason or "found",
                "source": values.get("source") or "",
                "answered_at": _answered_at(values.get("answered_at"), tz),
            }
        )
    except ValidationError as e:
        loc = {"check_id": REQUEST_ID}
        for err in e.errors():
            column = loc.get(str(err["loc"][0]), str(err["loc"][0]))
            problem = (
                "必须填写"
                if err["type"] in ("string_too_short", "missing") and not values.get(column)
                else _zh(err)
            )
            problems.append(RowProblem(n, column, problem))
        answer = None
    if facts is not None and reason is not None:
        problems += _fact_problems(agency, n, reason, raw_facts, facts, asked=values)
    if problems or answer is None or facts is None:
        return problems
    held = facts.model_dump(exclude_none=True, mode="json")
    if agency == "public-security" and reason == "found":
        held.setdefault("permit_number", None)
    if {"compound"} & held.keys():
        held.setdefault("building", None)
        held.setdefault("unit", None)
    return answer.check_id, answer_of(answer.model_copy(update={"facts": held}))


def _fact_problems(
    agency: FileAgency,
    n: int,
    reason: str,
    given: Mapping[str, Any],
    facts: _Facts,
    asked: Mapping[str, Any],
) -> list[RowProblem]:
    """What the facts of a row lack or have too much of, for its reason (and, for a deed, whether it
    names people whose ownership is to be confirmed: `asked`, the row's request columns)."""
    if reason == "no-record":
        return [RowProblem(n, k, "核查结果为“未查到”时不应填写") for k in given]
    required = _REQUIRED_FOUND[agency]
    if agency == "housing" and asked.get("owner_id_numbers"):
        required = (*required, "owner_match", "owners_matched")
    problems = [RowProblem(n, k, "核查结果为“查到”时必须填写") for k in required if k not in given]
    matched = facts.owners_matched
    if facts.owner_match is not None and matched is not None and facts.owner_match != (matched > 0):
        problems.append(RowProblem(n, "owners_matched", "与“核验人是否为权利人”不一致"))
    if agency != "planning":
        by_road = facts.road is not None and facts.number is not None
        if facts.compound is None and not by_road:
            problems.append(RowProblem(n, "road", "地址须填写道路和门牌号，或填写小区"))
        elif facts.compound is not None and (facts.road is not None or facts.number is not None):
            problems.append(RowProblem(n, "road", "填写小区时不填道路和门牌号"))
        elif facts.compound is None and (facts.building is not None or facts.unit is not None):
            problems.append(RowProblem(n, "building", "楼栋、单元只随小区填写"))
    if agency == "public-security" and (facts.kind == "residence-permit") != (
        facts.permit_number is not None
    ):
        problems.append(RowProblem(n, "permit_number", "户籍类别为居住证时必须填写居住证号，户籍时不填"))
    return problems


def parse_answer_file(
    config: SeasonConfig, agency: FileAgency, name: str, data: bytes
) -> tuple[list[tuple[int, str, dict[str, Any], Answer]], list[RowProblem]]:
    """The file's good rows (row number, request id, the row's subject, the answer) and its bad rows.
    AnswerFileRefused when the file as a whole cannot be read."""
    settings = _settings(config, agency)
    if len(data) > settings.max_answer_bytes:
        raise AnswerFileRefused(
            f"文件过大（不超过 {settings.max_answer_bytes // 1024} KB）", "the file is larger than allowed"
        )
    keys, body = _table(name, data, agency)
    if len(body) > settings.round_rows:
        raise AnswerFileRefused(
            f"文件行数过多（不超过 {settings.round_rows} 行）", "the file has more rows than allowed"
        )
    good: list[tuple[int, str, dict[str, Any], Answer]] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for n, raw in body:
        values = {k: v for k, v in zip(keys, raw, strict=False) if k is not None}
        parsed = _row(agency, n, values, config.tz)
        if isinstance(parsed, list):
            problems += parsed
            continue
        rid, answer = parsed
        if rid in seen:
            problems.append(RowProblem(n, REQUEST_ID, f"与第 {seen[rid]} 行的请求编号重复"))
            continue
        seen[rid] = n
        subject = {k: "" if values.get(k) is None else str(values[k]) for k in SUBJECT[agency]}
        good.append((n, rid, subject, answer))
    return good, problems


def record_answer_file(
    config: SeasonConfig,
    agency: FileAgency,
    name: str,
    data: bytes,
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    requests: FileRequestStore,
    now: datetime,
) -> AnswerReport:
    """Record an answer file's good rows (each through `record_answers`, as an API answer would be) and
    report its bad ones. A row answering a request never made, or made for another person or deed than
    the row names, is reported and not recorded; a row already recorded with the same answer (the file
    uploaded again) is counted as such, and one with another answer is reported."""
    good, problems = parse_answer_file(config, agency, name, data)
    report = AnswerReport(agency, rows=len(good) + len({p.row for p in problems}))
    items = store.get_registrations(rid for _, rid, _, _ in good) if good else {}
    kept: list[tuple[int, str, Answer]] = []
    for n, rid, subject, answer in good:
        item = items.get(rid)
        if item is None:
            problems.append(RowProblem(n, REQUEST_ID, "没有这个核查请求"))
        elif is_erased(item):
            problems.append(RowProblem(n, REQUEST_ID, "该报名的个人信息已删除，不再记录"))
        elif wrong := [k for k, v in _subject(agency, item).items() if subject[k] != v]:
            problems += [RowProblem(n, k, "与核查请求不一致，请勿改动请求列") for k in wrong]
        else:
            kept.append((n, rid, answer))
    done = record_answers(
        config,
        [(rid, agency, a) for _, rid, a in kept],
        store=store,
        vstore=vstore,
        now=now,
        worklist=requests,
    )
    for (n, _, _), outcome in zip(kept, done.outcomes, strict=True):
        if outcome == "recorded":
            report.recorded += 1
        elif outcome == "already":
            report.already += 1
        elif outcome == "conflict":
            problems.append(RowProblem(n, "reason", "该请求已有不同的答复，不能更改"))
        else:
            problems.append(RowProblem(n, REQUEST_ID, "没有这个核查请求"))
    report.judged = done.judged
    report.problems = sorted(
        problems,
        key=lambda p: (p.row, columns(agency).index(p.column) if p.column in columns(agency) else 99),
    )
    return report


def record_inbox_file(
    config: SeasonConfig,
    agency: FileAgency,
    key: str,
    *,
    files: OutboxFiles,
    store: Store,
    vstore: SeasonVerificationStore,
    requests: FileRequestStore,
    now: datetime,
) -> dict[str, Any]:
    """An answer file uploaded to the agency's inbox: recorded, and its report written beside it
    (`{key}.report.json`) for the clerk. A file the whole of which is refused gets a report too."""
    if not key.startswith(inbox_prefix(config.season, agency)):
        raise AnswerFileRefused("文件不在本部门的收件目录中", f"{key} is not in {agency}'s inbox")
    try:
        result = record_answer_file(
            config, agency, key, files.get_bytes(key), store=store, vstore=vstore, requests=requests, now=now
        ).as_json()
    except AnswerFileRefused as e:
        result = {"agency": agency, "refused": e.zh, "rows": 0, "recorded": 0, "already": 0, "problems": []}
    result = {"file": key, "checked_at": now.isoformat(), **result}
    files.put_bytes(
        key + ".report.json", json.dumps(result, ensure_ascii=False, indent=2).encode(), "application/json"
    )
    return result


def _settings(config: SeasonConfig, agency: FileAgency) -> AgencyFiles:
    found = config.verification.agency_files().get(agency)
    if found is None:
        raise NotAFilesAgency(
            f"{AGENCY_ZH.get(agency, agency)}不以文件方式答复",
            f"{agency} is not configured to exchange files",
        )
    return found


# The city bureau's side: who exchanges the files, and the links again ---------------------------------


def files_agency(config: SeasonConfig, staff: StaffMember, agency: str) -> FileAgency:
    """The agency a staff member exchanges files with: the city bureau exchanges them with the city's
    agencies (their clerks, or a bureau clerk for them, download the requests and upload the answers)."""
    if staff.role != "city":
        raise Forbidden(
            "只有市教育局可以与部门交换核查文件", "only the city bureau exchanges files with agencies"
        )
    for known in config.verification.agency_files():
        if known == agency:
            return known
    raise NotAFilesAgency(
        f"{AGENCY_ZH.get(agency, agency)}不以文件方式答复", f"{agency} does not exchange files"
    )


class _ListedOnce:
    """One agency's worklist as read once, for every part of the workflow's round (which prunes
    nothing): each part reads on from the last, not the whole list again."""

    def __init__(self, listed: list[FileRequest]) -> None:
        self.listed = listed

    def put_file_request(self, request: FileRequest) -> None:
        raise TypeError("the workflow's round lists requests, it does not add them")

    def drop_file_request(self, registration_id: str, agency: Agency) -> None:
        raise TypeError("the workflow's round prunes nothing")

    def file_requests(self, season: str, agency: FileAgency) -> Iterator[FileRequest]:
        return iter(self.listed)


def write_open_rounds(
    config: SeasonConfig,
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    requests: FileRequestStore,
    files: OutboxFiles,
    now: datetime,
) -> dict[str, list[str]]:
    """The workflow's round, each time it looks for open checks: every files agency's open requests
    written at once, in parts of `round_rows` (`...Z-01`, `...Z-02`, ...), for the agency's clerk to
    fetch (the console lists the rounds' links) and answer. Reads the table, writes only the files.
    Which rounds were written, by agency (none where nothing is open)."""
    written: dict[str, list[str]] = {}
    for agency in sorted(config.verification.agency_files()):
        listed = _ListedOnce(list(requests.file_requests(config.season, agency)))
        names: list[str] = []
        after = ""
        for part in range(1, MAX_ROUND_PARTS + 1):
            out = write_outbox(
                config, agency, store=store, vstore=vstore, requests=listed, files=files, now=now,
                prune=False, part=part, after=after,
            )  # fmt: skip
            if out["round"] is None:
                break
            names.append(out["round"])
            after = out["last_request"]
            if not out["waiting"]:
                break
        written[agency] = names
    return written


def round_links(
    config: SeasonConfig, agency: FileAgency, round_name: str, files: OutboxFiles
) -> dict[str, Any]:
    """A round written before, its links signed again (a link lives no longer than its signer's
    credentials): what the manifest lists, and the manifest."""
    settings = _settings(config, agency)
    if not re.fullmatch(ROUND_NAME, round_name):
        raise NoSuchRound("没有这一轮核查请求", f"no round {round_name!r}")
    prefix = outbox_prefix(config.season, agency, round_name)
    try:
        manifest = json.loads(files.get_bytes(prefix + "manifest.json"))
    except NotFound:
        raise NoSuchRound("没有这一轮核查请求", f"no round {round_name!r}") from None
    names = [f["name"] for f in manifest["files"]] + ["manifest.json"]
    return {
        "agency": agency,
        "round": round_name,
        "created_at": manifest["created_at"],
        "rows": manifest["rows"],
        "expires_in_s": settings.link_expiry_s,
        "files": [
            {"name": n, "key": prefix + n, "url": files.download_url(prefix + n, settings.link_expiry_s)}
            for n in names
        ],
    }


# An answer file comes through the console in parts: each request stays within the API's body limit
# (functions/api.py BODY_LIMIT, 64 KiB, which the web ACL enforces too), the parts are joined and the
# whole checked against the SHA-256 the browser computed of the file the clerk chose.
PART_BYTES = 36 * 1024  # a part's bytes: 48 KiB as Base64, in a JSON body well under 64 KiB
PART_BASE64 = 4 * -(-PART_BYTES // 3)
MAX_PARTS = -(-MAX_ANSWER_BYTES // PART_BYTES)


def part_key(season: str, agency: FileAgency, upload: str, part: int) -> str:
    return f"{inbox_prefix(season, agency)}parts/{upload}/{part:04d}"


def put_part(
    config: SeasonConfig, agency: FileAgency, upload: str, part: int, data: bytes, files: OutboxFiles
) -> dict[str, Any]:
    """Keep one part of an answer file being uploaded (the same part again replaces it)."""
    settings = _settings(config, agency)
    if len(data) > PART_BYTES or part >= -(-settings.max_answer_bytes // PART_BYTES):
        raise AnswerFileRefused(
            f"文件过大（不超过 {settings.max_answer_bytes // 1024} KB）", "the file is larger than allowed"
        )
    files.put_bytes(part_key(config.season, agency, upload, part), data, "application/octet-stream")
    return {"upload": upload, "part": part, "bytes": len(data)}


def joined_parts(
    config: SeasonConfig, agency: FileAgency, upload: str, parts: int, sha256: str, files: OutboxFiles
) -> bytes:
    """The uploaded file, its parts joined; refused when a part is missing or the whole is not the file
    whose SHA-256 the browser computed."""
    chunks = []
    for n in range(parts):
        try:
            chunks.append(files.get_bytes(part_key(config.season, agency, upload, n)))
        except NotFound:
            raise AnswerFileRefused(
                "文件未完整上传，请重新上传", f"part {n} of upload {upload} is missing"
            ) from None
    data = b"".join(chunks)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise AnswerFileRefused(
            "上传的文件不完整或已损坏，请重新上传", "the parts do not make the file's SHA-256"
        )
    return data


def upload_answer_file(
    config: SeasonConfig,
    agency: FileAgency,
    name: str,
    data: bytes,
    *,
    files: OutboxFiles,
    store: Store,
    vstore: SeasonVerificationStore,
    requests: FileRequestStore,
    now: datetime,
) -> dict[str, Any]:
    """An answer file uploaded through the console: kept in the agency's inbox under its SHA-256 (the
    same file uploaded again is the same object) and recorded (`record_inbox_file`). A file refused
    whole is refused before anything is kept."""
    settings = _settings(config, agency)
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in ("xlsx", "csv"):
        raise AnswerFileRefused("只接受 .xlsx 或 .csv 文件", "only .xlsx or .csv files are accepted")
    if len(data) > settings.max_answer_bytes:
        raise AnswerFileRefused(
            f"文件过大（不超过 {settings.max_answer_bytes // 1024} KB）", "the file is larger than allowed"
        )
    parse_answer_file(config, agency, name, data)  # refused whole: nothing kept
    key = f"{inbox_prefix(config.season, agency)}{hashlib.sha256(data).hexdigest()}.{suffix}"
    files.put_bytes(key, data, XLSX if suffix == "xlsx" else CSV)
    return record_inbox_file(
        config, agency, key, files=files, store=store, vstore=vstore, requests=requests, now=now
    )
