"""Admission notices (R-NOTE-1): the workflow's tasks, one notice per placed child, once.

`prepare` reads the archived `placements.jsonl` and writes the placed children (not the deferred) in
batches for the workflow's Distributed Map (`put_batches`); `issue` gives one batch's children their
notices, each with the place stored for it: the notice record is written first with a conditional
put, then the PDF is stored and the SMS sent, and the record marked sent; a retried batch skips
every child whose SMS went out (a crash between the two can repeat one SMS, never skip one).

The batch's reads are batched: its registrations (`get_registrations`), places (`placed_of`) and
notice records (`notices_of`) are read up front, some three calls per 100 children rather than
three per child. The PDFs are drawn by `render_many`, which the caller chooses (`notice.render_each`
in this process by default; the embedded backend passes a process pool, functions/notify/render.py):
it gives each notice's file or its `Unrenderable`, in the batch's order, so the writes are the same
and in the same order whoever draws.

A notice that cannot be drawn (`pdf.MissingGlyphs`: a name character no bundled font has, see
docs/NAMES.md "Fonts") stops neither the batch nor the season: the child's notice record is marked
`manual` with the reason and the missing characters' code points (never the name), listed to the
child's district (`GET /admin/placement/{season}/districts/{d}/manual-notices`) to issue by hand,
and counted in the batch's answer (`manual`); the other children get theirs. Any other error still
fails the batch (a broken font or store is not one child's problem, and the Map retries it).

Notice SMS count in the season's SMS spend (`spend`: the per-minute counters of
enrollment/core/sms_caps.py, once per batch) but no cap ever stops one: a notice must reach the
family, and the caps are there for the codes anyone can ask for, not for one SMS per placed child.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from enrollment.core import sms_caps, sms_delivery
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Registrations, Sms, WorkFiles, put_batches
from enrollment.core.sms_templates import SmsMessage
from enrollment.lottery import ceremony
from enrollment.notices.notice import Notice, RenderMany, Unrenderable, build_notice, render_each, sms_message


class NoticeStore(Protocol):
    def notice(self, registration_id: str) -> dict[str, Any] | None: ...

    def notices_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several children's notice records, by registration id (batched; those without one absent)."""
        ...

    def start_notice(self, item: dict[str, Any]) -> bool:
        """Write the notice record if absent. True if written."""
        ...

    def notice_sent(self, registration_id: str, message_id: str, at: str) -> None: ...

    def notice_manual(self, item: dict[str, Any]) -> None:
        """Record a notice to be issued by hand (status `manual`) and list it to `item["district"]`."""
        ...


class Files(Protocol):
    def put_bytes(self, key: str, body: bytes, content_type: str) -> None: ...


def manual_record(
    season: str, reg: Mapping[str, Any], notice: Notice, body: Unrenderable, at: str
) -> dict[str, Any]:
    """A notice the renderer cannot draw, recorded for the district to issue by hand (R-NOTE-1)."""
    return {
        "registration_id": notice.registration_id,
        "season": season,
        "district": str(reg["district"]),
        "school_id": notice.school_id,
        "verification_code": notice.verification_code,
        "status": "manual",
        "reason": body.reason,
        "code_points": list(body.code_points),
        "recorded_at": at,
    }


def notice_key(season: str, registration_id: str) -> str:
    return f"seasons/{season}/notices/{registration_id}.pdf"


class ArchivedFiles(Protocol):
    def get(self, key: str) -> bytes | None: ...


class Placed(Protocol):
    def placed(self, registration_id: str) -> dict[str, Any] | None:
        """The child's stored place (None before placement ran)."""
        ...

    def placed_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several children's stored places, by registration id (batched; those not placed absent)."""
        ...


