"""The verification phase (R-VER-1 .. R-VER-5): the workflow's tasks, over the stores and the agencies.

`prepare` writes the season's registrations in batches for the workflow's Distributed Map;
`verify_batch` asks the agencies about one batch and judges every complete case; `record_visit` is a
community office's answer; `close` is the home-visit deadline (`close_visits`) or the final record
(`summary`); `draw_spot_checks` draws the city's spot-check sample of every district once (R-VER-5)
on the city bureau's behalf, at the review deadline. No AWS here.

Reads are batched: a batch's registrations in one read, and each case's checks and verdict together
(`SeasonVerificationStore.cases`), read once and judged from what was read and written. Nothing is
written that did not change: a stored answer is not asked again, a verdict already stored for
unchanged checks is not written again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

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
from enrollment.verification.verdicts import Agency, Check, Verdict

CLOSE_BATCH = 1000  # open cases read and closed at a time at the home-visit deadline (reads batched)


@dataclass(frozen=True)
class CaseRecord:
    """What is stored about one case: the checks asked for (those stored) and its verdict, if any."""

    checks: list[Check] = field(default_factory=list)
    verdict: Verdict | None = None


class SeasonVerificationStore(VerificationStore, Protocol):
    """The phase's tasks read many cases at once."""

    def cases(self, agencies: Mapping[str, Iterable[Agency]]) -> dict[str, CaseRecord]:
        """Each registration's stored checks of the given agencies, and its verdict, read together
        (batched, consistently). Every registration id asked for is in the answer."""
        ...


def _judge(
    config: SeasonConfig,
    item: dict[str, Any],
    checks: Iterable[Check],
    vstore: VerificationStore,
    now: datetime,
) -> bool:
    """Store the verdict of a complete case (`checks`: its checks as they stand now)."""
    known = list(checks)
    if not is_complete(item, known):
        return False
    vstore.put_verdict(verdict(config, item, known, now))
    return True


def _registrations(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    items = store.get_registrations(ids)
    missing = [rid for rid in ids if rid not in items]
    if missing:
        raise NotFound(", ".join(missing[:10]))
    return items


def verify_batch(
    config: SeasonConfig,
    registration_ids: list[str],
    mode: Literal["ask", "mark-unanswered"],
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    agencies: Agencies,
    now: datetime,
) -> dict[str, int]:
    """Ask what is not asked yet; answers already stored are kept, so a retried batch asks nothing twice.

    In `ask` mode an agency that does not answer raises AgencyUnavailable (the ASL retries the batch);
    in `mark-unanswered` mode (it stayed down) its checks are stored as unanswered, for review.
    The batch's registrations are read in one go, and so are their checks and verdicts; a case whose
    checks did not change and that has its verdict is not judged again.
    """
    ids = list(dict.fromkeys(registration_ids))
    items = _registrations(store, ids)
    needed = {rid: checks_needed(items[rid]) for rid in ids}
    stored = vstore.cases(needed)
    asked = judged = 0
    refused: list[str] = []  # a check someone else stored first: judged from what is stored
    changed: dict[str, dict[Agency, Check]] = {}
    for rid in ids:
        item, case = items[rid], stored[rid]
        by = {c.agency: c for c in case.checks}
        for agency in needed[rid]:
            if agency in by and by[agency].status != "unanswered":
                continue
            try:
                check = ask(agencies, agency, item, now)
            except AgencyUnavailable:
                if mode == "ask":
                    raise
                check = unanswered(agency, rid, now)
            asked += 1
            if vstore.put_check(check):
                by[agency] = check
                changed.setdefault(rid, {})[agency] = check
            elif rid not in refused:
                refused.append(rid)
        if rid in refused:
            continue
        if case.verdict is not None and rid not in changed:
            judged += is_complete(item, by.values())  # judged before, on these very checks
            continue
        judged += _judge(config, item, by.values(), vstore, now)
    if refused:
        again = vstore.cases({rid: needed[rid] for rid in refused})
        judged += sum(_judge(config, items[rid], again[rid].checks, vstore, now) for rid in refused)
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
    vstore: SeasonVerificationStore,
    now: datetime,
) -> dict[str, Any]:
    """The community office's answer to a home visit (its callback), kept with source, time and visitor."""
    try:
        item = store.get_registration(registration_id)
    except NotFound:
        raise VisitRefused("未找到该报名编号", "no such registration") from None
    needed = checks_needed(item)
    checks = vstore.cases({registration_id: needed})[registration_id].checks
    open_visit = next((c for c in checks if c.agency == "community"), None)
    if open_visit is None or open_visit.status != "pending":
        raise VisitRefused("该儿童没有待完成的入户核查", "no home visit is pending for this registration")
    answer = visit_answer(registration_id, lives_there, open_visit.asked_at, now, visitor)
    if vstore.put_check(answer):
        checks = [answer if c.agency == "community" else c for c in checks]
    else:  # answered meanwhile: judge what is stored
        checks = vstore.cases({registration_id: needed})[registration_id].checks
    return {"registration_id": registration_id, "judged": _judge(config, item, checks, vstore, now)}


def close_visits(
    config: SeasonConfig, season: str, *, store: Store, vstore: SeasonVerificationStore, now: datetime
) -> dict[str, Any]:
    """Home-visit deadline: what the community did not answer is closed as not confirmed (→ review).

    Only the cases without a verdict can have a visit open (a verdict needs every check final), so
    the season's verdicts are listed once and only the others are read, in batches: the calls grow
    with the cases still open, not two per registration.
    """
    judged = {v.registration_id for v in vstore.verdicts(season)}  # an index: may lag a fresh verdict
    items = {str(i["registration_id"]): i for i in store.registrations(season)}
    open_ids = [rid for rid in items if rid not in judged]
    needed = {rid: checks_needed(items[rid]) for rid in open_ids}
    closed = 0
    for start in range(0, len(open_ids), CLOSE_BATCH):
        part = open_ids[start : start + CLOSE_BATCH]
        stored = vstore.cases({rid: needed[rid] for rid in part})
        for rid in part:
            case = stored[rid]
            if case.verdict is not None:  # judged after all: the index had not caught up
                continue
            checks = {c.agency: c for c in case.checks}
            visit = checks.get("community")
            if visit is not None and visit.status == "pending":
                final = visit_closed(rid, visit.asked_at, now)
                if vstore.put_check(final):
                    checks["community"] = final
                    closed += 1
                else:  # the community answered at the last moment: judge what is stored
                    checks = {c.agency: c for c in vstore.cases({rid: needed[rid]})[rid].checks}
            _judge(config, items[rid], checks.values(), vstore, now)
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
    vstore: SeasonVerificationStore,
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
