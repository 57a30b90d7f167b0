"""Notices after a correction (issue 18): a changed place gets a new notice, the old one is revoked.

A correction that changes a child's school (or takes the child out of every school: a public seat
declined, a deferral) makes the child's notice wrong. `reissue` brings every corrected child's
notice in line with the child's place as the corrections leave it:

- a child now at another school than its notice names (or, like a late registration, with no
  notice yet) gets a new notice: a new PDF dated the correction's day, with its own verification
  code (the code's message carries the notice's issue number, `notice.verification_message`),
  naming the notice it replaces; and an SMS, through the same SMS port, records and spend as the
  notice batches' (`season.issue`);
- the old notice's code is kept as revoked (`REG#{id}` / `NOTICE#REVOKED#{code}`), with the date
  and the code of the notice that replaced it, so a school checking it hears that it is void and
  by which notice it was replaced (`check`);
- a child now at no school has its notice revoked with no replacement (no SMS: the family declined,
  or the bureau deferred the child with the family; the status page shows it).

It compares the child's place with its notice record, not with what it did before, so it can run
any number of times: it runs in notify-batch's function every 15 minutes with the SMS receipts (the
rule of infra/schedules.py; functions/notify/batch.py), and on demand (`task: corrected-notices`).
The correction route stays as fast as it was: it only writes the correction.

Each step is a conditional write, so a retry (or a second run at the same time) never texts twice:
the record is replaced only if it still holds the old code, and the SMS is claimed on the record
(`sms_claimed_at`) before it is sent; a run that finds the claim taken sends nothing. A run that
stops between its claim and the send leaves the notice without an SMS (`sms_claimed_at`, no
`sms_message_id`): counted as `unsent` in the answer of every later run and, once the claim is older
than any run can take (`UNSENT_AFTER`), listed once to the child's district to phone the family, as a
notice SMS that failed is (`sms_delivery`). A send the provider refused to take (SmsThrottled) gives
its claim back, so the next run sends it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from enrollment.core import sms_caps, sms_delivery
from enrollment.core.config import SeasonConfig
from enrollment.core.idcard import mask_phone
from enrollment.core.ports import Registrations, Sms, SmsThrottled
from enrollment.corrections.model import Correction, PlacementLine
from enrollment.notices.notice import (
    NO_NOTICE_ROUTES,
    Notice,
    RenderMany,
    Unrenderable,
    build_notice,
    format_code,
    normalise_code,
    render_each,
    sms_message,
    zh_date,
)
from enrollment.notices.season import Files, NoticeStore, _tracked_send, manual_record

# A claim older than this was made by a run that stopped (notify-batch's timeout is 5 minutes): its
# SMS is listed to the district instead of being sent (it may have gone out before the run stopped).
UNSENT_AFTER = timedelta(minutes=20)


def reissued_key(season: str, registration_id: str, issue: int) -> str:
    """Where a notice issued again is stored (the first stays at `season.notice_key`)."""
    return f"seasons/{season}/notices/{registration_id}-{issue}.pdf"


class CorrectedNoticeStore(NoticeStore, Protocol):
    def revoked_notice(self, registration_id: str, code: str) -> dict[str, Any] | None:
        """The revoked notice of the child with this (canonical) code, if any."""
        ...

    def replace_notice(self, revoked: dict[str, Any], new: dict[str, Any] | None) -> bool:
        """Keep the old notice as `revoked` and put `new` (None: the child's notice is revoked with no
        replacement) in its place, if the child's record still holds the revoked code. False: it no
        longer does (another run got there first)."""
        ...

    def claim_notice_sms(self, registration_id: str, code: str, at: str) -> bool:
        """Claim the notice's SMS (once): False if it was claimed or the record holds another code."""
        ...

    def release_notice_sms(self, registration_id: str, code: str) -> bool:
        """Give a claim back (the provider did not take the SMS), if the SMS is not marked sent."""
        ...

    def notice_unsent_listed(self, registration_id: str, code: str, at: str) -> bool:
        """Mark a claimed, never sent SMS listed to its district (once: False if marked already)."""
        ...


