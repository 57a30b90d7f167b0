"""A fake agency on loopback: the agency API (docs/agency-api.yaml) answered from the local registries.

It does what a real agency's endpoint must: refuses a request whose HMAC signature is missing, wrong
or stale (401), refuses one that breaks the contract (400), answers the same request id with the
same bytes and refuses it with another body (409). And it can be told to misbehave, so the adapter's
handling of each fault is tested against a real socket:

- `slow`: answers after `delay_s` (within the caller's timeout);
- `5xx`: answers 503;
- `timeout`: answers only after `delay_s`, beyond the caller's timeout;
- `malformed`: answers 200 with a body that is not the contract's (a check without its reason);
- `partial`: answers only every other check (the rest are left out, to be asked again);
- `down`: drops the connection without answering.

`fail(mode, times)` misbehaves for the next `times` requests (None: until `fail(None)`).
`down_until(when)` drops every request while the agency's clock (`clock`: the embedded runtime's
simulated clock there, real time by default) is before `when`: an outage of a simulated day, which
the workflow waits out in simulated time. The answers' `answered_at` is that clock's time too;
signatures are checked against real time, as the adapter signs them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from enrollment.verification.agency_api import (
    PATH,
    BatchAnswer,
    BatchRequest,
    CheckAnswer,
    CheckRequest,
    signature_problem,
    utcnow,
)
from enrollment.verification.checks import Answer

Fault = Literal["slow", "5xx", "timeout", "malformed", "partial", "down"]
SOURCES = {"hukou": "public-security:hukou-register", "deed": "housing:deed-register"}


class Registers(Protocol):
    """What the fake answers from: the local registries (LocalRegistries) or a test's stand-in."""

    def lookup(self, id_type: str, id_number: str) -> Answer: ...

    def deed(self, deed_number: str, owner_id_numbers: Sequence[str] = ()) -> Answer: ...

    def planned_use(self, deed_number: str) -> Answer: ...


class FakeAgency:
    """Serves the agency API on 127.0.0.1 (a free port) from a thread; `with FakeAgency(...) as f:`."""

    def __init__(
        self,
        registries: Registers,
        keys: dict[str, bytes],
        delay_s: float = 0.2,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.registries = registries
        self.keys = keys
        self.delay_s = delay_s
        self.clock = clock
        self.fault: Fault | None = None
        self.fault_left: int | None = None
        self.down_till: datetime | None = None
        self.dropped = 0  # requests dropped by `down_until`
        self.calls = 0  # every request that reached the server, faults and refusals included
        self.requests: Counter[str] = Counter()  # request id -> calls that reached the handler
        self.answered: dict[str, tuple[bytes, bytes]] = {}  # request id -> (body, answer)
        self.refused: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeAgency:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeAgency:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(self, fault: Fault | None, times: int | None = None) -> None:
        with self._lock:
            self.fault, self.fault_left = fault, times

    def down_until(self, when: datetime | None) -> None:
        """Drop every request while `clock()` is before `when` (None: up again)."""
        with self._lock:
            self.down_till = when

    def _is_down(self) -> bool:
        with self._lock:
            till = self.down_till
        down = till is not None and self.clock() < till
        if down:
            with self._lock:
                self.dropped += 1
        return down

    def _take_fault(self) -> Fault | None:
        with self._lock:
            fault = self.fault
            if fault is not None and self.fault_left is not None:
                self.fault_left -= 1
                if self.fault_left <= 0:
                    self.fault, self.fault_left = None, None
            return fault

    def answer(self, request: BatchRequest, now: datetime) -> BatchAnswer:
        """What the registries say about each check."""
        answers = []
        for c in request.checks:
            a = self._lookup(c)
            source = SOURCES.get(c.kind, "planning:planned-use-register")
            reason = "found" if a.reason == "found" else "no-record"
            answers.append(
                CheckAnswer(check_id=c.check_id, reason=reason, source=source, answered_at=now, facts=a.facts)
            )
        return BatchAnswer(request_id=request.request_id, answers=answers)

    def _lookup(self, c: CheckRequest) -> Answer:
        if c.kind == "hukou":
            return self.registries.lookup(str(c.id_type), str(c.id_number))
        if c.kind == "deed":
            return self.registries.deed(str(c.deed_number), c.owner_id_numbers or ())
        return self.registries.planned_use(str(c.deed_number))

    def handle(self, headers: Any, path: str, body: bytes) -> tuple[int, bytes]:
        """The endpoint proper (no faults): signature, contract, idempotency, answer."""
        if path != PATH:
            return self._refuse(404, "not-found", "no such path")
        problem = signature_problem(self.keys, headers, "POST", path, body, utcnow())
        if problem:
            return self._refuse(401, "signature", problem)
        try:
            request = BatchRequest.model_validate_json(body)
        except ValidationError as e:
            return self._refuse(400, "invalid", f"{e.error_count()} problems: {e.errors()[0]['msg']}")
        with self._lock:
            self.requests[request.request_id] += 1
            before = self.answered.get(request.request_id)
        if before is not None:
            if before[0] != body:
                return self._refuse(409, "request-id-reused", "request_id was used for another request")
            return 200, before[1]
        answer = self.answer(request, self.clock()).model_dump_json().encode()
        with self._lock:
            self.answered.setdefault(request.request_id, (body, answer))
            return 200, self.answered[request.request_id][1]

    def _refuse(self, status: int, code: str, message: str) -> tuple[int, bytes]:
        with self._lock:
            self.refused.append((status, code))
        return status, json.dumps({"code": code, "message": message}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._lock:
                    fake.calls += 1
                fault = "down" if fake._is_down() else fake._take_fault()
                if fault == "down":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault in ("slow", "timeout"):
                    time.sleep(fake.delay_s)
                if fault == "5xx":
                    status, data = 503, b'{"code": "unavailable", "message": "try later"}'
                else:
                    status, data = fake.handle(self.headers, self.path, body)
                if status == 200 and fault == "malformed":
                    doc = json.loads(data)
                    for a in doc["answers"]:
                        a.pop("reason")
                    data = json.dumps(doc).encode()
                elif status == 200 and fault == "partial":
                    doc = json.loads(data)
                    doc["answers"] = doc["answers"][::2]
                    data = json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up waiting (timeout)

        return Handler
