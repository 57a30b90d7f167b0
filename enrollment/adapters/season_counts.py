"""`SeasonCounts` (enrollment/core/launch.py) on the season's single table: what the season's status
counts, each by key or index queries that return one small attribute per item (never a Scan).

- registrations per grade (but withdrawn ones): GSI1 `SEASON#{season}#REG#{shard}`, `gsi1sk` beginning `{grade}#`, for
  each of the 16 shards and each grade;
- verdicts per status: GSI1 `SEASON#{season}#VERDICT` (one index partition for the season);
- placements per route: GSI1 `SEASON#{season}#PLACED#{school}` for each school (a child placed at
  no school, e.g. deferred, is listed under none and so not counted);
- dead letters: the partition `SEASON#{season}#DEADLETTER`.

A query's read units count whole items even when it returns one attribute: at 300,000 applicants
the registrations and the verdicts are each about 400 pages of 1 MB (a few seconds, a fraction of a
cent), the places a query or two per school.
"""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Key

from enrollment.adapters.dynamodb import SHARDS, dead_letters_key, registrations_key
from enrollment.adapters.placement_store import placed_key
from enrollment.adapters.table import DynamoTable, record_of
from enrollment.registration.demand import WITHDRAWN


def _projecting(attribute: str) -> dict[str, Any]:
    return {"ProjectionExpression": "#a", "ExpressionAttributeNames": {"#a": attribute}}


class DynamoSeasonCounts(DynamoTable):
    def registrations_per_grade(self, season: str, grades: tuple[int, ...]) -> dict[int, int]:
        out: dict[int, int] = {}
        for grade in grades:
            out[grade] = sum(
                1
                for shard in range(SHARDS)
                for i in self._listed(registrations_key(season, shard), f"{grade}#", **_projecting("status"))
                if i.get("status") != WITHDRAWN  # withdrawn by the family (issue 19): no longer counted
            )
        return out

    def verdicts_per_status(self, season: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self._listed(f"SEASON#{season}#VERDICT", **_projecting("status")):
            status = str(item.get("status"))
            out[status] = out.get(status, 0) + 1
        return dict(sorted(out.items()))

    def placements_per_route(self, season: str, school_ids: tuple[str, ...]) -> dict[str, int]:
        out: dict[str, int] = {}
        for school in school_ids:
            for item in self._listed(placed_key(season, school), **_projecting("route")):
                route = str(item.get("route"))
                out[route] = out.get(route, 0) + 1
        return dict(sorted(out.items()))

    def season_dead_letters(self, season: str) -> list[dict[str, Any]]:
        return [
            record_of(i)
            for i in self._query(
                KeyConditionExpression=Key("pk").eq(dead_letters_key(season)), ConsistentRead=True
            )
        ]
