"""What a family may read of its own child's verification (R-VER-2, R-DATA-2, R-OPEN-1).

Each fact the season checks is shown with the agency that answers it and where it stands; the
verdict with its reasons in Chinese, so that the family knows what to appeal. Never the agencies'
answers themselves (owners, addresses, record numbers), nor who on the staff signed: only that a
person of the district bureau reviewed the case, and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.verification.checks import checks_needed
from enrollment.verification.review import SYSTEM
from enrollment.verification.verdicts import AGENCY_ZH, REASON_NEXT_ZH, REASON_ZH, Check, Verdict

FACT_ZH: dict[str, str] = {
    "public-security": "户籍或居住证",
    "housing": "不动产权证（房产登记）",
    "planning": "房产规划用途",
    "community": "实际居住（社区入户核查）",
}
CHECK_ZH: dict[str, str] = {
    "waiting": "待核查",
    "pending": "已申请入户核查，等待社区核查",
    "answered": "已核查",
    "unanswered": "部门未能答复，转区教育局人工复核",
    "not-confirmed": "入户核查未确认，转区教育局人工复核",
}
VERDICT_ZH: dict[str, str] = {
    "not-started": "报名已受理，等待信息审核",
    "in-progress": "信息审核中",
    "eligible": "审核通过",
    "not-eligible": "审核未通过：不影响入学，将由区教育局统筹安排学校",
    "review": "待区教育局人工复核",
    "foreign": "外籍儿童由区教育局会同外事部门核查",
}


def verification_view(
    config: SeasonConfig,
    item: dict[str, Any],
    checks: Iterable[Check],
    verdict: Verdict | None,
    now: datetime,
) -> dict[str, Any]:
    """Each fact's state, the verdict and its reasons; nothing an agency said about anyone."""
    by_agency = {c.agency: c for c in checks}
    needed = checks_needed(item)
    steps = []
    for agency in needed:
        check = by_agency.get(agency)
        step = check.status if check else "waiting"
        steps.append(
            {
                "agency": agency,
                "agency_zh": AGENCY_ZH[agency],
                "fact_zh": FACT_ZH[agency],
                "state": step,
                "state_zh": CHECK_ZH[step],
                "answered_at": check.answered_at.isoformat() if check and check.answered_at else None,
            }
        )
    state: str
    if verdict is not None:
        state = verdict.status
    elif not needed:
        state = "foreign"
    elif by_agency:
        state = "in-progress"
    else:
        state = "not-started"
    starts = config.calendar.verification.start
    out: dict[str, Any] = {
        "state": state,
        "state_zh": VERDICT_ZH[state],
        "starts_on": starts.isoformat(),
        "steps": steps,
        "reasons": [
            {"code": r, "text_zh": REASON_ZH.get(r, r), "next_zh": REASON_NEXT_ZH.get(r)}
            for r in (verdict.reasons if verdict else [])
        ],
        "zone_id": verdict.zone_id if verdict else None,
        "reviewed_by_person": bool(verdict and verdict.decided_by != SYSTEM),
        "reviewed_at": verdict.decided_at.isoformat() if verdict and verdict.decided_by != SYSTEM else None,
    }
    if state == "not-started" and now < config.day_start(starts):
        out["state_zh"] = f"报名已受理，信息审核将于{starts:%m月%d日}开始"
    return out
