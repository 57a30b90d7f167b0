"""A lottery ceremony not held by the lottery day's end: flagged overdue, awaited again (R-LOT-3)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.synth.population import generate
from tests.integration.conftest import registered_season, small_season

pytestmark = pytest.mark.xdist_group("moto-lottery-overdue")


def test_a_ceremony_not_held_by_the_deadline_is_flagged_and_still_awaited(
    season: SeasonConfig, tmp_path: Path
) -> None:
    config, path = small_season(season, tmp_path)
    population = generate(config, 40, seed=5)
    with registered_season(config, population, path) as (rt, _):
        # Given the season's gates all passed their deadlines: the lottery day is already over
        rt.advance_clock(config.day_end(config.calendar.lottery_day) + timedelta(hours=1))
        prepared = drive.wait_for_lotteries(rt)
        item = next(i for i in prepared["schools"] if i["needs_draw"])
        assert item["timeout_seconds"] == 1
        store = DynamoLotteryStore(rt.table_name)
        key = (config.season, item["school_id"], item["grade"])
        # When the workflow's wait times out, the ceremony is flagged overdue and awaited again
        end = time.monotonic() + 120
        while int((store.school(*key) or {}).get("overdue_count", 0)) < 1:
            assert time.monotonic() < end, "the wait did not time out"
            time.sleep(0.1)
        assert [e["event"] for e in store.events(*key)] == ["overdue"]
        assert rt.describe()["status"] == "RUNNING"
        district = config.school_index[item["school_id"]].district
        view = drive.call(
            rt,
            "GET",
            f"/admin/lottery/{config.season}/ceremonies/{key[1]}/{key[2]}",
            None,
            drive.member(rt, "district", district).principal,
        )[1]
        assert view["overdue"] is True
        # Then it is never drawn without the representatives: only the ceremony lets the season go on
        for i in prepared["schools"]:
            if i["needs_draw"]:
                d = config.school_index[i["school_id"]].district
                drive.run_ceremony(
                    rt,
                    i["school_id"],
                    i["grade"],
                    drive.member(rt, "district", d).principal,
                    drive.typed_inputs(),
                )
        rt.wait_for_gate("coordination", timeout=600)
        names = [
            e["stateEnteredEventDetails"]["name"] for e in rt.history() if "stateEnteredEventDetails" in e
        ]
        assert "CeremonyOverdue" in names and "RecordAdmissions" in names
