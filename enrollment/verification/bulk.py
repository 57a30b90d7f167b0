"""Bulk signing of review cases (issue 19): a district clerk picks several cases of the queue and
signs them at once with one of the preset reasons (in Chinese) and, if needed, a note.

Each case is still signed by the one decision use case (`review.decide`), one after the other: each
gets its own decision record with who, when and why (R-VER-3), is checked against its own stored
district (R-DATA-2), and may be refused on its own (a case under review cannot be confirmed, a case
signed meanwhile cannot be confirmed to another outcome...). A refused case is reported with its
reason in Chinese; the others stand. A request that is wrong as a whole (an unknown preset, no reason
at all, a list too long or with an id twice) is refused before any case is signed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from enrollment.core.staff import StaffError, StaffMember, require_decide
from enrollment.verification import review
from enrollment.verification.review import Outcome
from enrollment.verification.verdicts import DecisionAction

BULK_MAX = 100  # one request signs at most this many cases (each case is two writes)
REASON_MAX = 500  # as a single decision's reason

# The reasons a clerk picks from; recorded as their Chinese text (a decision's reason is words,
# not a code), followed by the clerk's own note when there is one.
PRESET_REASONS: dict[str, str] = {
    "documents-checked": "已核验原件，材料齐全，情况属实",
    "phone-confirmed": "已电话联系监护人核实，情况属实",
    "agency-confirmed": "经相关部门核查确认",
    "home-visit-confirmed": "经入户核查，确认实际居住",
    "documents-missing": "未能提供有效证明材料",
    "not-living-there": "经入户核查，未在该地址实际居住",
    "address-mismatch": "房产地址与户籍地址不一致，经核实属实",
}


class BulkRefused(StaffError):
    """A bulk request wrong as a whole; `field` names the part of the body (nothing was signed)."""

    status = 422

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.field = field


def presets() -> list[dict[str, str]]:
    """The preset reasons in the order a clerk sees them."""
    return [{"id": key, "text_zh": text} for key, text in PRESET_REASONS.items()]


def bulk_reason(preset: str | None, note: str) -> str:
    """The reason recorded on each case: the preset's words, then the note (either may be alone)."""
    note = note.strip()
    if preset is not None and preset not in PRESET_REASONS:
        raise BulkRefused("preset", "请从列表中选择常用理由", f"preset: unknown preset reason {preset!r}")
    words = [PRESET_REASONS[preset]] if preset else []
    reason = "；".join([*words, note] if note else words)
    if len(reason) < 2:
        raise BulkRefused(
            "reason", "请选择常用理由或填写审核理由（至少2个字）", "reason: a preset or a note is required"
        )
    if len(reason) > REASON_MAX:
        raise BulkRefused(
            "note", f"审核理由不能超过{REASON_MAX}字", f"note: the reason is longer than {REASON_MAX}"
        )
    return reason


def _checked_ids(registration_ids: list[str]) -> list[str]:
    if not 1 <= len(registration_ids) <= BULK_MAX:
        raise BulkRefused(
            "registration_ids",
            f"请选择 1 到 {BULK_MAX} 件案件",
            f"registration_ids: 1 to {BULK_MAX} cases",
        )
    if len(set(registration_ids)) != len(registration_ids):
        raise BulkRefused(
            "registration_ids", "所选案件有重复，请重新选择", "registration_ids: an id is listed twice"
        )
    return registration_ids


def decide_many(
    store: review.VerificationStore,
    staff: StaffMember,
    district: str,
    registration_ids: list[str],
    action: DecisionAction,
    outcome: Outcome | None,
    preset: str | None,
    note: str,
    now: datetime,
) -> dict[str, Any]:
    """Sign each case as `review.decide` would, one by one, and report each: signed (with the
    decision) or refused (with why, in Chinese). Only the district's own staff sign its cases; a case
    stored under another district is refused on its own, whatever the path named."""
    require_decide(staff, district)
    ids = _checked_ids(registration_ids)
    reason = bulk_reason(preset, note)
    results: list[dict[str, Any]] = []
    for rid in ids:
        try:
            made = review.decide(store, staff, rid, action, outcome, reason, now)
        except StaffError as e:
            results.append(
                {"registration_id": rid, "signed": False, "status": e.status, "message": e.message_zh}
            )
            continue
        results.append({"registration_id": rid, "signed": True, "decision": made.model_dump(mode="json")})
    signed = sum(1 for r in results if r["signed"])
    return {
        "district": district,
        "reason": reason,
        "signed": signed,
        "refused": len(results) - signed,
        "results": results,
    }
