"""One suite, two engines: the store adapters on moto (what AWS is tested against) and on the embedded
SQLite engine (enrollment/local/sqlite_dynamo.py, for rehearsals at a city's size).

Every test runs once per engine with the same assertions, so an engine that answers differently fails.
The adapters are exercised through their public methods; a few raw requests pin what the adapters rely
on (the refused condition's error code, numbers as Decimal, the order of keys, 1 MB pages). Powertools'
idempotency layer runs on both through the low-level client seam (`table.dynamodb_client()`), and the
same requests are priced in the same request units on both (moto's estimated by the time-budget
counting in enrollment/local/runtime.py, the SQLite engine's reported by the engine).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from unittest import mock

import boto3
import pytest
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from enrollment.adapters import table as table_module
from enrollment.adapters.complaint_store import DynamoComplaintStore
from enrollment.adapters.console_reads import ConsoleReads
from enrollment.adapters.dynamodb import SHARDS, DynamoStore, shard_of
from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.adapters.notifications import DynamoNoticeStore
from enrollment.adapters.parent_store import DynamoParentStore
from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.adapters.sms_cap_store import DynamoSmsCapStore
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.ports import Conflict, DuplicateChild, NotFound
from enrollment.core.sms_caps import MinuteCount, PhoneSends
from enrollment.local import calls
from enrollment.local.runtime import LOCAL_ENV, _counted_calls, create_season_table
from enrollment.local.sqlite_dynamo import SqliteDynamo
from enrollment.people.complaints import Answer, Complaint
from enrollment.people.parents import CodeRecord, ParentSession
from enrollment.placement.place import StaffDecision
from enrollment.verification.spotcheck import SpotCheckOutcome, SpotCheckSample
from enrollment.verification.verdicts import Check, Decision, Verdict
from enrollment.verification.visits import OpenVisit

pytestmark = pytest.mark.xdist_group("table-engines")

TABLE = "contract-season"
IDEMPOTENCY = "contract-idempotency"
SEASON = "2023"
T0 = datetime(2023, 6, 12, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["moto", "sqlite"])
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """The season table (keys pk/sk, index gsi1) on one engine; stores made inside use it."""
    with mock.patch.dict(os.environ, LOCAL_ENV):
        if request.param == "moto":
            from moto import mock_aws

            with mock_aws():
                create_season_table(boto3.client("dynamodb"), TABLE)
                boto3.client("dynamodb").create_table(
                    TableName=IDEMPOTENCY,
                    BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                )
                yield "moto"
        else:
            with (
                SqliteDynamo() as sqlite,
                mock.patch.object(table_module, "ENGINE", sqlite.resource),
                mock.patch.object(table_module, "ENGINE_CLIENT", sqlite.client),
            ):
                sqlite.create_table(TABLE)
                sqlite.create_table(IDEMPOTENCY, hash_key="id", range_key=None)
                yield "sqlite"


def _raw() -> Any:
    return table_module.dynamodb_resource().Table(TABLE)


def _registration(rid: str, grade: int = 1, district: str = "CY", pad: int = 0) -> dict[str, Any]:
    return {
        "registration_id": rid,
        "season": SEASON,
        "grade": grade,
        "district": district,
        "target_school": f"S-{district}-1",
        "zone_id": f"{district}-Z1",
        "request": {"child": {"name": "小明", "id_number": "x" * 18}, "notes": "备注" * pad},
        "submitted_at": "2023-05-21T08:00:00+08:00",
    }


# Registrations and the season's control items ------------------------------------------------------


def test_registrations_are_one_per_child_counted_listed_and_batched(engine: str) -> None:
    store = DynamoStore(TABLE)
    ids = [f"R{i:04d}" for i in range(130)]
    for i, rid in enumerate(ids):
        store.create_registration(
            _registration(rid, grade=7 if i % 3 == 0 else 1, district="CY" if i % 2 else "NG")
        )
    with pytest.raises(DuplicateChild):
        store.create_registration(_registration(ids[5]))

    got = store.get_registration(ids[5])
    assert got["request"]["child"]["name"] == "小明"
    assert got["grade"] == 1 and isinstance(got["grade"], Decimal)
    assert "pk" not in got and "gsi1sk" not in got
    with pytest.raises(NotFound):
        store.get_registration("R-none")

    listed = [r["registration_id"] for r in store.registrations(SEASON)]
    expected = sorted(ids, key=lambda rid: _registration_order(rid, ids))
    assert listed == expected

    counts = store.live_counts(SEASON)
    assert counts[("school", "S-CY-1", 1)] + counts[("school", "S-CY-1", 7)] == 65
    assert counts[("zone", "NG-Z1", 7)] == sum(1 for i in range(0, 130, 2) if i % 3 == 0)

    wanted = [*ids[::-1], "R-none-1", "R-none-2", ids[0]]  # > 100 keys, some twice, some missing
    batch = store.get_registrations(wanted)
    assert sorted(batch) == sorted(ids)
    assert batch[ids[7]]["registration_id"] == ids[7]


def test_each_shard_lists_its_own_registrations_in_index_order(engine: str) -> None:
    store = DynamoStore(TABLE)
    ids = [f"R{i:04d}" for i in range(130)]
    for i, rid in enumerate(ids):
        store.create_registration(
            _registration(rid, grade=7 if i % 3 == 0 else 1, district="CY" if i % 2 else "NG")
        )
    assert store.shards == SHARDS
    seen: list[str] = []
    for shard in range(store.shards):
        listed = [r["registration_id"] for r in store.registrations_in_shard(SEASON, shard)]
        assert all(shard_of(rid) == shard for rid in listed), shard
        assert listed == sorted(listed, key=lambda rid: _registration_order(rid, ids)), shard
        seen += listed
    # the shards together are the season, each registration once, as the merged listing has it
    assert sorted(seen) == sorted(r["registration_id"] for r in store.registrations(SEASON)) == ids
    first = next(store.registrations_in_shard(SEASON, shard_of(ids[0])))
    assert "gsi1pk" not in first and "pk" not in first and isinstance(first["grade"], Decimal)
    assert list(store.registrations_in_shard("1999", 0)) == []
    with pytest.raises(ValueError, match="shard 16"):
        store.registrations_in_shard(SEASON, SHARDS)


def test_a_registration_is_replaced_only_as_read_and_its_counts_move_with_it(engine: str) -> None:
    """An edit, a withdrawal, a registration again (issue 19): each conditional on the item as read."""
    store = DynamoStore(TABLE)
    store.create_registration({**_registration("R-A"), "status": "registered"})
    store.create_registration({**_registration("R-B"), "status": "registered"})
    first = store.get_registration("R-A")
    assert store.live_counts(SEASON)[("school", "S-CY-1", 1)] == 2

    # An edit to another school and zone: stored as version 1, the counts moved
    edited = {**first, "target_school": "S-NG-1", "zone_id": None, "changes": [{"kind": "edited"}]}
    store.replace_registration(edited, previous=first)
    now = store.get_registration("R-A")
    assert now["target_school"] == "S-NG-1" and now["version"] == 1 and now["changes"] == [{"kind": "edited"}]
    counts = store.live_counts(SEASON)
    assert counts[("school", "S-CY-1", 1)] == 1 and counts[("school", "S-NG-1", 1)] == 1
    assert counts[("zone", "CY-Z1", 1)] == 1

    # A change made from the old copy loses, and changes nothing
    with pytest.raises(Conflict):
        store.replace_registration({**first, "status": "withdrawn"}, previous=first)
    assert store.get_registration("R-A") == now and store.live_counts(SEASON) == counts

    # Withdrawn: counted nowhere, listed nowhere, still read by id
    store.replace_registration({**now, "status": "withdrawn"}, previous=now)
    gone = store.get_registration("R-A")
    assert gone["status"] == "withdrawn" and gone["version"] == 2
    assert store.live_counts(SEASON)[("school", "S-NG-1", 1)] == 0
    assert [r["registration_id"] for r in store.registrations(SEASON)] == ["R-B"]
    assert [r["registration_id"] for r in store.registrations_in_shard(SEASON, shard_of("R-A"))] == (
        ["R-B"] if shard_of("R-B") == shard_of("R-A") else []
    )
    with pytest.raises(Conflict):  # a second withdrawal made from the registered copy
        store.replace_registration({**now, "status": "withdrawn"}, previous=now)

    # Registered again: counted and listed again
    store.replace_registration({**_registration("R-A"), "status": "registered"}, previous=gone)
    assert store.live_counts(SEASON)[("school", "S-CY-1", 1)] == 2
    assert sorted(r["registration_id"] for r in store.registrations(SEASON)) == ["R-A", "R-B"]
    with pytest.raises(ValueError, match="its own id"):
        store.replace_registration({**_registration("R-B"), "status": "registered"}, previous=gone)


def _registration_order(rid: str, ids: list[str]) -> str:
    i = ids.index(rid)
    return f"{7 if i % 3 == 0 else 1}#{'CY' if i % 2 else 'NG'}#{rid}"


def test_gates_open_close_and_refuse_as_the_workflow_expects(engine: str) -> None:
    store = DynamoStore(TABLE)
    store.put_gate_open(SEASON, "review", {"status": "open", "token": "t-1", "opened_at": "a"})
    store.put_gate_open(SEASON, "review", {"status": "open", "token": "t-2", "opened_at": "b"})  # a retry
    assert store.get_gate(SEASON, "review") == {
        "pk": f"SEASON#{SEASON}",
        "sk": "GATE#review",
        "status": "open",
        "token": "t-2",
        "opened_at": "b",
    }
    store.set_gate_deadline(SEASON, "review", "2023-06-30")
    store.close_gate(SEASON, "review", {"status": "advanced", "advanced_by": "city", "count": 3})
    gate = store.get_gate(SEASON, "review")
    assert gate is not None and gate["status"] == "advanced" and gate["count"] == Decimal(3)
    assert gate["deadline"] == "2023-06-30" and gate["token"] == "t-2"
    with pytest.raises(Conflict):
        store.close_gate(SEASON, "review", {"status": "advanced"})
    with pytest.raises(Conflict):
        store.put_gate_open(SEASON, "review", {"status": "open"})
    with pytest.raises(ClientError) as refused:
        store.set_gate_deadline(SEASON, "no-such-gate", "2023-07-01")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert store.get_gate(SEASON, "no-such-gate") is None
    assert store.season_state(SEASON).advanced_gates == frozenset({"review"})


def test_window_extensions_and_demand_rows_are_written_in_batches_and_read_in_key_order(engine: str) -> None:
    store = DynamoStore(TABLE)
    store.put_window_extension(SEASON, 1, {"extended_to": "2023-05-30", "extended_at": "2023-05-25T10:00"})
    store.put_window_extension(SEASON, 1, {"extended_to": "2023-06-02", "extended_at": "2023-05-28T10:00"})
    rows = [
        {"scope": "school", "id": f"S-{i:03d}", "grade": 1, "applicants": i, "plan": 40} for i in range(60)
    ]
    store.put_demand(SEASON, reversed(rows))
    assert store.demand(SEASON) == rows
    state = store.season_state(SEASON)
    assert {k: v.isoformat() for k, v in state.extended_to.items()} == {1: "2023-06-02"}
    history = [i["sk"] for i in store.season_items(SEASON) if str(i["sk"]).startswith("WINDOW#")]
    assert history == ["WINDOW#1", "WINDOW#1#2023-05-25T10:00", "WINDOW#1#2023-05-28T10:00"]


def test_dead_letters_and_begins_with_follow_utf8_byte_order(engine: str) -> None:
    store = DynamoStore(TABLE)
    names = ["z", "Z", "é", "朝阳", "～", "😀", "a b", "a!", "\u00ff", "\U0001f600x", "ā"]
    for name in names:
        assert store.put_dead_letter(
            {"season": SEASON, "district": "CY", "phase": "verify", "item_id": name, "error": "x"}
        )
        assert not store.put_dead_letter(
            {"season": SEASON, "district": "CY", "phase": "verify", "item_id": name, "error": "again"}
        )
    store.put_dead_letter(
        {"season": SEASON, "district": "CY2", "phase": "verify", "item_id": "a", "error": "x"}
    )
    found = [d["item_id"] for d in store.dead_letters(SEASON, "CY")]
    assert found == sorted(names, key=lambda n: n.encode())
    assert all(d["error"] == "x" for d in store.dead_letters(SEASON, "CY"))
    raw = _raw()
    backwards = raw.query(
        KeyConditionExpression=Key("pk").eq(f"SEASON#{SEASON}#DEADLETTER")
        & Key("sk").between("CY#verify#{", "CY$"),
        ScanIndexForward=False,
    )["Items"]
    assert [i["item_id"] for i in backwards] == sorted((n for n in names if n > "z"), reverse=True)


# Verification ---------------------------------------------------------------------------------------


def _verdict(rid: str, district: str, status: str, at: datetime = T0, by: str = "system") -> Verdict:
    return Verdict.model_validate(
        {
            "registration_id": rid,
            "season": SEASON,
            "grade": 1,
            "district": district,
            "category": "public",
            "status": status,
            "zone_id": "CY-Z1" if status == "eligible" else None,
            "facts": {"hukou-in-zone": True},
            "reasons": [] if status == "eligible" else ["not-living-there"],
            "decided_at": at,
            "decided_by": by,
        }
    )


def test_checks_verdicts_and_decisions_keep_their_supersede_rules(engine: str) -> None:
    store = DynamoVerificationStore(TABLE)
    pending = Check(registration_id="R-1", agency="community", status="pending", asked_at=T0, reason="visit")
    hukou = Check(
        registration_id="R-1",
        agency="public-security",
        status="answered",
        asked_at=T0,
        answered_at=T0 + timedelta(seconds=2),
        reason="found",
        facts={"address": "江南路 12号", "zone": None, "household_size": 3, "permit": False},
    )
    assert store.put_check(pending) and store.put_check(hukou)
    assert not store.put_check(hukou) and not store.put_check(pending)
    answered = pending.model_copy(update={"status": "answered", "answered_at": T0 + timedelta(days=3)})
    assert store.put_check(answered)
    assert not store.put_check(answered.model_copy(update={"reason": "again"}))
    assert store.checks("R-1") == [answered, hukou]

    first = _verdict("R-1", "CY", "review")
    assert store.put_verdict(first)
    assert not store.put_verdict(_verdict("R-1", "CY", "eligible", at=T0 - timedelta(hours=1)))  # older
    signed = _verdict("R-1", "CY", "eligible", at=T0 + timedelta(hours=1), by="cy-staff-01")
    assert store.put_verdict(signed)
    assert not store.put_verdict(_verdict("R-1", "CY", "not-eligible", at=T0 + timedelta(days=1)))  # R-VER-3
    assert store.verdict("R-1") == signed
    for i, (district, status) in enumerate([("CY", "review"), ("NG", "review"), ("CY", "eligible")]):
        assert store.put_verdict(_verdict(f"R-{i + 2}", district, status))
    assert [v.registration_id for v in store.verdicts(SEASON, "CY")] == ["R-1", "R-2", "R-4"]
    assert [v.registration_id for v in store.verdicts(SEASON, "CY", "review")] == ["R-2"]
    assert [v.registration_id for v in store.verdicts(SEASON, status="review")] == ["R-2", "R-3"]
    # the season's few fields a verdict, projected, in index order (district, status, signed or not, id)
    assert [tuple(f) for f in store.placement_facts(SEASON)] == [
        ("R-1", "eligible", "CY-Z1", {"hukou-in-zone": True}),
        ("R-4", "eligible", "CY-Z1", {"hukou-in-zone": True}),
        ("R-2", "review", None, {"hukou-in-zone": True}),
        ("R-3", "review", None, {"hukou-in-zone": True}),
    ]
    assert list(store.holding(SEASON, "hukou-in-zone")) == ["R-1", "R-4", "R-2", "R-3"]
    assert [tuple(f) for f in store.verdict_facts(SEASON, "NG")] == [
        ("R-3", "NG", "review", ("not-living-there",), "system")
    ]

    decision = Decision(
        registration_id="R-1",
        district="CY",
        action="confirm",
        outcome="eligible",
        reason="核实无误",
        actor="cy-staff-01",
        at=T0,
    )
    other = decision.model_copy(update={"reason": "再次核实"})
    assert store.append_decision(decision)
    assert not store.append_decision(decision)  # a retry
    assert store.append_decision(other)  # the same instant: the next number
    assert store.decisions("R-1") == [decision, other]


def test_spot_check_samples_and_outcomes_are_written_once(engine: str) -> None:
    store = DynamoVerificationStore(TABLE)
    sample = SpotCheckSample(
        season=SEASON,
        district="CY",
        seed="s",
        size=2,
        population=3,
        population_digest="d",
        sample=["R-2", "R-1"],
        drawn_at=T0,
    )
    assert store.put_spot_check_sample(sample)
    assert not store.put_spot_check_sample(sample)
    with pytest.raises(Conflict):
        store.put_spot_check_sample(sample.model_copy(update={"seed": "other"}))
    assert store.spot_check_sample(SEASON, "CY") == sample
    outcome = SpotCheckOutcome(
        season=SEASON,
        district="CY",
        registration_id="R-2",
        outcome="confirmed",
        checked_by="c",
        checked_at=T0,
    )
    assert store.put_spot_check(outcome)
    assert not store.put_spot_check(outcome.model_copy(update={"checked_at": T0 + timedelta(1)}))
    with pytest.raises(Conflict):
        store.put_spot_check(outcome.model_copy(update={"outcome": "discrepancy"}))
    assert store.spot_checks(SEASON, "CY") == [outcome]
    assert store.spot_checks(SEASON, "NG") == []


def test_open_visits_are_one_partition_per_district_paged_by_id_and_dropped_once_answered(
    engine: str,
) -> None:
    """Issue 17: the community office's worklist is a ranged Query of its district's partition."""
    store = DynamoVerificationStore(TABLE)

    def visit(rid: str, district: str) -> OpenVisit:
        return OpenVisit(
            registration_id=rid,
            season=SEASON,
            district=district,
            address="船营大街12号3-2-301",
            child="王**",
            requested_at=T0,
        )

    for rid in ("R-3", "R-1", "R-2", "R-10"):
        store.put_visit(visit(rid, "CY"))
    store.put_visit(visit("R-5", "CH"))
    store.put_visit(visit("R-1", "CY"))  # a retried batch lists it again: still one
    first, more = store.visits_page(SEASON, "CY", None, 2)
    assert [v.registration_id for v in first] == ["R-1", "R-10"] and more
    rest, more = store.visits_page(SEASON, "CY", first[-1].registration_id, 2)
    assert [v.registration_id for v in rest] == ["R-2", "R-3"] and not more
    assert rest[0] == visit("R-2", "CY")
    assert [v.registration_id for v in store.open_visits(SEASON, "CH")] == ["R-5"]
    store.drop_visit("R-2")
    store.drop_visit("R-2")  # answered twice (a retried callback): nothing to drop, no error
    store.drop_visit("R-404")
    assert [v.registration_id for v in store.open_visits(SEASON, "CY")] == ["R-1", "R-10", "R-3"]
    assert store.visits_page(SEASON, "LT", None, 5) == ([], False)
    # the registration's other items are not touched: the visit has its own sort key
    store.put_check(
        Check(
            registration_id="R-1", agency="community", status="pending", asked_at=T0, reason="visit-requested"
        )
    )
    store.drop_visit("R-1")
    assert [c.agency for c in store.checks("R-1")] == ["community"]


# Lotteries, placement, notices ----------------------------------------------------------------------


def test_lottery_store_round_trips_and_conditions(engine: str) -> None:
    store = DynamoLotteryStore(TABLE)
    school = {
        "season": SEASON,
        "school_id": "P-1",
        "grade": 1,
        "pool": [f"R{i}" for i in range(50)],
        "seats": 2,
    }
    assert store.put_school(school) and not store.put_school(school)
    assert store.school(SEASON, "P-1", 1) == school
    store.set_school(SEASON, "P-1", 1, {"status": "waiting", "token": "tok"})
    store.set_school(SEASON, "P-9", 1, {"status": "waiting"})  # refused: no such school, nothing written
    assert store.school(SEASON, "P-9", 1) is None
    assert store.finish_school(
        SEASON, "P-1", 1, "recorded", {"ranking": ["R3", "R1"], "next_waitlist_rank": 1}
    )
    assert not store.finish_school(SEASON, "P-1", 1, "recorded", {"ranking": []})
    assert [s["ranking"] for s in store.schools(SEASON)] == [["R3", "R1"]]
    assert store.claim_next(SEASON, "P-1", 1, 1) and not store.claim_next(SEASON, "P-1", 1, 1)
    assert store.school(SEASON, "P-1", 1)["next_waitlist_rank"] == 2  # type: ignore[index]

    for index in (2, 0, 1):
        assert store.put_step(SEASON, "P-1", 1, {"index": index, "input": f"{index}"})
    assert not store.put_step(SEASON, "P-1", 1, {"index": 1, "input": "other"})
    assert [s["index"] for s in store.steps(SEASON, "P-1", 1)] == [0, 1, 2]
    store.append_event(SEASON, "P-1", 1, {"event": "started"})
    assert [e["event"] for e in store.events(SEASON, "P-1", 1)] == ["started"]

    outcome = {
        "registration_id": "R3",
        "season": SEASON,
        "school_id": "P-1",
        "outcome": "admitted",
        "rank": 1,
    }
    assert store.put_outcome(outcome) and not store.put_outcome(outcome)
    assert store.change_outcome("R3", "admitted", {"outcome": "declined"})
    assert not store.change_outcome("R3", "admitted", {"outcome": "withdrawn"})
    assert store.outcome("R3") == {**outcome, "outcome": "declined"}


def test_placement_store_round_trips(engine: str) -> None:
    store = DynamoPlacementStore(TABLE)
    assert store.put_tie_break(SEASON, {"seed": "abc", "digest": "d"})
    assert not store.put_tie_break(SEASON, {"seed": "other", "digest": "d"})
    assert store.tie_break(SEASON) == {"seed": "abc", "digest": "d"}
    lines = [{"registration_id": f"R{i:03d}", "school_id": "S-1", "rank": i, "note": None} for i in range(40)]
    store.put_placements(SEASON, [*lines, {**lines[3], "school_id": "S-2"}])  # the later line wins
    assert store.placed("R003") == {
        "registration_id": "R003",
        "school_id": "S-2",
        "rank": 3,
        "season": SEASON,
    }
    assert store.placed("R039") is not None and store.placed("R040") is None

    for rid, kind in (("R1", "defer"), ("R2", "override"), ("R1", "override")):
        store.append_decision(
            SEASON,
            "CY",
            StaffDecision(registration_id=rid, kind=kind, reason="理由", actor="a", at="t"),  # type: ignore[arg-type]
        )
    store.append_decision(
        SEASON, "NG", StaffDecision(registration_id="R9", kind="defer", reason="理由", actor="a", at="t")
    )
    latest = store.decisions(SEASON, "CY")
    assert {rid: d.kind for rid, d in latest.items()} == {"R1": "override", "R2": "override"}
    assert sorted(store.decisions(SEASON)) == ["R1", "R2", "R9"]

    assert store.mark_arrival(SEASON, "S-1", "R001", {"at": "t"})
    assert not store.mark_arrival(SEASON, "S-1", "R001", {"at": "later"})
    assert store.mark_arrival(SEASON, "S-1", "R002", {"at": "t"})
    assert store.arrivals(SEASON, "S-1") == {"R001", "R002"} and store.arrivals(SEASON, "S-10") == set()


def test_notice_records_and_manual_lists(engine: str) -> None:
    store = DynamoNoticeStore(TABLE)
    assert store.start_notice({"registration_id": "R1", "season": SEASON, "pdf": "k"})
    assert not store.start_notice({"registration_id": "R1", "season": SEASON, "pdf": "k2"})
    store.notice_sent("R1", "m-1", "2023-07-01T10:00")
    assert store.notice("R1") == {
        "registration_id": "R1",
        "season": SEASON,
        "pdf": "k",
        "sms_message_id": "m-1",
        "sms_sent_at": "2023-07-01T10:00",
    }
    store.notice_sent("R-none", "m-2", "t")  # refused quietly: no record, nothing written
    assert store.notice("R-none") is None
    for rid in ("R3", "R2"):
        store.notice_manual({"registration_id": rid, "season": SEASON, "district": "CY", "manual": True})
    assert [n["registration_id"] for n in store.manual_notices(SEASON, "CY")] == ["R2", "R3"]


# People -----------------------------------------------------------------------------------------------


def test_complaint_answers_are_appended_only_from_the_state_they_were_read_in(engine: str) -> None:
    store = DynamoComplaintStore(TABLE)
    complaint = Complaint("C1", SEASON, "R1", "CY", 1, "appeal", "不服审核结果", T0)
    store.add_complaint(complaint)
    with pytest.raises(RuntimeError):
        store.add_complaint(complaint)
    answer = Answer("已复核，维持原结果。", "cy-staff-01", "CY", T0 + timedelta(days=1))
    assert store.add_answer(complaint, answer)
    assert not store.add_answer(complaint, answer)  # read with no answers: stale now
    read = store.complaint("C1")
    assert read is not None and read.answers == (answer,)
    assert store.add_answer(read, answer)
    assert store.complaint("C1").answers == (answer, answer)  # type: ignore[union-attr]
    store.add_complaint(Complaint("C2", SEASON, "R2", "CY", 1, "question", "问题", T0))
    assert [c.complaint_id for c in store.complaints_of_district(SEASON, "CY")] == ["C1", "C2"]
    assert [c.complaint_id for c in store.complaints_of_child(SEASON, "CY", "R2")] == ["C2"]


def test_parent_codes_sessions_and_versions(engine: str) -> None:
    store = DynamoParentStore(TABLE)
    record = CodeRecord("R1", (T0,), "h", T0 + timedelta(minutes=5), 0, 1)
    assert store.put_code_record(record, None) and not store.put_code_record(record, None)
    assert store.code_record("R1") == record
    bumped = CodeRecord("R1", (T0,), None, None, 1, 2)
    assert not store.put_code_record(bumped, 7) and store.put_code_record(bumped, 1)
    assert store.code_record("R1") == bumped
    session = ParentSession("tok", "R1", T0, T0 + timedelta(hours=1))
    store.put_session(session)
    assert store.session("tok") == session
    store.end_session("tok")
    store.end_session("tok")  # deleting what is gone is no error
    assert store.session("tok") is None


def test_sms_caps_phone_records_and_minute_counters(engine: str) -> None:
    store = DynamoSmsCapStore(TABLE)
    record = PhoneSends("k1", (T0,), 1)
    assert store.put_phone_sends(record, None) and not store.put_phone_sends(record, None)
    assert store.phone_sends("k1") == record and store.phone_sends("k2") is None
    bumped = PhoneSends("k1", (T0, T0 + timedelta(minutes=1)), 2)
    assert not store.put_phone_sends(bumped, 7) and store.put_phone_sends(bumped, 1)
    assert store.phone_sends("k1") == bumped
    # a minute's codes are added only while they stay within `most`; notices always
    m0, m1 = T0, T0 + timedelta(minutes=1)
    assert store.add_codes(m0, 1, most=2) and store.add_codes(m0, 1, most=2)
    assert not store.add_codes(m0, 1, most=2) and not store.add_codes(m1, 1, most=0)
    store.add_notices(m0, 500)
    store.add_notices(m1, 3)
    counts = store.minute_counts([m0, m1, T0 + timedelta(minutes=2)])
    assert counts == {m0: MinuteCount(m0, 2, 500), m1: MinuteCount(m1, 0, 3)}
    # every item expires by the table's TTL, and none holds more than a key's hash
    items = [
        _raw().get_item(Key=key)["Item"]
        for key in (
            {"pk": "SMSCAP#phone#k1", "sk": "PHONE"},
            {"pk": "SMSCAP#minute#2023-06-12T01:00", "sk": "COUNT"},
        )
    ]
    assert int(items[0]["expires_epoch"]) == int((T0 + timedelta(days=1, minutes=1)).timestamp())
    assert int(items[1]["expires_epoch"]) == int((T0 + timedelta(hours=25)).timestamp())


# Paging, batches, the raw requests the adapters rely on ----------------------------------------------------


def test_more_than_a_megabyte_pages_through_and_the_console_pages_by_limit(engine: str) -> None:
    store = DynamoStore(TABLE)
    ids = [f"R{i:03d}" for i in range(120)]
    for rid in ids:
        store.create_registration(_registration(rid, pad=5000))  # about 10 KB each in UTF-8
    assert [r["registration_id"] for r in store.registrations(SEASON)] == ids
    reads = ConsoleReads(TABLE)
    page, more = reads.district_registrations(SEASON, "CY", 1, None, 50)
    assert [i["registration_id"] for i in page] == ids[:50] and more
    page, more = reads.district_registrations(SEASON, "CY", 1, ids[99], 50)
    assert [i["registration_id"] for i in page] == ids[100:] and not more
    page, more = reads.district_registrations(SEASON, "CY", 1, ids[69], 50)
    assert [i["registration_id"] for i in page] == ids[70:] and not more
    assert sorted(reads.registrations_of([*ids, "R-none"])) == ids  # > 100 keys, in batches


def test_raw_requests_answer_as_boto3_does(engine: str) -> None:
    raw = _raw()
    raw.put_item(
        Item={"pk": "P", "sk": "1", "n": 5, "d": Decimal("2.50"), "b": True, "z": None, "l": [1, "a"]}
    )
    item = raw.get_item(Key={"pk": "P", "sk": "1"}, ConsistentRead=True)["Item"]
    assert item == {"pk": "P", "sk": "1", "n": 5, "d": Decimal("2.5"), "b": True, "z": None, "l": [1, "a"]}
    assert type(item["n"]) is Decimal and type(item["l"][0]) is Decimal and item["b"] is True
    with pytest.raises(TypeError):
        raw.put_item(Item={"pk": "P", "sk": "2", "f": 1.5})
    with pytest.raises(ClientError) as refused:
        raw.put_item(Item={"pk": "P", "sk": "1"}, ConditionExpression="attribute_not_exists(pk)")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as refused:
        raw.update_item(
            Key={"pk": "P", "sk": "1"},
            UpdateExpression="SET n = n + :one",
            ConditionExpression=Attr("b").eq(False),
            ExpressionAttributeValues={":one": 1},
        )
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    raw.update_item(
        Key={"pk": "P", "sk": "1"},
        UpdateExpression="SET n = n + :one, m = if_not_exists(m, :one) REMOVE z",
        ConditionExpression=Attr("l").size().eq(2) & Attr("nothing").ne("x"),
        ExpressionAttributeValues={":one": 1},
    )
    item = raw.get_item(Key={"pk": "P", "sk": "1"})["Item"]
    assert item["n"] == 6 and item["m"] == 1 and "z" not in item
    with pytest.raises(ClientError) as invalid:
        raw.put_item(Item={"pk": "P", "sk": "3", "pool": "x" * (401 * 1024)})  # over 400 KB
    assert invalid.value.response["Error"]["Code"] == "ValidationException"
    assert raw.get_item(Key={"pk": "P", "sk": "3"}).get("Item") is None
    with raw.batch_writer() as batch:
        for i in range(60):
            batch.put_item(Item={"pk": "Q", "sk": f"{i:02d}", "gsi1pk": "G", "gsi1sk": f"{59 - i:02d}"})
    listed = raw.query(
        IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq("G") & Key("gsi1sk").lt("05")
    )
    assert [i["sk"] for i in listed["Items"]] == ["59", "58", "57", "56", "55"]
    between = raw.query(KeyConditionExpression=Key("pk").eq("Q") & Key("sk").between("10", "12"))
    assert [i["sk"] for i in between["Items"]] == ["10", "11", "12"]


def test_a_query_reads_at_most_a_megabyte_a_page(engine: str) -> None:
    raw = _raw()
    with raw.batch_writer() as batch:
        for i in range(120):
            batch.put_item(Item={"pk": "BIG", "sk": f"{i:03d}", "notes": "备注" * 5000})  # 30 KB each
    pages: list[list[str]] = []
    request: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq("BIG")}
    while True:
        page = raw.query(**request)
        pages.append([str(i["sk"]) for i in page["Items"]])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert [sk for page in pages for sk in page] == [f"{i:03d}" for i in range(120)]
    # 3.6 MB: four pages of about 1 MB (moto stops before 1,000,000 bytes, DynamoDB and the SQLite
    # engine after the item that reaches 1 MiB: 33 or 35 items a page)
    assert len(pages) == 4 and all(33 <= len(page) <= 35 for page in pages[:-1]), [len(p) for p in pages]
    filtered = raw.query(KeyConditionExpression=Key("pk").eq("BIG"), FilterExpression=Attr("sk").eq("119"))
    assert (
        filtered["Items"] == []
        and filtered["ScannedCount"] == len(pages[0])
        and "LastEvaluatedKey" in filtered
    )


def test_a_projected_query_returns_only_the_attributes_named_and_pages_by_whole_items(engine: str) -> None:
    raw = _raw()
    with raw.batch_writer() as batch:
        for i in range(120):
            item = {"pk": "BIG", "sk": f"{i:03d}", "status": "ok", "n": i, "notes": "备注" * 5000}
            batch.put_item(Item=item if i % 2 else {**item, "facts": {"own-district": True}})
    request: dict[str, Any] = {
        "KeyConditionExpression": Key("pk").eq("BIG"),
        "ProjectionExpression": "sk, #s, facts, n",
        "ExpressionAttributeNames": {"#s": "status"},  # a reserved word
    }
    pages: list[list[dict[str, Any]]] = []
    while True:
        page = raw.query(**request)
        pages.append(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    items = [i for page in pages for i in page]
    assert [i["sk"] for i in items] == [f"{i:03d}" for i in range(120)]
    assert items[0] == {"sk": "000", "status": "ok", "n": Decimal(0), "facts": {"own-district": True}}
    assert items[1] == {"sk": "001", "status": "ok", "n": Decimal(1)}  # an attribute absent stays absent
    # the page still ends at the whole items' megabyte, as in DynamoDB: the notes are read, not returned
    assert len(pages) == 4 and all(33 <= len(page) <= 35 for page in pages[:-1]), [len(p) for p in pages]
    # a filter sees the whole item; only what it keeps is projected
    kept = raw.query(
        KeyConditionExpression=Key("pk").eq("BIG"),
        FilterExpression=Attr("notes").begins_with("备注") & Attr("n").lt(2),
        ProjectionExpression="n",
    )
    assert kept["Items"] == [{"n": Decimal(0)}, {"n": Decimal(1)}] and "LastEvaluatedKey" in kept


@pytest.fixture
def priced(engine: str) -> Iterator[calls.Invocation]:
    """Requests made inside are one invocation's, counted and priced as `enroll demo --budget` does."""
    season = SimpleNamespace(call_api=None, authorize=None)
    calls.start()
    try:
        with _counted_calls(season) as _, calls.invocation("contract") as record:  # type: ignore[arg-type]
            assert record is not None
            yield record
    finally:
        calls.stop()


