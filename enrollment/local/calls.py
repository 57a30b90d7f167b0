"""Counting the AWS calls a local season makes, by the Lambda invocation that made them.

The embedded backend says which function is running (`invocation`); every AWS call made meanwhile —
through botocore to moto, or to a faster local engine that stands in for a service — is counted under
that function by service and operation (`count`). The time-budget report and the cost model
(`enrollment/local/budget.py`, `benchmarks/`) read `CALLS`, `CAPACITY`, `INVOCATIONS` and
`HISTORY` afterwards. Counting is off unless `start()` was called.

Who a call belongs to:
- inside `invocation(f)`: function `f` (a task the state machine invoked, a schedule's target, or an
  API Gateway request's handler or authorizer, see `EmbeddedSeason`);
- outside any invocation on a thread other than the main one: `ENGINE`, moto's Step Functions
  engine (its Lambda `Invoke` of a task, a Distributed Map's `ItemReader` reading S3). In AWS these
  are Step Functions' own requests: priced as state transitions and Lambda requests, not as a
  function's calls, and they take no time from any function's budget;
- otherwise `OUTSIDE`: the driver itself (the demo's people, its polling and its reports).

Each invocation, while counting, is also measured (`Invocation`): its thread's CPU time, less the CPU
the local stand-ins spent serving its calls (`serving()`: moto's or the SQLite engine's request
handling, which is AWS's work, not the function's) and less nested invocations, plus the CPU other
processes spent on its work (`worker_cpu`: notify-batch's render workers; Lambda draws in-process);
its wall time; and its calls. A workflow task or schedule target also has its memory measured
(`memory_mb`): the growth of the process's peak RSS over its lifetime above the RSS at its start,
after freed heap was handed back to the system (`malloc_trim`) and the peak reset
(`/proc/self/clear_refs`). Each such start resets the process's peak, so the peak reached so far is
first folded into every invocation still running; an invocation's peak is the largest of its
readings. It counts what the function held at once, the local engine's buffers in serving its calls
(a Lambda's SDK holds those too) and, when other invocations ran beside it (`overlapped`), theirs
too: an upper bound then. Linux only; elsewhere `memory_mb` stays None.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

OUTSIDE = "(outside any function)"  # calls made by the driver itself: the demo's people, its reports
ENGINE = "(step functions)"  # moto's Step Functions engine: Lambda Invoke of tasks, ItemReader reads


@dataclass(eq=False)  # each one is itself: `_active.remove` must find this one, not an equal one
class Invocation:
    """One Lambda invocation, as measured locally."""

    function: str  # the function's key in enrollment.core.resources.FUNCTIONS
    trigger: str = "invoke"  # "invoke" (workflow task or schedule), "api" (API Gateway), "authorizer"
    cpu_s: float = 0.0  # the function's own CPU: its thread's less `excluded_cpu_s`, plus `worker_cpu_s`
    wall_s: float = 0.0  # local wall time, moto's work and waits included (not a model of AWS)
    excluded_cpu_s: float = 0.0  # CPU spent serving its calls (moto) or in nested invocations
    worker_cpu_s: float = 0.0  # CPU other processes spent on its work (notify-batch's PDF workers)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (service, operation) -> calls
    received_bytes: int = 0  # the bodies of the answers to its calls: what it read from AWS
    ok: bool = True
    memory_mb: float | None = None  # peak RSS growth while it ran (workflow tasks, schedules), else None
    # invoked from inside another function's invocation (an `Event` invoke moto runs in-process: a late
    # registration's checks asked of verify-batch by the place API), so never measured alone
    nested: bool = False
    overlapped: bool = False  # another invocation ran at the same time: memory_mb is an upper bound
    _base_kib: int | None = field(default=None, repr=False)  # RSS at its start, after the trim
    _peak_kib: int = field(default=0, repr=False)  # the largest peak RSS read while it ran


_current: ContextVar[str] = ContextVar("invocation", default=OUTSIDE)
_record: ContextVar[Invocation | None] = ContextVar("invocation_record", default=None)
_people: ContextVar[bool] = ContextVar("people", default=False)  # the driver's people, on any thread
CALLS: Counter[tuple[str, str, str]] = Counter()  # (function, service, operation) -> calls
# (function, "read" | "write") -> DynamoDB request units, as on-demand billing counts them (budget.py)
CAPACITY: defaultdict[tuple[str, str], float] = defaultdict(float)
INVOCATIONS: list[Invocation] = []
HISTORY: Counter[str] = Counter()  # Step Functions execution history: event type -> events
_lock = threading.Lock()
_on = False
_active: list[Invocation] = []  # invocations running now, on any thread


def _status_kib(field_name: str) -> int | None:
    """A `/proc/self/status` figure in KiB (`VmRSS`, `VmHWM`), or None where there is none."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _fold_peak() -> None:
    """The process's peak RSS since the last reset, into every running invocation's own (under _lock)."""
    measured = [r for r in _active if r._base_kib is not None]
    peak = _status_kib("VmHWM") if measured else None
    for r in measured:
        r._peak_kib = max(r._peak_kib, peak or 0)


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL("libc.so.6")
    return _LIBC


