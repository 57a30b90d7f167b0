"""Registration day holds: no partition key takes more than a third of its 1,000 WCU at 1,000
registrations a second (enrollment/adapters/dynamodb.py shards the listing and the live counters).

1,000 registrations go through the registration use case and the DynamoDB store on moto, all for the
same school and zone (the worst case for the counters); a botocore hook on every client counts each
write by the partition key it lands on, in the table and in each global secondary index the item
appears in, and its write units (1 KB each, rounded up). At 1,000 registrations a second, these 1,000
registrations are one second's writes: no key may take more than 333 writes or 333 WCU of them. The
register handler's own writes are checked on 100 registrations (1,000 through it take minutes on moto).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest

from enrollment.adapters.dynamodb import SHARDS, DynamoStore, live_key
from enrollment.core import idcard
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason
from enrollment.registration import demand, registrar
from enrollment.registration.form import RegistrationRequest
from tests.integration.conftest import at, post
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-hot-keys")

REGISTRATIONS = 1_000
THROUGH_HANDLER = 100  # the handler's own writes (idempotency) on top, at a size a test can afford
LIMIT = 1_000 // 3  # writes (and WCU) a key may take of one second's 1,000 registrations


def _size(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it (names and values in UTF-8 bytes)."""
    (kind, v), *_ = value.items()
    if kind in ("S", "B"):
        return len(str(v).encode())
    if kind == "N":
        return len(str(v).lstrip("-").replace(".", "")) // 2 + 2
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _size(x) for k, x in v.items())
    return sum(len(str(x).encode()) for x in v)  # SS, NS, BS


def _item_size(item: dict[str, Any]) -> int:
    return sum(len(k.encode()) + _size(v) for k, v in item.items())


class Writes:
    """Every write a client sends, by (table, index or "", partition key value): requests and WCU."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any], int]] = []  # (table, item or key, WCU)

    def before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name != "dynamodb":
            return
        body = json.loads(params.get("body") or b"{}")
        name = model.name
        if name == "PutItem":
            self._add(body["TableName"], body["Item"], body["Item"])
        elif name in ("UpdateItem", "DeleteItem"):
            values = body.get("ExpressionAttributeValues", {})
            self._add(body["TableName"], body["Key"], {**body["Key"], **values})
        elif name == "BatchWriteItem":
            for table, requests in body["RequestItems"].items():
                for r in requests:
                    item = r["PutRequest"]["Item"] if "PutRequest" in r else r["DeleteRequest"]["Key"]
                    self._add(table, item, item)
        elif name == "TransactWriteItems":
            for t in body["TransactItems"]:
                (_, op), *_ = t.items()
                item = op.get("Item") or op.get("Key") or {}
                self._add(op["TableName"], item, item)

    def _add(self, table: str, item: dict[str, Any], sized: dict[str, Any]) -> None:
        self.requests.append((table, item, max(1, math.ceil(_item_size(sized) / 1024))))

    def by_key(self) -> tuple[Counter[tuple[str, str, str]], Counter[tuple[str, str, str]]]:
        """(writes, WCU) by (table, index, partition key value), the index's own keys included."""
        schemas: dict[str, list[tuple[str, str]]] = {}
        writes: Counter[tuple[str, str, str]] = Counter()
        units: Counter[tuple[str, str, str]] = Counter()
        for table, item, wcu in self.requests:
            if table not in schemas:
                described = boto3.client("dynamodb").describe_table(TableName=table)["Table"]
                hashes = [("", _hash_key(described["KeySchema"]))]
                hashes += [
                    (g["IndexName"], _hash_key(g["KeySchema"]))
                    for g in described.get("GlobalSecondaryIndexes", [])
                ]
                schemas[table] = hashes
            for index, attribute in schemas[table]:
                if attribute in item:
                    (_, value), *_ = item[attribute].items()
                    writes[(table, index, str(value))] += 1
                    units[(table, index, str(value))] += wcu
        return writes, units


def _hash_key(schema: list[dict[str, str]]) -> str:
    return next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")


