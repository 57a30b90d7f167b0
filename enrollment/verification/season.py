"""The verification phase (R-VER-1 .. R-VER-5): the workflow's tasks, over the stores and the agencies.

`prepare` writes the season's registrations in batches for the workflow's Distributed Map;
`verify_batch` asks the agencies about one batch and judges every complete case; `record_visit` is a
community office's answer; `close` is the home-visit deadline (`close_visits`) or the final record
(`summary`); `draw_spot_checks` draws the city's spot-check sample of every district once (R-VER-5)
on the city bureau's behalf, at the review deadline. No AWS here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Literal

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import NotFound, Seeds, Store, WorkFiles, put_batches
from enrollment.core.staff import StaffError, StaffMember
from enrollment.verification import spotcheck
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


# The workflow draws on the city bureau's behalf at the review deadline.
CITY_SYSTEM = StaffMember(principal="system:season-workflow", role="city", district=None)


def prepare(config: SeasonConfig, season: str, *, store: Store, work: WorkFiles) -> dict[str, Any]:
    """The season's registrations in batches, written where the Map reads them."""
    return put_batches(
        work,
        f"seasons/{season}/verification/batches.json",
        (str(r["registration_id"]) for r in store.registrations(season)),
        size=config.verification.batch_size,
        max_concurrency=config.verification.max_concurrency,
        counted="registrations",
    )


def close(
    config: SeasonConfig,
    season: str,
    step: Literal["home-visits", "final"],
    *,
    store: Store,
    vstore: VerificationStore,
    now: datetime,
) -> dict[str, Any]:
    """`home-visits`: close what the community did not answer and judge every case; `final`: the record."""
    if step == "home-visits":
        return close_visits(config, season, store=store, vstore=vstore, now=now)
    return summary(config, vstore, season)


def draw_spot_checks(
    config: SeasonConfig, season: str, *, vstore: VerificationStore, seeds: Seeds, now: datetime
) -> dict[str, Any]:
    """Each district's sample, drawn once with a fresh seed from `seeds` (a rerun keeps the recorded one)."""
    settings = config.verification
    drawn: dict[str, dict[str, Any]] = {}
    for d in config.districts:
        existing = vstore.spot_check_sample(season, d.code)
        sample = existing or spotcheck.draw(
            vstore,
            CITY_SYSTEM,
            season,
            d.code,
            settings.spot_check_rate,
            seeds.new_seed(f"spot-check/{season}/{d.code}"),
            now,
            minimum=settings.spot_check_minimum,
        )
        drawn[d.code] = {"population": sample.population, "sampled": len(sample.sample), "seed": sample.seed}
    return {"districts": drawn}
