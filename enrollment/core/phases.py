"""The season's phases and the gates between them.

A gate is where the workflow waits: it is resumed at the phase's published deadline (an
EventBridge schedule) or earlier by an authorised bureau request, whichever comes first.
Only the phases built so far are listed; later phases are added here and in the ASL together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from enrollment.core.config import SeasonConfig


@dataclass(frozen=True)
class Phase:
    name: str  # the gate's name in the ASL, DynamoDB and the admin API
    title_zh: str
    deadline: datetime  # when the schedule resumes the gate (season timezone)


# The gate that ends each grade's registration window (R-REG-1).
REGISTRATION_GATE = {1: "grade1-registration", 7: "grade7-registration"}


def phases(config: SeasonConfig) -> list[Phase]:
    cal = config.calendar
    return [
        Phase("grade7-registration", "七年级网上报名", config.day_end(cal.grade7_registration.end)),
        Phase("grade1-registration", "一年级网上报名", config.day_end(cal.grade1_registration.end)),
        # verification through agencies runs as soon as registration closes (R-VER-2)
        Phase("home-visits", "材料审核与入户核查", config.day_end(cal.home_visits.end)),
        # review and sign-off (R-VER-3) before private applicant counts go to the city
        Phase("review", "审核复核与签字", config.day_end(cal.private_counts_due)),
        # lotteries (17 Jun), then re-review and coordination: committee decisions, deferrals and
        # overrides are entered until the gate closes; placement runs then (R-COORD-1, R-DIS-1)
        Phase("coordination", "复审与统筹安排", config.day_end(cal.coordination.end)),
        Phase("spot-check", "市教育局抽查", config.day_end(cal.spot_check.end)),
        # notices go out, the archive is sealed; then schools record who reported (R-NOTE-1) and,
        # a week before term, the sunshine classes are drawn (R-CLASS-1)
        Phase("reporting", "新生报到", config.day_end(cal.reporting_day)),
        Phase(
            "classes",
            "阳光分班",
            config.day_start(cal.term_start - timedelta(days=cal.class_assignment_days_before_term)),
        ),
    ]


def phase(config: SeasonConfig, name: str) -> Phase:
    for p in phases(config):
        if p.name == name:
            return p
    raise KeyError(name)


def schedule_expression(p: Phase) -> str:
    """EventBridge Scheduler one-time expression, in the season's local time (its timezone set apart)."""
    return at_expression(p.deadline)


def at_expression(deadline: datetime) -> str:
    return f"at({deadline.replace(tzinfo=None).isoformat(timespec='seconds')})"


def schedule_input(season: str, p: Phase) -> dict[str, str]:
    """What the deadline schedule sends to the gate-advance function."""
    return {"source": "schedule", "season": season, "phase": p.name}


def schedule_name(p: Phase) -> str:
    return f"deadline-{p.name}"
