"""The erasure at the end of the retention period (enrollment/core/retention.py, docs/RETENTION.md):
refused before its date and before the seal, paged and resumable, idempotent, recorded."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from enrollment.adapters.dynamodb import registrations_key, shard_of
from enrollment.core.config import ConfigError, SeasonConfig, load_season
from enrollment.core.retention import (
    ERASED,
    ERASED_AT,
    NotYet,
    StoredRecord,
    erase_season,
    erased_item,
    statistics_of,
)

SEASON = "2023"
SHARDS = 4


class MemoryErasureStore:
    """The season table's items in memory, read as the DynamoDB adapter reads them (no scan)."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.runs: list[dict[str, Any]] = []
        self._progress: dict[str, Any] = {}
        self.queries = 0

    @property
    def shards(self) -> int:
        return SHARDS

    def put(self, item: dict[str, Any]) -> None:
        self.items[(item["pk"], item["sk"])] = copy.deepcopy(item)

    def registration_page(
        self, season: str, shard: int, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        self.queries += 1
        listed = sorted(
            (i for i in self.items.values() if i.get("gsi1pk") == registrations_key(season, shard)),
            key=lambda i: str(i["gsi1sk"]),
        )
        page = [i for i in listed if after is None or str(i["gsi1sk"]) > after][:limit]
        return [str(i["registration_id"]) for i in page], (str(page[-1]["gsi1sk"]) if page else None)

    def _records(self, items: Iterable[dict[str, Any]]) -> list[StoredRecord]:
        self.queries += 1
        out = []
        for item in items:
            where = {k: item[k] for k in ("pk", "sk", "gsi1pk", "gsi1sk", "type") if k in item}
            kind = item.get("type") or ("registration" if item["sk"] == "REG" else "other")
            fields = {k: v for k, v in copy.deepcopy(item).items() if k not in where}
            out.append(StoredRecord(kind, fields, where))
        return out

    def registration_records(self, registration_id: str) -> list[StoredRecord]:
        return self._records(i for (pk, _), i in sorted(self.items.items()) if pk == f"REG#{registration_id}")

    def complaints(self, season: str) -> list[StoredRecord]:
        return self._records(
            i for i in self.items.values() if i.get("gsi1pk") == f"SEASON#{season}#COMPLAINT"
        )

    def manual_notices(self, season: str, district: str) -> list[StoredRecord]:
        pk = f"SEASON#{season}#NOTICES-MANUAL#{district}"
        return self._records(i for (p, _), i in sorted(self.items.items()) if p == pk)

    def replace(self, records: Iterable[StoredRecord]) -> None:
        for r in records:
            item = {**r.fields, **r.where}
            assert (item["pk"], item["sk"]) in self.items, "the erasure only rewrites items that exist"
            self.put(item)

    def forget_parent_codes(self, registration_ids: Iterable[str]) -> None:
        for rid in registration_ids:
            self.items.pop((f"PARENT#{rid}", "CODE"), None)

    def progress(self, season: str) -> dict[str, Any]:
        return copy.deepcopy(self._progress)

    def put_progress(self, season: str, progress: Mapping[str, Any]) -> None:
        self._progress = copy.deepcopy(dict(progress))

    def put_run(self, season: str, run: Mapping[str, Any]) -> None:
        self.runs.append(dict(run))


class MemoryFiles:
    def __init__(self, keys: Iterable[str]) -> None:
        self.keys = set(keys)

    def delete_under(self, prefix: str) -> int:
        gone = {k for k in self.keys if k.startswith(prefix)}
        self.keys -= gone
        return len(gone)


def request(n: int) -> dict[str, Any]:
    """A synthetic family's form, as the registration stores it."""
    return {
        "season": SEASON,
        "grade": 1,
        "category": "public",
        "child": {
            "name": f"测试童{n}",
            "sex": "女",
            "birth_date": "2016-03-04",
            "id_type": "resident-id",
            "id_number": f"22010220160304{n:03d}X",
        },
        "guardians": [
            {
                "name": f"测试家长{n}",
                "relationship": "母亲",
                "id_type": "resident-id",
                "id_number": f"22010219880506{n:03d}2",
                "phone": f"139{n:08d}",
            }
        ],
        "home_address": {"district": "CY", "road": "测试路", "number": n + 1, "detail": f"{n}单元{n}室"},
        "residence": {"basis": "hukou", "property": {"deed_number": f"DEED-{n:06d}", "owner": "母亲"}},
    }


def registration(n: int) -> list[dict[str, Any]]:
    """Every item a season leaves under one registration (as the stores write them)."""
    rid = f"r{n:05d}"
    pk = f"REG#{rid}"
    return [
        {
            "pk": pk,
            "sk": "REG",
            "gsi1pk": registrations_key(SEASON, shard_of(rid) % SHARDS),
            "gsi1sk": f"1#CY#{rid}",
            "registration_id": rid,
            "season": SEASON,
            "grade": 1,
            "category": "public",
            "district": "CY",
            "zone_id": "Z-CY-1-01",
            "target_school": "G-CY-01",
            "special_claims": [],
            "status": "registered",
            "created_at": "2023-05-21T09:00:00+08:00",
            "child_key": f"key-{n}",
            "masked_id": "220102********001X",
            "request": request(n),
        },
        {
            "pk": pk,
            "sk": "CHECK#housing",
            "type": "check",
            "registration_id": rid,
            "agency": "housing",
            "status": "answered",
            "reason": "found",
            "asked_at": "2023-06-01T09:00:00+08:00",
            "facts": {"owner_name": f"测试家长{n}", "address": f"测试路{n + 1}号"},
        },
        {
            "pk": pk,
            "sk": "CHECK#community",  # a home visit's finding
            "type": "check",
            "registration_id": rid,
            "agency": "community",
            "status": "answered",
            "reason": "lives-there",
            "asked_at": "2023-06-10T09:00:00+08:00",
            "facts": {"visited": f"{n}单元{n}室", "lives_there": True},
        },
        {
            "pk": pk,
            "sk": "VERDICT",
            "type": "verdict",
            "gsi1pk": f"SEASON#{SEASON}#VERDICT",
            "gsi1sk": f"CY#eligible#system#{rid}",
            "registration_id": rid,
            "status": "eligible",
            "facts": {"hukou-in-zone": True},
            "reasons": [],
        },
        {
            "pk": pk,
            "sk": "DECISION#2023-06-12T01:00:00.000000Z#0000",
            "type": "decision",
            "registration_id": rid,
            "action": "confirm",
            "outcome": "eligible",
            "reason": f"核实测试家长{n}的房产",
            "actor": "cy-staff-01",
        },
        {
            "pk": pk,
            "sk": "NOTICE",
            "type": "notice",
            "registration_id": rid,
            "school_id": "G-CY-01",
            "status": "manual",
            "reason": "姓名含生僻字",
            "code_points": [0x20000 + n],
        },
        {"pk": f"PARENT#{rid}", "sk": "CODE", "type": "parent-code", "code_hash": "h", "version": 1},
    ]


@pytest.fixture
def config(season: SeasonConfig) -> SeasonConfig:
    return season


@pytest.fixture
def store() -> MemoryErasureStore:
    s = MemoryErasureStore()
    for n in range(23):
        for item in registration(n):
            s.put(item)
    s.put(
        {
            "pk": "COMPLAINT#c1",
            "sk": "COMPLAINT",
            "type": "complaint",
            "gsi1pk": f"SEASON#{SEASON}#COMPLAINT",
            "gsi1sk": "CY#r00001#2023-07-01T00:00:00.000000Z#c1",
            "registration_id": "r00001",
            "district": "CY",
            "text": "测试家长1投诉：电话13900000001",
            "answers": [{"text": "已联系测试家长1", "by": "cy-staff-01", "district": "CY", "at": "x"}],
        }
    )
    s.put(
        {
            "pk": f"SEASON#{SEASON}#NOTICES-MANUAL#CY",
            "sk": "REG#r00002",
            "type": "notice-manual",
            "registration_id": "r00002",
            "reason": "姓名含生僻字",
            "code_points": [0x20002],
        }
    )
    return s


def files() -> MemoryFiles:
    return MemoryFiles(
        [
            f"seasons/{SEASON}/notices/r00001.pdf",
            f"seasons/{SEASON}/verification/batches.json",
            f"exports/{SEASON}/abc/名单.xlsx",
            "seasons/2024/notices/r99999.pdf",  # another season's: not this erasure's
        ]
    )


def after_retention(config: SeasonConfig) -> datetime:
    return config.erase_from + timedelta(hours=3)


def personal_values() -> list[str]:
    out = []
    for n in range(23):
        r = request(n)
        out += [r["child"]["name"], r["child"]["id_number"], r["guardians"][0]["name"]]
        out += [r["guardians"][0]["id_number"]]
        out += [
            r["guardians"][0]["phone"],
            r["home_address"]["detail"],
            r["residence"]["property"]["deed_number"],
        ]
    return out


def test_the_retention_date_is_term_start_plus_the_filing_and_the_appeal_period(config: SeasonConfig) -> None:
    r = config.retention
    assert (r.status_filing_days, r.appeal_days) == (30, 183)
    assert r.erase_on(config.calendar) == config.calendar.term_start + timedelta(days=213)
    assert config.erase_from == config.day_start(date(2024, 4, 1))  # 2023-09-01 + 213 days
    assert config.erase_from.tzinfo == config.tz


def test_a_log_retention_cloudwatch_does_not_offer_is_refused_naming_the_field(tmp_path: Any) -> None:
    raw = load_season("jilin-2023").model_dump(mode="json")
    raw["retention"] = {"log_days": 100}
    path = tmp_path / "s.yaml"
    import yaml

    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_season(path)
    assert e.value.problems[0][0] == "retention.log_days" and "180" in e.value.problems[0][1]


def test_before_the_retention_date_nothing_is_read_or_written(
    config: SeasonConfig, store: MemoryErasureStore
) -> None:
    before = copy.deepcopy(store.items)
    work = files()
    asked: list[bool] = []

    def sealed() -> bool:
        asked.append(True)
        return True

    with pytest.raises(NotYet) as e:
        erase_season(
            config, store=store, files=work, now=config.erase_from - timedelta(seconds=1), sealed=sealed
        )
    assert "2024-04-01" in e.value.message_zh and "2024-04-01" in e.value.message_en
    assert store.items == before and store.runs == [] and store.queries == 0 and len(work.keys) == 4
    assert asked == []  # the archive is not even asked


def test_an_unsealed_season_is_not_erased(config: SeasonConfig, store: MemoryErasureStore) -> None:
    before = copy.deepcopy(store.items)
    with pytest.raises(NotYet, match="not sealed"):
        erase_season(config, store=store, files=files(), now=after_retention(config), sealed=lambda: False)
    assert store.items == before and store.runs == []


def test_the_erasure_removes_every_personal_field_and_keeps_ids_and_codes(
    config: SeasonConfig, store: MemoryErasureStore
) -> None:
    work = files()
    run = erase_season(config, store=store, files=work, now=after_retention(config), sealed=lambda: True)
    assert run["done"] is True
    assert (run["registrations"], run["complaints"], run["manual_notices"], run["files"]) == (23, 1, 1, 3)
    # 23 registrations × (REG, two checks, decision, notice); the verdict had nothing personal
    assert run["items"] == 23 * 5
    text = repr(store.items)
    leaked = [v for v in personal_values() if v in text]
    assert leaked == []
    assert "测试家长1" not in text and "13900000001" not in text  # the complaint's text and answer
    assert work.keys == {"seasons/2024/notices/r99999.pdf"}
    assert not any(pk.startswith("PARENT#") for pk, _ in store.items)
    # what stays: the pseudonymised record for statistics, the codes, the staff's who and what
    reg = store.items[("REG#r00003", "REG")]
    assert {
        k: reg[k] for k in ("registration_id", "grade", "district", "zone_id", "target_school", "status")
    } == {
        "registration_id": "r00003",
        "grade": 1,
        "district": "CY",
        "zone_id": "Z-CY-1-01",
        "target_school": "G-CY-01",
        "status": "registered",
    }
    assert reg["statistics"] == {
        "sex": "女",
        "birth_year": 2016,
        "id_type": "resident-id",
        "residence_basis": "hukou",
        "has_property": True,
    }
    assert "request" not in reg and "child_key" not in reg and "masked_id" not in reg
    assert reg["gsi1pk"] == registrations_key(SEASON, shard_of("r00003") % SHARDS)  # still listed
    check = store.items[("REG#r00003", "CHECK#community")]
    assert check["facts"] == {} and check["reason"] == "lives-there" and check["status"] == "answered"
    decision = store.items[("REG#r00003", "DECISION#2023-06-12T01:00:00.000000Z#0000")]
    assert (
        decision["reason"] == ERASED
        and decision["actor"] == "cy-staff-01"
        and decision["outcome"] == "eligible"
    )
    notice = store.items[("REG#r00003", "NOTICE")]
    assert "code_points" not in notice and notice["school_id"] == "G-CY-01"
    verdict = store.items[("REG#r00003", "VERDICT")]
    assert ERASED_AT not in verdict and verdict["facts"] == {"hukou-in-zone": True}
    complaint = store.items[("COMPLAINT#c1", "COMPLAINT")]
    assert complaint["text"] == ERASED and complaint["answers"][0]["by"] == "cy-staff-01"
    # the run is recorded: when, and what it did
    assert store.runs == [run] and run["at"] == after_retention(config).astimezone(config.tz).isoformat()


def test_a_run_cut_short_is_taken_up_by_the_next_and_a_finished_erasure_does_nothing(
    config: SeasonConfig, store: MemoryErasureStore
) -> None:
    now = after_retention(config)
    budget = iter([True, True, True])  # three pages of 4 registrations, then the budget is spent
    first = erase_season(
        config,
        store=store,
        files=files(),
        now=now,
        sealed=lambda: True,
        keep_going=lambda: next(budget, False),
        page=4,
    )
    assert first["done"] is False and 3 <= first["registrations"] <= 12
    erased_first = [k for k in store.items if k[1] == "REG" and ERASED_AT in store.items[k]]
    assert len(erased_first) == first["registrations"]
    second = erase_season(
        config, store=store, files=files(), now=now + timedelta(days=1), sealed=lambda: True, page=4
    )
    assert second["done"] is True and first["registrations"] + second["registrations"] == 23
    assert sorted(first["shards_done"] + second["shards_done"]) == list(range(SHARDS))
    erased = {k: v for k, v in store.items.items() if ERASED_AT in v}
    assert {v[ERASED_AT] for k, v in erased.items() if k[1] == "REG"} == {
        now.astimezone(config.tz).isoformat(),
        (now + timedelta(days=1)).astimezone(config.tz).isoformat(),
    }
    # once done, a run reads its progress and stops; nothing rewritten, nothing recorded
    before, queries = copy.deepcopy(store.items), store.queries
    third = erase_season(config, store=store, files=files(), now=now + timedelta(days=2), sealed=lambda: True)
    assert third["already"] is True and store.items == before and store.queries == queries
    assert len(store.runs) == 2


def test_erasing_again_from_scratch_changes_nothing(config: SeasonConfig, store: MemoryErasureStore) -> None:
    erase_season(config, store=store, files=files(), now=after_retention(config), sealed=lambda: True)
    erased = copy.deepcopy(store.items)
    store.put_progress(SEASON, {})  # the progress lost: every registration read again
    again = erase_season(
        config,
        store=store,
        files=files(),
        now=after_retention(config) + timedelta(days=1),
        sealed=lambda: True,
    )
    assert again["done"] is True and again["registrations"] == 0 and again["items"] == 0
    assert store.items == erased


def test_an_item_without_personal_fields_is_left_as_it_is() -> None:
    placement = {"registration_id": "r1", "school_id": "G-CY-01", "route": "zone"}
    assert erased_item("placement", placement, "2024-04-01T03:00:00+08:00") is None
    erased_already = {**placement, ERASED_AT: "x", "name": "测试"}
    assert erased_item("placement", erased_already, "y") is None
    assert statistics_of({})["birth_year"] is None
