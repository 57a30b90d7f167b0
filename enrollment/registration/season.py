"""Registration's workflow tasks: when the windows close, demand against plan is recorded (R-WARN-1).

The workflow counts the registrations as a Map over the store's shards (`count_shard`, each
iteration reading its shard as it goes: a page at a time, not the season), then `close` adds the
shards' counts up and records the rows: the same rows as counting every registration in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Store
from enrollment.registration import demand


def count_shard(config: SeasonConfig, season: str, shard: int, *, store: Store) -> dict[str, Any]:
    """One shard's registrations counted where they count (`demand.partial`), with its number."""
    return {"shard": shard, **demand.partial(config, store.registrations_in_shard(season, shard))}


def close(
    config: SeasonConfig, season: str, shards: Iterable[Mapping[str, Any]], *, store: Store
) -> dict[str, Any]:
    """Every school's (and multi-school zone's) applicants against its plan, from every shard's
    counts (`count_shard`), stored; the schools over and near their plan. Each shard must be counted
    exactly once: a shard missing or counted twice is refused, nothing is stored."""
    parts = list(shards)
    numbers = sorted(int(p["shard"]) for p in parts)
    if numbers != list(range(store.shards)):
        raise ValueError(f"demand needs each of the {store.shards} shards counted once, got shards {numbers}")
    rows, total = demand.combine(config, parts)
    store.put_demand(season, [row.as_row() for row in rows])
    return demand.summary(rows, total)
