"""An in-memory `LotteryStore` (the DynamoDB one's conditional writes, as plain dicts) and a season's
private records made with it, for tests of releases, placement and the audit without AWS."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from enrollment.archive import contract
from enrollment.core.config import SeasonConfig, load_season
from enrollment.lottery import ceremony
from enrollment.lottery.pools import CeremonyInputs, Pools
from enrollment.placement import tiebreak


class MemoryLotteryStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.step_items: dict[tuple[str, str, int], dict[int, dict[str, Any]]] = {}
        self.outcomes: dict[str, dict[str, Any]] = {}
        self.event_items: dict[tuple[str, str, int], list[dict[str, Any]]] = {}

    def put_school(self, item: dict[str, Any]) -> bool:
        key = (item["season"], item["school_id"], int(item["grade"]))
        if key in self.items:
            return False
        self.items[key] = copy.deepcopy(item)
        return True

    def school(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None:
        item = self.items.get((season, school_id, grade))
        return copy.deepcopy(item) if item is not None else None

    def schools(self, season: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(i) for (s, _, _), i in sorted(self.items.items()) if s == season]

    def set_school(self, season: str, school_id: str, grade: int, changes: dict[str, Any]) -> None:
        self.items[(season, school_id, grade)].update(copy.deepcopy(changes))

    def finish_school(
        self, season: str, school_id: str, grade: int, status: str, changes: dict[str, Any]
    ) -> bool:
        item = self.items[(season, school_id, grade)]
        if item["status"] == status:
            return False
        item.update({"status": status, **copy.deepcopy(changes)})
        return True

    def steps(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]:
        held = self.step_items.get((season, school_id, grade), {})
        return [copy.deepcopy(held[i]) for i in sorted(held)]

    def put_step(self, season: str, school_id: str, grade: int, step: dict[str, Any]) -> bool:
        held = self.step_items.setdefault((season, school_id, grade), {})
        if int(step["index"]) in held:
            return False
        held[int(step["index"])] = copy.deepcopy(step)
        return True

    def put_outcome(self, item: dict[str, Any]) -> bool:
        if item["registration_id"] in self.outcomes:
            return False
        self.outcomes[item["registration_id"]] = copy.deepcopy(item)
        return True

    def outcome(self, registration_id: str) -> dict[str, Any] | None:
        o = self.outcomes.get(registration_id)
        return copy.deepcopy(o) if o is not None else None

    def outcomes_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: copy.deepcopy(self.outcomes[rid]) for rid in registration_ids if rid in self.outcomes}

    def change_outcome(self, registration_id: str, expected: str, changes: dict[str, Any]) -> bool:
        o = self.outcomes.get(registration_id)
        if o is None or o["outcome"] != expected:
            return False
        o.update(copy.deepcopy(changes))
        return True

    def claim_next(self, season: str, school_id: str, grade: int, expected_next: int) -> bool:
        item = self.items[(season, school_id, grade)]
        if item.get("next_waitlist_rank") != expected_next:
            return False
        item["next_waitlist_rank"] = expected_next + 1
        return True

    def append_event(self, season: str, school_id: str, grade: int, event: dict[str, Any]) -> None:
        self.event_items.setdefault((season, school_id, grade), []).append(copy.deepcopy(event))

    def events(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]:
        return copy.deepcopy(self.event_items.get((season, school_id, grade), []))


class MemoryArchive:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put_once(self, key: str, body: bytes) -> str:
        if key in self.files:
            assert self.files[key] == body, f"{key} rewritten"
            return "identical"
        self.files[key] = body
        return "written"

    def get(self, key: str) -> bytes | None:
        return self.files.get(key)


def record_season(
    config: SeasonConfig,
    season: str,
    pools: Iterable[Pools],
    inputs: dict[tuple[str, int], CeremonyInputs],
    *,
    store: MemoryLotteryStore,
    archive: MemoryArchive,
    now: datetime,
) -> None:
    """Freeze each school's pools, enter its ceremony's inputs and record its admissions, as the
    lottery phase does (`ceremony.prepare`, the ceremony's steps, `ceremony.record_admissions`);
    every other private school and grade of the season gets its record without applicants."""
    given = {(p.school_id, p.grade): p for p in pools}
    every = [
        given.get((s.id, g)) or Pools.split(s.id, g, s.district, s.plan(g), [], [])
        for s in config.schools
        if s.kind == "private"
        for g in sorted(s.plans)
    ]
    assert set(given) <= {(p.school_id, p.grade) for p in every}, "a pool of no private school"
    for p in every:
        store.put_school(ceremony.school_item(season, p, {}))
        typed = inputs.get((p.school_id, p.grade))
        if p.needs_draw:
            assert typed is not None, f"{p.school_id} grade {p.grade} needs a draw"
            values = {
                "import": str(len(p.pool)),
                "shuffle-1": typed.shuffle_inputs[0],
                "shuffle-2": typed.shuffle_inputs[1],
                "shuffle-3": typed.shuffle_inputs[2],
                "seats": str(p.seats),
                "draw-1": typed.draw_inputs[0],
                "draw-2": typed.draw_inputs[1],
                "draw-3": typed.draw_inputs[2],
                "slip": str(typed.chosen_draw),
            }
            for i, step in enumerate(ceremony.STEPS):
                store.put_step(
                    season,
                    p.school_id,
                    p.grade,
                    {"step": step.name, "index": i, "value": values[step.name], "entered_by": "test"},
                )
            store.finish_school(season, p.school_id, p.grade, "drawn", {})
        ceremony.record_admissions(
            config, season, p.school_id, p.grade, store=store, archive=archive, now=now
        )


def small_season(base: SeasonConfig, folder: Path, plans: dict[str, dict[int, int]]) -> SeasonConfig:
    """The season with other plans for some schools (e.g. a private school of 3 seats)."""
    raw: dict[str, Any] = base.model_dump(mode="json")
    for school in raw["schools"]:
        if school["id"] in plans:
            school["plans"] = dict(plans[school["id"]])
    path = folder / "small.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_season(path)


def sealed_archive(
    config: SeasonConfig,
    archive: MemoryArchive,
    placed_lines: list[dict[str, Any]],
    created_at: datetime,
    signer: contract.LocalSigner | None = None,
) -> dict[str, bytes]:
    """The season's archive as `enroll audit` reads it: season.json, the private records the lottery
    phase wrote, placements.jsonl, the tie-break; sealed with a local key."""
    prefix = ceremony.archive_key(config.season, "")
    files = {k[len(prefix) :]: v for k, v in archive.files.items() if k.startswith(prefix + "private/")}
    files[contract.SEASON] = contract.canonical_json(contract.season_json(config))
    files[contract.PLACEMENTS] = "".join(
        json.dumps(line, ensure_ascii=False) + "\n" for line in placed_lines
    ).encode()
    tb = tiebreak.draw(config.season, [line["registration_id"] for line in placed_lines], "5eed-release")
    files[contract.TIE_BREAK] = contract.canonical_json(tiebreak.record(tb))
    signer = signer or contract.LocalSigner(key_id="test-release")
    return contract.seal(config.season, files, signer, created_at)
