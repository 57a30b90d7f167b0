"""A family's way in: a one-time SMS code, then a short session that opens one child (R-DATA-2).

Pure domain over the `ParentStore` port and the `Sms` port (no AWS here).

- `request_code`: a 6-digit code goes by SMS to the guardian phone(s) stated at registration. The
  same answer whether or not the registration exists, and the same rate limit for every id (at most
  one code a minute and five an hour per registration id), so neither the answer nor a 429 tells
  anyone whether an id exists. Codes are stored only as a keyed hash (HMAC with a secret derived
  in KMS) and expire after ten minutes. The season's SMS caps (enrollment/core/sms_caps.py) come on
  top: while the season's code SMS of the last hour are at their cap, every request is refused
  alike (`CircuitOpen`, before the id is looked up); a phone past its own caps is skipped silently.
- `open_session`: the right code, within its time, once, opens a session; five wrong tries void the
  code. A wrong, expired, used, voided or unknown code is one and the same refusal.
- `authenticate`: a bearer token opens only the registration it was issued for, until it expires.
  Tokens are random (`secrets.token_urlsafe`) and stored only as a keyed hash.

- Attempts (`AttemptRecord`): every proof is counted per client (the source IP API Gateway saw) and
  per registration id. A client may ask for CLIENT_CODE_REQUESTS codes and fail CLIENT_FAILURES
  proofs (wrong codes, bad session tokens) within CLIENT_WINDOW; past either, it is locked out for
  CLIENT_LOCKOUT: every proof it presents (code request, code, token) is answered 429 with the
  seconds to wait, the same for every id. Per registration id the code rules above limit the tries;
  bad tokens are counted there too (for staff to see), but do not lock a registration: a 256-bit
  token cannot be guessed, and such a lock would let anyone shut a family out. The records keep
  the totals (`total_requests`, `total_failures`, `lockouts`) so staff can see abuse.

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

from enrollment.core import sms_caps, sms_delivery, sms_templates
from enrollment.core.config import SeasonConfig, SmsCaps
from enrollment.core.ports import Sms, SmsThrottled
from enrollment.core.sms_templates import SmsMessage

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(minutes=30)
RESEND_AFTER = timedelta(seconds=60)
SEND_WINDOW = timedelta(hours=1)
SENDS_PER_WINDOW = 5
MAX_ATTEMPTS = 5
CLIENT_WINDOW = timedelta(hours=1)
CLIENT_CODE_REQUESTS = 20  # code requests per client (source IP) per CLIENT_WINDOW
CLIENT_FAILURES = 10  # wrong codes and bad session tokens per client per CLIENT_WINDOW
CLIENT_LOCKOUT = timedelta(minutes=30)
CLIENT = "client"
REGISTRATION = "registration"

CODE_SENT_ZH = "若报名编号正确，验证码已发送至报名时登记的监护人手机，10分钟内有效。"
CODE_SENT_EN = "if the registration id is right, a code was sent to the guardian phone(s) it names"
# with `sms_delivery.otp_fallback: staff`, added to every answer (whether the id exists or not)
CODE_FALLBACK_ZH = "如未收到验证码，可拨打报名所在区教育局招生咨询电话，工作人员核实身份后协助查询。"
# every phone's code SMS failed when sent (the provider refused it or asked to slow down)
CODE_FAILED_ZH = "验证码短信未能发出，请稍后再试。"
CODE_FAILED_EN = "the code SMS could not be sent; try again later"
CODE_FAILED_STAFF_ZH = (
    "验证码短信未能发出。请拨打{district}教育局招生咨询电话 {hotline}，工作人员核实身份后协助查询。"
)
CODE_FAILED_STAFF_EN = "the code SMS could not be sent; the district's enrollment hotline helps instead"


class NotAuthenticated(Exception):
    """One refusal for every way a code or token can be wrong: it says nothing about which."""


class RateLimited(Exception):
    """Too soon: `lockout` says the client is locked out (too many tries), else a code came too soon."""

    def __init__(self, retry_after: int, *, lockout: bool = False) -> None:
        super().__init__(f"too many {'tries' if lockout else 'codes'}; retry after {retry_after} s")
        self.retry_after = retry_after
        self.lockout = lockout


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


@dataclass(frozen=True)
class AttemptRecord:
    """The proofs one client (`scope` CLIENT: a source IP) or one registration id (REGISTRATION) made."""

    scope: str
    subject: str
    requests: tuple[datetime, ...]  # code requests within the last CLIENT_WINDOW
    failures: tuple[datetime, ...]  # failed proofs (wrong code, bad token) within the last CLIENT_WINDOW
    locked_until: datetime | None
    total_requests: int  # every code request recorded (kept for staff to see)
    total_failures: int  # every failed proof recorded
    lockouts: int  # how many times this client was locked out
    version: int

    @staticmethod
    def new(scope: str, subject: str) -> AttemptRecord:
        return AttemptRecord(scope, subject, (), (), None, 0, 0, 0, 0)


@dataclass(frozen=True)
class CodeCaps:
    """The season's SMS caps (`SeasonConfig.sms`) and where their counts are kept."""

    limits: SmsCaps
    store: sms_caps.SmsCapStore


