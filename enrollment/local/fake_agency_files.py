"""A files agency's clerk, played from the local registries (tests, `enroll demo`).

It reads one outbox round's `requests.csv` (checking it against the manifest's SHA-256, as a clerk's
tool would), answers every row as the in-process registries answer (`LocalRegistries`), and uploads
the answer file to the agency's inbox, as `.xlsx` or GB18030 `.csv`. `spoil` rows can be written
wrong on purpose (an unknown result, an impossible date, an unknown request id, in turn), so the
answer file's row-by-row report can be exercised.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from enrollment.verification.agency_files import (
    CSV,
    CSV_ENCODING,
    HEADER_ROWS,
    OWNER_SEPARATOR,
    REQUEST_ID,
    XLSX,
    FileAgency,
    OutboxFiles,
    columns,
    csv_bytes,
    inbox_prefix,
    outbox_prefix,
    rounds_prefix,
    xlsx_bytes,
)
from enrollment.verification.checks import Answer, LocalRegistries

SOURCE: dict[FileAgency, str] = {
    "public-security": "户籍管理信息系统（模拟）",
    "housing": "不动产登记信息系统（模拟）",
    "planning": "国土空间规划信息系统（模拟）",
}
# how a spoiled row is wrong, in turn: (column, value)
SPOILS: tuple[tuple[str, str], ...] = (
    ("reason", "不清楚"),
    ("answered_at", "2023-13-45"),
    (REQUEST_ID, "R-NONE-NONE-NONE-NONE"),
)


@dataclass
class AnswerFile:
    """The answer file the fake clerk uploaded, and which rows it spoiled (spreadsheet row numbers)."""

    key: str
    rows: int
    spoiled: dict[int, str] = field(default_factory=dict)  # row number -> column written wrong


def read_round(files: OutboxFiles, season: str, agency: FileAgency, round_id: str) -> list[dict[str, str]]:
    """The round's request rows, by column key, after checking the csv against its manifest."""
    prefix = outbox_prefix(season, agency, round_id)
    manifest = json.loads(files.get_bytes(prefix + "manifest.json"))
    data = files.get_bytes(prefix + "requests.csv")
    listed = next(f for f in manifest["files"] if f["name"] == "requests.csv")
    if hashlib.sha256(data).hexdigest() != listed["sha256"]:
        raise ValueError(f"{prefix}requests.csv does not match its manifest")
    rows = list(csv.reader(io.StringIO(data.decode(CSV_ENCODING), newline="")))
    keys = rows[1]
    return [dict(zip(keys, r, strict=True)) for r in rows[HEADER_ROWS:]]


def _answer(registries: LocalRegistries, agency: FileAgency, row: dict[str, str]) -> Answer:
    if agency == "public-security":
        return registries.lookup(row["id_type"], row["id_number"])
    if agency == "housing":
        asked = [i for i in (row.get("owner_id_numbers") or "").split(OWNER_SEPARATOR) if i]
        return registries.deed(row["deed_number"], asked)
    return registries.planned_use(row["deed_number"])


def _as_written(value: Any) -> Any:
    """A fact as a clerk writes it: yes or no in Chinese."""
    return ("是" if value else "否") if isinstance(value, bool) else value


def answer_rows(
    registries: LocalRegistries, agency: FileAgency, requests: list[dict[str, str]], now: datetime
) -> list[dict[str, Any]]:
    """Each request answered as the registries answer it, in the file's columns."""
    out = []
    for row in requests:
        answer = _answer(registries, agency, row)
        out.append(
            {
                **row,
                "reason": "查到" if answer.reason == "found" else "未查到",
                "source": SOURCE[agency],
                "answered_at": now.isoformat(timespec="seconds"),
                **{k: _as_written(v) for k, v in answer.facts.items() if k in columns(agency)},
            }
        )
    return out


