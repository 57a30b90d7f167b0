"""A throttled write never gives a 5xx from Lambda (functions/api.py, enrollment/adapters/clients.py).

A throttle AWS gives once is retried inside the handler by the clients' standard retry mode, and the
registration succeeds (201). A throttle that lasts past those retries (injected as
enrollment/local/faults.py does: the error boto3 raises once its retries are spent) is answered 503
with Retry-After in the one refusal shape, and nothing is stored: the family may simply send again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason
from functions.api import BUSY_ZH
from tests.integration.conftest import at, registration_items, table_items
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-throttling")

THROTTLED = "ProvisionedThroughputExceededException"


class Throttle:
    """A botocore `before-call` hook throttling the season table's calls of the operations in `ops`,
    as boto3 raises the error once its own retries are spent."""

    def __init__(self) -> None:
        self.table = ""
        self.ops: set[str] = set()
        self.refused: list[str] = []

    def before_call(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name != "dynamodb" or model.name not in self.ops:
            return
        body = json.loads(params.get("body") or b"{}")
        if body.get("TableName") != self.table:
            return
        self.refused.append(model.name)
        answer: Any = {
            "Error": {"Code": THROTTLED, "Message": "Rate exceeded (injected)"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        raise ClientError(answer, model.name)


@pytest.fixture
def throttled(season: SeasonConfig) -> Iterator[tuple[EmbeddedSeason, Throttle]]:
    """A fresh stack in grade 1's registration window whose clients all carry the `Throttle` hook."""
    throttle = Throttle()
    create_client = botocore.session.Session.create_client

    def hooked(session: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(session, *args, **kwargs)
        client.meta.events.register("before-call.dynamodb", throttle.before_call)
        return client

    start = at(season, f"{season.calendar.grade1_registration.start} 10:00")
    with (
        mock.patch.object(botocore.session.Session, "create_client", hooked),
        EmbeddedSeason(season, SimulatedClock(start)) as rt,
    ):
        throttle.table = rt.table_name
        yield rt, throttle


def _call(rt: EmbeddedSeason, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any], Any]:
    r = rt.call_api("register", method, path, body)
    headers = {**r.get("headers", {}), **{k: v[-1] for k, v in r.get("multiValueHeaders", {}).items()}}
    return r["statusCode"], headers, json.loads(r["body"])


def _busy(status: int, headers: dict[str, str], answer: Any) -> None:
    assert status == 503, answer
    assert int(headers["Retry-After"]) >= 1
    assert answer["message"] == BUSY_ZH
    [error] = answer["errors"]
    assert error["field"] and error["message"] == BUSY_ZH and error["message_en"]


def test_a_registration_still_throttled_is_answered_503_and_nothing_is_stored(
    throttled: tuple[EmbeddedSeason, Throttle], season: SeasonConfig
) -> None:
    rt, throttle = throttled
    body = valid_body(season)
    throttle.ops = {"PutItem"}
    status, headers, answer = _call(rt, "POST", "/api/registrations", body)
    _busy(status, headers, answer)
    assert throttle.refused == ["PutItem"]
    assert registration_items(rt) == []
    assert not [i for i in table_items(rt) if "#LIVE#" in str(i["pk"])]

    # a read the API answers is refused the same way (every router's resolver maps it); the seat
    # warnings, as the season's state may come from the form's copy (at most 5 s old)
    throttle.ops = {"Query"}
    _busy(*_call(rt, "GET", "/api/warnings"))

    # and once AWS takes writes again, the same request goes through (nothing half-done is in its way)
    throttle.ops = set()
    status, _, answer = _call(rt, "POST", "/api/registrations", body)
    assert status == 201, answer
    assert [i["registration_id"] for i in registration_items(rt)] == [answer["registration_id"]]


def test_a_throttle_aws_gives_once_is_retried_in_the_handler(
    throttled: tuple[EmbeddedSeason, Throttle], season: SeasonConfig
) -> None:
    rt, _ = throttled
    put_item = DynamoDBBackend.put_item
    refused: list[str] = []

    def once(backend: DynamoDBBackend, table_name: str, item_attrs: dict[str, Any], *a: Any, **k: Any) -> Any:
        if item_attrs.get("sk", {}).get("S") == "REG" and not refused:
            refused.append(item_attrs["pk"]["S"])
            raise DynamodbException(ERROR_TYPE_PREFIX + THROTTLED, "Rate exceeded (injected)")
        return put_item(backend, table_name, item_attrs, *a, **k)

    with mock.patch.object(DynamoDBBackend, "put_item", once):
        status, _, answer = _call(rt, "POST", "/api/registrations", valid_body(season))
    assert status == 201, answer
    assert refused == [f"REG#{answer['registration_id']}"]  # AWS refused it once; the client tried again
    [item] = registration_items(rt)
    assert item["registration_id"] == answer["registration_id"]
    assert boto3.client("dynamodb").describe_table(TableName=rt.table_name)["Table"]["ItemCount"] >= 1
