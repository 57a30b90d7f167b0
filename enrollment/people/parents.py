"""A family's way in: a one-time SMS code, then a short session that opens one child (R-DATA-2).

Pure domain over the `ParentStore` port and the `Sms` port (no AWS here).

- `request_code`: a 6-digit code goes by SMS to the guardian phone(s) stated at registration. The
  same answer whether or not the registration exists, and the same rate limit for every id (at most
  one code a minute and five an hour per registration id), so neither the answer nor a 429 tells
  anyone whether an id exists. Codes are stored only as a keyed hash (HMAC with a secret derived
  in KMS) and expire after ten minutes.
- `open_session`: the right code, within its time, once, opens a session; five wrong tries void the
  code. A wrong, expired, used, voided or unknown code is one and the same refusal.
- `authenticate`: a bearer token opens only the registration it was issued for, until it expires.
  Tokens are random (`secrets.token_urlsafe`) and stored only as a keyed hash.

Every state change is a conditional write on the record's version: two requests racing for the same
code cannot both use it, and two sends cannot both pass the rate limit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from enrollment.core.ports import Sms

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(minutes=30)
RESEND_AFTER = timedelta(seconds=60)
SEND_WINDOW = timedelta(hours=1)
SENDS_PER_WINDOW = 5
MAX_ATTEMPTS = 5

CODE_SENT_ZH = "若报名编号正确，验证码已发送至报名时登记的监护人手机，10分钟内有效。"
CODE_SENT_EN = "if the registration id is right, a code was sent to the guardian phone(s) it names"


class NotAuthenticated(Exception):
    """One refusal for every way a code or token can be wrong: it says nothing about which."""


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many codes; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class CodeRecord:
    """The code state of one registration id (also kept for ids that do not exist: same rate limit)."""

    registration_id: str
    sends: tuple[datetime, ...]  # every send within the last SEND_WINDOW, oldest first
    code_hash: str | None  # None: no usable code (none sent, used, voided, or the id does not exist)
    expires_at: datetime | None
    attempts: int  # wrong tries on the current code
    version: int  # bumped by every write; writes are conditional on it


@dataclass(frozen=True)
class ParentSession:
    token_hash: str
    registration_id: str
    created_at: datetime
    expires_at: datetime


class ParentStore(Protocol):
    def code_record(self, registration_id: str) -> CodeRecord | None: ...

    def put_code_record(self, record: CodeRecord, expected_version: int | None) -> bool:
        """Write the record if the stored one still has `expected_version` (None: there is none).
        False if someone else wrote first."""
        ...

    def put_session(self, session: ParentSession) -> None: ...

    def session(self, token_hash: str) -> ParentSession | None: ...

    def end_session(self, token_hash: str) -> None: ...


def keyed_hash(secret: bytes, purpose: str, registration_id: str, value: str) -> str:
    """HMAC-SHA256 of a code or token, bound to its purpose and registration id."""
    message = f"enrollment-parent/1|{purpose}|{registration_id}|{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def token_hash(secret: bytes, token: str) -> str:
    return keyed_hash(secret, "session", "", token)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def sms_text(registration_id: str, code: str) -> str:
    minutes = int(CODE_TTL.total_seconds() // 60)
    return (
        f"【义务教育招生】您正在查询报名编号{registration_id}的招生进度，验证码{code}，"
        f"{minutes}分钟内有效。请勿告诉他人；如非本人操作，请忽略本短信。"
    )


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def next_send(
    record: CodeRecord | None, registration_id: str, code_hash: str | None, now: datetime
) -> CodeRecord:
    """The record after one more send at `now`; RateLimited (with the seconds to wait) if too soon."""
    recent = tuple(t for t in (record.sends if record else ()) if now - t < SEND_WINDOW)
    if recent and now - recent[-1] < RESEND_AFTER:
        raise RateLimited(_seconds(recent[-1] + RESEND_AFTER - now))
    if len(recent) >= SENDS_PER_WINDOW:
        raise RateLimited(_seconds(recent[0] + SEND_WINDOW - now))
    return CodeRecord(
        registration_id=registration_id,
        sends=(*recent, now),
        code_hash=code_hash,
        expires_at=now + CODE_TTL,
        attempts=0,
        version=(record.version if record else 0) + 1,
    )


def request_code(
    registration_id: str,
    phones: Iterable[str] | None,
    *,
    store: ParentStore,
    sms: Sms,
    secret: bytes,
    now: datetime,
    code: str | None = None,
) -> int:
    """Send a code to `phones` (None: no such registration; nothing is sent, the limit still counts).

    Returns how many messages went out (never shown to the caller); RateLimited if too soon.
    """
    code = code or new_code()
    exists = phones is not None
    record = store.code_record(registration_id)
    hashed = keyed_hash(secret, "code", registration_id, code) if exists else None
    updated = next_send(record, registration_id, hashed, now)
    if not store.put_code_record(updated, record.version if record else None):
        raise RateLimited(_seconds(RESEND_AFTER))  # another send won the race just now
    sent = 0
    for phone in dict.fromkeys(phones or ()):  # each distinct phone once
        sms.send(phone, sms_text(registration_id, code))
        sent += 1
    return sent


def try_code(record: CodeRecord | None, code_hash: str, now: datetime) -> tuple[CodeRecord | None, bool]:
    """The record after one try, and whether the try succeeded. A success uses the code up; the
    MAX_ATTEMPTS-th wrong try voids it. (None, False): there is nothing to try against."""
    if record is None or record.code_hash is None or record.expires_at is None:
        return None, False
    if now >= record.expires_at or record.attempts >= MAX_ATTEMPTS:
        return None, False
    if hmac.compare_digest(code_hash, record.code_hash):
        return replace(record, code_hash=None, version=record.version + 1), True
    attempts = record.attempts + 1
    return (
        replace(
            record,
            attempts=attempts,
            code_hash=None if attempts >= MAX_ATTEMPTS else record.code_hash,
            version=record.version + 1,
        ),
        False,
    )


def open_session(
    registration_id: str,
    code: str,
    *,
    store: ParentStore,
    secret: bytes,
    now: datetime,
    token: str | None = None,
) -> tuple[str, ParentSession]:
    """Exchange a code for a session token bound to this registration; NotAuthenticated otherwise."""
    record = store.code_record(registration_id)
    updated, ok = try_code(record, keyed_hash(secret, "code", registration_id, code), now)
    if updated is None or record is None:
        raise NotAuthenticated
    if not store.put_code_record(updated, record.version):
        raise NotAuthenticated  # a concurrent try changed the code first: this one counts as wrong
    if not ok:
        raise NotAuthenticated
    token = token or secrets.token_urlsafe(32)
    session = ParentSession(token_hash(secret, token), registration_id, now, now + SESSION_TTL)
    store.put_session(session)
    return token, session


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return None
    return token


def authenticate(
    registration_id: str, authorization: str | None, *, store: ParentStore, secret: bytes, now: datetime
) -> ParentSession:
    """The session behind the header, if it is for this registration and still valid."""
    token = bearer(authorization)
    if token is None:
        raise NotAuthenticated
    session = store.session(token_hash(secret, token))
    if session is None or session.registration_id != registration_id or now >= session.expires_at:
        raise NotAuthenticated
    return session


def guardian_phones(item: dict[str, Any]) -> list[str]:
    """The phone numbers the family gave at registration (R-DATA-1: the only contact data kept)."""
    return [str(g["phone"]) for g in item["request"].get("guardians", []) if g.get("phone")]