@dataclass(frozen=True)
class CodeSent:
    """What one code request did (never shown to the caller): messages sent, and each phone a cap
    skipped with the cap's name (`sms_caps.PHONE` or `sms_caps.GLOBAL`)."""

    sent: int
    capped: tuple[tuple[str, str], ...]
    failed: int = 0  # phones whose code the provider refused or put off (recorded when tracked)


class ParentStore(Protocol):
    def code_record(self, registration_id: str) -> CodeRecord | None: ...

    def put_code_record(self, record: CodeRecord, expected_version: int | None) -> bool:
        """Write the record if the stored one still has `expected_version` (None: there is none).
        False if someone else wrote first."""
        ...

    def put_session(self, session: ParentSession) -> None: ...

    def session(self, token_hash: str) -> ParentSession | None: ...

    def end_session(self, token_hash: str) -> None: ...

    def attempts(self, scope: str, subject: str) -> AttemptRecord | None: ...

    def put_attempts(self, record: AttemptRecord, expected_version: int | None) -> bool:
        """As `put_code_record`: written only if the stored version is still `expected_version`."""
        ...


def keyed_hash(secret: bytes, purpose: str, registration_id: str, value: str) -> str:
    """HMAC-SHA256 of a code or token, bound to its purpose and registration id."""
    message = f"enrollment-parent/1|{purpose}|{registration_id}|{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def token_hash(secret: bytes, token: str) -> str:
    return keyed_hash(secret, "session", "", token)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def sms_message(registration_id: str, code: str) -> SmsMessage:
    """The code SMS: template `parent-code` (enrollment/core/sms_templates.py)."""
    minutes = int(CODE_TTL.total_seconds() // 60)
    return SmsMessage(
        sms_templates.CODE.id, {"registration_id": registration_id, "code": code, "minutes": str(minutes)}
    )


def sms_text(registration_id: str, code: str) -> str:
    return sms_message(registration_id, code).text


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
    caps: CodeCaps,
    now: datetime,
    code: str | None = None,
    tracking: sms_delivery.Tracking | None = None,
    season: str = "",
    district: str = "",
) -> CodeSent:
    """Send a code to `phones` (None: no such registration; nothing is sent, the limit still counts).

    sms_caps.CircuitOpen if the season's code SMS are at their hourly cap, RateLimited if this id asked
    too soon: both before anything is counted or sent, and the same whether or not the id exists. Each
    distinct phone then gets the code unless its own caps refuse it, or the season's cap was reached
    by a concurrent request meanwhile: that phone is skipped, and the answer stays the same.
    """
    sms_caps.check_circuit(caps.limits, store=caps.store, now=now)
    code = code or new_code()
    exists = phones is not None
    record = store.code_record(registration_id)
    hashed = keyed_hash(secret, "code", registration_id, code) if exists else None
    updated = next_send(record, registration_id, hashed, now)
    if not store.put_code_record(updated, record.version if record else None):
        raise RateLimited(_seconds(RESEND_AFTER))  # another send won the race just now
    sent = failed = 0
    capped: list[tuple[str, str]] = []
    for phone in dict.fromkeys(phones or ()):  # each distinct phone once
        if not sms_caps.reserve_phone(
            caps.limits, sms_caps.phone_key(secret, phone), store=caps.store, now=now
        ):
            capped.append((sms_caps.PHONE, phone))
        elif not sms_caps.reserve_global(caps.limits, store=caps.store, now=now):
            capped.append((sms_caps.GLOBAL, phone))
        elif tracking is None:
            sms.send(phone, sms_message(registration_id, code))
            sent += 1
        elif _tracked_send(
            registration_id,
            code,
            phone,
            list(phones or ()).index(phone),
            sms,
            tracking,
            season,
            district,
            now,
        ):
            sent += 1
        else:
            failed += 1
    return CodeSent(sent, tuple(capped), failed)


def _tracked_send(
    registration_id: str,
    code: str,
    phone: str,
    guardian: int,
    sms: Sms,
    tracking: sms_delivery.Tracking,
    season: str,
    district: str,
    now: datetime,
) -> bool:
    """Send the code and record the message (its parameters not kept: they hold the code). False if
    the provider refused it (recorded failed, and listed to the district with the staff fallback) or
    asked to slow down (not recorded: nothing went out)."""
    message = sms_message(registration_id, code)
    record = sms_delivery.new_record(
        season,
        sms_delivery.CODE,
        message,
        phone,
        guardian,
        now,
        registration_id=registration_id,
        district=district,
    )
    try:
        sent = sms_delivery.send(sms, tracking.tracked, tracking.store, phone, message, record, now)
    except SmsThrottled:
        return False
    if sent.status == sms_delivery.FAILED:
        sms_delivery.after_failure(sent, tracking.delivery, store=tracking.store)
        return False
    return True


