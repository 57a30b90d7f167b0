"""StorePlacements: the places the placement run leaves in chunks are stored by the workflow's Map,
every child's, and a chunk stored again (a retry) leaves the same items (R-REG-2)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.adapters.s3 import WorkBucket
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.placement import season as placing
from tests.integration.conftest import at, post, table_items
from tests.integration.parent_session import status_of
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-placement-store")


def placement_items(rt: EmbeddedSeason) -> dict[str, dict[str, Any]]:
    return {str(i["pk"]): i for i in table_items(rt) if i["sk"] == "PLACEMENT"}


def test_a_chunk_stored_twice_leaves_the_same_items(embedded: EmbeddedSeason, season: SeasonConfig) -> None:
    work, store = WorkBucket(embedded.work_bucket), DynamoPlacementStore(embedded.table_name)
    lines = [
        {"registration_id": "R001", "grade": 1, "school_id": "S-CY-01", "route": "catchment"},
        {"registration_id": "R002", "grade": 1, "school_id": None, "route": "deferred", "status": "deferred"},
        {
            "registration_id": "R003",
            "grade": 7,
            "school_id": "S-CY-02",
            "route": "coordination",
            "reason": "x",
        },
    ]
    listed = placing.put_chunks(work, season.season, lines)
    assert (listed["batches"], listed["children"]) == (1, 3)
    (item,) = work.get_json(listed["key"])
    assert item["registration_ids"] == ["R001", "R002", "R003"]
    first = placing.store_chunk(
        season.season, item["key"], item["registration_ids"], work=work, placements=store
    )
    once = placement_items(embedded)
    again = placing.store_chunk(
        season.season, item["key"], item["registration_ids"], work=work, placements=store
    )
    assert first == again == {"stored": 3}
    assert placement_items(embedded) == once and set(once) == {"REG#R001", "REG#R002", "REG#R003"}
    # reporting day reads these children's places, and a school's placed children, from the items
    assert store.placed_at(["R001", "R002", "R003", "R404"]) == {
        "R001": "S-CY-01",
        "R002": None,
        "R003": "S-CY-02",
    }
    assert store.placed_at_school(season.season, "S-CY-01") == {"R001"}
    assert store.placed_at_school(season.season, "S-CY-02") == {"R003"}
    deferred = store.placed("R002") or {}
    assert (deferred["route"], deferred.get("school_id"), deferred["season"]) == (
        "deferred",
        None,
        season.season,
    )
    # a chunk whose children are not the item's (overwritten by another run) is refused, not stored
    with pytest.raises(ValueError, match="not the item's"):
        placing.store_chunk(season.season, item["key"], ["R001", "R002"], work=work, placements=store)


def test_store_placements_stores_every_childs_place_and_closes_decisions(
    embedded: EmbeddedSeason, season: SeasonConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(placing, "CHUNK_LINES", 2)  # several chunks, several Map items
    rt = embedded
    rt.start()
    rt.wait_for_gate("grade7-registration")
    rt.advance_clock(at(season, f"{season.calendar.grade1_registration.start} 09:00"))
    bodies = [valid_body(season) for _ in range(5)]
    ids = [post(rt, body)[1]["registration_id"] for body in bodies]
    rt.advance_clock(season.day_end(season.calendar.coordination.end) + timedelta(hours=1))
    rt.wait_for_gate("spot-check", timeout=600)
    store = rt.state_output("PlaceChildren")["phases"]["placement"]["store"]
    assert (store["batches"], store["children"]) == (3, 5)
    assert "chunks" not in json.dumps(rt.state_output("PlaceChildren")["phases"]["placement"]["summary"])
    raw = (
        boto3.client("s3")
        .get_object(Bucket=rt.bucket, Key=f"seasons/{season.season}/placements.jsonl")["Body"]
        .read()
    )
    archived = {line["registration_id"]: line for line in map(json.loads, raw.decode().splitlines())}
    assert set(archived) == set(ids)
    # every child's place is stored, as archived, and the family sees it
    for rid in ids:
        shown = status_of(rt, rid)["placement"]
        assert shown is not None and shown["school_id"] == archived[rid]["school_id"], rid
    # placement has run: a district can no longer enter a decision
    home = bodies[0]["home_address"]["district"]
    status, _ = drive.call(
        rt,
        "POST",
        f"/admin/placement/{season.season}/registrations/{ids[0]}/decisions",
        {"kind": "defer", "reason": "监护人因儿童身体原因申请缓学"},
        drive.member(rt, "district", home).principal,
    )
    assert status == 422
