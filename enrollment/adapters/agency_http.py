"""An agency reached over its API (docs/agency-api.yaml): the HTTP adapter behind the agency port.

Nothing an agency sends is recorded unless it is a well-formed answer to a check we asked: a body
that is not JSON, not the contract's shape, for another request id or naming checks we did not ask
fails the whole call (retried, then AgencyUnavailable); an answer that leaves checks out answers the
ones it gives, and the rest stay open to be asked again. A call that errs or times out is tried
again with exponential backoff and full jitter under the same request id, so the agency answers a
retry from what it already decided. After `circuit_failures` failed calls in a row the circuit opens:
calls fail at once (AgencyUnavailable) for `circuit_cooldown_s`, then one call tries the agency
(half-open) and closes the circuit if it answers.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import urllib3
from pydantic import ValidationError

from enrollment.core.config import AgencyEndpoint
from enrollment.verification.agency_api import (
    MAX_CHECKS,
    PATH,
    BatchAnswer,
    BatchRequest,
    CheckAnswer,
    CheckRequest,
    signed_headers,
    utcnow,
)
from enrollment.verification.checks import AgencyUnavailable, Answer, answer_of


@dataclass(frozen=True)
class AgencyKey:
    """The HMAC key our requests are signed with, and the id the agency knows it by."""

    key_id: str
    key: bytes


def key_from_secret(arn: str, client: Any = None) -> AgencyKey:
    """The key from Secrets Manager: a JSON secret {"key_id": ..., "key": ...} (the key as text)."""
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    raw = client.get_secret_value(SecretId=arn)["SecretString"]
    try:
        data = json.loads(raw)
        key_id, key = str(data["key_id"]), str(data["key"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{arn}: the secret must be JSON with key_id and key") from e
    if not key_id or len(key) < 32:
        raise ValueError(f"{arn}: key_id is empty or the key is shorter than 32 characters")
    return AgencyKey(key_id, key.encode())


class Circuit:
    """Consecutive failures open it; after the cool-down one call is let through (half-open)."""

    def __init__(self, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> Literal["closed", "open", "half-open"]:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.cooldown_s else "open"

    def allow(self) -> bool:
        with self._lock:
            if self.state != "half-open":
                return self.state == "closed"
            self.opened_at = self.clock()  # one trial at a time: the next waits another cool-down
            return True

    def succeeded(self) -> None:
        with self._lock:
            self.failures, self.opened_at = 0, None

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = self.clock()


def _subject(c: CheckRequest) -> tuple[str | None, ...]:
    """What a check asks about, whichever registration asks it (siblings share a deed and their
    guardians; two families naming the same deed ask about different people)."""
    owners = ",".join(sorted(c.owner_id_numbers)) if c.owner_id_numbers else None
    return (c.kind, c.id_type, c.id_number, c.deed_number, owners)


def _request(check_id: str, subject: tuple[str | None, ...]) -> CheckRequest:
    kind, id_type, id_number, deed_number, owners = subject
    return CheckRequest.model_validate(
        {
            "check_id": check_id,
            "kind": kind,
            "id_type": id_type,
            "id_number": id_number,
            "deed_number": deed_number,
            "owner_id_numbers": owners.split(",") if owners else None,
        }
    )


def _ownership_answered(a: CheckAnswer) -> bool:
    """A found deed asked about its owners must say whether they own it (R-VER-1): `owner_match` a
    boolean and `owners_matched` a count. An answer without them is malformed, not a pass."""
    if a.reason != "found":
        return True
    matched = a.facts.get("owners_matched")
    return isinstance(a.facts.get("owner_match"), bool) and type(matched) is int and matched >= 0


class _Failed(Exception):
    """One attempt failed (transport, status or malformed answer); the message says which."""


class HttpAgency:
    """One agency's API. `ask` is the batched call; `lookup`, `deed` and `planned_use` are the port."""

    def __init__(
        self,
        agency: Literal["public-security", "housing", "planning"],
        endpoint: AgencyEndpoint,
        key: AgencyKey,
        *,
        pool: urllib3.PoolManager | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float], float] = lambda cap: random.uniform(0, cap),
        now: Callable[[], datetime] = utcnow,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.agency = agency
        self.endpoint = endpoint
        self.key = key
        self.url = endpoint.base_url.rstrip("/") + PATH
        self.path = urllib3.util.parse_url(self.url).path or PATH
        self.pool = pool or urllib3.PoolManager(retries=False)
        self.sleep = sleep
        self.jitter = jitter
        self.now = now
        self.circuit = Circuit(endpoint.circuit_failures, endpoint.circuit_cooldown_s, clock)
        # one batch's answers, per thread: a warm function runs one batch at a time, the embedded
        # runtime runs a Map's batches in threads sharing the adapter
        self._local = threading.local()

    @property
    def _prefetched(self) -> dict[tuple[str | None, ...], Answer]:
        known: dict[tuple[str | None, ...], Answer] | None = getattr(self._local, "prefetched", None)
        if known is None:
            known = self._local.prefetched = {}
        return known

    def prefetch(self, checks: Sequence[CheckRequest]) -> int:
        """Ask about many checks in few calls (up to MAX_CHECKS each); the port's single calls then
        take their answers from these. A check left out is asked on its own later. Returns how many
        were answered; raises AgencyUnavailable as `ask` does. Answers are kept for one batch only: a
        warm function's next batch asks afresh."""
        self._prefetched.clear()
        subjects = list(dict.fromkeys(_subject(c) for c in checks))
        answered = 0
        for start in range(0, len(subjects), MAX_CHECKS):
            part = [_request(f"c{start + i}", s) for i, s in enumerate(subjects[start : start + MAX_CHECKS])]
            answers = self.ask(part)
            for c in part:
                if c.check_id in answers:
                    self._prefetched[_subject(c)] = answers[c.check_id]
                    answered += 1
        return answered

    def ask(self, checks: Sequence[CheckRequest], request_id: str | None = None) -> dict[str, Answer]:
        """The answers the agency gave, by check id (a check left out stays open). Raises
        AgencyUnavailable when no attempt got a well-formed answer or the circuit is open."""
        request = BatchRequest(
            request_id=request_id or uuid.uuid4().hex,
            agency=self.agency,
            sent_at=self.now(),
            checks=list(checks),
        )
        body = request.model_dump_json().encode()
        asked = {c.check_id for c in checks}
        ownership = {c.check_id for c in checks if c.owner_id_numbers}
        problem = "circuit open"
        for attempt in range(self.endpoint.attempts):
            if attempt:
                self.sleep(self.jitter(self.endpoint.backoff_s * 2 ** (attempt - 1)))
            if not self.circuit.allow():
                break
            try:
                answer = self._call(body, request.request_id, asked, ownership)
            except _Failed as e:
                self.circuit.failed()
                problem = str(e)
                continue
            self.circuit.succeeded()
            return {a.check_id: answer_of(a) for a in answer.answers}
        raise AgencyUnavailable(f"{self.agency}: {problem}")

    def _call(
        self, body: bytes, request_id: str, asked: set[str], ownership: Collection[str] = ()
    ) -> BatchAnswer:
        headers = signed_headers(self.key.key_id, self.key.key, "POST", self.path, body, self.now())
        timeout = urllib3.Timeout(total=self.endpoint.timeout_s)
        try:
            r = self.pool.request(
                "POST", self.url, body=body, headers=headers, timeout=timeout, retries=False
            )
        except urllib3.exceptions.HTTPError as e:
            raise _Failed(f"no answer ({type(e).__name__})") from e
        if r.status != 200:
            raise _Failed(f"HTTP {r.status}")
        try:
            answer = BatchAnswer.model_validate_json(r.data)
        except ValidationError as e:
            raise _Failed(f"malformed answer ({e.error_count()} problems)") from e
        if answer.request_id != request_id:
            raise _Failed("answer for another request id")
        ids = [a.check_id for a in answer.answers]
        if len(set(ids)) != len(ids) or not set(ids) <= asked:
            raise _Failed("answer names checks twice or checks not asked")
        if any(a.check_id in ownership and not _ownership_answered(a) for a in answer.answers):
            raise _Failed("malformed answer (a deed's ownership not answered)")
        return answer

    # The port (enrollment.verification.checks): one check per call --------------------------------

    def _one(self, check: CheckRequest) -> Answer:
        if (known := self._prefetched.pop(_subject(check), None)) is not None:
            return known
        answers = self.ask([check])
        if check.check_id not in answers:
            raise AgencyUnavailable(f"{self.agency}: the check was not answered yet")
        return answers[check.check_id]

    def lookup(self, id_type: str, id_number: str) -> Answer:
        check = {"check_id": "c1", "kind": "hukou", "id_type": id_type, "id_number": id_number}
        return self._one(CheckRequest.model_validate(check))

    def deed(self, deed_number: str, owner_id_numbers: Sequence[str] = ()) -> Answer:
        owners = list(owner_id_numbers) or None
        return self._one(
            CheckRequest(check_id="c1", kind="deed", deed_number=deed_number, owner_id_numbers=owners)
        )

    def planned_use(self, deed_number: str) -> Answer:
        return self._one(CheckRequest(check_id="c1", kind="planned-use", deed_number=deed_number))
