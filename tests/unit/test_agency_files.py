"""Agencies that exchange files (issue 17), over in-memory stores: a check asked by file stays pending
and keeps the case without a verdict until its answer is recorded; answers go through the one use
case (`record_answers`) whatever brought them, never twice; an answer file is read row by row, each
bad row reported by row number and column in Chinese, and a file that cannot be read is refused whole."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import openpyxl
import pytest

from enrollment.core.config import AgencyFiles, SeasonConfig, VerificationSettings
from enrollment.verification.agency_files import (
    CSV_ENCODING,
    HEADER_ZH,
    AnswerFileRefused,
    FileAgency,
    FileRequest,
    FileRequests,
    NotAFilesAgency,
    columns,
    csv_bytes,
    parse_answer_file,
    xlsx_bytes,
)
from enrollment.verification.checks import Agencies, Answer, checks_needed
from enrollment.verification.season import record_answer, record_answers, verify_batch
from enrollment.verification.verdicts import Agency
from tests.unit.test_verification_season import NOW, CountingVerificationStore, Found, Registrations, _items


class Worklist:
    """The files agencies' worklists in memory."""

    def __init__(self) -> None:
        self.open: dict[tuple[str, str], FileRequest] = {}

    def put_file_request(self, request: FileRequest) -> None:
        self.open[(request.request_id, request.agency)] = request

    def drop_file_request(self, registration_id: str, agency: Agency) -> None:
        self.open.pop((registration_id, agency), None)

    def file_requests(self, season: str, agency: FileAgency) -> Iterator[FileRequest]:
        yield from sorted((r for r in self.open.values() if r.agency == agency), key=lambda r: r.request_id)


@pytest.fixture
def by_file(season: SeasonConfig) -> SeasonConfig:
    settings = season.verification.model_copy(update={"agencies": {"housing": AgencyFiles(kind="files")}})
    return season.model_copy(update={"verification": settings})


def test_the_config_tells_an_api_from_a_file_exchange_and_an_old_config_is_an_api() -> None:
    arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:ps"
    raw = {
        "agencies": {
            "public-security": {"base_url": "https://ps.example.cn", "credentials_secret_arn": arn},
            "housing": {"kind": "files", "link_expiry_s": 7200},
        }
    }
    settings = VerificationSettings.model_validate(raw)
    assert list(settings.agency_apis()) == ["public-security"] and list(settings.agency_files()) == [
        "housing"
    ]
    assert settings.agency_files()["housing"].link_expiry_s == 7200
    with pytest.raises(ValueError, match="does not match any of the expected tags"):
        VerificationSettings.model_validate({"agencies": {"housing": {"kind": "fax"}}})
    with pytest.raises(ValueError, match="base_url"):  # a files agency has no URL to call
        VerificationSettings.model_validate({"agencies": {"housing": {"kind": "files", "base_url": "x"}}})
    with pytest.raises(ValueError, match="link_expiry_s"):
        VerificationSettings.model_validate({"agencies": {"housing": {"kind": "files", "link_expiry_s": 10}}})


def test_a_check_asked_by_file_waits_pending_and_its_answer_judges_the_case(by_file: SeasonConfig) -> None:
    # Given registrations whose housing checks go by file
    regs, vstore, worklist = Registrations(_items(by_file, 10)), CountingVerificationStore(), Worklist()
    found = Found(regs.items)
    agencies = Agencies(found, FileRequests(by_file.season, worklist), found, found)
    ids = list(regs.items)
    verify_batch(by_file, ids, "ask", store=regs, vstore=vstore, agencies=agencies, now=NOW)
    deeds = [rid for rid in ids if "housing" in checks_needed(regs.items[rid])]
    assert deeds and sorted(r for r, _ in worklist.open) == deeds
    for rid in deeds:
        check = {c.agency: c for c in vstore.checks(rid)}["housing"]
        assert (check.status, check.reason) == ("pending", "file-requested")
    # the visits answered: only the cases without a deed are judged, the others wait for the file
    for rid in ids:
        vstore.check_items[(rid, "community")] = vstore.check_items[(rid, "community")].model_copy(
            update={"status": "answered", "reason": "lives-there", "facts": {"lives_there": True}}
        )
    verify_batch(by_file, ids, "ask", store=regs, vstore=vstore, agencies=agencies, now=NOW)
    assert all((vstore.verdict(rid) is None) == (rid in deeds) for rid in ids)

    # When the housing office's answers come, through the one use case
    answers = [
        (rid, "housing", found.deed(regs.items[rid]["request"]["residence"]["property"]["deed_number"]))
        for rid in deeds
    ]
    done = record_answers(
        by_file, answers, store=regs, vstore=vstore, now=NOW + timedelta(1), worklist=worklist
    )

    # Then every case is judged, off the worklist, and the same answers again record nothing
    assert done.outcomes == ["recorded"] * len(deeds) and done.judged == len(deeds)
    assert worklist.open == {} and all(vstore.verdict(rid) is not None for rid in ids)
    again = record_answers(
        by_file, answers, store=regs, vstore=vstore, now=NOW + timedelta(2), worklist=worklist
    )
    assert again.outcomes == ["already"] * len(deeds) and again.judged == 0
    other = record_answer(
        by_file, deeds[0], "housing", Answer("no-record"), store=regs, vstore=vstore, now=NOW
    )
    assert other == "conflict" and {c.agency: c for c in vstore.checks(deeds[0])}["housing"].reason == "found"
    assert (
        record_answer(by_file, "R-NONE", "housing", Answer("no-record"), store=regs, vstore=vstore, now=NOW)
        == "not-asked"
    )
    no_deed = next(rid for rid in ids if rid not in deeds)
    assert (
        record_answer(by_file, no_deed, "housing", Answer("no-record"), store=regs, vstore=vstore, now=NOW)
        == "not-asked"
    )


