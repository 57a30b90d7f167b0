"""The season's results sealed in the Object Lock archive, exactly as LOTTERY.md (R-OPEN-1, R-LOT-3).

The use case is `enrollment.archive.seal.seal_season`: `season.json`, `manifest.json`,
`manifest.sig.json` (KMS `Sign`, ECDSA_SHA_256, RAW, over LOTTERY.md's statement) and
`public-key.pem` added to what the season archived under `seasons/{season}/`. Nothing is ever
rewritten: a rerun finds the archive sealed and changes nothing.
"""

from __future__ import annotations

from typing import Any

from enrollment.adapters.wiring import Wiring
from enrollment.archive.seal import seal_season
from enrollment.core import clock
from functions.events import SeasonEvent, task


@task(SeasonEvent, log="archive sealed")  # "sealed": "now", or "already" on a rerun
def handler(request: SeasonEvent, w: Wiring) -> dict[str, Any]:
    return seal_season(
        w.config, request.season, archive=w.archive, listing=w.archived, signer=w.signer, now=clock.now()
    )
