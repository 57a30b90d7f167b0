"""Registration-wide reads as a Map over the registration shards (issue 14): demand counted per
shard and added up, verification's batches gathered from the shards, and the ASL's shard list.

Each shard's part must add up to exactly what one pass over the season gives: the same demand rows
and the same batches in the same order; a shard missing, counted twice or counted against another
config is refused rather than recorded short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from enrollment.adapters.dynamodb import SHARDS, shard_of
from enrollment.core.config import SeasonConfig
from enrollment.core.ports import put_batches
from enrollment.core.resources import STATE_MACHINE_FILE
from enrollment.registration import demand
from enrollment.registration.season import close, count_shard
from enrollment.verification.season import prepare, prepare_shard, shard_key
from functions.register.close import CloseEvent
from functions.verify.prepare import PrepareEvent


class ShardedStore:
    """The registrations, listed per shard as the DynamoDB adapter lists them; demand rows stored."""

    shards = SHARDS

    def __init__(self, items: Iterable[dict[str, Any]]) -> None:
        self.items = list(items)
        self.stored: list[dict[str, Any]] | None = None

    def registrations(self, season: str) -> Iterator[dict[str, Any]]:
        return iter(self.items)

    def registrations_in_shard(self, season: str, shard: int) -> Iterator[dict[str, Any]]:
        return (i for i in self.items if shard_of(str(i["registration_id"])) == shard)

    def put_demand(self, season: str, rows: Iterable[Mapping[str, Any]]) -> None:
        self.stored = [dict(r) for r in rows]


class Work:
    """The work bucket in memory, JSON round-tripped as S3 stores it."""

    bucket = "work"

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def put_json(self, key: str, value: Any) -> None:
        self.files[key] = json.dumps(value, ensure_ascii=False)

    def get_json(self, key: str) -> Any:
        return json.loads(self.files[key])


def _registrations(config: SeasonConfig, picks: list[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """Registrations at the season's schools and zones (and a few nowhere), from drawn indices."""
    schools = list(config.schools)
    zones = list(config.zones)
    out = []
    for n, (school, zone, grade) in enumerate(picks):
        item: dict[str, Any] = {"registration_id": f"R{n:05d}", "grade": (1, 7)[grade]}
        if school < len(schools):
            item["target_school"] = schools[school].id
        if zone < len(zones):
            item["zone_id"] = zones[zone].id
        out.append(item)
    return out


picks = st.lists(
    st.tuples(st.integers(0, 130), st.integers(0, 100), st.integers(0, 1)), min_size=0, max_size=400
)


@settings(max_examples=40, deadline=None)
@given(picks)
def test_the_shards_counts_add_up_to_the_one_pass_demand(season: SeasonConfig, drawn) -> None:
    # Given registrations at random schools, zones and grades
    items = _registrations(season, drawn)
    store = ShardedStore(items)
    # When each shard is counted apart (in any order) and the counts added up
    parts = [count_shard(season, "2023", n, store=store) for n in reversed(range(SHARDS))]
    summary = close(season, "2023", parts, store=store)
    # Then the stored rows and the summary are those of one pass over every registration
    once = demand.demand(season, items)
    assert store.stored == [row.as_row() for row in once]
    assert summary == demand.summary(once, len(items))
    assert sum(p["registrations"] for p in parts) == len(items)


def test_a_shard_missing_or_counted_twice_is_refused_and_nothing_is_stored(season: SeasonConfig) -> None:
    items = _registrations(season, [(i % 100, i % 90, i % 2) for i in range(200)])
    store = ShardedStore(items)
    parts = [count_shard(season, "2023", n, store=store) for n in range(SHARDS)]
    with pytest.raises(ValueError, match="shards"):
        close(season, "2023", parts[1:], store=store)
    with pytest.raises(ValueError, match="shards"):
        close(season, "2023", [*parts[1:], parts[2]], store=store)
    assert store.stored is None
    # a part counted against another config (another number of rows) is refused too
    short = [{**p, "applicants": p["applicants"][:-1]} if p["shard"] == 3 else p for p in parts]
    with pytest.raises(ValueError, match="rows"):
        close(season, "2023", short, store=store)
    assert store.stored is None


def test_a_shards_counts_are_small_ints_one_per_demand_row(season: SeasonConfig) -> None:
    items = _registrations(season, [(i % 120, i % 95, i % 2) for i in range(3000)])
    part = count_shard(season, "2023", 5, store=ShardedStore(items))
    assert set(part) == {"shard", "registrations", "applicants"}
    assert len(part["applicants"]) == len(demand.row_keys(season)) == len(set(demand.row_keys(season)))
    assert all(isinstance(n, int) and n >= 0 for n in part["applicants"])
    # the Map's whole result at 300,000 applicants (five-digit counts everywhere, pessimistically)
    # stays far under Step Functions' 256 KB
    worst = [
        {"shard": n, "registrations": 99999, "applicants": [99999] * len(part["applicants"])}
        for n in range(SHARDS)
    ]
    assert len(json.dumps(worst, separators=(",", ":"))) < 64 * 1024