def test_both_engines_price_the_same_requests_in_the_same_request_units(
    engine: str, priced: calls.Invocation
) -> None:
    raw = _raw()
    big = {"pk": "C", "sk": "1", "s": "x" * 3000}  # 3,007 bytes: 3 write units, 1 read unit
    raw.put_item(Item=big)  # 3
    raw.put_item(Item={"pk": "C", "sk": "1", "s": "small"})  # the larger of before and after: 3
    with pytest.raises(ClientError):
        raw.put_item(Item=big, ConditionExpression=Attr("pk").not_exists())  # refused, still charged: 3
    with pytest.raises(ClientError):
        raw.update_item(  # refused: the stored item's size, 1
            Key={"pk": "C", "sk": "1"},
            UpdateExpression="SET s = :s",
            ConditionExpression=Attr("s").eq("other"),
            ExpressionAttributeValues={":s": "y"},
        )
    raw.update_item(  # 1 KB before, 5 KB after: 5
        Key={"pk": "C", "sk": "1"},
        UpdateExpression="SET s = :s",
        ExpressionAttributeValues={":s": "z" * 5000},
    )
    raw.get_item(Key={"pk": "C", "sk": "1"}, ConsistentRead=True)  # 5,007 bytes: 2 read units
    raw.get_item(Key={"pk": "C", "sk": "1"})  # eventually consistent: half of 2
    raw.get_item(Key={"pk": "C", "sk": "none"}, ConsistentRead=True)  # nothing there: 1
    raw.delete_item(Key={"pk": "C", "sk": "1"})  # 5
    with raw.batch_writer() as batch:  # 30 items of 1,5xx bytes, 2 each: 60 (two BatchWriteItem)
        for i in range(30):
            batch.put_item(Item={"pk": "D", "sk": f"{i:02d}", "s": "x" * 1500})
    raw.query(KeyConditionExpression=Key("pk").eq("D"), ConsistentRead=True)  # 30 x 1,507 bytes: 12
    raw.query(KeyConditionExpression=Key("pk").eq("D"), FilterExpression=Attr("sk").eq("00"))  # read: 6
    DynamoStore(TABLE)._get_many([("D", f"{i:02d}") for i in range(3)] + [("D", "none")])  # 3 x 1 read

    assert calls.CAPACITY[("contract", "write")] == 3 + 3 + 3 + 1 + 5 + 5 + 60
    assert calls.CAPACITY[("contract", "read")] == 2 + 1 + 1 + 12 + 6 + 3
    assert priced.calls[("dynamodb", "BatchWriteItem")] == 2 and priced.calls[("dynamodb", "Query")] == 2
    assert priced.excluded_cpu_s > 0  # the engine's work serving the requests is not the function's
    assert priced.received_bytes > 0


