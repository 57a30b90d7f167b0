"""Fault injection for the embedded backend: a season that must survive its own failures.

`Faults(seed).injected()` makes, while it is active,

- every workflow task fail once: the first invocation of each task (a function with a given input;
  the task token and execution id aside) fails, at random, either before the handler runs with one of
  Lambda's service errors, or after the handler has done all its work, as a Lambda timeout
  (`Sandbox.Timedout`: the work is done but the workflow never hears of it, the hardest case for a
  retry). A task waiting for its token fails only before its handler, as Lambda would if it never ran;
- every DynamoDB, S3 and KMS operation a task handler calls be throttled once: for each operation
  (`dynamodb.PutItem`, `s3.PutObject`, ...) the seeded RNG picks which of its first `horizon` calls
  gets AWS's throttling error, raised by a botocore `before-call` hook (on every client made while
  the faults are active) as boto3 would raise it once its own retries are spent. Only calls made by a task handler the workflow invoked are throttled:
  people's requests through the API and the schedules' calls are left alone.

The ASL's Retry must absorb all of it: the season's archive comes out byte for byte as without faults.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import botocore.session
from botocore.exceptions import ClientError

from enrollment.local.runtime import EmbeddedSeason

LAMBDA_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
TIMEOUT = "Sandbox.Timedout"
THROTTLE_CODES = {
    "dynamodb": ("ProvisionedThroughputExceededException", "ThrottlingException"),
    "s3": ("SlowDown",),
    "kms": ("ThrottlingException",),
}
# invoked by the schedules (EventBridge Scheduler) or by a deploy (the deadline schedules' custom
# resource, infra/schedules.py), not by the workflow
NOT_TASKS = ("-gate-advance", "-deadlines")
_IGNORED = ("task_token", "execution_id")  # new on every attempt of a task


@dataclass
class Faults:
    seed: int
    horizon: int = 20  # an operation is throttled at one of its first `horizon` calls
    failed: Counter[str] = field(default_factory=Counter)  # injected task failures by error
    throttled: list[tuple[str, int]] = field(default_factory=list)  # (operation, call index)
    invoked: Counter[str] = field(default_factory=Counter)  # invocations by function name
    _tasks: set[str] = field(default_factory=set)
    _calls: Counter[str] = field(default_factory=Counter)
    _local: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _rng(self, *key: object) -> random.Random:
        return random.Random(f"{self.seed}|{'|'.join(map(str, key))}")

    # Lambda ----------------------------------------------------------------------------------

    def _first_attempt(self, function_name: str, event: Any) -> bool:
        payload = json.loads(event) if isinstance(event, str | bytes) else dict(event or {})
        task = json.dumps(
            [function_name, {k: v for k, v in payload.items() if k not in _IGNORED}], sort_keys=True
        )
        with self._lock:
            if task in self._tasks:
                return False
            self._tasks.add(task)
            return True

    def invoke(
        self, runtime: EmbeddedSeason, function_name: str, handler: str, event: Any
    ) -> tuple[str, bool, str]:
        """EmbeddedSeason._invoke, with this task's first attempt failing."""
        with self._lock:
            self.invoked[function_name] += 1
        if function_name.endswith(NOT_TASKS):
            return _INVOKE(runtime, function_name, handler, event)
        fail = self._first_attempt(function_name, event)
        waits = "task_token" in (json.loads(event) if isinstance(event, str | bytes) else (event or {}))
        rng = self._rng(function_name, json.dumps(event, sort_keys=True, default=str))
        after = fail and not waits and rng.random() < 0.5
        error = TIMEOUT if after else rng.choice(LAMBDA_ERRORS)
        if fail and not after:
            with self._lock:
                self.failed[error] += 1
            return (
                json.dumps({"errorType": error, "errorMessage": "injected before the handler ran"}),
                True,
                "",
            )
        self._local.in_task = True
        try:
            out = _INVOKE(runtime, function_name, handler, event)
        finally:
            self._local.in_task = False
        if after:
            with self._lock:
                self.failed[error] += 1
            message = "Task timed out after the handler finished (injected)"
            return json.dumps({"errorType": error, "errorMessage": message}), True, ""
        return out

    # AWS calls -------------------------------------------------------------------------------

    def before_call(self, event_name: str, **kwargs: Any) -> None:
        if not getattr(self._local, "in_task", False):
            return
        _, service, operation = event_name.split(".", 2)
        if service not in THROTTLE_CODES:
            return
        op = f"{service}.{operation}"
        with self._lock:
            index = self._calls[op]
            self._calls[op] += 1
        rng = self._rng(op)
        if index != rng.randrange(self.horizon):
            return
        with self._lock:
            self.throttled.append((op, index))
        code = rng.choice(THROTTLE_CODES[service])
        answer: Any = {
            "Error": {"Code": code, "Message": "Rate exceeded (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        raise ClientError(answer, operation)

    @contextmanager
    def injected(self) -> Iterator[Faults]:
        """Faults in every EmbeddedSeason made while this is active: its task invocations, and the
        botocore clients made meanwhile, which get the throttling hook as they are made."""
        faults = self
        create_client = botocore.session.Session.create_client

        def invoke(
            runtime: EmbeddedSeason, function_name: str, handler: str, event: Any
        ) -> tuple[str, bool, str]:
            return faults.invoke(runtime, function_name, handler, event)

        def hooked(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
            client = create_client(session, *args, **kwargs)
            client.meta.events.register("before-call", faults.before_call)
            return client

        with (
            mock.patch.object(EmbeddedSeason, "_invoke", invoke),
            mock.patch.object(botocore.session.Session, "create_client", hooked),
        ):
            yield self


_INVOKE = EmbeddedSeason._invoke