def prepare(config: SeasonConfig, season: str, *, archive: ArchivedFiles, work: WorkFiles) -> dict[str, Any]:
    body = archive.get(ceremony.archive_key(season, "placements.jsonl"))
    if body is None:
        raise ValueError("placements.jsonl is not archived: placement has not run")
    placed = map(json.loads, body.splitlines())  # one line at a time: not the whole season's lines at once
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
    ids = list(dict.fromkeys(registration_ids))
    places = placements.placed_of(ids)
    for rid in ids:
        if rid not in places:
            raise ValueError(f"{rid}: no placement stored")
    regs = registrations.get_registrations(ids)
    items = []
    for rid in registration_ids:
        if rid not in regs:
            raise ValueError(f"{rid}: no registration stored")
        items.append((regs[rid], places[rid]))
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
    render_many: RenderMany = render_each,
    spend: sms_caps.SmsCapStore | None = None,
    tracking: sms_delivery.Tracking | None = None,
) -> dict[str, int]:
    issued = skipped = sms_failed = 0
    placed = _placed(registration_ids, registrations, placements)
    existing = store.notices_of([str(reg["registration_id"]) for reg, _ in placed])
    todo: list[tuple[dict[str, Any], Notice]] = []
    seen: set[str] = set()
    for reg, place in placed:
        rid = str(reg["registration_id"])
        if rid in seen or existing.get(rid, {}).get("sms_message_id"):  # a child twice: issued once
            skipped += 1
            continue
        if existing.get(rid, {}).get("correction_id") or not place.get("school_id"):
            # a correction changed the place since the results (issue 18): its notice, or its
            # revocation, is the corrected notices' run's (enrollment/notices/corrected.py)
            skipped += 1
            continue
        seen.add(rid)
        child = reg["request"]["child"]
        grade: Literal[1, 7] = 7 if int(reg["grade"]) == 7 else 1
        notice = build_notice(
            config,
            registration_id=rid,
            child_name=str(child["name"]),
            id_number=str(child["id_number"]),
            grade=grade,
            school_id=str(place["school_id"]),
            route=str(place["route"]),
            secret=secret,
        )
        todo.append((reg, notice))
    manual = 0
    at = now.astimezone(config.tz).isoformat()
    # the files in the batch's order, each as soon as it is drawn (the same bytes if retried)
    drawn = iter(render_many([notice for _, notice in todo]))
    for reg, notice in todo:
        rid = notice.registration_id
        body = next(drawn)
        if isinstance(body, Unrenderable):
            store.notice_manual(manual_record(season, reg, notice, body, at))
            manual += 1
            continue
        key = notice_key(season, rid)
        store.start_notice(
            {
                "registration_id": rid,
                "season": season,
                "school_id": notice.school_id,
                "key": key,
                "verification_code": notice.verification_code,
                "issued_at": at,
            }
        )
        files.put_bytes(key, body, "application/pdf")
        phone = str(reg["request"]["guardians"][0]["phone"])
        message = sms_message(notice)
        if tracking is None:
            store.notice_sent(rid, sms.send(phone, message), at)
        else:
            record = _tracked_send(season, reg, notice, phone, message, sms=sms, tracking=tracking, now=now)
            store.notice_sent(rid, record.message_id, at)
            sms_failed += record.status == sms_delivery.FAILED
        issued += 1
    if spend is not None:  # counted, never refused (after the sends: a failed count stops no notice)
        sms_caps.record_notices(issued, store=spend, now=now)
    out = {"issued": issued, "skipped": skipped, "manual": manual}
    if tracking is not None:
        out["sms_failed"] = sms_failed  # refused when sent: recorded, retried or listed to the district
    return out


def _tracked_send(
    season: str,
    reg: dict[str, Any],
    notice: Notice,
    phone: str,
    message: SmsMessage,
    *,
    sms: Sms,
    tracking: sms_delivery.Tracking,
    now: datetime,
) -> sms_delivery.SmsRecord:
    """Send the notice's SMS and record the message. A refusal (a wrong number, a template the
    provider no longer accepts) stops neither the batch nor the season: the message is recorded
    failed, and (past its sends) listed to the child's district to phone the family; the notice
    record names the failed message, so a retried batch does not send it again."""
    record = sms_delivery.new_record(
        season,
        sms_delivery.NOTICE,
        message,
        phone,
        0,
        now,
        registration_id=notice.registration_id,
        district=str(reg["district"]),
        school_id=notice.school_id,
    )
    sent = sms_delivery.send(sms, tracking.tracked, tracking.store, phone, message, record, now)
    if sent.status == sms_delivery.FAILED:
        sms_delivery.after_failure(sent, tracking.delivery, store=tracking.store)
    return sent
