"""`VerificationStore` on the season's single DynamoDB table (the one `DynamoStore` uses).

Keys (pk / sk, and gsi1pk / gsi1sk where an item must be listed):
- agency check:        `REG#{id}` / `CHECK#{agency}`
- verdict:             `REG#{id}` / `VERDICT`;  `SEASON#{season}#VERDICT` / `{district}#{status}#{by}#{id}`
  where `by` is `system` until a person signs, then `signed`: a district's review queue (R-VER-3) is
  the key ranges `{district}#not-eligible#system#` and `{district}#review#system#`, each by id, so a
  page of it is two ranged queries merged (`queue_page`), however many cases were already signed
- staff decision:      `REG#{id}` / `DECISION#{UTC instant, microseconds}#{n:04d}` (append-only)
- spot-check sample:   `SEASON#{season}` / `SPOTCHECK#{district}`
- spot-check outcome:  `REG#{id}` / `SPOTCHECK`;  `SEASON#{season}#SPOTCHECK` / `{district}#{id}`
- open home visit:     `REG#{id}` / `VISIT`;  `SEASON#{season}#VISIT#{district}` / `{id}`: a community
  office's worklist is one partition of GSI1 read in id order (`visits_page`: one Query, however
  many visits the season has elsewhere); answering or closing the visit deletes the item, so the
  list holds only open visits

A case's checks and verdict are read together, many cases a call (`cases`: BatchGetItem).

Every write is a conditional put, so a retried batch never writes twice and never undoes a later
write: the conditions encode `review.check_supersedes` and `review.verdict_supersedes`; decisions,
samples and outcomes are never overwritten. Times are stored as ISO 8601 strings, numbers as ints.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from enrollment.adapters.table import DynamoTable, record_of
from enrollment.core.ports import Conflict
from enrollment.verification.review import NEEDS_REVIEW, SYSTEM, utc_instant
from enrollment.verification.season import CaseRecord, PlacementFacts, VerdictFacts
from enrollment.verification.spotcheck import SpotCheckOutcome, SpotCheckSample
from enrollment.verification.verdicts import Agency, Check, Decision, Verdict, VerdictStatus
from enrollment.verification.visits import OpenVisit

MAX_SAME_INSTANT = 1000  # decisions on one case at one microsecond before giving up


def _projecting(*attributes: str) -> dict[str, Any]:
    """A read's parameters that return only `attributes` of each item (top-level, by placeholder: some
    are DynamoDB reserved words); the page's 1 MB and read units still count the whole items."""
    names = {f"#p{n}": a for n, a in enumerate(attributes)}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def _reg(registration_id: str) -> str:
    return f"REG#{registration_id}"


def _check_item(check: Check) -> dict[str, Any]:
    return {"pk": _reg(check.registration_id), "sk": f"CHECK#{check.agency}", "type": "check"} | (
        check.model_dump(mode="json")
    )


def _verdict_prefix(district: str, status: VerdictStatus, by_system: bool) -> str:
    """The start of a verdict's `gsi1sk`; the registration id follows it."""
    return f"{district}#{status}#{'system' if by_system else 'signed'}#"


def _verdict_item(v: Verdict) -> dict[str, Any]:
    return {
        "pk": _reg(v.registration_id),
        "sk": "VERDICT",
        "type": "verdict",
        "gsi1pk": f"SEASON#{v.season}#VERDICT",
        "gsi1sk": f"{_verdict_prefix(v.district, v.status, v.decided_by == SYSTEM)}{v.registration_id}",
        "at_utc": utc_instant(v.decided_at),
        **v.model_dump(mode="json"),
    }


def _decision_item(d: Decision, n: int) -> dict[str, Any]:
    return {
        "pk": _reg(d.registration_id),
        "sk": f"DECISION#{utc_instant(d.at)}#{n:04d}",
        "type": "decision",
        **d.model_dump(mode="json"),
    }


def _sample_item(s: SpotCheckSample) -> dict[str, Any]:
    return {"pk": f"SEASON#{s.season}", "sk": f"SPOTCHECK#{s.district}", "type": "spot-check-sample"} | (
        s.model_dump(mode="json")
    )


def _outcome_item(o: SpotCheckOutcome) -> dict[str, Any]:
    return {
        "pk": _reg(o.registration_id),
        "sk": "SPOTCHECK",
        "type": "spot-check",
        "gsi1pk": f"SEASON#{o.season}#SPOTCHECK",
        "gsi1sk": f"{o.district}#{o.registration_id}",
        **o.model_dump(mode="json"),
    }


def _visit_item(v: OpenVisit) -> dict[str, Any]:
    return {
        "pk": _reg(v.registration_id),
        "sk": "VISIT",
        "type": "visit",
        "gsi1pk": f"SEASON#{v.season}#VISIT#{v.district}",
        "gsi1sk": v.registration_id,
        **v.model_dump(mode="json"),
    }