@pytest.fixture
def counted(season: SeasonConfig) -> Iterator[tuple[EmbeddedSeason, Writes]]:
    """A fresh stack in grade 1's registration window, every client it makes counting its writes."""
    writes = Writes()
    create_client = botocore.session.Session.create_client

    def hooked(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(session, *args, **kwargs)
        client.meta.events.register("before-call.dynamodb", writes.before_call)
        return client

    start = at(season, f"{season.calendar.grade1_registration.start} 10:00")
    with (
        mock.patch.object(botocore.session.Session, "create_client", hooked),
        EmbeddedSeason(season, SimulatedClock(start)) as rt,
    ):
        writes.requests.clear()  # the stack's own setup is not registration day
        yield rt, writes


def _body(season: SeasonConfig, n: int) -> dict[str, Any]:
    """The n-th of 1,000 different boys (valid_body's own ids repeat after 500), all in one zone."""
    born = date(season.year - 6, 3, 1) + timedelta(days=n // 400)
    id_number = idcard.make(season.districts[0].area_code, born, 2 * (n % 400) + 1)
    return valid_body(season, child__birth_date=born.isoformat(), child__id_number=id_number)


class LocalKeyer:
    """The child key without KMS (an HMAC in process): the registrations' ids are as uniform."""

    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        message = f"{season}|{id_type}|{id_number}".encode()
        return hmac.new(b"hot-keys", message, hashlib.sha256).hexdigest()


@pytest.mark.slow
def test_a_thousand_registrations_put_no_key_over_a_third_of_its_capacity(
    counted: tuple[EmbeddedSeason, Writes], season: SeasonConfig
) -> None:
    """The registration use case and its store, as the handler calls them, 1,000 times."""
    rt, writes = counted
    store = DynamoStore(rt.table_name)
    for n in range(REGISTRATIONS):
        req = RegistrationRequest.model_validate(_body(season, n))
        registrar.register(req, config=season, now=rt.clock.now(), store=store, keyer=LocalKeyer())

    by_key, wcu = writes.by_key()
    listed = {k: n for k, n in by_key.items() if k[1] == "gsi1"}
    live = {k: n for k, n in by_key.items() if "#LIVE#" in k[2]}
    # every registration was listed and counted twice (its school and its zone), over the shards
    assert sum(listed.values()) == REGISTRATIONS and len(listed) == SHARDS, listed
    assert sum(live.values()) == 2 * REGISTRATIONS and len(live) == SHARDS, live
    hottest, most = by_key.most_common(1)[0]
    heaviest, units = wcu.most_common(1)[0]
    assert most <= LIMIT, (hottest, most)
    assert units <= LIMIT, (heaviest, units)

    # and the sharded counters still add up to the registrations themselves
    assert demand.rows(season, store.live_counts(season.season)) == demand.demand(
        season, store.registrations(season.season)
    )
    address = valid_body(season)["home_address"]
    zone = season.zone_for(1, address["road"], address["number"])
    assert zone is not None
    assert store.live_counts(season.season)[("school", zone.schools[0], 1)] == REGISTRATIONS


def test_the_handler_adds_no_shared_key(counted: tuple[EmbeddedSeason, Writes], season: SeasonConfig) -> None:
    """Through the register handler: its own writes (the idempotency records) each have a key of
    their own, and the season table's keys are the sharded ones of the test above."""
    rt, writes = counted
    for n in range(THROUGH_HANDLER):
        status, answer = post(rt, _body(season, n))
        assert status == 201, answer
    by_key, _ = writes.by_key()
    others = {k: n for k, n in by_key.items() if k[0] != rt.table_name}
    assert others and max(others.values()) <= 2, others  # one request's record: put, then completed
    shared = {k for k, n in by_key.items() if k[0] == rt.table_name and n > 1}
    # and the registration SMS's cap of one phone (issue 19): a key per phone, which only registrations
    # giving that phone share (here every body gives the same guardian phone)
    ours = ("#REG#", "#LIVE#", "SMSCAP#phone#")
    assert all(any(part in k[2] for part in ours) for k in shared), [
        k for k in shared if not any(part in k[2] for part in ours)
    ]


def test_the_shards_read_back_in_the_unsharded_order(embedded: EmbeddedSeason, season: SeasonConfig) -> None:
    store = DynamoStore(embedded.table_name)
    records = [
        {
            "registration_id": f"R-TEST-{n:04d}-AAAA-AAAA",
            "season": season.season,
            "grade": 1 + 6 * (n % 2),
            "district": season.districts[n % len(season.districts)].code,
            "zone_id": None,
            "target_school": None,
        }
        for n in range(200)
    ]
    for r in records:
        store.create_registration(r)
    order = sorted(records, key=lambda r: f"{r['grade']}#{r['district']}#{r['registration_id']}")
    assert [r["registration_id"] for r in store.registrations(season.season)] == [
        r["registration_id"] for r in order
    ]
    partitions = {
        str(i["gsi1pk"])
        for i in boto3.resource("dynamodb").Table(embedded.table_name).scan()["Items"]
        if "gsi1pk" in i
    }
    assert len(partitions) == SHARDS
    assert all(live_key(season.season, s).endswith(f"#LIVE#{s:02d}") for s in range(SHARDS))
