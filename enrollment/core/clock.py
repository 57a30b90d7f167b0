"""Time as the season sees it.

Handlers ask `now()`; in AWS that is the system clock. The embedded runtime installs a simulated
clock so a whole season's calendar runs in seconds (`use`). The domain never calls this: it is
given `now` as a plain value.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that only moves when told to (thread-safe: moto's engine runs in threads)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs an aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            if when < self._now:
                raise ValueError(f"time does not go back: {when} < {self._now}")
            self._now = when

    def advance_to(self, when: datetime) -> datetime:
        """Move to `when` unless the clock is already later (then it stays); the time it shows.
        A workflow's Wait state does this locally, while the driver may have moved the clock on."""
        with self._lock:
            self._now = max(self._now, when.astimezone(self._now.tzinfo))  # in the clock's own zone
            return self._now


_current: Clock = SystemClock()


def now() -> datetime:
    return _current.now()


@contextmanager
def use(clock: Clock) -> Iterator[Clock]:
    global _current
    previous, _current = _current, clock
    try:
        yield clock
    finally:
        _current = previous