def code_answer(config: SeasonConfig, result: CodeSent | None, district: str) -> tuple[str, str]:
    """The code request's message (Chinese, English). The same for every id unless the id exists and
    every code SMS to its phones failed when sent: then the parent is told plainly, or, with the staff
    fallback, given the district's hotline."""
    delivery = config.sms_delivery
    if result is not None and result.failed and not result.sent and not result.capped:
        hotline = delivery.hotlines.get(district)
        if delivery.otp_fallback == "staff" and hotline:
            name = config.district_index[district].name
            return CODE_FAILED_STAFF_ZH.format(district=name, hotline=hotline), CODE_FAILED_STAFF_EN
        return CODE_FAILED_ZH, CODE_FAILED_EN
    if delivery.otp_fallback == "staff":
        return CODE_SENT_ZH + CODE_FALLBACK_ZH, CODE_SENT_EN
    return CODE_SENT_ZH, CODE_SENT_EN


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


def _locked(record: AttemptRecord | None, now: datetime) -> int | None:
    if record is None or record.locked_until is None or now >= record.locked_until:
        return None
    return _seconds(record.locked_until - now)


def admit(client: str, *, store: ParentStore, now: datetime) -> None:
    """RateLimited (lockout) if the client is locked out: it may present no proof until then."""
    wait = _locked(store.attempts(CLIENT, client), now)
    if wait is not None:
        raise RateLimited(wait, lockout=True)


def counted(
    record: AttemptRecord | None, scope: str, subject: str, kind: str, now: datetime
) -> AttemptRecord:
    """The record after one more code request (`kind` "request") or failed proof ("failure") at `now`.
    A client past CLIENT_CODE_REQUESTS or CLIENT_FAILURES within CLIENT_WINDOW is locked out."""
    r = record or AttemptRecord.new(scope, subject)
    recent = {
        "request": tuple(t for t in r.requests if now - t < CLIENT_WINDOW),
        "failure": tuple(t for t in r.failures if now - t < CLIENT_WINDOW),
    }
    recent[kind] = (*recent[kind], now)
    over = len(recent["request"]) > CLIENT_CODE_REQUESTS or len(recent["failure"]) >= CLIENT_FAILURES
    lock = scope == CLIENT and over and _locked(r, now) is None
    return AttemptRecord(
        scope=scope,
        subject=subject,
        requests=() if lock else recent["request"],  # a lockout starts the count afresh when it ends
        failures=() if lock else recent["failure"],
        locked_until=now + CLIENT_LOCKOUT if lock else r.locked_until,
        total_requests=r.total_requests + (kind == "request"),
        total_failures=r.total_failures + (kind == "failure"),
        lockouts=r.lockouts + lock,
        version=r.version + 1,
    )


def record_attempt(
    scope: str, subject: str, kind: str, *, store: ParentStore, now: datetime
) -> AttemptRecord:
    """Count one attempt (retrying a lost race a few times); the record as written."""
    for _ in range(5):
        record = store.attempts(scope, subject)
        updated = counted(record, scope, subject, kind, now)
        if store.put_attempts(updated, record.version if record else None):
            return updated
    raise RateLimited(_seconds(RESEND_AFTER), lockout=True)  # hammered by many requests at once


def count_code_request(client: str, *, store: ParentStore, now: datetime) -> None:
    """Count a code request of `client`: RateLimited (lockout) if it is or now becomes locked out."""
    admit(client, store=store, now=now)
    record = record_attempt(CLIENT, client, "request", store=store, now=now)
    wait = _locked(record, now)
    if wait is not None:
        raise RateLimited(wait, lockout=True)


def count_failure(client: str, registration_id: str, *, store: ParentStore, now: datetime) -> bool:
    """Count a failed proof against the client and the registration id; True if the client is now
    locked out (this failure is still answered as a failure; the next proof gets 429)."""
    record_attempt(REGISTRATION, registration_id, "failure", store=store, now=now)
    return _locked(record_attempt(CLIENT, client, "failure", store=store, now=now), now) is not None


def guardian_phones(item: dict[str, Any]) -> list[str]:
    """The phone numbers the family gave at registration (R-DATA-1: the only contact data kept); none
    once the registration was erased at the end of its retention period (docs/RETENTION.md)."""
    request = item.get("request") or {}
    return [str(g["phone"]) for g in request.get("guardians", []) if g.get("phone")]