# Reading answer files -------------------------------------------------------------------------------

WHEN = "2023-06-01T10:00:00+08:00"


def _row(**values: Any) -> dict[str, Any]:
    base = {
        "request_id": "R-AAAA-BBBB-CCCC-DDDD",
        "deed_number": "JL-2019-000001",
        "reason": "查到",
        "source": "不动产登记信息系统",
        "answered_at": WHEN,
        "district": "CY",
        "road": "人民大街",
        "number": 12,
        "registered_on": "2019-05-01",
        "owners": 2,
    }
    return {k: v for k, v in (base | values).items() if v is not None}


def _parse(
    config: SeasonConfig, rows: list[dict[str, Any]], form: str = "csv"
) -> tuple[list[Any], list[Any]]:
    data = csv_bytes("housing", rows) if form == "csv" else xlsx_bytes("housing", rows)
    return parse_answer_file(config, "housing", f"answers.{form}", data)


def test_a_good_row_becomes_the_answer_an_api_would_give(by_file: SeasonConfig) -> None:
    good, problems = _parse(by_file, [_row()], "xlsx")
    assert problems == []
    [(n, rid, subject, answer)] = good
    assert (n, rid, subject) == (
        3,
        "R-AAAA-BBBB-CCCC-DDDD",
        {"deed_number": "JL-2019-000001", "owner_id_numbers": ""},  # a form without the guardians' IDs
    )
    assert answer.reason == "found"
    assert answer.facts == {
        "district": "CY",
        "road": "人民大街",
        "number": 12,
        "registered_on": "2019-05-01",
        "owners": 2,
        "source": "不动产登记信息系统",
        "answered_at": "2023-06-01T10:00:00+08:00",
    }


def test_bad_rows_are_reported_by_row_and_column_in_chinese_and_good_rows_kept(by_file: SeasonConfig) -> None:
    rows = [
        _row(),
        _row(request_id="R-2", reason="不清楚"),
        _row(request_id="R-3", registered_on="2019-02-30", owners="两人"),
        _row(request_id="R-4", reason="未查到"),  # facts given with "no record"
        _row(request_id="R-5", road=None, number=None),  # found, but no address
        _row(request_id="R-6", source=None, answered_at="明天"),
        _row(),  # the first row's request again
        _row(
            request_id="R-8",
            reason="no-record",
            district=None,
            road=None,
            number=None,
            registered_on=None,
            owners=None,
        ),
    ]
    good, problems = _parse(by_file, rows)
    assert [rid for _, rid, _, _ in good] == ["R-AAAA-BBBB-CCCC-DDDD", "R-8"]
    assert {(p.row, p.column) for p in problems} == {
        (4, "reason"),
        (5, "registered_on"),
        (5, "owners"),
        (6, "district"),
        (6, "road"),
        (6, "number"),
        (6, "registered_on"),
        (6, "owners"),
        (7, "road"),
        (8, "source"),
        (8, "answered_at"),
        (9, "request_id"),
    }
    text = {(p.row, p.column): p.problem for p in problems}
    assert text[(8, "source")] == "必须填写" and text[(9, "request_id")] == "与第 3 行的请求编号重复"
    assert text[(5, "owners")] == "应为整数"
    assert all(not p.problem.isascii() and "R-" not in p.problem for p in problems)  # Chinese, no codes


