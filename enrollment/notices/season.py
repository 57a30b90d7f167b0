"""The admission notices' workflow tasks (R-NOTE-1): the placed children in batches, then each batch issued.

`prepare` reads the archived `placements.jsonl` and writes the placed children (not the deferred) in
batches for the workflow's Distributed Map; `issue` gives one batch's children their notices once
(`phase.send_batch`), each with the place stored for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Sms
from enrollment.lottery import ceremony
from enrollment.notices import phase


class ArchivedFiles(Protocol):
    def get(self, key: str) -> bytes | None: ...


class MapItems(Protocol):
    """The work bucket the workflow's Distributed Map reads its items from."""

    bucket: str

    def put_json(self, key: str, value: Any) -> None: ...


class Registrations(Protocol):
    def get_registration(self, registration_id: str) -> dict[str, Any]: ...


class Placed(Protocol):
    def placed(self, registration_id: str) -> dict[str, Any] | None:
        """The child's stored place (None before placement ran)."""
        ...


def prepare(config: SeasonConfig, season: str, *, archive: ArchivedFiles, work: MapItems) -> dict[str, Any]:
    body = archive.get(ceremony.archive_key(season, "placements.jsonl"))
    if body is None:
        raise ValueError("placements.jsonl is not archived: placement has not run")
    placed = [json.loads(line) for line in body.decode().splitlines()]
    items = phase.batches(placed, config.verification.batch_size)
    key = f"seasons/{season}/notices/batches.json"
    work.put_json(key, items)
    return {
        "bucket": work.bucket,
        "key": key,
        "batches": len(items),
        "children": sum(len(b["registration_ids"]) for b in items),
        "max_concurrency": config.verification.max_concurrency,
    }


def issue(
    config: SeasonConfig,
    season: str,
    registration_ids: list[str],
    *,
    registrations: Registrations,
    placements: Placed,
    secret: bytes,
    store: phase.NoticeStore,
    files: phase.Files,
    sms: Sms,
    now: datetime,
) -> dict[str, int]:
    items = []
    for rid in registration_ids:
        placed = placements.placed(rid)
        if placed is None:
            raise ValueError(f"{rid}: no placement stored")
        items.append((registrations.get_registration(rid), placed))
    return phase.send_batch(config, season, items, secret=secret, store=store, files=files, sms=sms, now=now)
