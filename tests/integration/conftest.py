"""moto lives here: a season's whole stack, embedded in this process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import Population


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
    """The whole table, page after page: what a test looks at, never what the season reads."""
    t = boto3.resource("dynamodb").Table(table or rt.table_name)
    kwargs: dict[str, Any] = {}
    items: list[dict[str, Any]] = []
    while True:
        page = t.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def registration_items(rt: EmbeddedSeason) -> list[dict[str, Any]]:
    return [i for i in table_items(rt) if str(i["pk"]).startswith("REG#")]


# Tiny plans, so that a small season oversubscribes most private schools.
SMALL_PLANS = {"P-CY-01": {1: 2}, "P-CH-02": {1: 2, 7: 2}}


def small_season(
    season: SeasonConfig, folder: Path, plans: dict[str, dict[int, int]] | None = None
) -> tuple[SeasonConfig, str]:
    """The season with tiny private plans (`plans` by school, else one seat a grade), as a config file."""
    tiny = SMALL_PLANS if plans is None else plans
    raw = season.model_dump(mode="json")
    for school in raw["schools"]:
        if school["kind"] == "private":
            school["plans"] = tiny.get(school["id"], dict.fromkeys(school["plans"], 1))
    path = folder / "jilin-2023.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_season(path), str(path)


@contextmanager
def registered_season(
    config: SeasonConfig, population: Population, config_path: str | None = None
) -> Iterator[tuple[EmbeddedSeason, dict[str, dict[str, Any]]]]:
    """A season whose valid submissions are registered (both gates passed): the runtime and the bodies."""
    start = at(config, f"{config.calendar.grade7_registration.start} 08:00")
    with EmbeddedSeason(
        config, SimulatedClock(start), registries=population.registries, config_path=config_path
    ) as rt:
        rt.start()
        rt.wait_for_gate("grade7-registration")
        yield rt, drive.register_valid(rt, population)
