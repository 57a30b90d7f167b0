"""Whether a family may still change its registration (issue 19), and which fields an edit changed:
pure functions over plain data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.phases import REGISTRATION_GATE
from enrollment.core.ports import SeasonState
from enrollment.registration.changes import changed_fields, editable
from enrollment.registration.demand import counted_keys

OPEN = SeasonState(frozenset(), {})


def local(config: SeasonConfig, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=config.tz)


def item(**overrides: Any) -> dict[str, Any]:
    return {"grade": 1, "status": "registered", "target_school": "S1", "zone_id": "Z1", **overrides}


@pytest.mark.parametrize(
    ("when", "state", "is_editable", "field"),
    [
        ("2023-05-20 00:00:00", OPEN, True, None),
        ("2023-05-29 23:59:59", OPEN, True, None),
        ("2023-05-30 00:00:00", OPEN, False, "grade"),  # the window's last day is over
        # an extension keeps it open; the gate closed early closes it
        ("2023-05-31 12:00:00", SeasonState(frozenset(), {1: date(2023, 5, 31)}), True, None),
        ("2023-05-25 12:00:00", SeasonState(frozenset({REGISTRATION_GATE[1]}), {}), False, "grade"),
    ],
)
def test_a_registration_is_editable_while_its_grades_window_is_open(
    season: SeasonConfig, when: str, state: SeasonState, is_editable: bool, field: str | None
) -> None:
    can = editable(item(), season, local(season, when), state)
    assert can.editable is is_editable
    assert can.until == max([date(2023, 5, 29), *state.extended_to.values()])
    if field:
        assert can.field == field and can.why_not_zh and "截止" in can.why_not_zh


@pytest.mark.parametrize(
    ("changed", "words"),
    [({"status": "withdrawn"}, "已撤回"), ({"late_registration": {"by": "staff-1"}}, "补录")],
)
def test_a_withdrawn_or_late_registration_is_not_the_familys_to_change(
    season: SeasonConfig, changed: dict[str, Any], words: str
) -> None:
    can = editable(item(**changed), season, local(season, "2023-05-25 12:00:00"), OPEN)
    assert can.editable is False and can.field == "registration_id"
    assert can.why_not_zh and words in can.why_not_zh


def test_changed_fields_are_dotted_names_never_values() -> None:
    old = {
        "category": "public",
        "child": {"name": "甲", "id_number": "X"},
        "guardians": [{"phone": "1"}, {"phone": "2"}],
        "school_preferences": ["A"],
    }
    new = {
        "category": "public",
        "child": {"name": "乙", "id_number": "X"},
        "guardians": [{"phone": "1"}, {"phone": "3"}],
        "school_preferences": ["A", "B"],
        "private_school_id": "P",
    }
    assert changed_fields(old, new) == [
        "child.name",
        "guardians.1.phone",
        "private_school_id",
        "school_preferences",
    ]
    assert changed_fields(old, old) == []


def test_a_withdrawn_registration_counts_nowhere() -> None:
    assert counted_keys(item()) == [("school", "S1", 1), ("zone", "Z1", 1)]
    assert counted_keys(item(status="withdrawn")) == []