class DynamoVerificationStore(DynamoTable):
    # Checks -----------------------------------------------------------------------------------

    def put_check(self, check: Check) -> bool:
        exists = Attr("pk").not_exists()
        if check.status in ("answered", "not-confirmed"):
            condition: ConditionBase = exists | Attr("status").is_in(["pending", "unanswered"])
        elif check.status == "unanswered" and check.agency != "community":  # see check_supersedes
            condition = exists | Attr("status").eq("pending")
        else:
            condition = exists
        return self._put_if(_check_item(check), condition)

    def checks(self, registration_id: str) -> list[Check]:
        return [Check.model_validate(record_of(i)) for i in self._under(_reg(registration_id), "CHECK#")]

    def cases(self, agencies: Mapping[str, Iterable[Agency]]) -> dict[str, CaseRecord]:
        """Each registration's checks of `agencies[id]` and its verdict: one BatchGetItem per 100 keys."""
        wanted = {
            rid: [f"CHECK#{a}" for a in dict.fromkeys(asked)] + ["VERDICT"] for rid, asked in agencies.items()
        }
        found = self._get_many((_reg(rid), sk) for rid, sks in wanted.items() for sk in sks)
        out: dict[str, CaseRecord] = {}
        for rid, sks in wanted.items():
            items = [found[(_reg(rid), sk)] for sk in sks if (_reg(rid), sk) in found]
            checks = [Check.model_validate(record_of(i)) for i in items if i["sk"] != "VERDICT"]
            verdict = next(
                (Verdict.model_validate(record_of(i)) for i in items if i["sk"] == "VERDICT"), None
            )
            out[rid] = CaseRecord(checks, verdict)
        return out

    # Verdicts ---------------------------------------------------------------------------------

    def put_verdict(self, verdict: Verdict) -> bool:
        exists = Attr("pk").not_exists()
        by_system = Attr("decided_by").eq(SYSTEM)
        not_newer = Attr("at_utc").lte(utc_instant(verdict.decided_at))
        if verdict.decided_by == SYSTEM:  # never over a person's signature (R-VER-3)
            condition = exists | (by_system & not_newer)
        else:
            condition = exists | by_system | not_newer
        return self._put_if(_verdict_item(verdict), condition)

    def verdict(self, registration_id: str) -> Verdict | None:
        item = self._get(_reg(registration_id), "VERDICT")
        return Verdict.model_validate(record_of(item)) if item else None

    def verdicts_of(self, registration_ids: Iterable[str]) -> dict[str, Verdict]:
        """Several children's verdicts, batched (a correction's few, not the season's); those without
        one absent."""
        return {
            rid: Verdict.model_validate(record)
            for rid, record in self._records_of(registration_ids, "VERDICT").items()
        }

    def verdicts(
        self, season: str, district: str | None = None, status: VerdictStatus | None = None
    ) -> list[Verdict]:
        prefix: str | None = None
        kwargs: dict[str, Any] = {}
        if district is not None:
            prefix = f"{district}#{status}#" if status is not None else f"{district}#"
        elif status is not None:
            kwargs["FilterExpression"] = Attr("status").eq(status)
        items = self._listed(f"SEASON#{season}#VERDICT", prefix, **kwargs)
        return sorted((Verdict.model_validate(record_of(i)) for i in items), key=lambda v: v.registration_id)

    def verdict_facts(self, season: str, district: str | None = None) -> Iterator[VerdictFacts]:
        """The season's (or one district's) verdicts as `VerdictFacts`, in index order, a page at a
        time as consumed: the fields are taken from the items as read, no model is built or kept."""
        for i in self._listed(
            f"SEASON#{season}#VERDICT",
            f"{district}#" if district is not None else None,
            **_projecting("registration_id", "district", "status", "reasons", "decided_by"),
        ):
            yield VerdictFacts(
                str(i["registration_id"]),
                str(i["district"]),
                str(i["status"]),
                tuple(str(r) for r in i.get("reasons") or ()),
                str(i.get("decided_by", SYSTEM)),
            )

    def placement_facts(self, season: str) -> Iterator[PlacementFacts]:
        """The season's verdicts as `PlacementFacts`, in index order, a page at a time as consumed: no
        model built, and the few distinct statuses, zone ids and fact mappings shared, not one copy
        per verdict (placement holds the season's, one per child)."""
        shared: dict[Any, Any] = {}
        projection = _projecting("registration_id", "status", "zone_id", "facts")
        for i in self._listed(f"SEASON#{season}#VERDICT", **projection):
            facts = tuple(sorted((str(f), bool(held)) for f, held in (i.get("facts") or {}).items()))
            if facts not in shared:
                shared[facts] = MappingProxyType(dict(facts))
            zone = i.get("zone_id")
            yield PlacementFacts(
                str(i["registration_id"]),
                shared.setdefault(str(i["status"]), str(i["status"])),
                None if zone is None else shared.setdefault(str(zone), str(zone)),
                shared[facts],
            )

    def holding(self, season: str, fact: str) -> Iterator[str]:
        """The registration ids of the season's verdicts whose `fact` holds, a page at a time as
        consumed (nothing else of a verdict is kept)."""
        for i in self._listed(f"SEASON#{season}#VERDICT", **_projecting("registration_id", "facts")):
            if (i.get("facts") or {}).get(fact) is True:
                yield str(i["registration_id"])

    def queue_page(
        self, season: str, district: str, after: str | None, limit: int
    ) -> tuple[list[Verdict], bool]:
        """Each status of the queue gives its first `limit + 1` cases after `after` (one ranged query
        on GSI1 each); the page is the first `limit` of them all by id, and whether there are more."""
        found: list[dict[str, Any]] = []
        for status in NEEDS_REVIEW:
            prefix = _verdict_prefix(district, status, True)
            low = prefix + (after + "!" if after else "")  # "!" sorts before, "~" after every id character
            found += self._range(f"SEASON#{season}#VERDICT", low, prefix + "~", limit + 1)
        items = sorted(found, key=lambda i: str(i["registration_id"]))[: limit + 1]
        return [Verdict.model_validate(record_of(i)) for i in items[:limit]], len(items) > limit

    # Decisions (append-only) ------------------------------------------------------------------

    def append_decision(self, decision: Decision) -> bool:
        for n in range(MAX_SAME_INSTANT):
            item = _decision_item(decision, n)
            if self._put_new(item):
                return True
            existing = self._get(item["pk"], item["sk"])
            if existing is not None and Decision.model_validate(record_of(existing)) == decision:
                return False  # a retry of a decision already appended
        raise Conflict(f"too many decisions on {decision.registration_id} at {decision.at.isoformat()}")

    def decisions(self, registration_id: str) -> list[Decision]:
        return [
            Decision.model_validate(record_of(i)) for i in self._under(_reg(registration_id), "DECISION#")
        ]

    # Spot-checks (R-VER-5) --------------------------------------------------------------------

    def put_spot_check_sample(self, sample: SpotCheckSample) -> bool:
        if self._put_new(_sample_item(sample)):
            return True
        existing = self.spot_check_sample(sample.season, sample.district)
        if existing is not None and existing.same_draw(sample):
            return False
        raise Conflict(f"district {sample.district} already has another sample")

    def spot_check_sample(self, season: str, district: str) -> SpotCheckSample | None:
        item = self._get(f"SEASON#{season}", f"SPOTCHECK#{district}")
        return SpotCheckSample.model_validate(record_of(item)) if item else None

    def put_spot_check(self, outcome: SpotCheckOutcome) -> bool:
        item = _outcome_item(outcome)
        if self._put_new(item):
            return True
        existing = self._get(item["pk"], item["sk"])
        if existing is not None and SpotCheckOutcome.model_validate(record_of(existing)).same_as(outcome):
            return False
        raise Conflict(f"{outcome.registration_id} already has another spot-check outcome")

    def spot_checks(self, season: str, district: str) -> list[SpotCheckOutcome]:
        items = self._listed(f"SEASON#{season}#SPOTCHECK", f"{district}#")
        return sorted(
            (SpotCheckOutcome.model_validate(record_of(i)) for i in items), key=lambda o: o.registration_id
        )

    # Open home visits (the community office's worklist) ------------------------------------------

    def put_visit(self, visit: OpenVisit) -> None:
        self._call(self.table.put_item, Item=_visit_item(visit))

    def drop_visit(self, registration_id: str) -> None:
        self._call(self.table.delete_item, Key={"pk": _reg(registration_id), "sk": "VISIT"})

    def visits_page(
        self, season: str, district: str, after: str | None, limit: int
    ) -> tuple[list[OpenVisit], bool]:
        """One ranged Query of the district's partition: the first `limit + 1` ids after `after`."""
        low = after + "!" if after else "!"  # "!" sorts before, "~" after every id character
        items = self._range(f"SEASON#{season}#VISIT#{district}", low, "~", limit + 1)
        return [OpenVisit.model_validate(record_of(i)) for i in items[:limit]], len(items) > limit

    def open_visits(self, season: str, district: str) -> Iterator[OpenVisit]:
        for i in self._listed(f"SEASON#{season}#VISIT#{district}"):
            yield OpenVisit.model_validate(record_of(i))