def answer_round(
    registries: LocalRegistries,
    files: OutboxFiles,
    season: str,
    agency: FileAgency,
    round_id: str,
    now: datetime,
    *,
    form: Literal["xlsx", "csv"] = "xlsx",
    spoil: int = 0,
) -> AnswerFile:
    """Answer a round and upload the answer file to the inbox; the first `spoil` rows written wrong."""
    rows = answer_rows(registries, agency, read_round(files, season, agency, round_id), now)
    spoiled: dict[int, str] = {}
    for n, row in enumerate(rows[:spoil]):
        column, value = SPOILS[n % len(SPOILS)]
        row[column] = value
        spoiled[HEADER_ROWS + 1 + n] = column
    body = xlsx_bytes(agency, rows) if form == "xlsx" else csv_bytes(agency, rows)
    key = f"{inbox_prefix(season, agency)}{round_id}/answers.{form}"
    files.put_bytes(key, body, XLSX if form == "xlsx" else CSV)
    return AnswerFile(key, len(rows), spoiled)


class Clerk:
    """The clerks of the season's files agencies in the embedded runtime (`enroll demo`, `enroll
    serve`, the tests): while the workflow waits between its looks for open checks, each clerk fetches
    every round the workflow wrote and nobody has answered, answers it from the registries, and
    uploads the answer file through the city bureau's console routes, in parts and with its SHA-256,
    as the console does for a clerk's file (functions/verify/api.py). The answer then goes through the
    route's checks and `record_answers`, the same use case as an agency API's answers."""

    def __init__(self, rt: Any, registries: LocalRegistries, agencies: tuple[FileAgency, ...]) -> None:
        self.rt = rt
        self.registries = registries
        self.agencies = agencies
        self.answered: dict[str, dict[str, Any]] = {}  # round's outbox prefix -> the upload's report

    def _rounds(self, agency: FileAgency) -> list[str]:
        import boto3

        prefix = rounds_prefix(self.rt.config.season, agency)
        pages = (
            boto3.client("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.rt.work_bucket, Prefix=prefix)
        )
        keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
        return sorted(k[len(prefix) :].split("/")[0] for k in keys if k.endswith("/manifest.json"))

    def answer_rounds(self) -> list[dict[str, Any]]:
        """Answer every round not answered yet; each upload's report (rows recorded, problems)."""
        from enrollment.adapters.s3 import WorkBucket

        files = WorkBucket(self.rt.work_bucket)
        reports = []
        for agency in self.agencies:
            for name in self._rounds(agency):
                prefix = outbox_prefix(self.rt.config.season, agency, name)
                if prefix in self.answered:
                    continue
                answer = answer_round(
                    self.registries, files, self.rt.config.season, agency, name, self.rt.clock.now()
                )
                report = self.upload(agency, f"核查答复-{name}.xlsx", files.get_bytes(answer.key))
                self.answered[prefix] = report
                reports.append(report)
        return reports

    def upload(self, agency: FileAgency, name: str, data: bytes) -> dict[str, Any]:
        """An answer file sent as the console sends it: in parts, then joined and checked by SHA-256."""
        import base64
        import uuid

        from enrollment.local.season import call, member
        from enrollment.verification.agency_files import PART_BYTES

        city = member(self.rt, "city").principal
        base = f"/admin/verification/{self.rt.config.season}/agencies/{agency}"
        upload = uuid.uuid4().hex
        parts = [data[n : n + PART_BYTES] for n in range(0, len(data), PART_BYTES)] or [b""]
        for n, part in enumerate(parts):
            body = {"upload": upload, "part": n, "content_base64": base64.b64encode(part).decode()}
            status, answer = call(self.rt, "POST", f"{base}/answers/parts", body, city)
            if status != 201:
                raise RuntimeError(f"{agency}: part {n} of {name} refused ({status}): {answer}")
        done = {
            "name": name,
            "upload": upload,
            "parts": len(parts),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        status, report = call(self.rt, "POST", f"{base}/answers", done, city)
        if status != 200:
            raise RuntimeError(f"{agency}: {name} refused ({status}): {report}")
        return dict(report)
