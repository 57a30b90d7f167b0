"""DynamoDB single-table adapter: registrations and the season's control items (`Store`).

Keys: `REG#{id}`/`REG` registrations, where the id is derived from the keyed hash of the child's ID
number, so one conditional put is the one-child-one-registration check (R-REG-2); GSI1
`SEASON#{season}#REG#{shard:02d}` → `{grade}#{district}#{id}` lists a season; `SEASON#{season}`/`GATE#{phase}` gates,
`SEASON#{season}`/`WINDOW#{grade}` window extensions (and `WINDOW#{grade}#{extended at}` their
history), `SEASON#{season}`/`DEMAND#{scope}#{id}#g{grade}` demand recorded at close;
`SEASON#{season}#LIVE#{shard:02d}`/`{scope}#{id}#g{grade}` the live demand counters (R-WARN-1), added
to right after a registration is stored, so a refused registration counts nowhere (see
`create_registration`). Their own partition keys keep them out of `season_items`, which every
registration reads. `SEASON#{season}#DEADLETTER`/`{district}#{phase}#{item id}` the workflow's dead
letters (enrollment/core/deadletters.py), in their own partition for the same reason.

Registration day (sharding): a registration's `shard` is `sha256(registration id) mod SHARDS`; its
listing (GSI1) and its two counter ADDs go to that shard's partition keys, so no key is hot when a
window opens. What one registration writes, at 1,000 registrations a second sustained (on-demand
capacity; each partition key takes at most 1,000 WCU a second):

- `REG#{id}`: the item, about 1.3 KB, 2 WCU; a key of its own (1 registration each).
- GSI1 `SEASON#{season}#REG#{shard}` (projection ALL): the same 2 WCU. Unsharded every registration
  wrote one key: 2,000 WCU/s, twice its limit. With 16 shards: 1,000 / 16 = 62.5 registrations/s a
  key, 125 WCU/s (12.5 % of 1,000; a second's hashing skew of +3 sd, 86 registrations, is 172 WCU).
- `SEASON#{season}#LIVE#{shard}`: two ADDs (the school's and the zone's counter, items < 1 KB, 1 WCU
  each), 2 WCU: unsharded 2,000 WCU/s, with 16 shards 125 WCU/s a key as above; one counter item
  takes at most 62.5 ADDs/s even if every family asks for the same school.
- The idempotency table: one key per request body's hash (a key of its own).

Readers ask every shard: `registrations` merges the 16 GSI1 queries in `gsi1sk` order (the order
of the unsharded index, which the season's tasks and archive rely on), `live_counts` sums the
16 counter partitions, and the console's pages (console_reads.py) merge the shards' pages. The
workflow's season-wide reads that need no order (demand at close, verification's batches) run as
a Map over the shards instead, each iteration reading one (`registrations_in_shard`).

The domain hands in and gets back plain records: the keys are added here and taken off here.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import Any, ParamSpec

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from enrollment.adapters.clients import throttled
from enrollment.adapters.table import DynamoTable, pages, record_of, without_keys
from enrollment.core.ports import Conflict, DuplicateChild, NotFound, SeasonState
from enrollment.registration.demand import WITHDRAWN, CounterKey, counted_keys, counter_keys

# Gate and window writes made in this process (one counter for every DynamoStore): a season state
# copy read before the latest of them is not used.
_season_writes = [0]
P = ParamSpec("P")


def _changes_season(write: Callable[P, None]) -> Callable[P, None]:
    """A gate or window write: once it is made, no earlier copy of the season state is used."""

    @functools.wraps(write)
    def written(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            write(*args, **kwargs)
        finally:
            _season_writes[0] += 1

    return written


class DynamoStore(DynamoTable):
    def __init__(self, table_name: str, state_max_age_s: float = 0.0) -> None:
        """`state_max_age_s` > 0: `season_state` answers from a copy at most that old (the registration
        form reads it on every request; see `season_state`)."""
        super().__init__(table_name)
        self.state_max_age_s = state_max_age_s
        self._states: dict[str, tuple[float, int, SeasonState]] = {}

    def create_registration(self, record: dict[str, Any]) -> None:
        """The registration if its child is new (R-REG-2), then +1 on each of its demand counters
        (R-WARN-1).

        Not one transaction, on purpose: when a window opens thousands of families register for the
        same few schools, and transactions touching the same counter item cancel each other
        (TransactionConflict), while a plain ADD on a hot item never conflicts. A refused registration
        counts nowhere (the conditional put fails first). Should a counter write fail after the put
        (throttling), the registration stands and that count is one short until registration closes,
        when demand is recounted from the registrations themselves (functions/register/close.py).
        """
        rid = record["registration_id"]
        if not self._put_if(self._listed_item(record), "attribute_not_exists(pk)"):
            raise DuplicateChild(rid)
        for key in counter_keys(record):
            self._count(record, key, 1)

    def replace_registration(self, record: dict[str, Any], *, previous: Mapping[str, Any]) -> None:
        """Write `record` over the stored registration `previous` (an edit, a withdrawal, the same
        child registered again after withdrawing), then move its live demand counts from where
        `previous` counted to where `record` counts (a withdrawn registration counts nowhere).

        Conditional on the stored item still being `previous`: its `version` (0 when it has none, as
        a registration never changed) and its status; Conflict if another edit or withdrawal came
        first, and nothing is written. The record is stored as version + 1. The counters follow as in
        `create_registration`: after the item, each a plain ADD that never conflicts."""
        rid = str(record["registration_id"])
        if str(previous["registration_id"]) != rid:
            raise ValueError("a registration is replaced under its own id")
        version = int(previous.get("version", 0))
        item = {**self._listed_item(record), "version": version + 1}
        names = {"#v": "version", "#s": "status"}
        values: dict[str, Any] = {":s": str(previous["status"])}
        if version:
            condition = "#v = :v AND #s = :s"
            values[":v"] = version
        else:
            condition = "attribute_exists(pk) AND attribute_not_exists(#v) AND #s = :s"
        if not self._write_if(
            self.table.put_item,
            Item=item,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        ):
            raise Conflict(f"registration {rid} changed meanwhile")
        moved = Counter(counted_keys(record))
        moved.subtract(counted_keys(previous))
        for key, n in sorted(moved.items()):
            if n:
                self._count(record, key, n)

    def _listed_item(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A registration as stored: its keys, and its place in the season's listing (GSI1)."""
        rid = str(record["registration_id"])
        return {
            "pk": f"REG#{rid}",
            "sk": "REG",
            **record,
            "gsi1pk": registrations_key(str(record["season"]), shard_of(rid)),
            "gsi1sk": f"{record['grade']}#{record['district']}#{rid}",
        }

    def _count(self, record: Mapping[str, Any], key: CounterKey, n: int) -> None:
        """Add `n` to one live demand counter of the registration's shard. Throttled, the count is
        off by `n` until registration closes (demand is then recounted from the registrations)."""
        live = live_key(str(record["season"]), shard_of(str(record["registration_id"])))
        try:
            self.table.update_item(
                Key={"pk": live, "sk": _live_sk(key)},
                UpdateExpression="ADD applicants :n SET #scope = :scope, #id = :id, grade = :grade",
                ExpressionAttributeNames={"#scope": "scope", "#id": "id"},
                ExpressionAttributeValues={":n": n, ":scope": key[0], ":id": key[1], ":grade": key[2]},
            )
        except ClientError as e:
            if not throttled(e):
                raise
            # the registration is stored: a warning count off by one until close beats refusing it

    def live_counts(self, season: str) -> dict[CounterKey, int]:
        """The counters of every shard, summed."""
        counts: dict[CounterKey, int] = {}
        for shard in range(SHARDS):
            for i in pages(self.table.query, KeyConditionExpression=Key("pk").eq(live_key(season, shard))):
                key = (str(i["scope"]), str(i["id"]), int(str(i["grade"])))
                counts[key] = counts.get(key, 0) + int(str(i["applicants"]))
        return counts

    def get_registration(self, registration_id: str) -> dict[str, Any]:
        item = self.table.get_item(Key={"pk": f"REG#{registration_id}", "sk": "REG"}).get("Item")
        if item is None:
            raise NotFound(registration_id)
        return without_keys(item)

    def get_registrations(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Many registrations by id, batched (BatchGetItem); ids not found are absent."""
        found = self._get_many((f"REG#{rid}", "REG") for rid in registration_ids)
        return {str(i["registration_id"]): without_keys(i) for i in found.values()}

    @property
    def shards(self) -> int:
        """How many shards list the season's registrations (`registrations_in_shard`'s 0..shards-1)."""
        return SHARDS

    def registrations(self, season: str) -> Iterator[dict[str, Any]]:
        """The season's registrations by grade, district and id (`gsi1sk`): every shard's GSI1
        query, merged as they are read."""
        merged = heapq.merge(*(self._shard(season, n) for n in range(SHARDS)), key=lambda i: str(i["gsi1sk"]))
        return (without_keys(i) for i in merged)

    def registrations_in_shard(self, season: str, shard: int) -> Iterator[dict[str, Any]]:
        """One shard's registrations by grade, district and id: its GSI1 query alone, read a page at
        a time as it is consumed (a workflow Map iteration's share of the season)."""
        if not 0 <= shard < SHARDS:
            raise ValueError(f"shard {shard} is not in 0..{SHARDS - 1}")
        return (without_keys(i) for i in self._shard(season, shard))

    def _shard(self, season: str, shard: int) -> Iterator[dict[str, Any]]:
        """One shard's GSI1 items, keys and all, in `gsi1sk` order; a withdrawn registration left
        out (it stays listed in the index for the erasure, enrollment/adapters/erasure_store.py)."""
        listed = pages(
            self.table.query,
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq(registrations_key(season, shard)),
        )
        return (i for i in listed if i.get("status") != WITHDRAWN)

    def season_items(self, season: str) -> list[dict[str, Any]]:
        """The season partition's items as stored, keys and all: gates, window extensions, demand and
        the other stores' per-season items."""
        return list(pages(self.table.query, KeyConditionExpression=Key("pk").eq(_season(season))))

    def season_state(self, season: str) -> SeasonState:
        """Advanced gates and extended windows. With `state_max_age_s`, a copy read at most that long
        ago in this process: on registration day every request needs it, and one season partition
        read per registration would be ~1,000 reads a second on one key. A staff change (a window
        extended, a gate advanced) made in another process reaches the form within that many seconds
        (one made in this process at once: every gate or window write here drops the copies); the
        window's own dates are checked against the clock on every request regardless."""
        if self.state_max_age_s > 0:
            now, written = time.monotonic(), _season_writes[0]
            kept = self._states.get(season)
            if kept is not None and kept[1] == written and now - kept[0] < self.state_max_age_s:
                return kept[2]
            state = self._read_season_state(season)
            self._states[season] = (now, written, state)
            return state
        return self._read_season_state(season)

    def _read_season_state(self, season: str) -> SeasonState:
        sks = [(str(i["sk"]), i) for i in self.season_items(season)]
        gates = frozenset(
            sk.removeprefix("GATE#")
            for sk, i in sks
            if sk.startswith("GATE#") and i.get("status") == "advanced"
        )
        extended = {
            int(sk.removeprefix("WINDOW#")): date.fromisoformat(str(i["extended_to"]))
            for sk, i in sks
            if sk.startswith("WINDOW#") and sk.count("#") == 1  # not the history entries
        }
        return SeasonState(gates, extended)

    def get_gate(self, season: str, phase: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key=_gate(season, phase), ConsistentRead=True)
        return dict(item["Item"]) if "Item" in item else None

    @_changes_season
    def put_gate_open(self, season: str, phase: str, item: dict[str, Any]) -> None:
        if not self._write_if(
            self.table.put_item,
            Item={**_gate(season, phase), **item},
            ConditionExpression="attribute_not_exists(pk) OR #s = :open",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":open": "open"},
        ):
            raise Conflict(f"gate {phase} was already advanced")

    @_changes_season
    def close_gate(self, season: str, phase: str, changes: dict[str, Any]) -> None:
        names = {f"#k{i}": k for i, k in enumerate(changes)}
        values = {f":v{i}": v for i, v in enumerate(changes.values())}
        sets = ", ".join(f"#k{i} = :v{i}" for i in range(len(changes)))
        try:
            self.table.update_item(
                Key=_gate(season, phase),
                UpdateExpression=f"SET {sets}",
                ConditionExpression="#s = :open",
                ExpressionAttributeNames={**names, "#s": "status"},
                ExpressionAttributeValues={**values, ":open": "open"},
            )
        except ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise Conflict(f"gate {phase} is not open") from None
            raise

    @_changes_season
    def set_gate_deadline(self, season: str, phase: str, deadline: str) -> None:
        self.table.update_item(
            Key=_gate(season, phase),
            UpdateExpression="SET deadline = :d",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":d": deadline},
        )

    @_changes_season
    def put_window_extension(self, season: str, grade: int, record: dict[str, Any]) -> None:
        pk, sk = _season(season), f"WINDOW#{grade}"
        self._put_all(
            [
                {"pk": pk, "sk": sk, "grade": grade, **record},
                {"pk": pk, "sk": f"{sk}#{record['extended_at']}", "grade": grade, **record},
            ]
        )

    def put_demand(self, season: str, rows: Iterable[Mapping[str, Any]]) -> None:
        pk = _season(season)
        self._put_all({"pk": pk, "sk": f"DEMAND#{r['scope']}#{r['id']}#g{r['grade']}", **r} for r in rows)

    def demand(self, season: str) -> list[dict[str, Any]]:
        key = Key("pk").eq(_season(season)) & Key("sk").begins_with("DEMAND#")
        return [record_of(i) for i in pages(self.table.query, KeyConditionExpression=key)]

    def put_dead_letter(self, record: dict[str, Any]) -> bool:
        sk = f"{record['district']}#{record['phase']}#{record['item_id']}"
        return self._put_new(
            {"pk": dead_letters_key(str(record["season"])), "sk": sk, "type": "dead-letter", **record}
        )

    def dead_letters(self, season: str, district: str) -> Iterator[dict[str, Any]]:
        return (record_of(i) for i in self._under(dead_letters_key(season), f"{district}#"))


def _season(season: str) -> str:
    return f"SEASON#{season}"


def _gate(season: str, phase: str) -> dict[str, str]:
    return {"pk": _season(season), "sk": f"GATE#{phase}"}


def dead_letters_key(season: str) -> str:
    """The partition of the season's dead letters (every district's)."""
    return f"SEASON#{season}#DEADLETTER"


SHARDS = 16  # partition keys a season's registration listing and its live counters are spread over


def shard_of(registration_id: str) -> int:
    """The shard a registration's listing and counts go to: uniform, as its id's hash is."""
    return int.from_bytes(hashlib.sha256(registration_id.encode()).digest()[:4], "big") % SHARDS


def registrations_key(season: str, shard: int) -> str:
    """GSI1's partition key listing one shard of the season's registrations."""
    return f"SEASON#{season}#REG#{shard:02d}"


def live_key(season: str, shard: int) -> str:
    """The partition key of one shard of the season's live demand counters."""
    return f"SEASON#{season}#LIVE#{shard:02d}"


def _live_sk(key: CounterKey) -> str:
    scope, ident, grade = key
    return f"{scope}#{ident}#g{grade}"
