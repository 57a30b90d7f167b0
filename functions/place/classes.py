"""Sunshine classes (R-CLASS-1): each school's arrived children, balanced and random, sealed as an addition.

The use case is `enrollment.archive.seal.seal_classes`: the class lists go to
`additions/{season}/classes/` in the archive bucket with their own manifest, signature and public
key, so the season's sealed archive under `seasons/{season}/` is never rewritten. A rerun finds
the addition sealed and changes nothing.
"""

from __future__ import annotations

from typing import Any

from enrollment.adapters.wiring import Wiring
from enrollment.archive.seal import seal_classes
from enrollment.core import clock
from functions.events import SeasonEvent, task


@task(SeasonEvent, log="sunshine classes sealed")  # "sealed": "now", or "already" on a rerun
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    return seal_classes(
        w.config,
        request.season,
        archive=w.archive,
        arrivals=w.placements,
        registrations=w.store,
        signer=w.signer,
        seeds=w.seeds,
        now=clock.now(),
    )
