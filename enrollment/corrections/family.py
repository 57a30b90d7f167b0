"""A child's place over time, as the family reads it on its status page (issue 18).

Each change of the child's place after the results is one line: the day, where the child is now
(the school and how it was decided, or that no school is kept) and why, in plain Chinese: the
correction's kind in words, and for a coordinated place the coordination's reason (R-COORD-1). Never
a rule id, a reason code, the staff's written reason (it may name other people or internal
matters) or who made the correction: the family's district bureau made it, and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.corrections.model import ChildCorrection, Correction, PlacementLine
from enrollment.placement.routes import REASON_ZH, ROUTE_ZH

# Why a correction changed the child's place, as the family reads it (every CorrectionKind).
KIND_ZH: dict[str, str] = {
    "late-registration": "报名截止后由区教育局补录",
    "re-verification": "申诉或抽查复核后，按复核结论重新安置",
    "decline": "家长申请放弃原学位",
    "waitlist-promotion": "民办学校有学位空出，按派位候补顺序递补",
    "catchment-promotion": "片区学校有学位空出，按片区录取顺序递补",
    "committee-plan": "残疾儿童少年入学评估专家委员会作出安置意见",
    "deferral": "经批准缓学",
    "override": "区教育局依据书面理由调整安置",
    "transfer": "经转出、转入两所学校同意转学",
}
FIRST_ZH = "录取结果公布"


def zh_date(d: date) -> str:
    """`2023年7月20日`, as the notices write it (corrections come before notices in the season)."""
    return f"{d.year}年{d.month}月{d.day}日"


def _place_zh(config: SeasonConfig, line: PlacementLine) -> dict[str, Any]:
    """Where the line puts the child, in words: the school and how, or that no school is kept."""
    school = config.school_index.get(line.school_id) if line.school_id else None
    route_zh = ROUTE_ZH.get(line.route, "区教育局安排")
    coordinated = REASON_ZH.get(str(line.reason)) if line.route == "coordination" else None
    if school is None:
        place = "缓学，本学年不安排学位" if line.route == "deferred" else f"不再保留学位（{route_zh}）"
    else:
        place = f"{school.name}（录取方式：{route_zh}）"
    return {
        "school_id": school.id if school else None,
        "school_name": school.name if school else None,
        "route_zh": route_zh,
        "place_zh": place + (f"，原因：{coordinated}" if coordinated else ""),
    }


def _entry(config: SeasonConfig, on: date, line: PlacementLine, why: str, answers: bool) -> dict[str, Any]:
    return {
        "on": on.isoformat(),
        "on_zh": zh_date(on),
        **_place_zh(config, line),
        "reason_zh": why,
        "answers_complaint": answers,
    }


def place_history(
    config: SeasonConfig,
    placed_now: Mapping[str, Any] | None,
    corrections: Sequence[ChildCorrection],
) -> list[dict[str, Any]]:
    """The child's place from the results on, oldest first: the place the results gave (if any), then
    each correction's. Without corrections, the one line of the place the child has."""
    first = config.calendar.admission_notices
    if not corrections:
        if placed_now is None:
            return []
        line = PlacementLine.model_validate(
            {
                k: placed_now.get(k)
                for k in ("registration_id", "grade", "school_id", "route", "status", "reason")
            }
        )
        return [_entry(config, first, line, FIRST_ZH, False)]
    out = []
    before = corrections[0].change.before
    if before is not None:  # a late registration had no place from the results
        out.append(_entry(config, first, before, FIRST_ZH, False))
    for c in corrections:
        on = c.at.astimezone(config.tz).date()
        out.append(_entry(config, on, c.change.after, KIND_ZH[c.kind], c.complaint_id is not None))
    return out


def correction_zh(config: SeasonConfig, correction: Correction, registration_id: str) -> str:
    """What the family reads of a correction attached to its complaint's answer: the day and where
    the child is now (`correction.changes_child(registration_id)` holds)."""
    [change] = [ch for ch in correction.changes if ch.registration_id == registration_id]
    on = correction.at.astimezone(config.tz).date()
    return f"您孩子的安置结果已于{zh_date(on)}更正：{_place_zh(config, change.after)['place_zh']}"
