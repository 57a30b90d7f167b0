"""`VerificationStore` on the season's single DynamoDB table (the one `DynamoStore` uses).

Keys (pk / sk, and gsi1pk / gsi1sk where an item must be listed):
- agency check:        `REG#{id}` / `CHECK#{agency}`
- verdict:             `REG#{id}` / `VERDICT`;  `SEASON#{season}#VERDICT` / `{district}#{status}#{id}`
  (a district's review queue is one query: begins_with `{district}#review#`)
- staff decision:      `REG#{id}` / `DECISION#{UTC instant, microseconds}#{n:04d}` (append-only)
- spot-check sample:   `SEASON#{season}` / `SPOTCHECK#{district}`
- spot-check outcome:  `REG#{id}` / `SPOTCHECK`;  `SEASON#{season}#SPOTCHECK` / `{district}#{id}`

A case's checks and verdict are read together, many cases a call (`cases`: BatchGetItem).

Every write is a conditional put, so a retried batch never writes twice and never undoes a later
write: the conditions encode `review.check_supersedes` and `review.verdict_supersedes`; decisions,
samples and outcomes are never overwritten. Times are stored as ISO 8601 strings, numbers as ints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from enrollment.adapters.table import DynamoTable, record_of
from enrollment.core.ports import Conflict
from enrollment.verification.review import SYSTEM, utc_instant
from enrollment.verification.season import CaseRecord
from enrollment.verification.spotcheck import SpotCheckOutcome, SpotCheckSample
from enrollment.verification.verdicts import Agency, Check, Decision, Verdict, VerdictStatus

MAX_SAME_INSTANT = 1000  # decisions on one case at one microsecond before giving up


def _reg(registration_id: str) -> str:
    return f"REG#{registration_id}"


def _check_item(check: Check) -> dict[str, Any]:
    return {"pk": _reg(check.registration_id), "sk": f"CHECK#{check.agency}", "type": "check"} | (
        check.model_dump(mode="json")
    )


def _verdict_item(v: Verdict) -> dict[str, Any]:
    return {
        "pk": _reg(v.registration_id),
        "sk": "VERDICT",
        "type": "verdict",
        "gsi1pk": f"SEASON#{v.season}#VERDICT",
        "gsi1sk": f"{v.district}#{v.status}#{v.registration_id}",
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


class DynamoVerificationStore(DynamoTable):
    # Checks -----------------------------------------------------------------------------------

    def put_check(self, check: Check) -> bool:
        exists = Attr("pk").not_exists()
        if check.status in ("answered", "not-confirmed"):
            condition: ConditionBase = exists | Attr("status").is_in(["pending", "unanswered"])
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