@dataclass(frozen=True)
class Target:
    """Where the corrections leave a child: its line and the correction that put it there."""

    line: PlacementLine
    correction: Correction

    @property
    def school_id(self) -> str | None:
        """The school a notice names now, or None (no school: declined, deferred)."""
        if self.line.school_id is None or self.line.route in NO_NOTICE_ROUTES:
            return None
        return self.line.school_id


def targets(corrections: Iterable[Correction]) -> dict[str, Target]:
    """Each corrected child's place after every correction, in the order written."""
    out: dict[str, Target] = {}
    for c in corrections:
        for ch in c.changes:
            out[ch.registration_id] = Target(ch.after, c)
    return out


def _issued_on(config: SeasonConfig, record: Mapping[str, Any]) -> date:
    on = record.get("issued_on")
    return date.fromisoformat(str(on)) if on else config.calendar.admission_notices


def reissue(
    config: SeasonConfig,
    season: str,
    corrections: Iterable[Correction],
    *,
    registrations: Registrations,
    secret: bytes,
    store: CorrectedNoticeStore,
    files: Files,
    sms: Sms,
    now: datetime,
    render_many: RenderMany = render_each,
    spend: sms_caps.SmsCapStore | None = None,
    tracking: sms_delivery.Tracking | None = None,
) -> dict[str, int]:
    """Every corrected child's notice as its place now stands (see the module's docstring)."""
    wanted = targets(corrections)
    records = store.notices_of(wanted)
    regs = registrations.get_registrations(wanted)
    at = now.astimezone(config.tz).isoformat()
    counts = {"issued": 0, "revoked": 0, "manual": 0, "unsent": 0, "unchanged": 0, "waiting": 0}
    todo: list[tuple[dict[str, Any], dict[str, Any], Notice]] = []
    for rid, target in sorted(wanted.items()):
        rec = records.get(rid)
        reg = regs.get(rid)
        if reg is None:  # a late child whose registration is not stored yet (`correct_all` stores
            counts["waiting"] += 1  # it after the correction): the next run issues its notice
            continue
        if rec is not None and rec.get("status") != "revoked" and rec.get("school_id") == target.school_id:
            if rec.get("sms_claimed_at") and not rec.get("sms_message_id"):
                counts["unsent"] += 1  # claimed by a run that stopped before its send: never sent twice
                _list_unsent(season, reg, rec, store=store, tracking=tracking, now=now)
            elif rec.get("correction_id") and not rec.get("sms_claimed_at") and rec.get("status") != "manual":
                todo.append((reg, rec, _notice(config, reg, rec, secret)))  # put, not yet texted
            else:
                counts["unchanged"] += 1
            continue
        if rec is None and target.school_id is None:
            counts["unchanged"] += 1  # never had a notice, and none is due
            continue
        day = target.correction.at.astimezone(config.tz).date()
        if target.school_id is None:
            assert rec is not None
            if store.replace_notice(_revoked(config, rec, target, None, day), None):
                counts["revoked"] += 1
            continue
        issue = int(rec.get("issue", 0)) + 1 if rec is not None else 0
        new = _new_record(season, reg, target, issue, day, rec, at)
        notice = _notice(config, reg, new, secret)
        new["verification_code"] = notice.verification_code
        written = (
            store.replace_notice(_revoked(config, rec, target, notice, day), new)
            if rec is not None
            else store.start_notice(new)
        )
        if written:
            counts["revoked"] += rec is not None
            todo.append((reg, new, notice))
    drawn = iter(render_many([n for _, _, n in todo]))
    sent = 0
    for reg, rec, notice in todo:
        body = next(drawn)
        rid = notice.registration_id
        if isinstance(body, Unrenderable):
            store.notice_manual(rec | manual_record(season, reg, notice, body, at))
            counts["manual"] += 1
            continue
        files.put_bytes(str(rec["key"]), body, "application/pdf")
        if not store.claim_notice_sms(rid, notice.verification_code, at):
            continue  # another run texts (or texted) this family
        phone = str(reg["request"]["guardians"][0]["phone"])
        message = sms_message(notice)
        try:
            if tracking is None:
                message_id = sms.send(phone, message)
            else:
                sent_as = _tracked_send(
                    season, reg, notice, phone, message, sms=sms, tracking=tracking, now=now
                )
                message_id = sent_as.message_id
        except SmsThrottled:  # the provider did not take it: the next run sends it
            store.release_notice_sms(rid, notice.verification_code)
            raise
        store.notice_sent(rid, message_id, at)
        counts["issued"] += 1
        sent += 1
    if spend is not None and sent:  # counted in the season's spend, never refused (as the batches')
        sms_caps.record_notices(sent, store=spend, now=now)
    return counts