def test_a_clerks_file_with_only_chinese_headers_and_a_spreadsheets_own_cells_is_read(
    by_file: SeasonConfig,
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    keys = list(columns("housing"))
    ws.append([HEADER_ZH[k] for k in reversed(keys)])  # columns in any order, no key row
    row = _row(answered_at=datetime(2023, 6, 1, 10), registered_on=datetime(2019, 5, 1))
    ws.append([row.get(k) for k in reversed(keys)])
    out = io.BytesIO()
    wb.save(out)
    good, problems = parse_answer_file(by_file, "housing", "答复.XLSX", out.getvalue())
    assert problems == []
    [(n, _, _, answer)] = good
    assert n == 2 and answer.facts["registered_on"] == "2019-05-01"
    assert answer.facts["answered_at"] == "2023-06-01T10:00:00+08:00"  # the season's time zone


def _with_column(key: str) -> bytes:
    keys = [*columns("housing"), key]
    return f"{','.join(HEADER_ZH[k] for k in keys)}\r\n{','.join(keys)}\r\n".encode(CSV_ENCODING)


def test_a_deed_asked_about_its_owners_is_answered_yes_or_no(by_file: SeasonConfig) -> None:
    """Housing confirms whether the people the row names own the deed (是/否 and how many of them),
    never who does; a found deed whose row names people must say, and say it consistently."""
    asked = {"owner_id_numbers": "220201198001010011;220201201701010018"}
    good, problems = _parse(
        by_file,
        [
            _row(request_id="R-1", **asked, owner_match="是", owners_matched=1),
            _row(request_id="R-2", **asked, owner_match="否", owners_matched=0),
            _row(request_id="R-3", **asked),
            _row(request_id="R-4", **asked, owner_match="是", owners_matched=0),
            _row(request_id="R-5", **asked, owner_match="也许", owners_matched=0),
        ],
    )
    assert [(rid, a.facts["owner_match"], a.facts["owners_matched"]) for _, rid, _, a in good] == [
        ("R-1", True, 1),
        ("R-2", False, 0),
    ]
    assert good[0][2] == {"deed_number": "JL-2019-000001", **asked}
    assert sorted((p.row, p.column) for p in problems) == [
        (5, "owner_match"),
        (5, "owners_matched"),
        (6, "owners_matched"),
        (7, "owner_match"),
    ]


def test_a_file_that_cannot_be_read_is_refused_whole(by_file: SeasonConfig) -> None:
    utf8 = io.StringIO()
    w = csv.writer(utf8)
    w.writerow([HEADER_ZH[k] for k in columns("housing")])
    w.writerow(list(_row().values()))
    with pytest.raises(AnswerFileRefused) as e:
        parse_answer_file(by_file, "housing", "a.csv", utf8.getvalue().encode("utf-8"))
    assert "GB18030" in e.value.zh
    for name, data, zh in [
        ("a.pdf", b"%PDF", "只接受 .xlsx 或 .csv 文件"),
        ("a.xlsx", b"PK\x03\x04", "文件不是有效的 Excel (.xlsx) 文件"),
        ("a.csv", "请求编号\n".encode(CSV_ENCODING), "文件缺少表头（第 1 行中文列名，第 2 行列代码）"),
        (
            "a.csv",
            "请求编号,核查结果\r\nrequest_id,reason\r\n".encode(CSV_ENCODING),
            "文件缺少列：不动产权证号、核验人证件号码（分号分隔）、数据来源、答复时间",
        ),
        ("a.csv", _with_column("kind"), "文件有本部门答复不用的列：户籍类别"),
    ]:
        with pytest.raises(AnswerFileRefused) as e:
            parse_answer_file(by_file, "housing", name, data)
        assert e.value.zh.startswith(zh)
    with pytest.raises(NotAFilesAgency, match="not configured"):
        parse_answer_file(by_file, "planning", "a.csv", csv_bytes("planning", []))
    tiny = by_file.verification.model_copy(
        update={"agencies": {"housing": AgencyFiles(kind="files", round_rows=1)}}
    )
    with pytest.raises(AnswerFileRefused) as e:
        parse_answer_file(
            by_file.model_copy(update={"verification": tiny}),
            "housing",
            "a.csv",
            csv_bytes("housing", [_row(), _row()]),
        )
    assert "行数过多" in e.value.zh
