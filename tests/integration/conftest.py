"""moto lives here: a season's whole stack, embedded in this process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest

from enrollment.clock import SimulatedClock
from enrollment.config import SeasonConfig
from enrollment.local.runtime import EmbeddedSeason


def at(config: SeasonConfig, text: str) -> datetime:
    """A local time in the season's timezone, e.g. '2023-05-21 09:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=config.tz)


@pytest.fixture
def embedded(season: SeasonConfig) -> Iterator[EmbeddedSeason]:
    """A fresh stack whose clock stands at 09:00 on the day plans are published."""
    start = at(season, f"{season.calendar.plans_published} 09:00")
    with EmbeddedSeason(season, SimulatedClock(start)) as rt:
        yield rt


def post(rt: EmbeddedSeason, body: Any) -> tuple[int, dict[str, Any]]:
    r = rt.call_api("register", "POST", "/api/registrations", body)
    return r["statusCode"], json.loads(r["body"])


def table_items(rt: EmbeddedSeason, table: str | None = None) -> list[dict[str, Any]]:
    t = boto3.resource("dynamodb").Table(table or rt.table_name)
    return list(t.scan()["Items"])


def registration_items(rt: EmbeddedSeason) -> list[dict[str, Any]]:
    return [i for i in table_items(rt) if str(i["pk"]).startswith("REG#")]
