"""Admission notices start (R-NOTE-1): the placed children of the archived placements, in batches."""

from __future__ import annotations

from typing import Any

from enrollment.adapters.wiring import Wiring
from enrollment.notices.season import prepare
from functions.events import SeasonEvent, task


@task(SeasonEvent, log="notices prepared")
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    return prepare(w.config, request.season, archive=w.archive, work=w.work)
