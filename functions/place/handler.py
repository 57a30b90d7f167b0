"""Placement (R-REG-2, R-PUB-*, R-LOT-5, R-COORD-1): every registered child, exactly one place, self-checked.

The use case is `enrollment.placement.season.place_season`: it reuses (or draws and records) the
season's tie-break, places, checks every invariant and fails loudly, naming the cases, if one
breaks; then archives `placements.jsonl` and `placement/tie-break.json` and writes the children's
places in chunks to the work bucket: the StorePlacements Map stores them (functions/place/store.py).
The answer is `{"summary": {...}, "store": {"bucket", "key", "batches", "children", "max_concurrency"}}`.
"""

from __future__ import annotations

from typing import Any

from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.placement.place import SelfCheckFailed
from enrollment.placement.season import place_season
from functions.events import SeasonEvent, task


@task(SeasonEvent, log="placement done")
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    try:
        return place_season(
            w.config,
            request.season,
            registrations=w.store,
            verdicts=w.verification,
            lotteries=w.lotteries,
            placements=w.placements,
            archive=w.archive,
            seeds=w.seeds,
            work=w.work,
            now=clock.now(),
        )
    except SelfCheckFailed as e:
        logger.error(
            "placement self-check failed", extra={"problems": e.problems[:50], "count": len(e.problems)}
        )
        raise
