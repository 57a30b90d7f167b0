"""Placing the season (the workflow's `place` task): every registered child, exactly one place, self-checked.

Reads the season's registrations, verdicts, lottery results and staff decisions; releases the
private seat of every child a district decision places (`release_decided`: the decision wins, the
seat goes to the school's waitlist as a declined one does); reuses the recorded tie-break (or
draws and records it on the first run); places; checks every invariant and fails loudly, naming
the cases, if one breaks (SelfCheckFailed); then archives `placements.jsonl` and
`placement/tie-break.json` and writes the children's places in chunks to the work bucket, which the
workflow's Distributed Map (StorePlacements) stores for the status API, a chunk per item
(`store_chunk`): thousands of batched writes are no longer the placing function's to make.

At a city's size (300,000 applicants) the run holds one light Case per child, not the raw
registrations: they are read a page at a time and each page becomes Cases at once (its private
applicants' lottery results read with it, batched). The verdicts are read as `PlacementFacts`
(status, zone, facts: a tuple each, no pydantic model), which the Cases hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import Any, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Archive, Registrations, Seeds, WorkFiles
from enrollment.lottery import ceremony
from enrollment.placement import tiebreak
from enrollment.placement.place import (
    Case,
    SelfCheckFailed,
    StaffDecision,
    VerdictView,
    lines,
    place,
    self_check,
    summary,
)
from enrollment.verification.season import PlacementFacts

CHUNK_LINES = 2000  # placement lines per chunk: one StorePlacements item, 80 BatchWriteItem calls
STORE_MAX_CONCURRENCY = 10  # chunks stored at once (each a batch writer on the season's table)
READ_PAGE = 2000  # registrations turned into Cases at a time (with their private lottery results)


class Verdicts(Protocol):
    def placement_facts(self, season: str) -> Iterator[PlacementFacts]:
        """The season's verdicts as the few fields placement reads, a page at a time as consumed (no
        model per verdict: the season's are held at once, one per child)."""
        ...


class LotteryResults(Protocol):
    def outcomes_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Private applicants' admission results, read at once (batched); those without one are absent."""
        ...

    def schools(self, season: str) -> list[dict[str, Any]]:
        """The private schools and grades that admitted (each has an archived record)."""
        ...


class PlacementStore(Protocol):
    def tie_break(self, season: str) -> dict[str, Any] | None: ...

    def put_tie_break(self, season: str, item: dict[str, Any]) -> bool:
        """Record the season's tie-break once. True if written."""
        ...

    def decisions(self, season: str) -> Mapping[str, StaffDecision]:
        """The latest staff decision per child."""
        ...

    def put_placements(self, season: str, lines: Iterable[dict[str, Any]]) -> None:
        """Each child's place, for the status API (an overwrite: the same lines write the same items)."""
        ...


class ChunkFiles(WorkFiles, Protocol):
    """The work bucket, where placement leaves its chunks and the Map's items."""

    def get_json(self, key: str) -> Any: ...


def case_of(
    config: SeasonConfig,
    item: dict[str, Any],
    verdicts: Mapping[str, VerdictView],
    outcomes: Mapping[str, dict[str, Any]],
) -> Case:
    req = item["request"]
    return Case(
        registration_id=str(item["registration_id"]),
        grade=int(item["grade"]),
        district=str(item["district"]),
        category=str(item["category"]),
        home=config.locate(req["home_address"]),
        claims=tuple(item.get("special_claims", [])),
        target_school=item.get("target_school"),
        preferences=tuple(req.get("school_preferences") or ()),
        foreign=req["child"].get("id_type") == "passport",
        verdict=verdicts.get(str(item["registration_id"])),
        lottery=outcomes.get(str(item["registration_id"])) if item["category"] == "private" else None,
    )


def season_tie_break(
    season: str, ids: list[str], placements: PlacementStore, seeds: Seeds, now: datetime
) -> tiebreak.TieBreak:
    """The recorded tie-break, or a new one recorded now (a rerun reuses it; the pool must not change)."""
    recorded = placements.tie_break(season)
    seed = str(recorded["seed"]) if recorded else seeds.new_seed(f"tie-break/{season}")
    tb = tiebreak.draw(season, ids, seed)
    if recorded is None:
        placements.put_tie_break(
            season,
            {
                "seed": seed,
                "pool_digest": tb.pool_digest,
                "children": len(ids),
                "drawn_at": now.isoformat(),
            },
        )
        recorded = placements.tie_break(season)
    if recorded is None or recorded["pool_digest"] != tb.pool_digest or recorded["seed"] != seed:
        raise SelfCheckFailed(["the tie-break's recorded pool differs from the registrations now"])
    return tb


