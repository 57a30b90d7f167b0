"""Admission notices (R-NOTE-1): the workflow's tasks, one notice per placed child, once.

`prepare` reads the archived `placements.jsonl` and writes the placed children (not the deferred) in
batches for the workflow's Distributed Map (`put_batches`); `issue` gives one batch's children their
notices, each with the place stored for it: the notice record is written first with a conditional
put, then the PDF is stored and the SMS sent, and the record marked sent; a retried batch skips
every child whose SMS went out (a crash between the two can repeat one SMS, never skip one).

A notice that cannot be drawn (`pdf.MissingGlyphs`: a name character no bundled font has, see
docs/NAMES.md "Fonts") stops neither the batch nor the season: the child's notice record is marked
`manual` with the reason and the missing characters' code points (never the name), listed to the
child's district (`GET /admin/placement/{season}/districts/{d}/manual-notices`) to issue by hand,
and counted in the batch's answer (`manual`); the other children get theirs. Any other error still
fails the batch (a broken font or store is not one child's problem, and the Map retries it).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Registrations, Sms, WorkFiles, put_batches
from enrollment.lottery import ceremony
from enrollment.notices.notice import Unrenderable, build_notice, render_pdf, sms_text


class NoticeStore(Protocol):
    def notice(self, registration_id: str) -> dict[str, Any] | None: ...

    def start_notice(self, item: dict[str, Any]) -> bool:
        """Write the notice record if absent. True if written."""
        ...

    def notice_sent(self, registration_id: str, message_id: str, at: str) -> None: ...

    def notice_manual(self, item: dict[str, Any]) -> None:
        """Record a notice to be issued by hand (status `manual`) and list it to `item["district"]`."""
        ...


class Files(Protocol):
    def put_bytes(self, key: str, body: bytes, content_type: str) -> None: ...


def notice_key(season: str, registration_id: str) -> str:
    return f"seasons/{season}/notices/{registration_id}.pdf"


class ArchivedFiles(Protocol):
    def get(self, key: str) -> bytes | None: ...


class Placed(Protocol):
    def placed(self, registration_id: str) -> dict[str, Any] | None:
        """The child's stored place (None before placement ran)."""
        ...


def prepare(config: SeasonConfig, season: str, *, archive: ArchivedFiles, work: WorkFiles) -> dict[str, Any]:
    body = archive.get(ceremony.archive_key(season, "placements.jsonl"))
    if body is None:
        raise ValueError("placements.jsonl is not archived: placement has not run")
    placed = [json.loads(line) for line in body.decode().splitlines()]
    return put_batches(
        work,
        f"seasons/{season}/notices/batches.json",
        (str(p["registration_id"]) for p in placed if p.get("school_id")),  # not the deferred
        size=config.verification.batch_size,
        max_concurrency=config.verification.max_concurrency,
        counted="children",
    )


def _placed(
    registration_ids: list[str], registrations: Registrations, placements: Placed
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each child's registration and stored place, all found before any notice goes out."""
    items = []
    for rid in registration_ids:
        placed = placements.placed(rid)
        if placed is None:
            raise ValueError(f"{rid}: no placement stored")
        items.append((registrations.get_registration(rid), placed))
    return items


def issue(
    config: SeasonConfig,
    season: str,
    registration_ids: list[str],
    *,
    registrations: Registrations,
    placements: Placed,
    secret: bytes,
    store: NoticeStore,
    files: Files,
    sms: Sms,
    now: datetime,
) -> dict[str, int]:
    issued = skipped = manual = 0
    for reg, placed in _placed(registration_ids, registrations, placements):
        rid = str(reg["registration_id"])
        existing = store.notice(rid)
        if existing and existing.get("sms_message_id"):
            skipped += 1
            continue
        child = reg["request"]["child"]
        grade: Literal[1, 7] = 7 if int(reg["grade"]) == 7 else 1
        notice = build_notice(
            config,
            registration_id=rid,
            child_name=str(child["name"]),
            id_number=str(child["id_number"]),
            grade=grade,
            school_id=str(placed["school_id"]),
            route=str(placed["route"]),
            secret=secret,
        )
        key = notice_key(season, rid)
        try:
            body = render_pdf(notice)  # the same bytes if retried
        except Unrenderable as e:
            store.notice_manual(
                {
                    "registration_id": rid,
                    "season": season,
                    "district": str(reg["district"]),
                    "school_id": notice.school_id,
                    "verification_code": notice.verification_code,
                    "status": "manual",
                    "reason": e.reason,
                    "code_points": list(e.code_points),
                    "recorded_at": now.astimezone(config.tz).isoformat(),
                }
            )
            manual += 1
            continue
        store.start_notice(
            {
                "registration_id": rid,
                "season": season,
                "school_id": notice.school_id,
                "key": key,
                "verification_code": notice.verification_code,
                "issued_at": now.astimezone(config.tz).isoformat(),
            }
        )
        files.put_bytes(key, body, "application/pdf")
        phone = str(reg["request"]["guardians"][0]["phone"])
        store.notice_sent(rid, sms.send(phone, sms_text(notice)), now.astimezone(config.tz).isoformat())
        issued += 1
    return {"issued": issued, "skipped": skipped, "manual": manual}
