"""Counting the AWS calls a local season makes, by the Lambda invocation that made them.

The embedded backend says which function is running (`invocation`); every AWS call made meanwhile —
through botocore to moto, or to a faster local engine that stands in for a service — is counted under
that function by service and operation (`count`). The time-budget report and the cost model
(`benchmarks/`) read `CALLS` afterwards. Counting is off unless `start()` was called.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

OUTSIDE = "(outside any function)"  # calls made by the driver itself: the demo's people, its reports

_current: ContextVar[str] = ContextVar("invocation", default=OUTSIDE)
CALLS: Counter[tuple[str, str, str]] = Counter()  # (function, service, operation) -> calls
_on = False


def start() -> None:
    """Count from now on, from zero."""
    global _on
    CALLS.clear()
    _on = True


def stop() -> None:
    global _on
    _on = False


def count(service: str, operation: str, n: int = 1) -> None:
    """One call (or `n`) of `service`'s `operation` (AWS's names: "dynamodb", "PutItem")."""
    if _on:
        CALLS[(_current.get(), service, operation)] += n


@contextmanager
def invocation(function: str) -> Iterator[None]:
    """Calls made inside are `function`'s."""
    token = _current.set(function)
    try:
        yield
    finally:
        _current.reset(token)
