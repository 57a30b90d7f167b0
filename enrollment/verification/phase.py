"""The verification phase, step by step, over the stores and the agencies (no AWS here)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Literal

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import NotFound, Store
from enrollment.core.staff import StaffError
from enrollment.verification.checks import (
    Agencies,
    AgencyUnavailable,
    ask,
    checks_needed,
    is_complete,
    unanswered,
    verdict,
    visit_answer,
    visit_closed,
)
from enrollment.verification.review import VerificationStore


def _judge(config: SeasonConfig, item: dict[str, Any], vstore: VerificationStore, now: datetime) -> bool:
    checks = vstore.checks(str(item["registration_id"]))
    if not is_complete(item, checks):
        return False
    vstore.put_verdict(verdict(config, item, checks, now))
    return True


def verify_batch(
    config: SeasonConfig,
    registration_ids: list[str],
    mode: Literal["ask", "mark-unanswered"],
    *,
    store: Store,
    vstore: VerificationStore,
    agencies: Agencies,
    now: datetime,
) -> dict[str, int]:
    """Ask what is not asked yet; answers already stored are kept, so a retried batch asks nothing twice.

    In `ask` mode an agency that does not answer raises AgencyUnavailable (the ASL retries the batch);
    in `mark-unanswered` mode (it stayed down) its checks are stored as unanswered, for review.
    """
    asked = judged = 0
    for rid in registration_ids:
        item = store.get_registration(rid)
        done = {c.agency for c in vstore.checks(rid) if c.status != "unanswered"}
        for agency in checks_needed(item):
            if agency in done:
                continue
            try:
                check = ask(agencies, agency, item, now)
            except AgencyUnavailable:
                if mode == "ask":
                    raise
                check = unanswered(agency, rid, now)
            vstore.put_check(check)
            asked += 1
        judged += _judge(config, item, vstore, now)
    return {"registrations": len(registration_ids), "asked": asked, "judged": judged}


class VisitRefused(StaffError):
    status = 409


def record_visit(
    config: SeasonConfig,
    registration_id: str,
    lives_there: bool,
    visitor: str,
    *,
    store: Store,
    vstore: VerificationStore,
    now: datetime,
) -> dict[str, Any]:
    """The community office's answer to a home visit (its callback), kept with source, time and visitor."""
    try:
        item = store.get_registration(registration_id)
    except NotFound:
        raise VisitRefused("未找到该报名编号", "no such registration") from None
    open_visit = next((c for c in vstore.checks(registration_id) if c.agency == "community"), None)
    if open_visit is None or open_visit.status != "pending":
        raise VisitRefused("该儿童没有待完成的入户核查", "no home visit is pending for this registration")
    vstore.put_check(visit_answer(registration_id, lives_there, open_visit.asked_at, now, visitor))
    return {"registration_id": registration_id, "judged": _judge(config, item, vstore, now)}


def close_visits(
    config: SeasonConfig, season: str, *, store: Store, vstore: VerificationStore, now: datetime
) -> dict[str, Any]:
    """Home-visit deadline: what the community did not answer is closed as not confirmed (→ review)."""
    closed = 0
    for item in store.registrations(season):
        rid = str(item["registration_id"])
        for c in vstore.checks(rid):
            if c.agency == "community" and c.status == "pending":
                vstore.put_check(visit_closed(rid, c.asked_at, now))
                closed += 1
        if vstore.verdict(rid) is None:
            _judge(config, item, vstore, now)
    return {"visits_closed": closed, **summary(config, vstore, season)}


def summary(config: SeasonConfig, vstore: VerificationStore, season: str) -> dict[str, Any]:
    """Outcomes by status, by reason and by district (small: it travels in the workflow's state)."""
    verdicts = vstore.verdicts(season)
    by_district: dict[str, Counter[str]] = {d.code: Counter() for d in config.districts}
    reasons: Counter[str] = Counter()
    for v in verdicts:
        by_district.setdefault(v.district, Counter())[v.status] += 1
        reasons.update(v.reasons)
    return {
        "verdicts": len(verdicts),
        "by_status": dict(Counter(v.status for v in verdicts)),
        "by_reason": dict(reasons.most_common()),
        "by_district": {d: dict(c) for d, c in by_district.items()},
        "signed": sum(1 for v in verdicts if v.decided_by != "system"),
    }
