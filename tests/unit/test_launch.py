"""Starting a season and its status (issue 15, enrollment/core/launch.py) over in-memory ports: the
config's digest as documented, one execution per season (a second start, a race, a finished one),
refusals naming both digests, and the status's phase, deadline, gates and dead letters."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
import yaml

from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.launch import (
    DigestMismatch,
    Execution,
    ExecutionExists,
    Schedule,
    SeasonStart,
    WrongSeason,
    canonical_json,
    config_digest,
    dead_letter_summary,
    execution_name,
    season_status,
    start_season,
)
from enrollment.core.phases import phases
from enrollment.core.ports import SeasonState


class Workflow:
    """A state machine's executions by name, as Step Functions keeps them."""

    state_machine_arn = "arn:aws-cn:states:cn-north-1:123456789012:stateMachine:enrollment-x-season"

    def __init__(self, race: bool = False) -> None:
        self.executions: dict[str, Execution] = {}
        self.race = race  # another start lands between our look and our start

    def execution(self, name: str) -> Execution | None:
        return self.executions.get(name)

    def start(self, name: str, payload: Mapping[str, Any]) -> str:
        if self.race:
            self.race = False
            self._add(name, {"started_by": "someone-else"})
        if name in self.executions:
            raise ExecutionExists(name)
        return self._add(name, payload).arn

    def _add(self, name: str, payload: Mapping[str, Any]) -> Execution:
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        made = Execution(arn, name, "RUNNING", datetime(2023, 5, 12, 9), None, dict(payload))
        self.executions[name] = made
        return made


class Store:
    def __init__(self, gates: dict[str, dict[str, Any]] | None = None) -> None:
        self.gates = gates or {}

    def get_gate(self, season: str, phase: str) -> dict[str, Any] | None:
        return self.gates.get(phase)

    def season_state(self, season: str) -> SeasonState:
        return SeasonState(frozenset(), {})


class Schedules:
    def describe(self, name: str) -> Schedule | None:
        return Schedule(name, "at(2023-05-20T00:00:00)", "Asia/Shanghai", "ENABLED")


class Counts:
    def __init__(self, dead: list[dict[str, Any]] | None = None) -> None:
        self.dead = dead or []

    def registrations_per_grade(self, season: str, grades: tuple[int, ...]) -> dict[int, int]:
        return dict.fromkeys(grades, 3)

    def verdicts_per_status(self, season: str) -> dict[str, int]:
        return {"eligible": 2}

    def placements_per_route(self, season: str, school_ids: tuple[str, ...]) -> dict[str, int]:
        return {}

    def season_dead_letters(self, season: str) -> list[dict[str, Any]]:
        return self.dead


NOW = datetime.fromisoformat("2023-05-12T09:00:00+08:00")


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("jilin-2023")


def test_the_digest_is_sha256_of_the_canonical_json_as_documented(config: SeasonConfig) -> None:
    text = canonical_json(config).decode("utf-8")
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    assert "\\u" not in text and config.city in text  # Chinese as itself, not escaped
    assert config_digest(config) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert len(config_digest(config)) == 64


def test_the_digest_ignores_layout_and_spelled_out_defaults_but_not_values(
    config: SeasonConfig, tmp_path: Any
) -> None:
    raw = config.model_dump(mode="json")
    shuffled = dict(reversed(list(raw.items())))  # another key order, every default spelled out
    path = tmp_path / "again.yaml"
    path.write_text("# a comment\n" + yaml.safe_dump(shuffled, allow_unicode=True), encoding="utf-8")
    assert config_digest(load_season(path)) == config_digest(config)
    raw["calendar"].pop("class_assignment_days_before_term")  # a default left out
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert config_digest(load_season(path)) == config_digest(config)
    raw["schools"][0]["name"] += "分校"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert config_digest(load_season(path)) != config_digest(config)


def test_starting_twice_reports_the_existing_execution(config: SeasonConfig) -> None:
    workflow = Workflow()
    digest = config_digest(config)
    first = start_season(config, workflow, digest, actor="city-staff-01", now=NOW)
    assert first["result"] == "started" and first["execution_name"] == execution_name(config.season)
    started = SeasonStart.model_validate(first["input"])
    assert (started.season, started.config_name, started.config_digest) == (
        config.season,
        config.name,
        digest,
    )
    assert started.started_by == "city-staff-01" and started.started_at == NOW
    again = start_season(config, workflow, digest, actor="city-staff-02", now=NOW + timedelta(hours=1))
    assert again["result"] == "already-running" and again["execution_arn"] == first["execution_arn"]
    assert again["execution"]["started_by"] == "city-staff-01"  # the first start's record, unchanged
    assert len(workflow.executions) == 1


