"""One chunk of the children's places stored for the status API (a StorePlacements Map item).

`PlaceChildren` archives placements.jsonl and leaves the same lines in chunks in the work bucket;
each Map item names a chunk and its children: `{"season", "key", "registration_ids"}`. Storing a
chunk overwrites the same items, so a retried or repeated chunk changes nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from enrollment.adapters.wiring import Wiring
from enrollment.placement.season import store_chunk
from functions.events import SeasonEvent, task


class StoreInput(SeasonEvent):
    key: str = Field(min_length=1)
    registration_ids: list[str] = Field(min_length=1)


@task(StoreInput, log="placements stored")
def handler(request: StoreInput, w: Wiring) -> dict[str, Any]:
    return store_chunk(
        request.season, request.key, request.registration_ids, work=w.work, placements=w.placements
    )