def _idempotent(config: IdempotencyConfig, runs: list[dict[str, Any]]) -> Any:
    store = DynamoDBPersistenceLayer(table_name=IDEMPOTENCY, boto3_client=table_module.dynamodb_client())
    config.register_lambda_context(SimpleNamespace(get_remaining_time_in_millis=lambda: 60_000))  # type: ignore[arg-type]

    @idempotent_function(data_keyword_argument="order", persistence_store=store, config=config)
    def work(order: dict[str, Any]) -> dict[str, Any]:
        runs.append(order)
        if order.get("again"):  # the same order while it runs: in progress
            with pytest.raises(IdempotencyAlreadyInProgressError):
                work(order=order)
        return {"order": order["id"], "run": len(runs)}

    return work


def test_powertools_idempotency_runs_once_returns_the_saved_answer_and_expires(engine: str) -> None:
    runs: list[dict[str, Any]] = []
    work = _idempotent(IdempotencyConfig(expires_after_seconds=3600), runs)
    assert work(order={"id": "a"}) == {"order": "a", "run": 1}
    assert work(order={"id": "a"}) == {"order": "a", "run": 1}  # the saved answer, not run again
    assert work(order={"id": "b"}) == {"order": "b", "run": 2}
    assert work(order={"id": "c", "again": True}) == {"order": "c", "run": 3}
    assert work(order={"id": "c", "again": True}) == {"order": "c", "run": 3}
    assert len(runs) == 3

    expired: list[dict[str, Any]] = []
    stale = _idempotent(IdempotencyConfig(expires_after_seconds=-60), expired)  # saved already expired
    assert stale(order={"id": "e"}) == {"order": "e", "run": 1}
    assert stale(order={"id": "e"}) == {"order": "e", "run": 2}


