"""What the parents' portal needs to know about the season (all public information)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from enrollment.core.config import GRADES, SeasonConfig
from enrollment.core.phases import REGISTRATION_GATE
from enrollment.core.ports import SeasonState
from enrollment.registration.form import window_open


def season_info(config: SeasonConfig, now: datetime, state: SeasonState) -> dict[str, Any]:
    """The season as the form checks it in the browser before submitting: each grade's window as it
    stands today (with any recorded extension, R-REG-1), the age cut-off, roads, compounds and private schools."""
    cal = config.calendar
    windows = {}
    for grade in GRADES:
        window = cal.registration_window(grade)
        extended = state.extended_to.get(grade)
        windows[str(grade)] = {
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),  # as published
            "last_day": max(window.end, extended).isoformat() if extended else window.end.isoformat(),
            "open": window_open(config, grade, now, extended)
            and REGISTRATION_GATE[grade] not in state.advanced_gates,
        }
    return {
        "season": config.season,
        "city": config.city,
        "today": now.astimezone(config.tz).date().isoformat(),
        "windows": windows,
        "age_cutoff": config.age_cutoff.isoformat(),
        # what happens next, for the family's status page
        "calendar": {
            "verification": cal.verification.start.isoformat(),
            "home_visits_end": cal.home_visits.end.isoformat(),
            "lottery_day": cal.lottery_day.isoformat(),
            "coordination_end": cal.coordination.end.isoformat(),
            "admission_notices": cal.admission_notices.isoformat(),
            "reporting_day": cal.reporting_day.isoformat(),
        },
        "districts": [{"code": d.code, "name": d.name} for d in config.districts],
        "roads": {
            d.code: sorted(r.name for r in config.roads if r.district == d.code) for d in config.districts
        },
        "road_numbers": {r.name: r.max_number for r in config.roads},
        # residential compounds (小区) by district: a family living in one gives it instead of a house number
        "compounds": {
            d.code: sorted(c.name for c in config.compounds if c.district == d.code) for d in config.districts
        },
        "schools": [
            {"id": s.id, "name": s.name, "kind": s.kind, "district": s.district, "grades": sorted(s.plans)}
            for s in config.schools
            if s.kind in ("private", "specialised")
        ],
    }
