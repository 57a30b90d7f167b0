"""Small interfaces the domain services depend on; adapters/ implements them for AWS (and moto)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from enrollment.core.sms_templates import SmsMessage


class Refused(Exception):
    """A request refused, with a reason to show: `status` is the HTTP status, messages are zh-CN and
    English. Each room refuses with its own kind (`StaffError`, `GateError`), never this one."""

    status = 400

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


class DuplicateChild(Exception):
    """R-REG-2: this child is already registered this season."""

    def __init__(self, registration_id: str) -> None:
        super().__init__("child already registered")
        self.registration_id = registration_id


class NotFound(Exception):
    pass


class Conflict(Exception):
    """A conditional write lost: someone else changed the item first."""


class StoreUnavailable(Exception):
    """Throttled or unreachable: safe to retry (the ASL retries on this name)."""


class TaskTokenGone(Exception):
    """The workflow no longer waits on this token (already resumed, or timed out)."""


class ChildKeyer(Protocol):
    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        """A keyed hash of a child's ID number: the same child gives the same key, nobody can invert it."""
        ...


class Seeds(Protocol):
    def new_seed(self, purpose: str) -> str:
        """A seed for a draw nobody announced one for (32 hex digits). In AWS a fresh one from the
        CSPRNG every time; the local season derives it from its own seed and `purpose` (what it is
        for, e.g. `tie-break/2023`), so a local season can be replayed."""
        ...


@dataclass(frozen=True)
class SeasonState:
    """What staff have changed during the season: advanced gates and extended windows."""

    advanced_gates: frozenset[str]
    extended_to: dict[int, date]  # grade → the window's last day, as extended


class Registrations(Protocol):
    """The season's registrations, read."""

    def get_registration(self, registration_id: str) -> dict[str, Any]: ...

    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Many at once, by id (batched reads); ids not found are absent."""
        ...

    def registrations(self, season: str) -> Iterator[dict[str, Any]]:
        """The season's registrations but those their families withdrew (issue 19): what every
        phase after registration works on. A withdrawn one is still read by id."""
        ...


class Store(Registrations, Protocol):
    """Registrations and the season's control records (gates, window extensions, demand at close).

    Records go in and come out as plain dicts: the store adds and removes its own keys.
    """

    @property
    def shards(self) -> int:
        """How many shards the season's registrations are listed in: the workflow's season-wide
        reads run as a Map with one iteration per shard."""
        ...

    def registrations_in_shard(self, season: str, shard: int) -> Iterator[dict[str, Any]]:
        """One shard's registrations (0 <= shard < `shards`), read as they are consumed, so an
        iteration holds a page at a time, not its share of the season; withdrawn ones left out."""
        ...

    def create_registration(self, record: dict[str, Any]) -> None:
        """Write a registration if its id is new; DuplicateChild if that child already registered."""
        ...

    def replace_registration(self, record: dict[str, Any], *, previous: Mapping[str, Any]) -> None:
        """Write `record` over the stored registration `previous` (the family's edit or withdrawal,
        or the child registered again after withdrawing) and move its live demand counts with it;
        Conflict if the stored one is no longer `previous` (another change came first)."""
        ...

    def season_state(self, season: str) -> SeasonState:
        """Advanced gates and current window extensions, read in one go."""
        ...

    def put_gate_open(self, season: str, phase: str, item: dict[str, Any]) -> None:
        """Record a gate's task token; Conflict if the gate was already advanced."""
        ...

    def close_gate(self, season: str, phase: str, changes: dict[str, Any]) -> None:
        """Mark an open gate advanced; Conflict if it was not open."""
        ...

    def get_gate(self, season: str, phase: str) -> dict[str, Any] | None: ...

    def set_gate_deadline(self, season: str, phase: str, deadline: str) -> None:
        """Move an open gate's recorded deadline (after a window extension)."""
        ...

    def put_window_extension(self, season: str, grade: int, record: dict[str, Any]) -> None:
        """Record a grade's window extension (`extended_to`, `extended_by`, `extended_at`, `reason`):
        the current one, and an entry in its append-only history."""
        ...

    def put_demand(self, season: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Record demand against plan at close, one row per school or zone and grade (R-WARN-1)."""
        ...

    def demand(self, season: str) -> list[dict[str, Any]]:
        """The demand rows recorded at close, numbers as ints."""
        ...


class SmsThrottled(Exception):
    """The SMS provider refused for now (its rate limit): safe to send again later."""


class SmsRejected(Exception):
    """The SMS provider refused this message for good (an unregistered template, a wrong number): sending
    it again gets the same answer. `code` is the provider's own error code, for the runbook."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class Sms(Protocol):
    def send(self, phone: str, message: SmsMessage) -> str:
        """Send one SMS to a mainland number (11 digits); the provider's message id. SmsThrottled if
        the provider asks to slow down, SmsRejected if it refuses the message."""
        ...


class Schedules(Protocol):
    def move(self, name: str, expression: str) -> None:
        """Give an existing schedule a new one-time expression, keeping its target and timezone."""
        ...


class TaskTokens(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> None: ...


class CorrectionSealer(Protocol):
    def seal_corrections(self, season: str) -> dict[str, Any]:
        """Seal the season's pending corrections now, as the daily run does; what it sealed
        (`enrollment.archive.seal.seal_pending_corrections`'s answer), SealNotDone if it did not."""
        ...


class ArchiveWriter(Protocol):
    """The archive bucket (S3 Object Lock): objects written once, never rewritten."""

    def put_once(self, key: str, body: bytes) -> str:
        """Write the object; if it exists, 'identical' when the bytes match, else ArchiveConflict."""
        ...


class Archive(ArchiveWriter, Protocol):
    def get(self, key: str) -> bytes | None: ...


class WorkFiles(Protocol):
    """The work bucket, where the workflow's Distributed Maps read their items."""

    bucket: str

    def put_json(self, key: str, value: Any) -> None: ...


def put_batches(
    work: WorkFiles,
    key: str,
    registration_ids: Iterable[str],
    *,
    size: int,
    max_concurrency: int,
    counted: str,
) -> dict[str, Any]:
    """The registration ids, sorted, in batches of `size`, written at `key` as a Distributed Map's
    items; what the workflow passes the Map: where they are, how many batches and ids (the ids'
    count named `counted`), and the Map's concurrency."""
    ids = sorted(registration_ids)
    items = [{"registration_ids": ids[i : i + size]} for i in range(0, len(ids), size)]
    work.put_json(key, items)
    return {
        "bucket": work.bucket,
        "key": key,
        "batches": len(items),
        counted: len(ids),
        "max_concurrency": max_concurrency,
    }