def test_the_low_level_client_answers_in_typed_values_and_returns_the_refusing_item(engine: str) -> None:
    client = table_module.dynamodb_client()
    item = {"id": {"S": "k"}, "status": {"S": "INPROGRESS"}, "expiration": {"N": "1700000000"}}
    client.put_item(TableName=IDEMPOTENCY, Item=item)
    with pytest.raises(ClientError) as refused:
        client.put_item(
            TableName=IDEMPOTENCY,
            Item={**item, "status": {"S": "COMPLETED"}},
            ConditionExpression="attribute_not_exists(#id) OR #expiry < :now",
            ExpressionAttributeNames={"#id": "id", "#expiry": "expiration"},
            ExpressionAttributeValues={":now": {"N": "1600000000"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert refused.value.response["Item"] == item  # type: ignore[typeddict-item]
    client.update_item(
        TableName=IDEMPOTENCY,
        Key={"id": {"S": "k"}},
        UpdateExpression="SET #status = :status, #data = :data",
        ExpressionAttributeNames={"#status": "status", "#data": "data"},
        ExpressionAttributeValues={":status": {"S": "COMPLETED"}, ":data": {"S": "{}"}},
    )
    got = client.get_item(TableName=IDEMPOTENCY, Key={"id": {"S": "k"}}, ConsistentRead=True)["Item"]
    assert got == {**item, "status": {"S": "COMPLETED"}, "data": {"S": "{}"}}
    client.delete_item(TableName=IDEMPOTENCY, Key={"id": {"S": "k"}})
    assert "Item" not in client.get_item(TableName=IDEMPOTENCY, Key={"id": {"S": "k"}}, ConsistentRead=True)
