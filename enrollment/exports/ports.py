"""What the exports read and where their downloads are recorded (adapters/export_store.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class ExportSources(Protocol):
    def placed_at_school(self, season: str, school_id: str) -> list[dict[str, Any]]:
        """The placement records of the children placed at one school (its own index partition)."""
        ...

    def registrations_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Several registrations by id, batched (ids without one absent)."""
        ...

    def arrivals_at(self, season: str, school_id: str) -> dict[str, str]:
        """One school's arrivals on reporting day: registration id -> when it was recorded."""
        ...

    def lottery(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None:
        """A private school and grade's frozen pools (`own`, `other`), None before they are frozen."""
        ...

    def archived(self, key: str) -> bytes | None:
        """One object of the season's archive bucket (None if absent)."""
        ...

    def archive_has(self, key: str) -> bool:
        """Whether the archive bucket holds the object (without reading it)."""
        ...


class DownloadLog(Protocol):
    def record_download(self, record: dict[str, Any]) -> None:
        """Keep one download (append-only)."""
        ...

    def downloads(self, season: str, district: str) -> list[dict[str, Any]]:
        """The downloads of one district's data, in the order they were taken."""
        ...
