"""The city's spot-check sample (R-VER-5): one reproducible draw per district, seed and sample recorded.

The workflow asks for the districts first (`mode: districts`, from the season's config), then draws
each in its own Map iteration (`mode: draw`, with `district`): an iteration reads only its district's
verdicts' ids, so a draw's time and memory grow with one district, not the city.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from enrollment.adapters.wiring import Wiring
from enrollment.core import clock
from enrollment.verification.season import draw_spot_check, spot_check_districts
from functions.events import SeasonEvent, task


class SpotCheckEvent(SeasonEvent):
    """`{"season", "mode": "districts"}`, or `{"season", "mode": "draw", "district"}`."""

    mode: Literal["districts", "draw"]
    district: str | None = None

    @model_validator(mode="after")
    def _district_to_draw(self) -> SpotCheckEvent:
        if (self.mode == "draw") != (self.district is not None):
            raise ValueError("a draw names its district; listing the districts names none")
        return self


@task(SpotCheckEvent, log="spot-check step")
def handler(request: SpotCheckEvent, w: Wiring) -> dict[str, Any]:
    if request.district is None:
        return spot_check_districts(w.config)
    return draw_spot_check(
        w.config, request.season, request.district, vstore=w.verification, seeds=w.seeds, now=clock.now()
    )
