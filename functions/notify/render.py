"""Who draws a notices batch's PDFs (`notices.season.issue`'s `render_many`): this process, or a pool.

In AWS the `notify-batch` Lambda draws in-process (`notice.render_each`): at its 512 MB it has about
0.3 of a vCPU (Lambda gives a full vCPU at 1,769 MB, a second one from 3,538 MB), so a second process
would only share that slice; and Lambda has no /dev/shm, which `multiprocessing`'s queues and locks
need, so a `ProcessPoolExecutor` cannot start there anyway. More CPU for notices in AWS comes from
the Map's concurrency, one batch per invocation.

The embedded backend runs every handler in one process, on a machine whose other cores are idle
while notices are drawn: there the batch's notices are drawn by a pool of processes (as many as
the process may use, at most `MAX_PROCESSES`), made once per process and shared by every batch (the
workflow's Map runs batches in threads), while the batch's thread stores each file and sends each
SMS in order as it comes back. Each worker parses the fonts once, like a Lambda's cold start. The
files are the same bytes either way (`render_pdf` is deterministic; tests/unit/test_notice_speed_parity.py).
The workers' CPU is not the invocation thread's: `cpu_listener` is told it notice by notice, for a
time budget that prices notify-batch as Lambda runs it (in-process).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from enrollment.notices.notice import Notice, RenderMany, Unrenderable, render_each, render_pdf

MAX_PROCESSES = 2
_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
# Told, in the batch's thread, the CPU seconds a worker spent drawing each notice: the CPU a Lambda,
# which draws in-process, would spend. None: nobody listens. The embedded backend's time budget
# (which measures an invocation's own thread) can add it to the notify-batch invocation's CPU.
cpu_listener: Callable[[float], None] | None = None


def processes() -> int:
    """How many processes draw notices here: 1 (this one) in Lambda, else the CPUs this process may
    use, at most MAX_PROCESSES."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # set by Lambda's runtime, never by the embedded backend
        return 1
    return max(1, min(MAX_PROCESSES, len(os.sched_getaffinity(0))))


def renderer() -> RenderMany:
    """`render_many` for `notices.season.issue`: a process pool's where there are idle cores to use."""
    return render_pooled if processes() > 1 else render_each


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn, not fork: the embedded backend's process runs threads (moto, the workflow's
            # Map), and a forked child could inherit a lock one of them held
            _pool = ProcessPoolExecutor(processes(), mp_context=multiprocessing.get_context("spawn"))
        return _pool


def render_pooled(batch: Sequence[Notice]) -> Iterator[bytes | Unrenderable]:
    """Every notice of the batch handed to the pool at once; the files given back in the batch's
    order, each as soon as it and those before it are drawn. Notices not yet drawn when the caller
    stops (an error storing one) are cancelled."""
    pool = _executor()
    futures: list[Future[tuple[bytes | Unrenderable, float]]] = []
    try:
        futures.extend(pool.submit(_draw, notice) for notice in batch)  # refused if broken
        for future in futures:
            body, cpu = future.result()
            listener = cpu_listener
            if listener is not None:
                listener(cpu)
            yield body
    except BrokenProcessPool:
        _discard(pool)  # a worker died (killed, out of memory): the batch fails, its retry gets a new pool
        raise
    finally:
        for future in futures:
            future.cancel()


def _draw(notice: Notice) -> tuple[bytes | Unrenderable, float]:
    """In a worker: the notice's file (or its Unrenderable) and the CPU seconds it took."""
    start = time.process_time()
    try:
        body: bytes | Unrenderable = render_pdf(notice)
    except Unrenderable as e:
        body = e
    return body, time.process_time() - start


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)
