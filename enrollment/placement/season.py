"""Placing the season (the workflow's `place` task): every registered child, exactly one place, self-checked.

Reads the season's registrations, verdicts, lottery results and staff decisions; releases the
private seat of every child a district decision places (`release_decided`: the decision wins, the
seat goes to the school's waitlist as a declined one does); reuses the recorded tie-break (or
draws and records it on the first run); places; checks every invariant and fails loudly, naming
the cases, if one breaks (SelfCheckFailed); then archives `placements.jsonl` and
`placement/tie-break.json` and stores each child's place for the status API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Archive, Registrations, Seeds
from enrollment.lottery import ceremony
from enrollment.placement import tiebreak
from enrollment.placement.place import Case, SelfCheckFailed, StaffDecision, lines, place, self_check, summary
from enrollment.verification.verdicts import Verdict


class Verdicts(Protocol):
    def verdicts(self, season: str) -> list[Verdict]: ...


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
        """Each child's place, for the status API."""
        ...


def case_of(
    config: SeasonConfig,
    item: dict[str, Any],
    verdicts: Mapping[str, Verdict],
    outcomes: Mapping[str, dict[str, Any]],
) -> Case:
    req = item["request"]
    home = req["home_address"]
    road = config.road_index[home["road"]]
    return Case(
        registration_id=str(item["registration_id"]),
        grade=int(item["grade"]),
        district=str(item["district"]),
        category=str(item["category"]),
        home=road.locate(int(home["number"])),
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
    now: datetime,
) -> dict[str, Any]:
    """Place, self-check, archive and store; the summary that travels in the workflow."""
    decisions = placements.decisions(season)
    release_decided(config, decisions, lotteries, now)  # before the lottery outcomes are read
    items = list(registrations.registrations(season))
    verdict_of = {v.registration_id: v for v in verdicts.verdicts(season)}  # one query, not one per child
    private = [str(i["registration_id"]) for i in items if i["category"] == "private"]
    outcome_of = lotteries.outcomes_of(private)  # batched, not one read per private applicant
    cases = [case_of(config, i, verdict_of, outcome_of) for i in items]
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
    placed = lines(result)
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in placed).encode()
    archive.put_once(ceremony.archive_key(season, "placements.jsonl"), body)
    archive.put_once(
        ceremony.archive_key(season, "placement/tie-break.json"),
        (json.dumps(tiebreak.record(tb), ensure_ascii=False, indent=2) + "\n").encode(),
    )
    placements.put_placements(season, placed)
    return summary(config, result)
