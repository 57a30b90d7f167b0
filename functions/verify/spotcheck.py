"""The city's spot-check sample (R-VER-5): one reproducible draw per district, seed and sample recorded."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.season import draw_spot_checks
from functions.events import SeasonEvent, task


@task(SeasonEvent, log="spot-check drawn")
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    return draw_spot_checks(w.config, request.season, vstore=w.verification, seeds=w.seeds, now=clock.now())