def _list_unsent(
    season: str,
    reg: Mapping[str, Any],
    rec: Mapping[str, Any],
    *,
    store: CorrectedNoticeStore,
    tracking: sms_delivery.Tracking | None,
    now: datetime,
) -> None:
    """A notice SMS claimed by a run that stopped: listed once to the district, to phone the family."""
    claimed = datetime.fromisoformat(str(rec["sms_claimed_at"]))
    if tracking is None or rec.get("sms_unsent_listed_at") or now - claimed < UNSENT_AFTER:
        return
    rid = str(rec["registration_id"])
    phone = str(reg["request"]["guardians"][0]["phone"])
    tracking.store.put_failure(
        sms_delivery.SmsFailure(
            season=season,
            district=str(reg["district"]),
            registration_id=rid,
            purpose=sms_delivery.NOTICE,
            school_id=str(rec["school_id"]),
            phone_masked=mask_phone(phone),
            guardian=0,
            attempts=1,
            error_code="unsent",
            failed_at=claimed,
            message_id=f"unsent-{rid}-{int(rec.get('issue', 0))}",
        )
    )
    store.notice_unsent_listed(rid, str(rec["verification_code"]), now.isoformat())


def _new_record(
    season: str,
    reg: Mapping[str, Any],
    target: Target,
    issue: int,
    day: date,
    old: Mapping[str, Any] | None,
    at: str,
) -> dict[str, Any]:
    rid = str(reg["registration_id"])
    replaces = (
        {"replaces_code": str(old["verification_code"]), "replaces_issued": str(old.get("issued_on") or "")}
        if old is not None
        else {}
    )
    return replaces | {
        "registration_id": rid,
        "season": season,
        "district": str(reg["district"]),
        "school_id": target.school_id,
        "route": target.line.route,
        "key": reissued_key(season, rid, issue),
        "issue": issue,
        "issued_on": day.isoformat(),
        "issued_at": at,
        "correction_id": target.correction.correction_id,
    }


def _notice(config: SeasonConfig, reg: Mapping[str, Any], rec: Mapping[str, Any], secret: bytes) -> Notice:
    """The notice a record stands for (the same notice, the same code and bytes, however often drawn)."""
    child = reg["request"]["child"]
    grade: Literal[1, 7] = 7 if int(reg["grade"]) == 7 else 1
    replaces = None
    if rec.get("replaces_code"):
        old = {"issued_on": rec.get("replaces_issued")}
        replaces = (str(rec["replaces_code"]), _issued_on(config, old))
    return build_notice(
        config,
        registration_id=str(reg["registration_id"]),
        child_name=str(child["name"]),
        id_number=str(child["id_number"]),
        grade=grade,
        school_id=str(rec["school_id"]),
        route=str(rec["route"]),
        secret=secret,
        issued=_issued_on(config, rec),
        issue=int(rec.get("issue", 0)),
        replaces=replaces,
    )


def _revoked(
    config: SeasonConfig, old: Mapping[str, Any], target: Target, new: Notice | None, day: date
) -> dict[str, Any]:
    return {
        "registration_id": str(old["registration_id"]),
        "season": str(old.get("season", config.season)),
        "school_id": old.get("school_id"),
        "verification_code": str(old["verification_code"]),
        "issued_on": _issued_on(config, old).isoformat(),
        "revoked_on": day.isoformat(),
        "correction_id": target.correction.correction_id,
        "replaced_by_code": new.verification_code if new else None,
        "replaced_by_issued": new.issued.isoformat() if new else None,
    }


