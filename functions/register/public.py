"""What the registration form needs to know about the season (all public information)."""

from __future__ import annotations

from typing import Any

from enrollment.config import SeasonConfig


def season_info(config: SeasonConfig) -> dict[str, Any]:
    cal = config.calendar
    return {
        "season": config.season,
        "city": config.city,
        "windows": {
            "7": {
                "start": cal.grade7_registration.start.isoformat(),
                "end": cal.grade7_registration.end.isoformat(),
            },
            "1": {
                "start": cal.grade1_registration.start.isoformat(),
                "end": cal.grade1_registration.end.isoformat(),
            },
        },
        "age_cutoff": config.age_cutoff.isoformat(),
        "districts": [{"code": d.code, "name": d.name} for d in config.districts],
        "roads": {
            d.code: sorted(r.name for r in config.roads if r.district == d.code) for d in config.districts
        },
        "schools": [
            {"id": s.id, "name": s.name, "kind": s.kind, "district": s.district, "grades": sorted(s.plans)}
            for s in config.schools
            if s.kind in ("private", "specialised")
        ],
    }
