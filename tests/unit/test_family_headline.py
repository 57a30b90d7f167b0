"""The family's status headline is the furthest stage reached (issue 19): never "已报名，待审核" once
the cards below say 审核通过, 派位录取 or 统筹安排. The views are built by the functions the status
route uses (routes.family_view, corrected.family_notice)."""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.notices.corrected import family_notice
from enrollment.people.headline import STAGES, headline
from enrollment.placement import routes


def verification(state: str) -> dict[str, Any]:
    return {"state": state}


def lottery(outcome: str, school: str = "吉林市第一实验学校", **extra: Any) -> dict[str, Any]:
    return {"outcome": outcome, "school_name": school, **extra}


def placed(config: SeasonConfig, route: str, reason: str | None = None) -> dict[str, Any]:
    school = next(s for s in config.schools if s.kind == "public")
    view = routes.family_view(config, {"school_id": school.id, "route": route, "reason": reason})
    assert view is not None
    return view


def notice(config: SeasonConfig, **record: Any) -> dict[str, Any]:
    view = family_notice(config, {"issued_at": "2023-07-06T09:00:00+08:00", "status": "issued", **record})
    assert view is not None
    return view


def test_before_verification_the_child_is_registered() -> None:
    assert headline(verification("not-started"), None, None, None) == {
        "stage": "registered",
        "status_zh": "已报名，待审核",
    }
    assert headline(None, None, None, None)["stage"] == "registered"


@pytest.mark.parametrize(
    ("state", "stage", "says"),
    [
        ("in-progress", "verifying", "信息审核中"),
        ("eligible", "verified", "审核通过"),
        ("not-eligible", "verified", "审核未通过"),
        ("review", "verified", "人工复核"),
    ],
)
def test_verification_moves_the_headline(state: str, stage: str, says: str) -> None:
    h = headline(verification(state), None, None, None)
    assert h["stage"] == stage and says in h["status_zh"] and "待审核" not in h["status_zh"]


def test_the_lottery_outranks_verification() -> None:
    h = headline(verification("eligible"), lottery("admitted"), None, None)
    assert h == {"stage": "lottery", "status_zh": "民办学校派位录取：吉林市第一实验学校"}
    waiting = headline(verification("eligible"), lottery("waitlisted", waitlist_position=3), None, None)
    assert waiting["status_zh"] == "民办学校候补：吉林市第一实验学校，当前候补第3位"


def test_a_place_outranks_the_lottery_and_a_notice_outranks_the_place(season: SeasonConfig) -> None:
    catchment = placed(season, "catchment")
    h = headline(verification("eligible"), None, catchment, None)
    assert h == {"stage": "placed", "status_zh": f"已录取：{catchment['school_name']}（划片入学）"}
    coordinated = placed(season, "coordination", "private-not-admitted")
    h = headline(verification("eligible"), lottery("not-admitted"), coordinated, None)
    assert h == {"stage": "coordinated", "status_zh": f"统筹安排：{coordinated['school_name']}"}
    h = headline(verification("eligible"), None, catchment, notice(season))
    assert h == {"stage": "notice", "status_zh": f"已发放入学通知书：{catchment['school_name']}"}
    revoked = headline(verification("eligible"), None, catchment, notice(season, status="revoked"))
    assert revoked["stage"] == "notice" and "作废" in revoked["status_zh"]


def test_a_deferred_child_reads_its_route(season: SeasonConfig) -> None:
    view = routes.family_view(season, {"school_id": None, "route": "deferred", "status": "deferred"})
    assert headline(verification("eligible"), None, view, None) == {"stage": "placed", "status_zh": "缓学"}


def test_every_stage_says_something_other_than_waiting_for_review_once_past_it(season: SeasonConfig) -> None:
    # Given the views of a child at each stage, the furthest one wins, in the order of STAGES
    views = [
        (verification("not-started"), None, None, None),
        (verification("in-progress"), None, None, None),
        (verification("eligible"), None, None, None),
        (verification("eligible"), lottery("admitted"), None, None),
        (verification("eligible"), lottery("admitted"), placed(season, "private-draw"), None),
        (verification("not-eligible"), None, placed(season, "coordination", "verification-failed"), None),
        (verification("eligible"), None, placed(season, "catchment"), notice(season)),
    ]
    stages = [headline(*v)["stage"] for v in views]
    assert stages == list(STAGES)
    assert all(headline(*v)["status_zh"] != "已报名，待审核" for v in views[1:])