# --- a school checks a notice ------------------------------------------------------------------

CheckStatus = Literal["valid", "revoked", "invalid"]


class CheckedNotices(Protocol):
    def notice(self, registration_id: str) -> dict[str, Any] | None: ...

    def revoked_notice(self, registration_id: str, code: str) -> dict[str, Any] | None: ...


def check(
    config: SeasonConfig, district: str, registration_id: str, code: str, *, store: CheckedNotices
) -> dict[str, Any]:
    """What a school hears when it checks a notice of one of `district`'s schools by its registration
    id and code (R-NOTE-1): valid (the school and grade), revoked (since when, and the date of the
    notice that replaced it), or not a notice of the district's (a wrong code, another district's
    school). Never another school's name: a revoked notice's holder learns only that a new one exists."""
    typed = normalise_code(code)
    invalid = {
        "status": "invalid",
        "valid": False,
        "message": "核验未通过：报名编号与核验码不符，该通知书不是本系统发放的有效通知书",
    }
    if typed is None:
        return invalid
    current = store.notice(registration_id)
    if (
        current is not None
        and current.get("verification_code") == typed
        and current.get("status") != "revoked"  # revoked with no replacement: as the revoked read it
        and _ours(config, current, district)
    ):
        school = config.school_index[str(current["school_id"])]
        issued = _issued_on(config, current)
        return {
            "status": "valid",
            "valid": True,
            "message": f"核验通过：该通知书有效，录取学校为{school.name}，{zh_date(issued)}发放",
            "school_id": school.id,
            "school_name": school.name,
            "issued_on": issued.isoformat(),
        }
    revoked = store.revoked_notice(registration_id, typed)
    if revoked is not None and _ours(config, revoked, district):
        return _revoked_answer(revoked, typed)
    return invalid


def _ours(config: SeasonConfig, record: Mapping[str, Any], district: str) -> bool:
    school = config.school_index.get(str(record.get("school_id")))
    return school is not None and school.district == district


def _revoked_answer(revoked: Mapping[str, Any], code: str) -> dict[str, Any]:
    on = date.fromisoformat(str(revoked["revoked_on"]))
    if revoked.get("replaced_by_issued"):
        new = date.fromisoformat(str(revoked["replaced_by_issued"]))
        message = (
            f"该通知书（核验码{format_code(code)}）已作废，已由{zh_date(new)}的新通知书替代，请以新通知书为准"
        )
    else:
        message = f"该通知书（核验码{format_code(code)}）已于{zh_date(on)}作废，该儿童不再在此入学"
        new = None
    return {
        "status": "revoked",
        "valid": False,
        "message": message,
        "revoked_on": on.isoformat(),
        "replaced_by_issued_on": new.isoformat() if new else None,
    }


# --- what the family reads of its notice -------------------------------------------------------


def family_notice(config: SeasonConfig, record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The family's view of its child's notice record: issued (when, whether texted), issued again
    after a correction, or revoked with no new one; None before it is issued (or while the bureau
    issues it by hand)."""
    if record is None or record.get("status") == "manual":
        return None
    out: dict[str, Any] = {
        "issued_at": record["issued_at"],
        "sms_sent": bool(record.get("sms_message_id")),
        "issued_on_zh": zh_date(_issued_on(config, record)),
        "revoked": record.get("status") == "revoked",
        "reissued": int(record.get("issue", 0)) > 0,
    }
    if out["revoked"]:
        out["message_zh"] = "安置结果已更正，原入学通知书已作废，本学年不再安排学位"
    elif out["reissued"]:
        out["message_zh"] = (
            f"安置结果已更正，已于{out['issued_on_zh']}重新发放入学通知书，原通知书作废，请下载新通知书"
        )
    return out
