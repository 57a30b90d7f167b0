"""How a place was decided and why a child was coordinated, as families and staff read it (R-COORD-1).

Kept apart from `placement` (which needs OR-Tools, in the place function's layer only) so that the
registration API and the notices can name routes and reasons without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from enrollment.core.config import SeasonConfig

Route = Literal[
    "catchment",
    "priority",
    "private-no-draw",
    "private-draw",
    "ethnic",
    "specialised",
    "coordination",
    "special-education",
    "regular-class",
    "home-delivery",
    "override",
    "deferred",
    "transfer",  # a correction: moved between two schools with both schools' consent (issue 18)
    "declined",  # a correction: the family declined its public place (no school)
]
ROUTE_ZH: dict[str, str] = {
    "catchment": "划片入学",
    "priority": "政策性照顾（优先）",
    "private-no-draw": "民办学校录取（未超计划）",
    "private-draw": "民办学校电脑派位录取",
    "ethnic": "民族学校录取",
    "specialised": "专门学校录取",
    "coordination": "统筹安排",
    "special-education": "特殊教育学校（专家委员会评估）",
    "regular-class": "随班就读（专家委员会评估）",
    "home-delivery": "送教上门（专家委员会评估）",
    "override": "区教育局调整（有记录理由）",
    "deferred": "缓学",
    "transfer": "转学（经转出、转入学校同意）",
    "declined": "已放弃学位",
}
# Why a child was coordinated (R-COORD-1): the reason code in placements.jsonl.
REASON_ZH: dict[str, str] = {
    "catchment-overflow": "片区学校学位已满",
    "verification-failed": "信息审核未通过",
    "verification-unresolved": "信息审核未完成",
    "no-catchment": "住址不在任何招生片区",
    "private-not-admitted": "民办学校未录取",
    "private-declined": "放弃民办学校录取",
    "foreign": "外籍学生由区教育局安排",
    "ethnic-overflow": "民族学校学位已满",
    "specialised-overflow": "专门学校学位已满",
    "late-registration": "报名截止后补录",
    "public-declined": "放弃公办学校学位",
}


def family_view(config: SeasonConfig, placed: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a family reads of its child's place (after placement has run)."""
    if placed is None:
        return None
    school = config.school_index.get(str(placed.get("school_id")))
    reason = placed.get("reason")
    return {
        "school_id": placed.get("school_id"),
        "school_name": school.name if school else None,
        "school_address": school.address if school else None,
        "route": placed["route"],
        "route_zh": ROUTE_ZH.get(str(placed["route"]), str(placed["route"])),
        "reason": reason,
        "reason_zh": REASON_ZH.get(str(reason), reason) if placed["route"] == "coordination" else None,
        "status": placed.get("status"),
    }
