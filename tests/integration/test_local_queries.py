"""The local runtime's base-table queries read one partition (enrollment/local/runtime.py
`_partition_queries`) and answer exactly as DynamoDB does: order, pages, key conditions, filters,
other partitions untouched, index queries across partitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason

pytestmark = pytest.mark.xdist_group("local-queries")


def pages(table: Any, **kwargs: Any) -> list[list[str]]:
    out = []
    while True:
        page = table.query(**kwargs)
        out.append([str(i["sk"]) for i in page["Items"]])
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_partition_queries_answer_as_dynamodb(season: SeasonConfig) -> None:
    with EmbeddedSeason(season, SimulatedClock(datetime(2023, 5, 1, tzinfo=season.tz))) as rt:
        table = boto3.resource("dynamodb").Table(rt.table_name)
        with table.batch_writer() as batch:
            for i in range(30):
                batch.put_item(
                    Item={"pk": "P#A", "sk": f"X#{i:02d}", "n": i, "gsi1pk": "G", "gsi1sk": f"a{i:02d}"}
                )
            for i in range(5):
                batch.put_item(
                    Item={"pk": "P#B", "sk": f"X#{i:02d}", "n": i, "gsi1pk": "G", "gsi1sk": f"b{i:02d}"}
                )
            batch.put_item(Item={"pk": "P#A", "sk": "Y#00", "n": 99})
        every = [f"X#{i:02d}" for i in range(30)]

        # one partition, in sort-key order, in pages, forwards and backwards
        xs = Key("pk").eq("P#A") & Key("sk").begins_with("X#")
        paged = pages(table, KeyConditionExpression=xs, Limit=7)
        assert [len(p) for p in paged] == [7, 7, 7, 7, 2]
        assert [sk for page in paged for sk in page] == every
        backwards = pages(table, KeyConditionExpression=Key("pk").eq("P#A"), ScanIndexForward=False)
        assert backwards == [["Y#00", *reversed(every)]]
        # key conditions and filters
        between = pages(table, KeyConditionExpression=Key("pk").eq("P#A") & Key("sk").between("X#10", "X#12"))
        assert between == [["X#10", "X#11", "X#12"]]
        odd = pages(
            table, KeyConditionExpression=Key("pk").eq("P#B"), FilterExpression=Attr("n").is_in([1, 3])
        )
        assert odd == [["X#01", "X#03"]]
        assert pages(table, KeyConditionExpression=Key("pk").eq("P#none")) == [[]]
        # an index query still spans every partition
        found = table.query(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq("G"))["Items"]
        assert sorted(str(i["gsi1sk"]) for i in found) == sorted(
            [f"a{i:02d}" for i in range(30)] + [f"b{i:02d}" for i in range(5)]
        )
