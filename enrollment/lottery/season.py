"""The lottery phase's workflow tasks: freezing the season's pools and waiting for each ceremony.

`prepare` reads the private applicants (shard by shard, keeping a few fields of each) and their
verdicts and freezes each school and grade's pools (R-LOT-1, R-LOT-2) with what the big screen
shows of each child (the masked name and the ID number's last four); `wait` stores the workflow's
task token for a school's ceremony, or flags the ceremony overdue once its deadline passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Store, TaskTokens
from enrollment.lottery import ceremony


class FactHolders(Protocol):
    def holding(self, season: str, fact: str) -> Iterator[str]:
        """The registration ids of the season's verdicts whose `fact` holds, as they are read."""
        ...


def screen_label(item: dict[str, Any]) -> str:
    """The child as the big screen shows it (R-DATA-2): the name masked as published lists are and
    the ID number's last four characters, read from the registration's masked ID only."""
    return ceremony.screen_label(str(item["request"]["child"]["name"]), str(item.get("masked_id", "")))


def prepare(
    config: SeasonConfig,
    season: str,
    *,
    store: Store,
    vstore: FactHolders,
    lotteries: ceremony.LotteryStore,
    now: datetime,
) -> dict[str, Any]:
    """Every private school and grade's pools, frozen (a rerun keeps the first), as the Map's items.

    The registrations are read one shard after another, a page at a time, and only what the pools
    and the big screen need is kept of each private applicant (pools sort their ids, so the order
    read in does not matter): memory grows with the private applicants, not the season's items. Of
    the verdicts only the ids holding the fact `own-district` are read, as a stream (no models)."""
    private: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for shard in range(store.shards):
        for r in store.registrations_in_shard(season, shard):
            if r.get("category") != "private":
                continue
            rid = str(r["registration_id"])
            private.append(
                {
                    "registration_id": rid,
                    "category": "private",
                    "target_school": r.get("target_school"),
                    "grade": r["grade"],
                }
            )
            names[rid] = screen_label(r)
    pools = ceremony.pools_of(config, private, vstore.holding(season, "own-district"))
    return ceremony.prepare(config, season, pools, names, store=lotteries, now=now)


def wait(
    config: SeasonConfig,
    season: str,
    school_id: str,
    grade: int,
    mode: Literal["await", "overdue"],
    *,
    token: str,
    timeout_s: int,
    lotteries: ceremony.LotteryStore,
    tokens: TaskTokens,
    now: datetime,
) -> dict[str, Any]:
    """`await`: the workflow waits on `token` until the ceremony finishes; `overdue`: flag it and wait longer."""
    if mode == "overdue":
        return ceremony.overdue(config, season, school_id, grade, store=lotteries, now=now)
    if not token:
        raise ValueError("task_token: the await mode needs the workflow's task token")
    return ceremony.open_wait(
        config,
        season,
        school_id,
        grade,
        token=token,
        timeout_s=timeout_s,
        store=lotteries,
        tokens=tokens,
        now=now,
    )
