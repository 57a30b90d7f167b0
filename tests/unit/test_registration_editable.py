"""Whether a family may still change its registration (issue 19), and which fields an edit changed:
pure functions over plain data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.phases import REGISTRATION_GATE
from enrollment.core.ports import Conflict, SeasonState
from enrollment.registration.changes import changed_fields, editable, withdraw
from enrollment.registration.demand import counted_keys
from enrollment.registration.form import RegistrationRefused

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


class _RacedStore:
    """A store whose registration another change replaced between the read and the write."""

    def __init__(self) -> None:
        self.written: list[dict[str, Any]] = []

    def get_registration(self, registration_id: str) -> dict[str, Any]:
        return item(registration_id=registration_id, season="2023", request={})

    def season_state(self, season: str) -> SeasonState:
        return OPEN

    def replace_registration(self, record: dict[str, Any], *, previous: Any) -> None:
        raise Conflict(record["registration_id"])


def test_a_change_that_lost_the_race_is_refused_and_says_to_reload(season: SeasonConfig) -> None:
    store = _RacedStore()
    with pytest.raises(RegistrationRefused) as refused:
        withdraw("R-1", "搬家", config=season, now=local(season, "2023-05-25 12:00:00"), store=store)  # type: ignore[arg-type]
    assert refused.value.status == 409
    [v] = refused.value.violations
    assert v.field == "registration_id" and "刷新" in v.message_zh


def test_a_withdrawn_registration_offers_registering_again_only_while_the_window_is_open(
    season: SeasonConfig,
) -> None:
    during = editable(item(status="withdrawn"), season, local(season, "2023-05-25 12:00:00"), OPEN)
    after = editable(item(status="withdrawn"), season, local(season, "2023-05-30 00:00:00"), OPEN)
    assert during.why_not_zh and "重新报名" in during.why_not_zh
    assert after.why_not_zh == "本次报名已撤回"
