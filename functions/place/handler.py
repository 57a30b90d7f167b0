"""Placement (R-REG-2, R-PUB-*, R-LOT-5, R-COORD-1): every registered child, exactly one place, self-checked.

Reads the season's registrations, verdicts, lottery results and staff decisions; reuses the
recorded tie-break (or draws and records it on the first run); places; checks every invariant and
fails loudly, naming the cases, if one breaks; then archives `placements.jsonl` and
`placement/tie-break.json` and stores each child's place for the status API.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from enrollment.adapters.observability import logger, metrics, tracer
from enrollment.adapters.wiring import Wiring, wiring
from enrollment.core import clock
from enrollment.core.config import SeasonConfig
from enrollment.lottery import ceremony
from enrollment.placement import place as placement
from enrollment.placement import tiebreak
from enrollment.verification.verdicts import Verdict


class PlaceInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    season: str


def case_of(
    config: SeasonConfig, item: dict[str, Any], w: Wiring, verdicts: dict[str, Verdict]
) -> placement.Case:
    req = item["request"]
    home = req["home_address"]
    road = config.road_index[home["road"]]
    return placement.Case(
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
        lottery=w.lotteries.outcome(str(item["registration_id"])) if item["category"] == "private" else None,
    )


def season_tie_break(season: str, ids: list[str], w: Wiring) -> tiebreak.TieBreak:
    """The recorded tie-break, or a new one recorded now (a rerun reuses it; the pool must not change)."""
    recorded = w.placements.tie_break(season)
    seed = str(recorded["seed"]) if recorded else tiebreak.new_seed()
    tb = tiebreak.draw(season, ids, seed)
    if recorded is None:
        w.placements.put_tie_break(
            season,
            {
                "seed": seed,
                "pool_digest": tb.pool_digest,
                "children": len(ids),
                "drawn_at": clock.now().isoformat(),
            },
        )
        recorded = w.placements.tie_break(season)
    if recorded is None or recorded["pool_digest"] != tb.pool_digest or recorded["seed"] != seed:
        raise placement.SelfCheckFailed(["the tie-break's recorded pool differs from the registrations now"])
    return tb


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PlaceInput.model_validate(event)
    w = wiring()
    config, season = w.config, request.season
    items = list(w.store.registrations(season))
    verdicts = {v.registration_id: v for v in w.verification.verdicts(season)}  # one query, not one per child
    cases = [case_of(config, i, w, verdicts) for i in items]
    ids = [c.registration_id for c in cases]
    tb = season_tie_break(season, ids, w)
    decisions = w.placements.decisions(season)
    result = placement.place(
        config, cases, tb.numbers(), decisions, cap_km=config.placement.coordination_cap_km
    )
    records = [
        json.loads(
            w.archive.get(ceremony.archive_key(season, f"private/{s['school_id']}-g{s['grade']}.json"))
            or b"{}"
        )
        for s in w.lotteries.schools(season)
    ]
    outcomes = {c.registration_id: dict(c.lottery) for c in cases if c.lottery}
    problems = placement.self_check(config, ids, result, records, outcomes)
    if problems:
        logger.error("placement self-check failed", extra={"problems": problems[:50], "count": len(problems)})
        raise placement.SelfCheckFailed(problems)
    lines = placement.lines(result)
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
    w.archive.put_once(ceremony.archive_key(season, "placements.jsonl"), body)
    w.archive.put_once(
        ceremony.archive_key(season, "placement/tie-break.json"),
        (json.dumps(tiebreak.record(tb), ensure_ascii=False, indent=2) + "\n").encode(),
    )
    w.placements.put_placements(season, lines)
    out = placement.summary(config, result)
    logger.info("placement done", extra=out)
    return out