def test_a_start_that_loses_a_race_reports_the_winner(config: SeasonConfig) -> None:
    workflow = Workflow(race=True)
    answer = start_season(config, workflow, config_digest(config), actor="city-staff-01", now=NOW)
    assert answer["result"] == "already-running" and answer["execution"]["started_by"] == "someone-else"


def test_a_finished_season_is_reported_not_started_again(config: SeasonConfig) -> None:
    workflow = Workflow()
    name = execution_name(config.season)
    workflow.executions[name] = Execution(
        "arn:x", name, "SUCCEEDED", datetime(2023, 5, 12), datetime(2023, 9, 1), {}
    )
    answer = start_season(config, workflow, config_digest(config), actor="c", now=NOW)
    assert answer["result"] == "already-finished" and answer["execution"]["status"] == "SUCCEEDED"
    assert answer["result_zh"] == "招生季的流程已结束，未重复启动"


def test_a_digest_that_is_not_the_deployed_one_is_refused_naming_both(config: SeasonConfig) -> None:
    workflow = Workflow()
    deployed = "a" * 64
    with pytest.raises(DigestMismatch) as refused:
        start_season(config, workflow, deployed, actor="c", now=NOW)
    assert refused.value.status == 409
    for text in (refused.value.message_zh, refused.value.message_en):
        assert deployed in text and config_digest(config) in text
    with pytest.raises(DigestMismatch) as confirmed:
        start_season(config, workflow, config_digest(config), actor="c", now=NOW, confirmed_digest="b" * 64)
    assert "b" * 64 in confirmed.value.message_zh and config_digest(config) in confirmed.value.message_zh
    with pytest.raises(DigestMismatch, match=r"\(none\)"):
        start_season(config, workflow, "", actor="c", now=NOW)
    with pytest.raises(WrongSeason):
        start_season(config, workflow, config_digest(config), actor="c", now=NOW, season="1999")
    assert workflow.executions == {}


def test_the_status_before_the_start_and_at_a_gate(config: SeasonConfig) -> None:
    workflow = Workflow()
    before = season_status(
        config, workflow=workflow, store=Store(), schedules=Schedules(), counts=Counts(), now=NOW
    )
    assert before["status"] == "not-started" and before["execution"] is None
    assert before["phase"] == phases(config)[0].name and before["open_gates"] == []
    assert before["next_deadline"]["schedule"]["name"] == f"deadline-{phases(config)[0].name}"
    assert before["counts"]["registrations_per_grade"] == {"1": 3, "7": 3}
    start_season(config, workflow, config_digest(config), actor="c", now=NOW)
    first, second = phases(config)[:2]
    store = Store({first.name: {"status": "advanced"}, second.name: {"status": "open", "opened_at": "x"}})
    later = first.deadline + timedelta(days=30)
    at_gate = season_status(
        config, workflow=workflow, store=store, schedules=Schedules(), counts=Counts(), now=later
    )
    assert at_gate["status"] == "RUNNING" and at_gate["status_zh"] == "运行中"
    assert at_gate["phase"] == second.name
    (gate,) = at_gate["open_gates"]
    assert gate["phase"] == second.name and gate["overdue"] is True


def test_dead_letters_are_counted_per_district_and_phase_and_the_latest_listed() -> None:
    records = [
        {"district": d, "phase": p, "item_id": f"i{n}", "error": "E", "recorded_at": f"2023-06-{n:02d}"}
        for n, (d, p) in enumerate([("CH", "verification")] * 3 + [("CY", "notices")] * 4, start=1)
    ]
    every = dead_letter_summary(records, None)
    assert every["total"] == 7
    assert every["per_district_phase"] == [
        {"district": "CH", "phase": "verification", "count": 3},
        {"district": "CY", "phase": "notices", "count": 4},
    ]
    assert [r["item_id"] for r in every["latest"]] == ["i7", "i6", "i5", "i4", "i3"]
    own = dead_letter_summary(records, "CH")
    assert own["total"] == 3 and {r["district"] for r in own["latest"]} == {"CH"}