_LIBC: ctypes.CDLL | None = None


def _fresh_peak() -> int | None:
    """Hand freed heap back to the system and reset the peak RSS to the RSS now; that RSS, in KiB."""
    try:
        _libc().malloc_trim(0)
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")  # reset the peak RSS (VmHWM) to the current RSS (proc(5))
    except (OSError, AttributeError):
        return None
    return _status_kib("VmRSS")


def start() -> None:
    """Count from now on, from zero."""
    global _on
    with _lock:
        CALLS.clear()
        CAPACITY.clear()
        INVOCATIONS.clear()
        HISTORY.clear()
    _on = True


def stop() -> None:
    global _on
    _on = False


def counting() -> bool:
    return _on


def _owner() -> str:
    function = _current.get()
    if (
        function == OUTSIDE
        and not _people.get()
        and threading.current_thread() is not threading.main_thread()
    ):
        return ENGINE
    return function


@contextmanager
def people() -> Iterator[None]:
    """Calls made inside are the driver's people's (OUTSIDE), even on one of the engine's threads: a
    files agency's clerk answering while a Wait state waits (enrollment/local/fake_agency_files.py)."""
    token = _people.set(True)
    try:
        yield
    finally:
        _people.reset(token)


def count(service: str, operation: str, n: int = 1) -> None:
    """One call (or `n`) of `service`'s `operation` (AWS's names: "dynamodb", "PutItem")."""
    if not _on:
        return
    owner = _owner()
    with _lock:
        CALLS[(owner, service, operation)] += n
    record = _record.get()
    if record is not None:
        record.calls[(service, operation)] += n


def capacity(kind: str, units: float) -> None:
    """DynamoDB request units the current call consumed: `kind` "read" or "write"."""
    if _on:
        owner = _owner()
        with _lock:
            CAPACITY[(owner, kind)] += units


def received(size: int) -> None:
    """The current call's answer was `size` bytes."""
    record = _record.get()
    if _on and record is not None:
        record.received_bytes += size


@contextmanager
def serving() -> Iterator[None]:
    """A local stand-in serving a call (moto, a local engine): its CPU is AWS's, not the function's."""
    record = _record.get()
    if not _on or record is None:
        yield
        return
    cpu = time.thread_time()
    try:
        yield
    finally:
        record.excluded_cpu_s += time.thread_time() - cpu


def worker_cpu(seconds: float) -> None:
    """Another process spent `seconds` of CPU on the current invocation's work (a render worker's
    notice, `functions.notify.render.cpu_listener`): its function's own CPU, as Lambda runs it
    in-process."""
    record = _record.get()
    if _on and record is not None:
        record.worker_cpu_s += seconds


@contextmanager
def invocation(function: str, trigger: str = "invoke") -> Iterator[Invocation | None]:
    """Calls made inside are `function`'s; while counting, the invocation is measured and recorded."""
    token = _current.set(function)
    if not _on:
        try:
            yield None
        finally:
            _current.reset(token)
        return
    outer = _record.get()
    record = Invocation(function, trigger)
    record_token = _record.set(record)
    with _lock:
        for other in _active:
            other.overlapped = True
        record.nested = outer is not None
        record.overlapped = bool(_active) or record.nested
        if trigger == "invoke":
            _fold_peak()  # the peak so far is theirs before it is reset for this one
            record._base_kib = _fresh_peak()
            record._peak_kib = record._base_kib or 0
        _active.append(record)
    cpu, wall = time.thread_time(), time.perf_counter()
    try:
        yield record
    finally:
        spent = time.thread_time() - cpu
        record.wall_s = time.perf_counter() - wall
        record.cpu_s = max(0.0, spent - record.excluded_cpu_s) + record.worker_cpu_s
        _record.reset(record_token)
        _current.reset(token)
        if outer is not None:  # the outer function waited for this one: not its own CPU
            outer.excluded_cpu_s += spent
        with _lock:
            _fold_peak()
            _active.remove(record)
            if record._base_kib is not None:
                record.memory_mb = max(0, record._peak_kib - record._base_kib) / 1024
            INVOCATIONS.append(record)
