"""A late child placed by its verdict once in (enrollment/corrections/late.py), on the small season of
test_corrections: which verdicts move the child, which leave it where it is, and how the correction
is recorded (the system's, following the clerk's late registration), self-checked like any other."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.corrections.late import awaiting, plan_settlement, unasked
from enrollment.corrections.model import AGENCY_VERIFICATION, Correction, PlacementLine
from enrollment.corrections.season import CorrectionRefused, NewVerdict, Recorded, SeasonView
from tests.unit.test_corrections import (  # noqa: F401  (the fixtures of the small season)
    CY,
    FACTS,
    Season,
    config,
    late_body,
    placed,
    placed_archive,
)


@pytest.fixture
def s(config: SeasonConfig, placed: SeasonView) -> Season:  # noqa: F811  (test_corrections's fixtures)
    return Season(config, placed)


def register(s: Season, n: int) -> tuple[str, Correction]:
    [late] = s.correct(CY, kind="late-registration", registration=late_body(s.config, n)).corrections
    return late.changes[0].registration_id, late


def judged(s: Season, rid: str, status: str, zone: str | None = "Z-CY-1-01") -> None:
    """The child's verdict as verification stores it, read with the child's case."""
    verdict = NewVerdict(status=status, zone_id=zone if status == "eligible" else None, facts=FACTS)  # type: ignore[arg-type]
    s.view.cases[rid] = replace(s.view.cases[rid], verdict=verdict)


def test_eligible_with_its_catchment_full_it_waits_on_the_same_seat_then_takes_the_next(s: Season) -> None:
    rid, late = register(s, 40)
    seat = s.line(rid)
    assert (seat.route, seat.reason) == ("coordination", "late-registration") and seat.school_id != "S-CY-01"
    judged(s, rid, "eligible")  # Z-CY-1-01: S-CY-01, whose 5 seats are taken
    planned = plan_settlement(s.config, s.view, rid, late, now=s.clock + timedelta(hours=1))
    assert planned is not None
    [c] = planned.corrections
    assert c.kind == "re-verification" and c.actor == AGENCY_VERIFICATION and c.follows == late.correction_id
    assert c.role == late.role and c.district == late.district == "CY"
    assert c.reason_codes == ("verdict-eligible", "catchment-overflow")
    assert planned.lines[rid] == seat.model_copy(update={"reason": "catchment-overflow"})
    s.view.lines = dict(planned.lines)
    s.corrections += planned.corrections
    assert s.problems() == []
    # the seats of S-CY-01 declined go to the catchment's children in order: the season's coordinated
    # ones first (their tie-break numbers), then the late child (it has none: it ranks last)
    waiting = sorted(
        r for r, line in s.view.lines.items() if line.reason == "catchment-overflow" and r != rid
    )
    promoted: list[str] = []
    while rid not in promoted:
        at_school = next(r for r, line in s.view.lines.items() if line.school_id == "S-CY-01")
        promotion = s.correct(CY, kind="decline", registration_id=at_school).corrections[1]
        assert promotion.kind == "catchment-promotion"
        promoted.append(promotion.changes[0].registration_id)
    assert sorted(promoted[:-1]) == waiting and len(waiting) == 3
    assert s.line(rid).school_id == "S-CY-01" and s.problems() == []


def test_eligible_with_a_free_catchment_seat_it_moves_there_and_its_seat_goes_on(s: Season) -> None:
    rid, late = register(s, 41)
    seat = s.line(rid)
    # four families of S-CY-01 decline before the verdict: three seats go to the season's children
    # waiting in catchment order, the fourth stays free (the late child is not known eligible yet)
    for _ in range(4):
        at_school = next(r for r, line in s.view.lines.items() if line.school_id == "S-CY-01")
        s.correct(CY, kind="decline", registration_id=at_school)
    assert sum(1 for line in s.view.lines.values() if line.school_id == "S-CY-01") == 4
    assert not any(line.reason == "catchment-overflow" for line in s.view.lines.values())
    judged(s, rid, "eligible")
    planned = plan_settlement(s.config, s.view, rid, late, now=s.clock + timedelta(hours=1))
    assert planned is not None
    first, *passed_on = planned.corrections
    assert first.changes[0].before == seat
    assert planned.lines[rid] == PlacementLine(
        registration_id=rid, grade=1, school_id="S-CY-01", route="catchment"
    )
    assert all(c.follows == first.correction_id and c.actor == AGENCY_VERIFICATION for c in passed_on[:1])
    s.view.lines = dict(planned.lines)
    assert s.problems() == []


@pytest.mark.parametrize("status", ["not-eligible", "review"])
def test_not_eligible_or_under_review_it_keeps_the_coordination_seat(s: Season, status: str) -> None:
    rid, late = register(s, 42)
    judged(s, rid, status)
    assert plan_settlement(s.config, s.view, rid, late, now=s.clock) is None


def test_a_child_moved_since_or_without_a_verdict_is_not_settled(s: Season) -> None:
    rid, late = register(s, 43)
    assert plan_settlement(s.config, s.view, rid, late, now=s.clock) is None  # no verdict yet
    judged(s, rid, "eligible")
    s.view.lines[rid] = s.line(rid).model_copy(update={"reason": "catchment-overflow"})  # settled before
    assert plan_settlement(s.config, s.view, rid, late, now=s.clock) is None
    # and `awaiting` lists only the late children still on the seat their registration gave
    other, other_late = register(s, 44)
    moved = Correction.model_validate(
        other_late.model_dump()
        | {
            "correction_id": "C-20230720-moved",
            "kind": "override",
            "changes": [
                {
                    "registration_id": rid,
                    "before": s.line(rid).model_dump(),
                    "after": s.line(rid).model_copy(update={"reason": "override"}).model_dump(),
                }
            ],
        }
    )
    recorded = Recorded([late, other_late, moved], {}, [], 3)
    assert set(awaiting(recorded)) == {other}


def test_a_settlement_that_would_break_the_self_check_is_refused(s: Season) -> None:
    rid, late = register(s, 45)
    judged(s, rid, "eligible")
    # the season as read breaks a rule already (a school over its plan): nothing is written for it
    s.view.lines["EXTRA"] = PlacementLine(
        registration_id="EXTRA", grade=1, school_id="S-CY-06", route="override", reason="x"
    )
    s.view.registered = set(s.view.lines)
    with pytest.raises(CorrectionRefused, match="R-PUB-3"):
        plan_settlement(s.config, s.view, rid, late, now=s.clock)


def test_the_late_children_never_asked_are_those_awaiting_with_no_check_stored(s: Season) -> None:
    """What the daily seal asks again: a late child still on its seat with no check stored (the ask
    was lost); one whose checks are stored (answered or on a files agency's worklist) is not."""
    asked, asked_late = register(s, 45)
    lost, lost_late = register(s, 46)
    store = SimpleNamespace(recorded=lambda season: Recorded([asked_late, lost_late], {}, [], 2))
    checks = SimpleNamespace(checks=lambda rid: ["a stored check"] if rid == asked else [])
    assert unasked(s.config.season, corrections=store, checks=checks) == [lost]  # type: ignore[arg-type]
