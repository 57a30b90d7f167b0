"""The registration id by SMS, once a registration is stored (issue 19).

The registration id is the key to everything after registering (the code SMS, the status page), and
a page closed too soon loses it; so it also goes, once, to each guardian phone the family gave
(template `registration-received`, enrollment/core/sms_templates.py). A lost SMS is no loss either:
the id is recovered with the child's ID number and a code (`parents.recover_id`).

Anyone can register a made-up child with a stranger's phone number, so these SMS are capped like the
sign-in codes (enrollment/core/sms_caps.py): each phone gets at most `codes_per_phone_hour` of them in
an hour and `codes_per_phone_day` in a day, counted apart from its codes (its own keyed phone
record, `RECEIPT_PURPOSE`), so a family registering twins still gets its codes; and none goes out
while the season's code circuit is open (an SMS flood is under way). They are not counted in the
code circuit itself: a window's opening day sends thousands of these within hours, and counting them
would stop the very codes the families then ask for.

Sending happens after the registration is stored, and nothing it does undoes or refuses the
registration: a capped phone is skipped, a provider's refusal is counted in `failed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from enrollment.core import sms_caps, sms_templates
from enrollment.core.config import SmsCaps
from enrollment.core.ports import Sms, SmsRejected, SmsThrottled
from enrollment.core.sms_templates import SmsMessage

GRADE_ZH = {1: "一年级", 7: "七年级"}
RECEIPT_PURPOSE = "registration-received"  # the phone's receipt count is keyed apart from its codes


@dataclass(frozen=True)
class ReceiptSent:
    """What one registration's SMS did: phones sent to, skipped by a cap (cap, phone), refused."""

    sent: int
    capped: tuple[tuple[str, str], ...]
    failed: int


def sms_message(registration_id: str, grade: int) -> SmsMessage:
    return SmsMessage(
        sms_templates.REGISTERED.id, {"grade": GRADE_ZH[grade], "registration_id": registration_id}
    )


def phone_key(secret: bytes, phone: str) -> str:
    """The phone's receipt record: keyed like its code record, under another purpose."""
    return sms_caps.phone_key(secret, f"{RECEIPT_PURPOSE}|{phone}")


def send_receipt(
    item: Mapping[str, Any],
    *,
    sms: Sms,
    limits: SmsCaps,
    store: sms_caps.SmsCapStore,
    secret: bytes,
    now: datetime,
) -> ReceiptSent:
    """Send the stored registration `item`'s id to each distinct guardian phone its caps allow."""
    request = item.get("request") or {}
    phones = list(dict.fromkeys(str(g["phone"]) for g in request.get("guardians", []) if g.get("phone")))
    try:
        sms_caps.check_circuit(limits, store=store, now=now)
    except sms_caps.CircuitOpen:
        return ReceiptSent(0, tuple((sms_caps.GLOBAL, p) for p in phones), 0)
    message = sms_message(str(item["registration_id"]), int(item["grade"]))
    sent = failed = 0
    capped: list[tuple[str, str]] = []
    for phone in phones:
        if not sms_caps.reserve_phone(limits, phone_key(secret, phone), store=store, now=now):
            capped.append((sms_caps.PHONE, phone))
            continue
        try:
            sms.send(phone, message)
        except (SmsThrottled, SmsRejected):
            failed += 1
            continue
        sent += 1
    return ReceiptSent(sent, tuple(capped), failed)
