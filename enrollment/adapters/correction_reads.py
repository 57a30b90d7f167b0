"""The corrections read where placement's modules are not (issue 18): the family's status page, the
complaints' answers and the notices re-issued after a correction. The keys are the correction
store's (enrollment/adapters/correction_store.py, which extends this class to write them); only the
corrections' model is imported here."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from enrollment.adapters.table import DynamoTable
from enrollment.corrections.model import Change, ChildCorrection, Correction


def corrections_pk(season: str) -> str:
    return f"SEASON#{season}#CORRECTIONS"


class DynamoCorrectionReads(DynamoTable):
    def _batches(self, season: str) -> Iterator[dict[str, Any]]:
        return self._query(KeyConditionExpression=Key("pk").eq(corrections_pk(season)), ConsistentRead=True)

    def corrections(self, season: str) -> list[Correction]:
        """Every correction of the season, sealed or not, in the order written."""
        return [
            Correction.model_validate(c)
            for item in self._batches(season)
            for c in json.loads(str(item["corrections"]))
        ]

    def corrections_of_child(self, registration_id: str) -> list[ChildCorrection]:
        """The child's own corrections in the order written (its status page's history)."""
        return [
            ChildCorrection(
                correction_id=str(item["correction_id"]),
                kind=item["kind"],
                at=datetime.fromisoformat(str(item["at"])),
                reason_codes=tuple(item.get("reason_codes") or ()),
                complaint_id=item.get("complaint_id"),
                change=Change.model_validate_json(str(item["change"])),
            )
            for item in self._under(f"REG#{registration_id}", "CORRECTION#")
        ]
