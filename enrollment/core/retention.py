"""Personal data has an end: the season's erasure, once its retention period is over (docs/RETENTION.md).

After `SeasonConfig.erase_from` (term start, the student-status filing, the appeal period: the
season's `retention` settings) nothing needs the families' names, ID numbers, phones or addresses
any more. What stays is what the season is accountable for and what statistics need:

- the signed archive (S3 Object Lock), which holds registration ids only and is never touched here,
  so `enroll audit` passes after the erasure as before;
- a pseudonymised record per registration: its id (a keyed hash of the ID number nobody can invert
  without the season's HMAC key), grade, category, district, zone, claims, status, and `statistics`
  (sex, birth year, kind of ID, residence basis); its verdict, lottery result, placement, arrival and
  notice record, whose fields are codes and ids; staff decisions with who, when and what, their
  free-text reasons replaced by `ERASED`.

What goes: the registration's form (`request`: names, the child's and the guardians' ID numbers,
phones, addresses, deed and permit numbers), its ID number's keyed hash and masked form, the
agencies' answers and home visits (`CHECK#…` facts), staff notes and reasons, the characters of a
manual notice, complaints' texts and answers, the parents' code records, and every file of the
season in the work bucket (notices' PDFs, exports, workflow batches).

The task is paged and idempotent: one shard's registrations a page at a time (GSI1, the shard's own
partition, never a Scan), its progress kept after every page, so a run that stops at its time
budget is taken up by the next; an item already erased carries `erased_at` and is left alone. Each
run records what it did (counts, when) as an entry the city's auditors can read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from enrollment.core.config import SeasonConfig

ERASED = "（已删除）"  # what stands where a free text was (staff read it in the console)
ERASED_AT = "erased_at"
PAGE = 100  # registrations a page: one GSI1 query, then one partition query each, writes batched
REGISTRATION = "registration"  # the kind of a registration's own record (the others carry their type)
# the registration's fields that stay: ids, codes and what statistics count (no person in them)
KEPT_REGISTRATION = frozenset(
    {
        "registration_id",
        "season",
        "grade",
        "category",
        "district",
        "zone_id",
        "target_school",
        "special_claims",
        "status",
        "created_at",
    }
)
# free texts by the record's kind: a person may have written anything in them
FREE_TEXT = {
    "decision": ("reason",),
    "placement-decision": ("reason",),
    "spot-check": ("note",),
    "notice": ("reason",),
    "notice-manual": ("reason",),
    "complaint": ("text",),
    "visit": ("address", "child"),  # an open home visit: where the family lives, whom to ask for
}
# fields that are personal wherever they are (a manual notice's rare characters are the child's name)
DROPPED = frozenset({"code_points", "request", "child_key", "masked_id", "phone", "name", "id_number"})


@dataclass(frozen=True)
class StoredRecord:
    """One stored item as the erasure sees it: its kind (the item's type), its fields without the
    table's keys, and `where`, the store's own handle to write it back (opaque here)."""

    kind: str
    fields: Mapping[str, Any]
    where: Any

    def with_fields(self, fields: Mapping[str, Any]) -> StoredRecord:
        return StoredRecord(self.kind, fields, self.where)


class NotYet(Exception):
    """The erasure refused: its retention period is not over, or the season is not sealed yet."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


class ErasureStore(Protocol):
    """What the erasure reads and writes in the season's table, a partition or an index key at a time."""

    @property
    def shards(self) -> int: ...

    def registration_page(
        self, season: str, shard: int, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """Up to `limit` registration ids of one shard after the cursor `after`, in listing order, and
        the cursor of the last one (None when there is none)."""
        ...

    def registration_records(self, registration_id: str) -> list[StoredRecord]:
        """Everything stored under one registration: its own record, checks, verdict, decisions…"""
        ...

    def complaints(self, season: str) -> list[StoredRecord]: ...

    def manual_notices(self, season: str, district: str) -> list[StoredRecord]:
        """The district's list of notices to issue by hand (copies of their notice records)."""
        ...

    def replace(self, records: Iterable[StoredRecord]) -> None:
        """Write the records' fields over the stored items (same keys), batched."""
        ...

    def forget_parent_codes(self, registration_ids: Iterable[str]) -> None:
        """Delete the parents' one-time code records of these registrations (absent ones: no error)."""
        ...

    def progress(self, season: str) -> dict[str, Any]:
        """The erasure's progress: `shards` (shard → the cursor it reached, or "done") and `done`."""
        ...

    def put_progress(self, season: str, progress: Mapping[str, Any]) -> None: ...

    def put_run(self, season: str, run: Mapping[str, Any]) -> None:
        """The run's entry (counts, when), kept beside the progress; never overwritten."""
        ...


class FileErasure(Protocol):
    def delete_under(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`, a listing page at a time; how many."""
        ...


@dataclass
class Counts:
    registrations: int = 0  # registrations whose items were erased in this run
    items: int = 0  # items rewritten without their personal fields
    complaints: int = 0
    manual_notices: int = 0
    files: int = 0  # objects deleted from the work bucket
    shards_done: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "registrations": self.registrations,
            "items": self.items,
            "complaints": self.complaints,
            "manual_notices": self.manual_notices,
            "files": self.files,
            "shards_done": self.shards_done,
        }


def is_erased(item: Mapping[str, Any]) -> bool:
    """Whether a stored record was erased: readers that need its person refuse it, not fail on it."""
    return ERASED_AT in item


def work_prefixes(season: str) -> tuple[str, ...]:
    """The work bucket's prefixes of one season: the workflow's files and notices, and the exports."""
    return (f"seasons/{season}/", f"exports/{season}/")


def check_due(config: SeasonConfig, now: datetime, *, sealed: Callable[[], bool]) -> None:
    """NotYet unless the retention period is over and the archive sealed (the record stays whole);
    `sealed` is asked only once the date has come."""
    if now < config.erase_from:
        day = config.erase_from.date().isoformat()
        raise NotYet(
            f"个人信息保存期限未满，{day}起方可删除",
            f"the retention period ends on {day} (season timezone); nothing erased before",
        )
    if not sealed():
        raise NotYet(
            "本招生季的档案尚未封存，不能删除个人信息", "the season's archive is not sealed; nothing erased"
        )


def erased_registration(fields: Mapping[str, Any], at: str) -> dict[str, Any]:
    """A registration without its person: ids, codes and the statistics summary stay."""
    kept = {k: v for k, v in fields.items() if k in KEPT_REGISTRATION}
    return {**kept, "statistics": statistics_of(fields.get("request") or {}), ERASED_AT: at}


def statistics_of(request: Mapping[str, Any]) -> dict[str, Any]:
    """What a district counts of a child once its person is gone: no name, number, date or address."""
    child = request.get("child") or {}
    residence = request.get("residence") or {}
    birth = str(child.get("birth_date") or "")
    return {
        "sex": child.get("sex"),
        "birth_year": int(birth[:4]) if birth[:4].isdigit() else None,
        "id_type": child.get("id_type"),
        "residence_basis": residence.get("basis"),
        "has_property": residence.get("property") is not None,
    }


def erased_item(kind: str, fields: Mapping[str, Any], at: str) -> dict[str, Any] | None:
    """A record's fields without what is personal, or None if it has nothing (or was erased already)."""
    if ERASED_AT in fields:
        return None
    if kind == REGISTRATION:
        return erased_registration(fields, at)
    out = {k: v for k, v in fields.items() if k not in DROPPED}
    if kind == "check":
        out["facts"] = {}  # what the agency answered (addresses, owners, a home visit's finding)
    out.update({t: ERASED for t in FREE_TEXT.get(kind, ()) if out.get(t)})
    if kind == "complaint":
        out["answers"] = [{**a, "text": ERASED} for a in fields.get("answers") or []]
    if out == fields:
        return None
    return {**out, ERASED_AT: at}


def _erased(records: Iterable[StoredRecord], at: str) -> list[StoredRecord]:
    out = []
    for r in records:
        fields = erased_item(r.kind, r.fields, at)
        if fields is not None:
            out.append(r.with_fields(fields))
    return out


def erase_season(
    config: SeasonConfig,
    *,
    store: ErasureStore,
    files: FileErasure,
    now: datetime,
    sealed: Callable[[], bool],
    keep_going: Callable[[], bool] = lambda: True,
    page: int = PAGE,
) -> dict[str, Any]:
    """Erase the season's personal data, as far as `keep_going` lets this run; the next run goes on
    from the recorded progress. Returns (and records) what this run did and whether all is done.
    NotYet, with nothing read or written, before `config.erase_from` or while `sealed()` is false."""
    check_due(config, now, sealed=sealed)
    season = config.season
    progress = dict(store.progress(season))
    if progress.get("done"):
        return {"season": season, "done": True, "already": True, "erased_from": progress.get("done_at")}
    at = now.astimezone(config.tz).isoformat()
    counts = Counts()
    shards: dict[str, Any] = dict(progress.get("shards") or {})
    for shard in range(store.shards):
        cursor = shards.get(str(shard))
        while cursor != "done" and keep_going():
            ids, last = store.registration_page(season, shard, cursor, page)
            _erase_registrations(store, ids, at, counts)
            cursor = last if last is not None and len(ids) == page else "done"
            shards[str(shard)] = cursor
            store.put_progress(season, {"shards": shards, "done": False})
            if cursor == "done":
                counts.shards_done.append(shard)
    done = all(shards.get(str(s)) == "done" for s in range(store.shards)) and keep_going()
    if done:
        counts.complaints = _replace(store, store.complaints(season), at)
        for district in config.districts:
            counts.manual_notices += _replace(store, store.manual_notices(season, district.code), at)
        for prefix in work_prefixes(season):
            counts.files += files.delete_under(prefix)
        store.put_progress(season, {"shards": shards, "done": True, "done_at": at})
    run = {"season": season, "at": at, "done": done, **counts.as_dict()}
    store.put_run(season, run)
    return run


def _erase_registrations(store: ErasureStore, ids: list[str], at: str, counts: Counts) -> None:
    changed: list[StoredRecord] = []
    for rid in ids:
        mine = _erased(store.registration_records(rid), at)
        counts.registrations += any(r.kind == REGISTRATION for r in mine)
        changed += mine
    store.replace(changed)
    counts.items += len(changed)
    # the parents' code records (codes' hashes, send times): useless now, and their TTL may lag
    store.forget_parent_codes(ids)


def _replace(store: ErasureStore, records: Iterable[StoredRecord], at: str) -> int:
    changed = _erased(records, at)
    store.replace(changed)
    return len(changed)
