"""A late child (补录) verified through the season's own agency path, then placed by its verdict (issue 18).

A late registration (`season._late`) is stored and seated at once by coordination: its verdict is not
in yet. Its agency checks are then asked exactly as the season's were, by verification's own use case
(`verification.season.verify_batch`, run by the verify-batch function with the payload the workflow's
VerifyRegistrations Map sends): an agency with an API is asked over HTTP, an agency exchanging files
gets the request on its worklist, so the next outbox round carries it; the community office gets its
home visit. `LateChecks` is that ask, made once the correction is written.

When the child's verdict is in (`settle_late`, run after the ask, after an answer file or a home visit
is recorded, and by the daily seal before it seals): a child eligible in a catchment whose school has a
free seat in its grade moves there; one eligible whose catchment schools are full keeps the
coordination seat and waits in catchment order like any child the season coordinated for that reason
(`catchment-overflow`: a seat freed there later goes to them by tier and tie-break); the seat the child
leaves goes on by the season's rules (`_Work.pass_on`). A child not eligible keeps the coordination
seat; a verdict needing review waits in the district's review queue, as every verdict does, and is
settled once a person signs it. Each move is a `re-verification` correction whose actor is
`AGENCY_VERIFICATION`, with the late registration's role and district, that `follows` the late
registration's own correction: recorded honestly as the system acting on that correction's behalf,
never as the clerk. The whole season is self-checked before it is written, as for any correction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import Archive, Store
from enrollment.corrections.model import AGENCY_VERIFICATION, Correction, PlacementLine
from enrollment.corrections.season import (
    CorrectionConflict,
    CorrectionRefused,
    CorrectionStore,
    Planned,
    Recorded,
    SeasonView,
    TieBreaks,
    VerdictsOf,
    _Work,
    eligible_of,
    load_view,
    season_problems,
)
from enrollment.placement.season import LotteryResults

LATE_REASON = "late-registration"  # the coordinated line's reason a late registration gives
OVERFLOW_REASON = "catchment-overflow"  # eligible, its catchment full: waits in catchment order
MOVED_ZH = "补录儿童经相关部门核查，符合片区入学条件，片区学校有空余学位，按片区规则安置"
WAITING_ZH = "补录儿童经相关部门核查，符合片区入学条件，片区学校暂无空余学位，按片区顺序候补"
ATTEMPTS = 3  # a settlement computed again after another correction was written meanwhile


@dataclass
class Settled:
    """What a settlement wrote, in order, and the children it could not settle (why, in English)."""

    corrections: list[Correction] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


class LateChecks(Protocol):
    def ask(self, season: str, registration_ids: Sequence[str]) -> None:
        """Have these late registrations' agency checks asked as the season's verification asks them,
        and the children settled by their verdicts once in (asynchronously: the answer may take days)."""
        ...


def awaiting(recorded: Recorded) -> dict[str, Correction]:
    """The late children still on the coordination seat their late registration gave them (no
    correction since changed their place), each with that late registration's correction."""
    registered: dict[str, Correction] = {}
    last: dict[str, tuple[Correction, PlacementLine]] = {}
    for c in recorded.corrections:
        for ch in c.changes:
            if c.kind == "late-registration" and ch.before is None:
                registered[ch.registration_id] = c
            last[ch.registration_id] = (c, ch.after)
    return {
        rid: c
        for rid, c in registered.items()
        if last[rid][0] is c and last[rid][1].route == "coordination" and last[rid][1].reason == LATE_REASON
    }


class ChecksOf(Protocol):
    def checks(self, registration_id: str) -> Sequence[object]: ...


def unasked(season: str, *, corrections: CorrectionStore, checks: ChecksOf) -> list[str]:
    """The late children still on their coordination seat with no agency check stored at all: their
    ask was never sent (the place API could not invoke verify-batch) or never arrived (an event lost
    after Lambda's retries). The daily seal asks them again, so no late child stays unverified."""
    return sorted(rid for rid in awaiting(corrections.recorded(season)) if not checks.checks(rid))


