"""The family's status headline (issue 19): the furthest stage the child's case has reached, so that
the line at the top never says "已报名，待审核" while the cards below say 审核通过, 派位录取 or
统筹安排.

Stages in order: registered → verified (or verifying) → lottery (private applicants) → placed or
coordinated → notice. Each is read from the views the status page already shows (the verification,
lottery, placement and notice views), never from a stored status of its own that could lag behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Stage = Literal["registered", "verifying", "verified", "lottery", "placed", "coordinated", "notice"]
STAGES: tuple[Stage, ...] = (
    "registered",
    "verifying",
    "verified",
    "lottery",
    "placed",
    "coordinated",
    "notice",
)

VERIFIED_ZH = {
    "in-progress": "信息审核中",
    "eligible": "审核通过，等待录取结果",
    "not-eligible": "审核未通过：不影响入学，将由区教育局统筹安排学校",
    "review": "待区教育局人工复核",
    "foreign": "外籍儿童由区教育局会同外事部门核查",
}
LOTTERY_ZH = {
    "admitted-without-draw": "民办学校录取（无需派位）：{school}",
    "admitted": "民办学校派位录取：{school}",
    "admitted-from-waitlist": "民办学校候补递补录取：{school}",
    "waitlisted": "民办学校候补：{school}",
    "not-admitted": "民办学校未录取，将由区教育局统筹安排学校",
    "declined": "已放弃民办学校录取，将由区教育局统筹安排学校",
    "released": "已由区教育局另行安置，结果见录取结果",
}


def headline(
    verification: Mapping[str, Any] | None,
    lottery: Mapping[str, Any] | None,
    placement: Mapping[str, Any] | None,
    notice: Mapping[str, Any] | None,
) -> dict[str, str]:
    """The furthest stage reached and its line in Chinese: `{"stage": ..., "status_zh": ...}`."""
    if placement is not None:
        return _placed(placement, notice)
    if lottery is not None and lottery.get("outcome") in LOTTERY_ZH:
        line = LOTTERY_ZH[str(lottery["outcome"])].format(school=lottery.get("school_name") or "")
        if lottery.get("outcome") == "waitlisted" and lottery.get("waitlist_position"):
            line += f"，当前候补第{lottery['waitlist_position']}位"
        return {"stage": "lottery", "status_zh": line}
    state = str((verification or {}).get("state", ""))
    if state == "in-progress":
        return {"stage": "verifying", "status_zh": VERIFIED_ZH[state]}
    if state in VERIFIED_ZH:
        return {"stage": "verified", "status_zh": VERIFIED_ZH[state]}
    return {"stage": "registered", "status_zh": "已报名，待审核"}


def _placed(placement: Mapping[str, Any], notice: Mapping[str, Any] | None) -> dict[str, str]:
    school = placement.get("school_name")
    route = str(placement.get("route", ""))
    if not school:  # deferred entry, a declined seat, or a place a correction took away
        return {"stage": "placed", "status_zh": str(placement.get("route_zh") or "已安置")}
    if notice is not None and notice.get("revoked"):
        return {"stage": "notice", "status_zh": str(notice.get("message_zh") or "原入学通知书已作废")}
    if notice is not None:
        return {"stage": "notice", "status_zh": f"已发放入学通知书：{school}"}
    if route == "coordination":
        return {"stage": "coordinated", "status_zh": f"统筹安排：{school}"}
    return {"stage": "placed", "status_zh": f"已录取：{school}（{placement.get('route_zh') or '录取'}）"}
