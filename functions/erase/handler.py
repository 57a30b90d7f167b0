"""Daily (an EventBridge Scheduler schedule that starts on the retention date): erase the season's
personal data once its retention period is over (enrollment/core/retention.py, docs/RETENTION.md).

Before that date, or before the archive is sealed, it refuses and changes nothing. A run stops at
its time budget, a page boundary; the next day's run goes on from the recorded progress, and once
everything is erased each run only reads that it is done.
"""

from __future__ import annotations

import time
from typing import Any

from enrollment.adapters.erasure_store import DynamoErasureStore, WorkFileErasure
from enrollment.adapters.observability import logger
from enrollment.adapters.wiring import Wiring
from enrollment.archive.contract import MANIFEST
from enrollment.core import clock
from enrollment.core.retention import NotYet, erase_season
from functions.events import SeasonEvent, task

# of the function's 15 minutes: under the duration alarm's 80 % (12 minutes), with the page under way
# and the run's entry well inside the rest
BUDGET_S = 10 * 60


@task(SeasonEvent, log="erasure run")
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    if request.season != w.config.season:
        raise ValueError(f"season: {request.season!r} is not this stack's season {w.config.season!r}")
    stop_at = time.monotonic() + BUDGET_S
    manifest = f"seasons/{w.config.season}/{MANIFEST}"
    try:
        return erase_season(
            w.config,
            store=DynamoErasureStore(w.settings.table_name),
            files=WorkFileErasure(w.work),
            now=clock.now(),
            sealed=lambda: w.archive.get(manifest) is not None,
            keep_going=lambda: time.monotonic() < stop_at,
        )
    except NotYet as e:
        logger.info("erasure refused", extra={"reason": e.message_en})
        return {
            "season": w.config.season,
            "erased": False,
            "refused": e.message_en,
            "refused_zh": e.message_zh,
        }
