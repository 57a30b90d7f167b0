"""Placement's items on the season's single DynamoDB table.

Keys:
- the season's tie-break (R-PUB-2):  `SEASON#{season}` / `TIEBREAK` (seed and pool digest, written once)
- a staff decision (append-only):   `REG#{id}` / `PLACEDEC#{UTC instant}#{n}`;
                                    GSI1 `SEASON#{season}#PLACEDEC` / `{district}#{id}#{UTC instant}`
- a child's placement:              `REG#{id}` / `PLACEMENT` (written by the placement run's store step);
                                    a child placed at a school also GSI1 `SEASON#{season}#PLACED#{school}` /
                                    `{id}` (one index partition per school: reporting day's no-shows)
- an arrival on reporting day:      `REG#{id}` / `ARRIVAL`; GSI1 `SEASON#{season}#ARRIVAL` / `{school}#{id}`
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from enrollment.adapters.table import DynamoTable, record_of
from enrollment.placement.place import StaffDecision


def _instant() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DynamoPlacementStore(DynamoTable):
    def tie_break(self, season: str) -> dict[str, Any] | None:
        return self._record(f"SEASON#{season}", "TIEBREAK")

    def put_tie_break(self, season: str, item: dict[str, Any]) -> bool:
        return self._put_new({"pk": f"SEASON#{season}", "sk": "TIEBREAK", "type": "tie-break", **item})

    def append_decision(self, season: str, district: str, decision: StaffDecision) -> None:
        instant = _instant()
        item = {
            "pk": f"REG#{decision.registration_id}",
            "sk": f"PLACEDEC#{instant}#{uuid.uuid4().hex[:8]}",
            "type": "placement-decision",
            "gsi1pk": f"SEASON#{season}#PLACEDEC",
            "gsi1sk": f"{district}#{decision.registration_id}#{instant}",
            **{k: v for k, v in vars(decision).items() if v is not None},
        }
        self._put_new(item)

    def decisions(self, season: str, district: str | None = None) -> dict[str, StaffDecision]:
        """The latest decision per child (a later one replaces an earlier one; all are kept)."""
        prefix = f"{district}#" if district is not None else None
        latest: dict[str, StaffDecision] = {}
        for item in self._listed(f"SEASON#{season}#PLACEDEC", prefix):
            d = record_of(item)
            latest[d["registration_id"]] = StaffDecision(**d)  # ascending: the last one wins
        return latest

    def placed(self, registration_id: str) -> dict[str, Any] | None:
        return self._record(f"REG#{registration_id}", "PLACEMENT")

    def put_placements(self, season: str, lines: Iterable[dict[str, Any]]) -> None:
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for line in lines:
                school = line.get("school_id")
                listed = {"gsi1pk": placed_key(season, str(school)), "gsi1sk": line["registration_id"]}
                batch.put_item(
                    Item={"pk": f"REG#{line['registration_id']}", "sk": "PLACEMENT", "type": "placement"}
                    | {k: v for k, v in line.items() if v is not None}
                    | {"season": season}
                    | (listed if school else {})
                )

    def placed_at(self, registration_ids: Iterable[str]) -> dict[str, str | None]:
        """Several children's schools (None: placed nowhere, e.g. deferred), batched; a child without a
        stored place is absent."""
        return {
            rid: (str(item["school_id"]) if item.get("school_id") else None)
            for rid, item in self._records_of(registration_ids, "PLACEMENT").items()
        }

    def placed_at_school(self, season: str, school_id: str) -> set[str]:
        """The children placed at the school (every grade): one index partition, not the season's places."""
        return {str(i["registration_id"]) for i in self._listed(placed_key(season, school_id))}

    # Reporting day (R-NOTE-1) ---------------------------------------------------------------

    def mark_arrival(self, season: str, school_id: str, registration_id: str, item: dict[str, Any]) -> bool:
        row = {
            "pk": f"REG#{registration_id}",
            "sk": "ARRIVAL",
            "type": "arrival",
            "gsi1pk": f"SEASON#{season}#ARRIVAL",
            "gsi1sk": f"{school_id}#{registration_id}",
            "registration_id": registration_id,
            "school_id": school_id,
            **item,
        }
        return self._put_new(row)

    def arrivals(self, season: str, school_id: str) -> set[str]:
        listed = self._listed(f"SEASON#{season}#ARRIVAL", f"{school_id}#")
        return {str(i["registration_id"]) for i in listed}

    def arrival_times(self, season: str, school_id: str) -> dict[str, str]:
        """One school's arrivals and when each was recorded (the reporting-day screen's list)."""
        listed = self._listed(f"SEASON#{season}#ARRIVAL", f"{school_id}#")
        return {str(i["registration_id"]): str(i.get("at", "")) for i in listed}

    def arrivals_by_school(self, season: str) -> dict[str, set[str]]:
        """Every school's arrivals: one index query for the season (paged), not one per school."""
        by_school: dict[str, set[str]] = {}
        for i in self._listed(f"SEASON#{season}#ARRIVAL"):
            by_school.setdefault(str(i["school_id"]), set()).add(str(i["registration_id"]))
        return by_school


def placed_key(season: str, school_id: str) -> str:
    """GSI1's partition key listing the children placed at one school."""
    return f"SEASON#{season}#PLACED#{school_id}"
