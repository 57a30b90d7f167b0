"""Caps on the SMS the season sends (issue 16), pure rules over the `SmsCapStore` port.

Parents' sign-in codes (enrollment/people/parents.py) are the one SMS anyone can make the season
send: register fake children with a victim's phone number, then ask for codes. Each registration id
is limited (five an hour) and each client (source IP) too; these caps close what is left:

- per phone (`PHONE`): one phone number receives at most `SmsCaps.codes_per_phone_hour` codes in any
  hour and `codes_per_phone_day` in any 24 hours, whichever registrations name it. The phone is
  stored only as a keyed hash. A capped phone is skipped silently: the parent sees the same 202 as
  for every other request, since a refusal would tell a stranger that this id exists and names a
  phone that someone is flooding (the code answer never tells whether an id exists).
- global (`GLOBAL`): at most `codes_per_hour` code SMS for the whole season in any hour, counted in
  one counter per minute (60 keys a window, so no single hot key) and checked as a sliding window.
  Past it the circuit is open: every code request, for any id, is answered 429 with the seconds
  until enough minutes have left the window, the refusal is logged and `SmsCapReached` (cap=global)
  raises the alarm (docs/RUNBOOK.md sms-circuit-open). A 429 here tells nothing about any id: it is
  checked before the id is looked up and is the same for all.

Admission notices (enrollment/notices/season.py, one SMS per placed child) are counted in the same
minute counters (`notices`, beside `codes`), so the hour's whole SMS spend is in one place, but no
cap ever stops one: a notice must reach the family. The circuit measures codes alone on purpose: a
notice day sends tens of thousands of notices within hours, and counting them would shut the very
parents out of signing in to read theirs.

Every write is conditional (a phone's record on its version; a minute's counter on its total), so
two requests racing cannot both pass a cap.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from enrollment.core.config import SmsCaps

REGISTRATION = "registration"  # parents.SENDS_PER_WINDOW: codes per registration id
CLIENT = "client"  # parents.CLIENT_CODE_REQUESTS: code requests per source IP
PHONE = "phone"
GLOBAL = "global"
CAPS = (REGISTRATION, CLIENT, PHONE, GLOBAL)  # the values of the metric's `cap` dimension
PHONE_HOUR = timedelta(hours=1)
PHONE_DAY = timedelta(days=1)
WINDOW = timedelta(hours=1)  # the global cap's sliding window
MINUTE = timedelta(minutes=1)
RACES = 5  # a phone's record lost to a concurrent write this many times: the send is skipped


class CircuitOpen(Exception):
    """The season's code SMS of the last hour reached `SmsCaps.codes_per_hour`: no code goes out."""

    def __init__(self, retry_after: int, sent: int) -> None:
        super().__init__(f"{sent} code SMS within the hour; retry after {retry_after} s")
        self.retry_after = retry_after
        self.sent = sent


@dataclass(frozen=True)
class PhoneSends:
    """The codes sent to one phone (by its keyed hash) within the last PHONE_DAY, oldest first."""

    phone_key: str
    sends: tuple[datetime, ...]
    version: int  # bumped by every write; writes are conditional on it


@dataclass(frozen=True)
class MinuteCount:
    """The SMS of one minute (UTC, its first second): codes and notices."""

    minute: datetime
    codes: int
    notices: int


class SmsCapStore(Protocol):
    def phone_sends(self, phone_key: str) -> PhoneSends | None: ...

    def put_phone_sends(self, record: PhoneSends, expected_version: int | None) -> bool:
        """Write the record if the stored one still has `expected_version` (None: there is none).
        False if someone else wrote first."""
        ...

    def minute_counts(self, minutes: Sequence[datetime]) -> dict[datetime, MinuteCount]:
        """The counters of these minutes (read consistently); minutes without a counter are absent."""
        ...

    def add_codes(self, minute: datetime, count: int, most: int) -> bool:
        """Add `count` codes to the minute's counter only if its codes stay at or below `most`."""
        ...

    def add_notices(self, minute: datetime, count: int) -> None:
        """Add `count` notices to the minute's counter (never refused)."""
        ...


def phone_key(secret: bytes, phone: str) -> str:
    """The phone number as the caps store it: a keyed hash (HMAC-SHA256), never the number."""
    return hmac.new(secret, f"enrollment-sms-cap/1|phone|{phone}".encode(), hashlib.sha256).hexdigest()


def minute_of(at: datetime) -> datetime:
    """The minute `at` falls in (UTC, seconds dropped): the key of its counter."""
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def window(now: datetime) -> list[datetime]:
    """The minutes of the hour ending with `now`'s, oldest first (60 of them)."""
    current = minute_of(now)
    count = int(WINDOW / MINUTE)
    return [current - MINUTE * (count - 1 - i) for i in range(count)]


def _seconds(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))


def circuit_wait(counts: Mapping[datetime, MinuteCount], limits: SmsCaps, now: datetime) -> int | None:
    """Seconds until the hour's codes fall below the cap (as the oldest minutes leave the window), or
    None if they are below it now."""
    minutes = window(now)
    total = sum(counts[m].codes for m in minutes if m in counts)
    if total < limits.codes_per_hour:
        return None
    for m in minutes:
        total -= counts[m].codes if m in counts else 0
        if total < limits.codes_per_hour:
            return _seconds(m + WINDOW - now)  # minute m leaves the window then
    raise AssertionError("unreachable: the window's last minute leaves it too")


def check_circuit(limits: SmsCaps, *, store: SmsCapStore, now: datetime) -> None:
    """CircuitOpen if the season's code SMS of the last hour reached the cap."""
    counts = store.minute_counts(window(now))
    wait = circuit_wait(counts, limits, now)
    if wait is not None:
        raise CircuitOpen(wait, sum(c.codes for c in counts.values()))


def reserve_global(limits: SmsCaps, *, store: SmsCapStore, now: datetime) -> bool:
    """Count one code SMS in the current minute if the hour stays within the cap; False if not.

    The minutes before this one are closed, so the current minute may take what they left of the
    cap: one conditional add, which no concurrent request can push past it."""
    minutes = window(now)
    counts = store.minute_counts(minutes[:-1])
    earlier = sum(c.codes for c in counts.values())
    most = limits.codes_per_hour - earlier
    return most >= 1 and store.add_codes(minutes[-1], 1, most)


def next_phone_sends(
    record: PhoneSends | None, key: str, limits: SmsCaps, now: datetime
) -> PhoneSends | None:
    """The phone's record after one more code at `now`, or None if a cap (hour or day) refuses it."""
    recent = tuple(t for t in (record.sends if record else ()) if now - t < PHONE_DAY)
    last_hour = [t for t in recent if now - t < PHONE_HOUR]
    if len(last_hour) >= limits.codes_per_phone_hour or len(recent) >= limits.codes_per_phone_day:
        return None
    return PhoneSends(key, (*recent, now), (record.version if record else 0) + 1)


def reserve_phone(limits: SmsCaps, key: str, *, store: SmsCapStore, now: datetime) -> bool:
    """Count one code to the phone if its caps allow it (retrying a lost race); False if they do not."""
    for _ in range(RACES):
        record = store.phone_sends(key)
        updated = next_phone_sends(record, key, limits, now)
        if updated is None:
            return False
        if store.put_phone_sends(updated, record.version if record else None):
            return True
    return False  # hammered by concurrent requests for the same phone: that alone is abuse


def record_notices(count: int, *, store: SmsCapStore, now: datetime) -> None:
    """Count admission notices sent in the hour's spend; nothing refuses them."""
    if count > 0:
        store.add_notices(minute_of(now), count)