def release_decided(
    config: SeasonConfig,
    decisions: Mapping[str, StaffDecision],
    store: ceremony.LotteryStore,
    now: datetime,
) -> list[dict[str, Any]]:
    """A district decision wins over a private admission (R-DEFER-1, R-DIS-1, R-VER-3): each decided
    child still holding a private seat releases it, recorded with the decision's staff member and
    reason, to the first waitlisted child still unplaced (a waitlisted child with a decision of its
    own is placed by it, and passed over). Decisions are final here: the API refuses new ones once
    placements are stored, and every kind releases, so a changed decision (the latest wins) never
    takes a released seat back. Idempotent: a rerun releases nothing twice. The releases made now."""

    def placed(rid: str) -> bool:
        return rid in decisions

    out = []
    for d in sorted(decisions.values(), key=lambda d: (d.at, d.registration_id)):
        done = ceremony.release(
            config, d.registration_id, actor=d.actor, reason=d.reason, store=store, now=now, placed=placed
        )
        if done is not None:
            out.append(done)
    return out


def cases_of(
    config: SeasonConfig,
    items: Iterable[dict[str, Any]],
    verdicts: Mapping[str, VerdictView],
    lotteries: LotteryResults,
) -> Iterator[Case]:
    """Each registration as its Case, in the order read; a page at a time, so the raw items of one
    page only are held, and that page's private applicants' lottery results read at once (batched)."""
    it = iter(items)
    while page := list(islice(it, READ_PAGE)):
        private = [str(i["registration_id"]) for i in page if i["category"] == "private"]
        outcomes = lotteries.outcomes_of(private) if private else {}
        for item in page:
            yield case_of(config, item, verdicts, outcomes)


def chunk_key(season: str, n: int) -> str:
    """Where the placement run leaves its `n`th chunk of lines in the work bucket."""
    return f"seasons/{season}/placement/chunks/{n:05d}.json"


def put_chunks(work: WorkFiles, season: str, placed: list[dict[str, Any]]) -> dict[str, Any]:
    """The placement lines in chunks of CHUNK_LINES, each its own object, and the list of chunks
    (each with its children's ids, for a dead letter) as the StorePlacements Map's items; what the
    workflow passes the Map. Same keys on a rerun, so a rerun overwrites rather than adds."""
    batches = []
    for n, start in enumerate(range(0, len(placed), CHUNK_LINES)):
        chunk = placed[start : start + CHUNK_LINES]
        key = chunk_key(season, n)
        work.put_json(key, chunk)
        batches.append({"key": key, "registration_ids": [str(line["registration_id"]) for line in chunk]})
    key = f"seasons/{season}/placement/batches.json"
    work.put_json(key, batches)
    return {
        "bucket": work.bucket,
        "key": key,
        "batches": len(batches),
        "children": len(placed),
        "max_concurrency": STORE_MAX_CONCURRENCY,
    }


def store_chunk(
    season: str, key: str, registration_ids: list[str], *, work: ChunkFiles, placements: PlacementStore
) -> dict[str, int]:
    """Store one chunk's places (a StorePlacements item). Idempotent: a retried or repeated chunk
    writes the same items again. The chunk must hold exactly the children the Map item names: a
    chunk overwritten by another run since the list was made is refused, not half-stored."""
    chunk: list[dict[str, Any]] = work.get_json(key)
    if [str(line["registration_id"]) for line in chunk] != registration_ids:
        raise ValueError(f"{key}: the chunk's children are not the item's ({len(chunk)} lines)")
    placements.put_placements(season, chunk)
    return {"stored": len(chunk)}


def place_season(
    config: SeasonConfig,
    season: str,
    *,
    registrations: Registrations,
    verdicts: Verdicts,
    lotteries: ceremony.LotteryStore,
    placements: PlacementStore,
    archive: Archive,
    seeds: Seeds,
    work: WorkFiles,
    now: datetime,
) -> dict[str, Any]:
    """Place, self-check, archive, and leave the places in chunks for StorePlacements: the summary
    (small: it travels in the workflow) and, under `store`, where the Map reads its chunks."""
    decisions = placements.decisions(season)
    release_decided(config, decisions, lotteries, now)  # before the lottery outcomes are read
    # one query, not one per child; light tuples, not models
    verdict_of: dict[str, VerdictView] = {v.registration_id: v for v in verdicts.placement_facts(season)}
    cases = list(cases_of(config, registrations.registrations(season), verdict_of, lotteries))
    del verdict_of  # each Case holds its own
    ids = [c.registration_id for c in cases]
    tb = season_tie_break(season, ids, placements, seeds, now)
    result = place(config, cases, tb.numbers(), decisions, cap_km=config.placement.coordination_cap_km)
    records = [
        json.loads(
            archive.get(ceremony.archive_key(season, f"private/{s['school_id']}-g{s['grade']}.json")) or b"{}"
        )
        for s in lotteries.schools(season)
    ]
    outcomes = {c.registration_id: dict(c.lottery) for c in cases if c.lottery}
    problems = self_check(config, ids, result, records, outcomes, decisions)
    if problems:
        raise SelfCheckFailed(problems)
    del cases, outcomes
    placed = lines(result)
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in placed).encode()
    archive.put_once(ceremony.archive_key(season, "placements.jsonl"), body)
    del body
    archive.put_once(
        ceremony.archive_key(season, "placement/tie-break.json"),
        (json.dumps(tiebreak.record(tb), ensure_ascii=False, indent=2) + "\n").encode(),
    )
    return {"summary": summary(config, result), "store": put_chunks(work, season, placed)}
