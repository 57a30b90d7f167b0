"""The demo's parents register within each day's open hours, at any size of season (`enroll demo`).

A 300,000-applicant rehearsal puts ~120,000 grade-7 submissions in a window of a few days: one
second apart they ran past the window's close (the local clock cannot go back to fire its deadline).
"""

from __future__ import annotations

from datetime import date, timedelta

from enrollment.cli.demo import OPEN_HOURS, _arrival_offsets


def test_a_small_grade_arrives_a_second_apart_as_before() -> None:
    days = [date(2023, 5, 18)] * 3 + [date(2023, 5, 19)] * 2
    assert _arrival_offsets(days) == [timedelta(seconds=i) for i in range(5)]


def test_a_city_size_grade_stays_within_each_days_open_hours_in_order() -> None:
    days = [date(2023, 5, 17)] * 10_000 + [date(2023, 5, 18)] * 70_000 + [date(2023, 5, 19)] * 40_000
    offsets = _arrival_offsets(days)
    assert len(offsets) == len(days)
    assert all(timedelta(0) <= o < timedelta(hours=OPEN_HOURS) for o in offsets)
    for day in set(days):
        mine = [o for d, o in zip(days, offsets, strict=True) if d == day]
        assert mine[0] == timedelta(0) and mine == sorted(mine) and len(set(mine)) == len(mine)
