"""An in-memory `SmsCapStore` (the DynamoDB one's conditional writes, as plain dicts), for tests of the
SMS caps and the parents' codes without AWS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from enrollment.core.config import SmsCaps
from enrollment.core.sms_caps import MinuteCount, PhoneSends
from enrollment.people.parents import CodeCaps


@dataclass
class MemorySmsCaps:
    phones: dict[str, PhoneSends] = field(default_factory=dict)
    minutes: dict[datetime, MinuteCount] = field(default_factory=dict)
    lose_phone_writes: int = 0  # the next so many phone writes lose a race

    def phone_sends(self, phone_key: str) -> PhoneSends | None:
        return self.phones.get(phone_key)

    def put_phone_sends(self, record: PhoneSends, expected_version: int | None) -> bool:
        current = self.phones.get(record.phone_key)
        if self.lose_phone_writes or (current.version if current else None) != expected_version:
            self.lose_phone_writes = max(0, self.lose_phone_writes - 1)
            return False
        self.phones[record.phone_key] = record
        return True

    def minute_counts(self, minutes: Sequence[datetime]) -> dict[datetime, MinuteCount]:
        return {m: self.minutes[m] for m in minutes if m in self.minutes}

    def add_codes(self, minute: datetime, count: int, most: int) -> bool:
        now = self.minutes.get(minute, MinuteCount(minute, 0, 0))
        if now.codes + count > most:
            return False
        self.minutes[minute] = MinuteCount(minute, now.codes + count, now.notices)
        return True

    def add_notices(self, minute: datetime, count: int) -> None:
        now = self.minutes.get(minute, MinuteCount(minute, 0, 0))
        self.minutes[minute] = MinuteCount(minute, now.codes, now.notices + count)

    def codes(self) -> int:
        return sum(m.codes for m in self.minutes.values())


def caps(limits: SmsCaps | None = None, store: MemorySmsCaps | None = None) -> CodeCaps:
    """The caps with the season's defaults (or `limits`) over a memory store (or `store`)."""
    return CodeCaps(limits or SmsCaps(), store if store is not None else MemorySmsCaps())
