"""A workflow task's memory is measured over its whole lifetime (enrollment/local/calls.py).

The budget report sets the largest of these against each function's configured memory; an
invocation that ran beside others has an upper bound (theirs included), an API request no figure.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from enrollment.local import calls

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="peak RSS comes from /proc")


@pytest.fixture(autouse=True)
def counting() -> Iterator[None]:
    calls.start()
    try:
        yield
    finally:
        calls.stop()


def test_a_task_alone_is_measured_by_what_it_held_at_once() -> None:
    with calls.invocation("place") as record:
        held = [bytes(1024) for _ in range(60_000)]  # about 60 MB held at once (plus object headers)
        del held
    assert record is not None and not record.overlapped
    assert record.memory_mb is not None and 55 <= record.memory_mb < 200, record.memory_mb

    with calls.invocation("seal") as small:
        pass
    assert small is not None and small.memory_mb is not None and small.memory_mb < 20, small.memory_mb


def test_overlapping_invocations_each_keep_the_peak_of_their_whole_lifetime() -> None:
    started, release = threading.Event(), threading.Event()
    records: list[calls.Invocation | None] = []

    def iteration() -> None:
        with calls.invocation("place") as r:
            held = [bytes(1024) for _ in range(60_000)]  # ~60 MB, held before the other one starts
            started.set()
            release.wait(5)
            del held
        records.append(r)

    other = threading.Thread(target=iteration)
    other.start()
    started.wait(5)
    with calls.invocation("verify-batch") as mine:  # starts while the other holds its 60 MB: the
        pass  # reset of the peak for this one must not lose the other's
    release.set()
    other.join()
    (first,) = records
    assert first is not None and first.overlapped and first.memory_mb is not None
    assert first.memory_mb >= 55, first.memory_mb
    assert mine is not None and mine.overlapped and mine.memory_mb is not None and mine.memory_mb < 20


def test_api_requests_have_no_figure() -> None:
    with calls.invocation("register", trigger="api") as api:
        pass
    assert api is not None and api.memory_mb is None
