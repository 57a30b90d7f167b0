"""The registration form's copy of the season state (DynamoStore.season_state with a maximum age):
one season-partition read per `state_max_age_s` instead of one per registration, a change made in this
process seen at once, a change made elsewhere seen within the maximum age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from enrollment.adapters import dynamodb
from enrollment.adapters.dynamodb import DynamoStore

TABLE = "season-state-cache"


@pytest.fixture
def table() -> Iterator[None]:
    with mock_aws(), mock.patch.dict("os.environ", {"AWS_DEFAULT_REGION": "cn-north-1"}):
        boto3.client("dynamodb").create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        yield


def test_the_form_reads_the_season_once_per_max_age_and_sees_this_processs_changes_at_once(
    table: None,
) -> None:
    clock = [1000.0]
    form = DynamoStore(TABLE, state_max_age_s=5)
    staff = DynamoStore(TABLE)  # another adapter of the same process: the gates handler's
    reads: list[str] = []
    real = DynamoStore._read_season_state

    def counted(self: DynamoStore, season: str) -> object:
        reads.append(season)
        return real(self, season)

    with (
        mock.patch.object(dynamodb.time, "monotonic", side_effect=lambda: clock[0]),
        mock.patch.object(DynamoStore, "_read_season_state", counted),
    ):
        assert form.season_state("2023").extended_to == {}
        for _ in range(100):  # a burst of registrations: one read
            form.season_state("2023")
        assert len(reads) == 1

        # a window extended by this process is seen by the next registration
        staff.put_window_extension(
            "2023", 1, {"extended_to": "2023-07-20", "extended_at": "2023-07-18T09:00:00+08:00"}
        )
        assert form.season_state("2023").extended_to == {1: date(2023, 7, 20)}
        assert len(reads) == 2

        # a change written by another process (here: straight into the table) is seen after the max age
        boto3.resource("dynamodb").Table(TABLE).put_item(
            Item={"pk": "SEASON#2023", "sk": "GATE#registration-g1", "status": "advanced"}
        )
        clock[0] += 4.9
        assert "registration-g1" not in form.season_state("2023").advanced_gates
        clock[0] += 0.2
        assert "registration-g1" in form.season_state("2023").advanced_gates
        assert len(reads) == 3

    # without a maximum age every call reads
    assert "registration-g1" in staff.season_state("2023").advanced_gates
