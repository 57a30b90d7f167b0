"""Small interfaces the domain services depend on; adapters/ implements them for AWS (and moto)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol


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


class Store(Protocol):
    def create_registration(self, item: dict[str, Any]) -> None:
        """Write a registration if its id is new; DuplicateChild if that child already registered."""
        ...

    def get_registration(self, registration_id: str) -> dict[str, Any]: ...

    def registrations(self, season: str) -> Iterator[dict[str, Any]]: ...

    def season_items(self, season: str) -> list[dict[str, Any]]:
        """Gates, window extensions and other per-season control items."""
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

    def put_season_items(self, items: Iterable[dict[str, Any]]) -> None: ...


class Schedules(Protocol):
    def move(self, name: str, expression: str) -> None:
        """Give an existing schedule a new one-time expression, keeping its target and timezone."""
        ...


class TaskTokens(Protocol):
    def succeed(self, token: str, output: dict[str, Any]) -> None: ...