def plan_settlement(
    config: SeasonConfig, view: SeasonView, rid: str, late: Correction, *, now: datetime
) -> Planned | None:
    """The correction a late child's verdict (read with the view's cases) makes, self-checked; None
    when it changes nothing (not eligible, review, or the child was moved meanwhile)."""
    work = _Work(config, view)
    line = work.lines.get(rid)
    if line is None or rid not in work.cases or line.route != "coordination" or line.reason != LATE_REASON:
        return None
    choices = work.eligible(rid)
    if not choices:
        return None
    free = [s for s in choices if work.free(s, line.grade) > 0]
    if free:
        g = work.group("re-verification", MOVED_ZH, ("verdict-eligible",), None)
        work.lift(rid)
        work.put(g, work.catchment_line(rid, free[0]))
        if line.school_id is not None:
            work.pass_on([(line.school_id, line.grade)], g)
    else:
        g = work.group("re-verification", WAITING_ZH, ("verdict-eligible", OVERFLOW_REASON), None)
        work.put(g, line.model_copy(update={"reason": OVERFLOW_REASON}))
    registered = set(work.cases) if view.registered is None else view.registered | set(work.cases)
    problems = season_problems(
        config, registered, work.lines, view.records, eligible_of(config, work.cases.values())
    )
    if problems:
        rules = "；".join(dict.fromkeys(p.rule_zh for p in problems))
        raise CorrectionRefused(f"该更正会违反规则：{rules}", "; ".join(p.detail for p in problems[:10]))
    ids = [f"C-{now:%Y%m%d}-{uuid.uuid4().hex[:12]}" for _ in work.groups]
    districts = [{work.cases[r].district for r in group.changes} for group in work.groups]
    made = tuple(
        Correction(
            correction_id=ids[i],
            season=config.season,
            kind=group.kind,
            district=next(iter(districts[i])) if len(districts[i]) == 1 else None,
            actor=AGENCY_VERIFICATION,
            role=late.role,
            at=now,
            reason=group.reason,
            reason_codes=group.codes,
            changes=tuple(group.changes.values()),
            follows=late.correction_id if group.follows is None else ids[group.follows],
        )
        for i, group in enumerate(work.groups)
        if group.changes
    )
    return Planned(made, work.lines)


def settle_late(
    config: SeasonConfig,
    season: str,
    *,
    archive: Archive,
    corrections: CorrectionStore,
    registrations: Store,
    verdicts: VerdictsOf,
    lotteries: LotteryResults,
    tie_breaks: TieBreaks,
    now: datetime,
    registration_ids: Iterable[str] | None = None,
) -> Settled:
    """Settle the late children (of `registration_ids`, or all) whose verdict is in: the corrections
    written, in order. Cheap when none awaits one: the season's corrections are read, nothing else.
    A child whose settlement would break the self-check is left where it is, nothing written for it,
    and named in `refused` (the others are settled all the same: one child never holds up the rest,
    nor the daily seal)."""
    waiting = awaiting(corrections.recorded(season))
    if registration_ids is not None:
        wanted = set(registration_ids)
        waiting = {rid: c for rid, c in waiting.items() if rid in wanted}
    if not waiting:
        return Settled()
    judged = verdicts.verdicts_of(waiting)
    stores: dict[str, Any] = {
        "archive": archive,
        "corrections": corrections,
        "registrations": registrations,
        "verdicts": verdicts,
        "lotteries": lotteries,
        "tie_breaks": tie_breaks,
    }
    done = Settled()
    for rid in sorted(r for r, v in judged.items() if v.status == "eligible"):
        try:
            done.corrections.extend(_settle_one(config, season, rid, waiting[rid], now, stores))
        except CorrectionRefused as e:
            done.refused[rid] = str(e)
    return done


def _settle_one(
    config: SeasonConfig,
    season: str,
    rid: str,
    late: Correction,
    now: datetime,
    stores: Mapping[str, Any],
) -> tuple[Correction, ...]:
    for attempt in range(ATTEMPTS):
        view, after = load_view(config, season, subjects=[rid], **stores)
        planned = plan_settlement(config, view, rid, late, now=now)
        if planned is None:
            return ()
        try:
            stores["corrections"].record(season, planned, after=after)
        except CorrectionConflict:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return planned.corrections
    return ()
