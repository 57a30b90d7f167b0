"""`LotteryStore` on the season's single DynamoDB table.

Keys:
- a school and grade's admission: `LOTTERY#{season}` / `{school_id}#g{grade}` (frozen pools, the
  workflow's task token, status, and after the record the ranking and the waitlist pointer)
- a ceremony input:   `LOTTERY#{season}#{school_id}#g{grade}` / `STEP#{index:02d}` (written once)
- an event:           `LOTTERY#{season}#{school_id}#g{grade}` / `EVENT#{UTC instant}#{n}` (append-only)
- a page of a large pool or ranking: `LOTTERY#{season}#{school_id}#g{grade}` /
  `PAGE#{version}#{own|other|ranking}#{n:04d}` (`PAGE` ids, and for a pool the masked names beside
  them, each list one JSON string)
- an applicant's result: `REG#{id}` / `LOTTERY`

Pools in pages: a DynamoDB item holds at most 400 KB, and a pool's ids, names and later its ranking
take about 75 bytes an applicant, so one item would overflow at about 5,000-7,000 applicants. A pool
of up to `INLINE` applicants stays in the school's item (at most about 170 KB with its ranking: the
common case costs no extra call); a larger one goes to page items of `PAGE` ids each (about 90 KB),
written before the school's item, which then says which pages are its own (`pool_pages`: the
version, a digest of what they hold, and how many of each), so a half-written rerun's pages are never
read. A ranking longer than `INLINE` is paged the same way when the record is stored
(`ranking_pages`). Reads put the record together again: callers see the same record either way.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from enrollment.adapters.table import DynamoTable, record_of

INLINE = 2_000  # applicants a school's item holds itself; a larger pool or ranking goes to pages
PAGE = 2_000  # ids a page item holds
POOL_FIELDS = ("own", "other")


def _school_key(season: str, school_id: str, grade: int) -> dict[str, str]:
    return {"pk": f"LOTTERY#{season}", "sk": f"{school_id}#g{grade}"}


def _ceremony(season: str, school_id: str, grade: int) -> str:
    return f"LOTTERY#{season}#{school_id}#g{grade}"


def _version(*parts: Any) -> str:
    """A digest of what a set of pages holds: pages of other content never share its sort keys."""
    text = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _page_sk(version: str, field: str, n: int) -> str:
    return f"PAGE#{version}#{field}#{n:04d}"


def _text(values: list[str]) -> str:
    """A page's list as one JSON string attribute: as small as a list attribute, and one value to
    parse instead of thousands (for DynamoDB's parsers, boto3's and moto's alike)."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def _list(text: Any) -> list[str]:
    return [str(v) for v in json.loads(str(text))]


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    return [list(ids[start : start + PAGE]) for start in range(0, len(ids), PAGE)]


class DynamoLotteryStore(DynamoTable):
    def put_school(self, item: dict[str, Any]) -> bool:
        season, school_id, grade = item["season"], item["school_id"], int(item["grade"])
        head = {**_school_key(season, school_id, grade), "type": "lottery", **item}
        if sum(len(item.get(f, [])) for f in POOL_FIELDS) > INLINE:
            names: dict[str, str] = item.get("names", {})
            version = _version([list(item.get(f, [])) for f in POOL_FIELDS], names)
            pages: list[dict[str, Any]] = []
            counts = {}
            for field in POOL_FIELDS:
                chunks = _chunks(item.get(field, []))
                counts[field] = len(chunks)
                pages += [
                    {
                        "pk": _ceremony(season, school_id, grade),
                        "sk": _page_sk(version, field, n),
                        "ids": _text(ids),
                        "names": _text([names.get(rid, "") for rid in ids]),
                    }
                    for n, ids in enumerate(chunks)
                ]
            self._put_all(pages)  # before the school's item, which is what makes them its own
            head = {k: v for k, v in head.items() if k not in (*POOL_FIELDS, "names")}
            head["pool_pages"] = {"version": version, **counts}
        return self._put_new(head)

    def school(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None:
        key = _school_key(season, school_id, grade)
        item = self._record(key["pk"], key["sk"])
        return self._whole(item) if item is not None else None

    def schools(self, season: str) -> list[dict[str, Any]]:
        items = self._query(KeyConditionExpression=Key("pk").eq(f"LOTTERY#{season}"), ConsistentRead=True)
        return [self._whole(record_of(i)) for i in items]

    def set_school(self, season: str, school_id: str, grade: int, changes: dict[str, Any]) -> None:
        changes = self._paged_ranking(season, school_id, grade, changes)
        self._update_if(_school_key(season, school_id, grade), changes, Attr("pk").exists())

    def finish_school(
        self, season: str, school_id: str, grade: int, status: str, changes: dict[str, Any]
    ) -> bool:
        changes = self._paged_ranking(season, school_id, grade, changes)
        return self._update_if(
            _school_key(season, school_id, grade),
            {"status": status, **changes},
            Attr("pk").exists() & Attr("status").ne(status),
        )

    def _paged_ranking(
        self, season: str, school_id: str, grade: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """`changes` with a ranking longer than INLINE written to pages (before the school's item
        names them: a refused update leaves pages of the same content, the ranking being final)."""
        ranking = changes.get("ranking")
        if ranking is None or len(ranking) <= INLINE:
            return changes
        version = _version(list(ranking))
        chunks = _chunks(ranking)
        self._put_all(
            {
                "pk": _ceremony(season, school_id, grade),
                "sk": _page_sk(version, "ranking", n),
                "ids": _text(ids),
            }
            for n, ids in enumerate(chunks)
        )
        kept = {k: v for k, v in changes.items() if k != "ranking"}
        return {**kept, "ranking_pages": {"version": version, "ranking": len(chunks)}}

    def _whole(self, item: dict[str, Any]) -> dict[str, Any]:
        """A school's record with its paged pool and ranking read back in order, as it was put."""
        pool, ranked = item.pop("pool_pages", None), item.pop("ranking_pages", None)
        if pool is None and ranked is None:
            return item
        season, school_id, grade = str(item["season"]), str(item["school_id"]), int(item["grade"])
        found = {str(p["sk"]): p for p in self._under(_ceremony(season, school_id, grade), "PAGE#")}

        def read(meta: dict[str, Any], field: str) -> list[dict[str, Any]]:
            sks = [_page_sk(str(meta["version"]), field, n) for n in range(int(meta[field]))]
            missing = [sk for sk in sks if sk not in found]
            if missing:
                raise LookupError(f"lottery {school_id} grade {grade}: pages {missing} are missing")
            return [found[sk] for sk in sks]

        if pool is not None:
            names: dict[str, str] = {}
            for field in POOL_FIELDS:
                ids: list[str] = []
                for page in read(pool, field):
                    page_ids = _list(page["ids"])
                    ids += page_ids
                    names.update(zip(page_ids, _list(page["names"]), strict=True))
                item[field] = ids
            item["names"] = names
        if ranked is not None:
            item["ranking"] = [rid for page in read(ranked, "ranking") for rid in _list(page["ids"])]
        return item

    def steps(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]:
        return [record_of(i) for i in self._under(_ceremony(season, school_id, grade), "STEP#")]

    def put_step(self, season: str, school_id: str, grade: int, step: dict[str, Any]) -> bool:
        return self._put_new(
            {"pk": _ceremony(season, school_id, grade), "sk": f"STEP#{int(step['index']):02d}", **step}
        )

    def put_outcome(self, item: dict[str, Any]) -> bool:
        return self._put_new(
            {"pk": f"REG#{item['registration_id']}", "sk": "LOTTERY", "type": "lottery-outcome", **item}
        )

    def outcome(self, registration_id: str) -> dict[str, Any] | None:
        return self._record(f"REG#{registration_id}", "LOTTERY")

    def outcomes_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return self._records_of(registration_ids, "LOTTERY")

    def change_outcome(self, registration_id: str, expected: str, changes: dict[str, Any]) -> bool:
        return self._update_if(
            {"pk": f"REG#{registration_id}", "sk": "LOTTERY"}, changes, Attr("outcome").eq(expected)
        )

    def claim_next(self, season: str, school_id: str, grade: int, expected_next: int) -> bool:
        return self._update_if(
            _school_key(season, school_id, grade),
            {"next_waitlist_rank": expected_next + 1},
            Attr("next_waitlist_rank").eq(expected_next),
        )

    def append_event(self, season: str, school_id: str, grade: int, event: dict[str, Any]) -> None:
        instant = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        item = {
            "pk": _ceremony(season, school_id, grade),
            "sk": f"EVENT#{instant}#{uuid.uuid4().hex[:8]}",
            **event,
        }
        self._put_new(item)

    def events(self, season: str, school_id: str, grade: int) -> list[dict[str, Any]]:
        return [record_of(i) for i in self._under(_ceremony(season, school_id, grade), "EVENT#")]
