"""An invocation's memory is measured when it runs alone, and only then (enrollment/local/calls.py).

The budget report sets the largest of these against each function's configured memory; a Map
iteration that ran beside another, or an API request, has no figure of its own.
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


def test_invocations_that_overlap_and_api_requests_have_no_figure() -> None:
    started, release = threading.Event(), threading.Event()
    records: list[calls.Invocation | None] = []

    def iteration() -> None:
        with calls.invocation("verify-batch") as r:
            started.set()
            release.wait(5)
        records.append(r)

    other = threading.Thread(target=iteration)
    other.start()
    started.wait(5)
    with calls.invocation("verify-batch") as mine:
        pass
    release.set()
    other.join()
    assert mine is not None and mine.overlapped and mine.memory_mb is None
    assert records[0] is not None and records[0].overlapped and records[0].memory_mb is None

    with calls.invocation("register", trigger="api") as api:
        pass
    assert api is not None and api.memory_mb is None