@settings(max_examples=25, deadline=None)
@given(st.sets(st.text("0123456789ABCDEF", min_size=8, max_size=8), max_size=300), st.integers(1, 40))
def test_verification_batches_gathered_from_the_shards_are_the_one_pass_batches(
    season: SeasonConfig, ids: set[str], size: int
) -> None:
    config = season.model_copy(
        update={"verification": season.verification.model_copy(update={"batch_size": size})}
    )
    store = ShardedStore({"registration_id": rid} for rid in ids)
    work = Work()
    written = [prepare_shard(config, "2023", n, store=store, work=work) for n in range(SHARDS)]
    assert [w["key"] for w in written] == [shard_key("2023", n) for n in range(SHARDS)]
    out = prepare(config, "2023", written, store=store, work=work)
    batches = work.get_json("seasons/2023/verification/batches.json")
    once = Work()
    expected = put_batches(
        once,
        "seasons/2023/verification/batches.json",
        ids,
        size=size,
        max_concurrency=config.verification.max_concurrency,
        counted="registrations",
    )
    assert out == expected
    assert batches == once.get_json("seasons/2023/verification/batches.json")


def test_verification_refuses_a_missing_shard_or_a_file_that_does_not_match_its_count(
    season: SeasonConfig,
) -> None:
    store = ShardedStore({"registration_id": f"R{n:04d}"} for n in range(100))
    work = Work()
    written = [prepare_shard(season, "2023", n, store=store, work=work) for n in range(SHARDS)]
    with pytest.raises(ValueError, match="shards"):
        prepare(season, "2023", written[:-1], store=store, work=work)
    wrong = [{**w, "registrations": w["registrations"] + 1} if w["shard"] == 7 else w for w in written]
    with pytest.raises(ValueError, match="shard 7"):
        prepare(season, "2023", wrong, store=store, work=work)
    assert "seasons/2023/verification/batches.json" not in work.files


@pytest.mark.parametrize("model", [CloseEvent, PrepareEvent])
def test_the_handlers_take_one_shard_or_every_shards_result_and_nothing_else(model) -> None:
    assert model.model_validate({"season": "2023", "shard": 15}).shard == 15
    for bad in (
        {"season": "2023"},  # neither
        {"season": "2023", "shard": SHARDS},  # no such shard
        {"season": "2023", "shard": -1},
        {"season": "2023", "shard": 0, "shards": []},  # both
        {"season": "2023", "shards": []},  # not every shard
        {"season": "2023", "shard": 0, "extra": 1},
    ):
        with pytest.raises(ValidationError):
            model.model_validate(bad)


def test_the_asl_lists_the_adapters_shards_and_maps_them_without_skipping_one() -> None:
    states = json.loads(STATE_MACHINE_FILE.read_text(encoding="utf-8"))["States"]
    assert states["Grade1RegistrationGate"]["Next"] == "RegistrationShards"
    listed = states["RegistrationShards"]
    assert listed["Type"] == "Pass" and listed["Result"] == list(range(SHARDS))
    for name, function, then in (
        ("CountRegistrations", "${CloseRegistrationFunctionArn}", "CloseRegistration"),
        ("ListRegistrations", "${VerifyPrepareFunctionArn}", "PrepareVerification"),
    ):
        m = states[name]
        assert m["Type"] == "Map" and m["ItemsPath"] == listed["ResultPath"], name
        assert m["ItemProcessor"]["ProcessorConfig"]["Mode"] == "INLINE" and m["MaxConcurrency"] == SHARDS
        assert not {k for k in m if k.startswith("ToleratedFailure")}, name
        (task,) = m["ItemProcessor"]["States"].values()
        assert task["Parameters"]["FunctionName"] == function and "Catch" not in task, (
            name
        )  # a failure fails the Map
        assert task["Parameters"]["Payload"] == {"season.$": "$.season", "shard.$": "$.shard"}
        # the gathering task reads the Map's results where the Map put them, and overwrites them
        gather = states[m["Next"]]
        assert m["Next"] == then and gather["Parameters"]["Payload"]["shards.$"] == m["ResultPath"]
        assert gather["ResultPath"] == m["ResultPath"] or m["ResultPath"].startswith(gather["ResultPath"])
        # the gathering task never skips a shard: what fails pauses the season at that very task
        (caught,) = gather["Catch"]
        assert caught["ErrorEquals"] == ["States.ALL"] and caught["Next"] == f"Paused{m['Next']}"
        assert states[caught["Next"]]["Next"] == m["Next"]  # resumed: the same task again
    assert states["CloseRegistration"]["Next"] == "ListRegistrations"
