"""A private school-grade of 50,000 applicants stores and draws (enrollment/adapters/lottery_store.py).

The pools go to page items, the ranking too once recorded; no item the store writes comes near
DynamoDB's 400 KB, and what is read back is the same pool, so the draw and the archived record's
bytes are those of LOTTERY.md for the pools as they were put.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import boto3
import pytest

from enrollment.adapters.lottery_store import INLINE, DynamoLotteryStore
from enrollment.adapters.table import plain
from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason
from enrollment.lottery import ceremony
from enrollment.lottery.pools import CeremonyInputs, Pools, record, record_bytes

pytestmark = pytest.mark.xdist_group("moto-large-pool")

APPLICANTS, OWN, PLAN = 50_000, 20_000, 800
MAX_ITEM = 350 * 1024  # bytes: well under DynamoDB's 400 KB


def _rid(n: int) -> str:
    code = base64.b32encode(hashlib.sha256(f"applicant {n}".encode()).digest()).decode()[:16]
    return "R-" + "-".join(code[i : i + 4] for i in range(0, 16, 4))


def _largest_item(rt: EmbeddedSeason) -> int:
    """The largest stored item, serialized as JSON (longer than DynamoDB's own count of its size)."""
    items: list[dict[str, Any]] = []
    table = boto3.resource("dynamodb").Table(rt.table_name)
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return max(len(json.dumps(plain(i), ensure_ascii=False).encode()) for i in items)


def test_fifty_thousand_applicants_store_and_draw(embedded: EmbeddedSeason, season: SeasonConfig) -> None:
    school = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    ids = [_rid(n) for n in range(APPLICANTS)]
    pools = Pools.split(school.id, 1, school.district, PLAN, ids[:OWN], ids[OWN:])
    names = {rid: "张" + "*" * (1 + n % 3) for n, rid in enumerate(ids)}
    store = DynamoLotteryStore(embedded.table_name)

    # Stored: the pool in pages, the school's item small
    assert store.put_school(ceremony.school_item(season.season, pools, names))
    assert not store.put_school(ceremony.school_item(season.season, pools, names))  # frozen: first kept
    assert _largest_item(embedded) <= MAX_ITEM

    # Read back: the same pools and names, so the same draw, byte for byte
    back = store.school(season.season, school.id, 1)
    assert back is not None
    assert (back["own"], back["other"], back["names"]) == (list(pools.own), list(pools.other), names)
    assert [s["own"] for s in store.schools(season.season)] == [list(pools.own)]
    inputs = CeremonyInputs(("甲", "乙", "丙"), ("1", "2", "3"), 2)
    drawn = record(season.season, ceremony.pools_from(back), inputs)
    assert record_bytes(drawn) == record_bytes(record(season.season, pools, inputs))
    assert drawn["draw"]["pool"] == "own-district" and len(drawn["draw"]["ranking"]) == OWN > INLINE

    # Recorded: the ranking paged too, read back in order
    ranking = drawn["draw"]["ranking"]
    changes = {"ranking": ranking, "next_waitlist_rank": PLAN + 1}
    assert store.finish_school(season.season, school.id, 1, "recorded", changes)
    assert not store.finish_school(season.season, school.id, 1, "recorded", changes)
    assert _largest_item(embedded) <= MAX_ITEM
    after = store.school(season.season, school.id, 1)
    assert after is not None
    assert after["ranking"] == ranking and after["status"] == "recorded"
    assert after["own"] == list(pools.own) and "pool_pages" not in after and "ranking_pages" not in after
