"""Registration's workflow task: when the windows close, demand against plan is recorded (R-WARN-1)."""

from __future__ import annotations

from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Store
from enrollment.registration import demand


def close(config: SeasonConfig, season: str, *, store: Store) -> dict[str, Any]:
    """Every school's (and multi-school zone's) applicants against its plan, stored; the schools over
    and near their plan."""
    registrations = list(store.registrations(season))
    rows = demand.demand(config, registrations)
    store.put_demand(season, [row.as_row() for row in rows])
    return demand.summary(rows, len(registrations))
