"""R-REG-1: a bureau may extend a registration window; the extension is recorded and moves the deadline."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.runtime import EmbeddedSeason
from tests.integration.conftest import at, post
from tests.support import valid_body

pytestmark = pytest.mark.xdist_group("moto-workflow")
STAFF = "city-staff-01"  # seeded city staff, signed in with a token


def extend(
    rt: EmbeddedSeason, grade: int, body: Any, caller: str | None = STAFF
) -> tuple[int, dict[str, Any]]:
    status, answer = drive.call(
        rt, "POST", f"/admin/seasons/{rt.config.season}/windows/{grade}/extend", body, caller
    )
    return status, answer


def test_extension_reopens_late_days_and_moves_the_deadline(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    embedded.start()
    embedded.wait_for_gate("grade7-registration")
    embedded.advance_clock(at(season, "2023-05-20 00:00"))
    embedded.wait_for_gate("grade1-registration")

    # When the city extends grade 1 by two days, with a reason
    status, result = extend(embedded, 1, {"until": "2023-05-31", "reason": "系统维护顺延两天"})
    assert status == 200, result
    assert result["deadline"] == "2023-06-01T00:00:00+08:00" and result["extended_by"] == STAFF

    # Then the original deadline fires nothing, a registration on 30 May is accepted
    assert embedded.advance_clock(at(season, "2023-05-30 00:00")) == []
    assert post(embedded, valid_body(season))[0] == 201
    # and the moved schedule closes the gate at the new deadline
    fired = embedded.advance_clock(at(season, "2023-06-01 00:00"))
    assert [f["result"]["result"] for f in fired] == ["advanced"]
    embedded.wait_for_gate("home-visits")

    # And every extension is kept, with who, when and why
    items = boto3.resource("dynamodb").Table(embedded.table_name).scan()["Items"]
    history = [i for i in items if str(i["sk"]).startswith("WINDOW#1#")]
    assert [(h["extended_to"], h["extended_by"], h["reason"]) for h in history] == [
        ("2023-05-31", STAFF, "系统维护顺延两天")
    ]


@pytest.mark.parametrize(
    ("body", "status", "field_or_message"),
    [
        ({"until": "2023-05-28", "reason": "提前"}, 422, "晚于"),
        ({"until": "2023-06-09", "reason": "太晚"}, 422, "信息审核"),
        ({"until": "2023-05-31"}, 422, "reason"),
        ({"until": "2023-05-31", "reason": "顺延", "who": "x"}, 422, "who"),
    ],
)
def test_extension_refusals_name_what_is_wrong(
    embedded: EmbeddedSeason, season: SeasonConfig, body: dict[str, Any], status: int, field_or_message: str
) -> None:
    code, answer = extend(embedded, 1, body)
    assert code == status
    assert field_or_message in json.dumps(answer, ensure_ascii=False)
    items = boto3.resource("dynamodb").Table(embedded.table_name).scan()["Items"]
    assert not [i for i in items if str(i["sk"]).startswith("WINDOW#")]


def test_a_closed_window_cannot_be_extended_and_staff_must_be_known(
    embedded: EmbeddedSeason, season: SeasonConfig
) -> None:
    assert extend(embedded, 7, {"until": "2023-05-21", "reason": "顺延"}, caller=None)[0] == 401
    embedded.start()
    embedded.wait_for_gate("grade7-registration")
    embedded.advance_clock(at(season, "2023-05-20 00:00"))
    embedded.wait_for_gate("grade1-registration")
    code, answer = extend(embedded, 7, {"until": "2023-05-21", "reason": "顺延"})
    assert code == 409
    assert "已截止" in answer["message"]
