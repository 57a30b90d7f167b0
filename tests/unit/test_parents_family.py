"""What a family reads of its child's verification (R-VER-2, R-DATA-2): states, never agencies' data."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, get_args

from enrollment.core.config import SeasonConfig
from enrollment.people.family import verification_view
from enrollment.verification.verdicts import REASON_NEXT_ZH, REASON_ZH, Check, ReasonCode, Verdict


def item(category: str = "public", id_type: str = "resident-id", deed: bool = True) -> dict[str, Any]:
    residence: dict[str, Any] = {"basis": "hukou"}
    if deed:
        residence["property"] = {"deed_number": "JL-2019-000123", "owner": "母亲"}
    return {
        "registration_id": "R-AAAA-BBBB-CCCC-DDDD",
        "category": category,
        "request": {"child": {"id_type": id_type}, "residence": residence},
    }


def at(season: SeasonConfig, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=season.tz)


def test_before_verification_every_fact_waits(season: SeasonConfig) -> None:
    view = verification_view(season, item(), [], None, at(season, "2023-05-21 10:00"))
    assert view["state"] == "not-started" and "05月30日开始" in view["state_zh"]
    assert [(s["agency_zh"], s["state_zh"]) for s in view["steps"]] == [
        ("公安", "待核查"),
        ("住建", "待核查"),
        ("规划和自然资源", "待核查"),
        ("街道社区", "待核查"),
    ]


def test_progress_and_verdict_with_reasons_but_no_agency_data(season: SeasonConfig) -> None:
    asked = at(season, "2023-05-30 09:00")
    secret_owner = "王某某"  # what housing said: the family must not read agencies' records
    checks = [
        Check(
            registration_id="R-AAAA-BBBB-CCCC-DDDD",
            agency="housing",
            status="answered",
            asked_at=asked,
            answered_at=asked + timedelta(hours=1),
            reason="found",
            facts={"owner": secret_owner, "address": "某路1号"},
        ),
        Check(
            registration_id="R-AAAA-BBBB-CCCC-DDDD",
            agency="community",
            status="pending",
            asked_at=asked,
            reason="visit-requested",
        ),
    ]
    view = verification_view(season, item(), checks, None, asked + timedelta(days=1))
    assert view["state"] == "in-progress" and view["state_zh"] == "信息审核中"
    states = {s["agency"]: s["state"] for s in view["steps"]}
    assert states == {
        "public-security": "waiting",
        "housing": "answered",
        "planning": "waiting",
        "community": "pending",
    }
    assert secret_owner not in str(view) and "某路1号" not in str(view)

    verdict = Verdict(
        registration_id="R-AAAA-BBBB-CCCC-DDDD",
        season="2023",
        grade=1,
        district="CY",
        category="public",
        status="not-eligible",
        reasons=["deed-address-mismatch"],
        decided_at=asked + timedelta(days=10),
        decided_by="arn:aws-cn:iam::123456789012:user/cy-reviewer",
    )
    view = verification_view(season, item(), checks, verdict, asked + timedelta(days=11))
    assert view["state"] == "not-eligible" and "统筹安排" in view["state_zh"]
    assert view["reasons"] == [
        {
            "code": "deed-address-mismatch",
            "text_zh": "房产地址与户籍地址不一致（房户不一致）",
            "next_zh": REASON_NEXT_ZH["deed-address-mismatch"],
        }
    ]
    assert view["reviewed_by_person"] is True
    assert "cy-reviewer" not in str(view)  # who signed is recorded (R-VER-3), not shown to families


def test_private_and_foreign_applicants_see_only_their_checks(season: SeasonConfig) -> None:
    now = at(season, "2023-06-01 10:00")
    private = verification_view(season, item(category="private"), [], None, now)
    assert [s["agency"] for s in private["steps"]] == ["public-security"]
    foreign = verification_view(season, item(id_type="passport"), [], None, now)
    assert foreign["steps"] == [] and foreign["state"] == "foreign" and "外事部门" in foreign["state_zh"]


def test_every_reason_reads_in_plain_chinese_with_what_to_do_next() -> None:
    """A family reads each reason and what it can do, never a code, a rule id or English (issue 19)."""
    codes = set(get_args(ReasonCode))
    assert set(REASON_ZH) == codes and set(REASON_NEXT_ZH) == codes
    for code in sorted(codes):
        for text in (REASON_ZH[code], REASON_NEXT_ZH[code]):
            assert text and not re.search(r"[A-Za-z]", text), (code, text)
