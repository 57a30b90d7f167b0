"""The verification phase (R-VER-1 .. R-VER-5): the workflow's tasks, over the stores and the agencies.

`prepare` writes the season's registrations in batches for the workflow's Distributed Map;
`verify_batch` asks the agencies about one batch and judges every complete case (a requested home
visit is also put on its district's worklist, visits.py); `find_open_checks` writes the cases an
agency left unanswered as the batches to ask again, until the verification deadline, when
`close_agency_checks` closes what is still open (→ review); `record_visit` is a community office's
answer, which takes the visit off the worklist; `close` is the home-visit deadline (`close_visits`)
or the final record (`summary`); `draw_spot_check` draws one district's spot-check sample once (R-VER-5) on the city
bureau's behalf, at the review deadline, a workflow Map iteration per district
(`spot_check_districts`). No AWS here. Season-wide reads are streamed: the verdicts as
`VerdictFacts` a page at a time, the registrations a batch at a time; no task holds the season.

Reads are batched: a batch's registrations in one read, and each case's checks and verdict together
(`SeasonVerificationStore.cases`), read once and judged from what was read and written. Nothing is
written that did not change: a stored answer is not asked again, a verdict already stored for
unchanged checks is not written again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple, Protocol

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import NotFound, Seeds, Store, WorkFiles, put_batches
from enrollment.core.retention import is_erased
from enrollment.core.staff import Forbidden, StaffError, StaffMember
from enrollment.verification import spotcheck
from enrollment.verification.checks import (
    Agencies,
    AgencyUnavailable,
    Answer,
    agency_closed,
    answered,
    ask,
    checks_needed,
    is_complete,
    prefetch,
    unanswered,
    verdict,
    visit_answer,
    visit_closed,
)
from enrollment.verification.review import VerificationStore
from enrollment.verification.verdicts import Agency, Check, Verdict
from enrollment.verification.visits import VisitStore, open_visit

CLOSE_BATCH = 1000  # open cases read and closed at a time at the home-visit deadline (reads batched)


@dataclass(frozen=True)
class CaseRecord:
    """What is stored about one case: the checks asked for (those stored) and its verdict, if any."""

    checks: list[Check] = field(default_factory=list)
    verdict: Verdict | None = None


class VerdictFacts(NamedTuple):
    """What the phase's summary and the spot-check draw read of a verdict."""

    registration_id: str
    district: str
    status: str
    reasons: tuple[str, ...]
    decided_by: str


class PlacementFacts(NamedTuple):
    """What placement reads of a verdict (its status, catchment zone and facts), for a whole season
    held at once: a tuple, not a model, and the zone ids and fact mappings shared between verdicts
    that have the same (`facts` is read-only and must not be changed)."""

    registration_id: str
    status: str
    zone_id: str | None
    facts: Mapping[str, bool]


class SeasonVerificationStore(VerificationStore, VisitStore, Protocol):
    """The phase's tasks read many cases at once, and keep the community office's open visits."""

    def cases(self, agencies: Mapping[str, Iterable[Agency]]) -> dict[str, CaseRecord]:
        """Each registration's stored checks of the given agencies, and its verdict, read together
        (batched, consistently). Every registration id asked for is in the answer."""
        ...

    def verdict_facts(self, season: str, district: str | None = None) -> Iterator[VerdictFacts]:
        """The season's verdicts (or one district's) as the few fields the phase's counts and draws
        need, a page at a time as they are consumed: no models built, nothing kept (the season's
        verdicts do not fit a task's memory)."""
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
    todo = [
        (agency, items[rid])
        for rid in ids
        for agency in needed[rid]
        if not any(c.agency == agency and c.status != "unanswered" for c in stored[rid].checks)
    ]
    try:  # an agency with a batched API is asked about the whole batch in one call
        prefetch(agencies, todo)
    except AgencyUnavailable:
        if mode == "ask":
            raise
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
                if agency in by:  # still down at a re-ask: it stays unanswered, as stored
                    continue
                check = unanswered(agency, rid, now)
            if check.agency == "community" and check.status == "pending":
                # listed before the check is stored: a batch retried after a crash between the two
                # asks again and lists it again, so no requested visit is missing from the worklist
                vstore.put_visit(open_visit(config.season, item, now))
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
        for rid in refused:  # a visit answered before this batch's request was stored is not open
            if any(c.agency == "community" and c.status != "pending" for c in again[rid].checks):
                vstore.drop_visit(rid)
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
    district: str | None = None,
) -> dict[str, Any]:
    """The community office's answer to a home visit (its callback), kept with source, time and visitor.

    `district`: the office's own district, if it has one: another district's visit is not its to answer."""
    try:
        item = store.get_registration(registration_id)
    except NotFound:
        raise VisitRefused("未找到该报名编号", "no such registration") from None
    if district is not None and item.get("district") != district:
        raise Forbidden(
            "只能提交本辖区的入户核查结果", "a community office answers its own district's visits"
        )
    if is_erased(item):
        raise VisitRefused(
            "该报名的个人信息已按保存期限删除，不再记录入户核查",
            "this registration's personal data was erased at the end of its retention period",
        )
    needed = checks_needed(item)
    checks = vstore.cases({registration_id: needed})[registration_id].checks
    pending = next((c for c in checks if c.agency == "community"), None)
    if pending is None or pending.status != "pending":
        if pending is not None:  # answered or closed: whatever is still listed is not open
            vstore.drop_visit(registration_id)
        raise VisitRefused("该儿童没有待完成的入户核查", "no home visit is pending for this registration")
    answer = visit_answer(registration_id, lives_there, pending.asked_at, now, visitor)
    stored = vstore.put_check(answer)
    vstore.drop_visit(registration_id)  # answered (by this call or just before it): off the worklist
    if stored:
        checks = [answer if c.agency == "community" else c for c in checks]
    else:  # answered meanwhile: judge what is stored
        checks = vstore.cases({registration_id: needed})[registration_id].checks
    return {"registration_id": registration_id, "judged": _judge(config, item, checks, vstore, now)}


AnswerOutcome = Literal["recorded", "already", "conflict", "not-asked", "erased"]


class Worklist(Protocol):
    """Where a deferred check's request waits for its answer (a files agency's worklist)."""

    def drop_file_request(self, registration_id: str, agency: Agency) -> None:
        """Take the request off the worklist, if it is there; safe to repeat."""
        ...


@dataclass(frozen=True)
class RecordedAnswers:
    """What became of each answer, in the order given, and how many cases were judged."""

    outcomes: list[AnswerOutcome]
    judged: int


def record_answers(
    config: SeasonConfig,
    answers: Sequence[tuple[str, Agency, Answer]],
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    now: datetime,
    worklist: Worklist | None = None,
) -> RecordedAnswers:
    """Agencies' answers, by (registration id, agency), to checks asked earlier and still open (pending,
    or unanswered after the agency stayed silent): each is stored as the answered check an API answer
    becomes in `ask` (the agency's reason code and facts, asked when it was asked, answered now), taken
    off the worklist, and every case it completes is judged.

    An answer to a check never asked is `not-asked`; to a check already answered, `already` when it is
    the same answer (a file uploaded again) and `conflict` when it is not: nothing is stored twice and a
    final answer is never replaced. The registrations and their cases are read in one batch."""
    ids = list(dict.fromkeys(rid for rid, _, _ in answers))
    items = store.get_registrations(ids) if ids else {}
    needed = {rid: checks_needed(items[rid]) for rid in ids if rid in items}
    cases = vstore.cases(needed) if needed else {}
    by = {rid: {c.agency: c for c in case.checks} for rid, case in cases.items()}
    outcomes: list[AnswerOutcome] = []
    changed: set[str] = set()
    for rid, agency, answer in answers:
        current = by.get(rid, {}).get(agency)
        if current is None or agency not in needed.get(rid, ()):
            outcomes.append("not-asked")
            continue
        if is_erased(items[rid]):
            outcomes.append("erased")
            continue
        if current.status not in ("pending", "unanswered"):
            outcomes.append(_same_answer(current, answer))
        else:
            check = answered(rid, agency, answer, asked_at=current.asked_at, now=now)
            if vstore.put_check(check):
                by[rid][agency] = check
                changed.add(rid)
                outcomes.append("recorded")
            else:  # answered meanwhile (another upload): compare with what is stored
                stored = {c.agency: c for c in vstore.cases({rid: needed[rid]})[rid].checks}
                by[rid] = stored
                outcomes.append(_same_answer(stored[agency], answer))
        if worklist is not None:
            worklist.drop_file_request(rid, agency)
    judged = sum(_judge(config, items[rid], by[rid].values(), vstore, now) for rid in sorted(changed))
    return RecordedAnswers(outcomes, judged)


def record_answer(
    config: SeasonConfig,
    registration_id: str,
    agency: Agency,
    answer: Answer,
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    now: datetime,
    worklist: Worklist | None = None,
) -> AnswerOutcome:
    """One agency's answer to one open check (`record_answers`)."""
    done = record_answers(
        config, [(registration_id, agency, answer)], store=store, vstore=vstore, now=now, worklist=worklist
    )
    return done.outcomes[0]


def _same_answer(stored: Check, answer: Answer) -> AnswerOutcome:
    if stored.status == "answered" and (stored.reason, stored.facts) == (answer.reason, answer.facts):
        return "already"
    return "conflict"


def close_visits(
    config: SeasonConfig, season: str, *, store: Store, vstore: SeasonVerificationStore, now: datetime
) -> dict[str, Any]:
    """Home-visit deadline: what the community did not answer is closed as not confirmed (→ review).

    Only the cases without a verdict can have a visit open (a verdict needs every check final), so
    the ids of the season's verdicts are listed once and only the other cases are read, in batches:
    the calls grow with the cases still open, not two per registration. The season's registrations
    are read as a stream and the open ones handled `CLOSE_BATCH` at a time, so the task holds one
    batch of registrations, never the season's.
    """
    judged = {f.registration_id for f in vstore.verdict_facts(season)}  # an index: may lag a fresh verdict
    closed = 0
    batch: list[dict[str, Any]] = []
    for item in store.registrations(season):
        if str(item["registration_id"]) in judged:
            continue
        batch.append(item)
        if len(batch) == CLOSE_BATCH:
            closed += _close_batch(config, batch, vstore, now)
            batch = []
    if batch:
        closed += _close_batch(config, batch, vstore, now)
    return {"visits_closed": closed, **summary(config, vstore, season)}


def _close_batch(
    config: SeasonConfig, items: list[dict[str, Any]], vstore: SeasonVerificationStore, now: datetime
) -> int:
    """Close the open visits of these registrations' cases (read together) and judge them; how many closed."""
    needed = {str(i["registration_id"]): checks_needed(i) for i in items}
    stored = vstore.cases(needed)
    closed = 0
    for item in items:
        rid = str(item["registration_id"])
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
            vstore.drop_visit(rid)  # closed here or answered at the last moment: no longer open
        _judge(config, item, checks.values(), vstore, now)
    return closed


def summary(config: SeasonConfig, vstore: SeasonVerificationStore, season: str) -> dict[str, Any]:
    """Outcomes by status, by reason and by district (small: it travels in the workflow's state),
    counted a page of verdicts at a time: none is kept. The index lists them by district and status,
    so each count's keys are put back in the order the verdicts sorted by id would first show them
    (ties of `by_reason` keep that order too): the record is the same however they were read."""
    first: dict[tuple[str, ...], tuple[str, int]] = {}  # (count, key...) → (id, position) first seen

    def seen(key: tuple[str, ...], rid: str, position: int = 0) -> None:
        if key not in first or (rid, position) < first[key]:
            first[key] = (rid, position)

    by_district: dict[str, Counter[str]] = {}
    by_status: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    verdicts = signed = 0
    for v in vstore.verdict_facts(season):
        verdicts += 1
        by_status[v.status] += 1
        seen(("status", v.status), v.registration_id)
        by_district.setdefault(v.district, Counter())[v.status] += 1
        seen(("district", v.district), v.registration_id)
        seen(("district-status", v.district, v.status), v.registration_id)
        reasons.update(v.reasons)
        for position, reason in enumerate(v.reasons):
            seen(("reason", reason), v.registration_id, position)
        signed += v.decided_by != "system"

    def ordered(counts: Counter[str], *prefix: str) -> Counter[str]:
        return Counter({k: counts[k] for k in sorted(counts, key=lambda k: first[(*prefix, k)])})

    districts = [d.code for d in config.districts]
    districts += sorted((d for d in by_district if d not in districts), key=lambda d: first[("district", d)])
    return {
        "verdicts": verdicts,
        "by_status": dict(ordered(by_status, "status")),
        "by_reason": dict(ordered(reasons, "reason").most_common()),
        "by_district": {
            d: dict(ordered(by_district.get(d, Counter()), "district-status", d)) for d in districts
        },
        "signed": signed,
    }


# The workflow draws on the city bureau's behalf at the review deadline.
CITY_SYSTEM = StaffMember(principal="system:season-workflow", role="city", district=None)


class ShardFiles(WorkFiles, Protocol):
    """The work bucket, read back: verification's preparation writes each shard's ids, then reads them."""

    def get_json(self, key: str) -> Any: ...


def shard_key(season: str, shard: int) -> str:
    """Where one shard's registration ids are written for `prepare` to gather."""
    return f"seasons/{season}/verification/shards/{shard:02d}.json"


def prepare_shard(
    config: SeasonConfig, season: str, shard: int, *, store: Store, work: ShardFiles
) -> dict[str, Any]:
    """One shard's registration ids, sorted, written to the work bucket (a Map iteration's part:
    its shard read a page at a time); how many there are."""
    ids = sorted(str(r["registration_id"]) for r in store.registrations_in_shard(season, shard))
    key = shard_key(season, shard)
    work.put_json(key, ids)
    return {"shard": shard, "key": key, "registrations": len(ids)}


def prepare(
    config: SeasonConfig,
    season: str,
    shards: Iterable[Mapping[str, Any]],
    *,
    store: Store,
    work: ShardFiles,
) -> dict[str, Any]:
    """The season's registrations in batches, written where the Map reads them: every shard's ids
    (`prepare_shard`, whose results are `shards`) gathered, the same sorted batches as one pass over
    the season gives. Every shard must be there once, with as many ids as its iteration counted."""
    parts = list(shards)
    numbers = sorted(int(s["shard"]) for s in parts)
    if numbers != list(range(store.shards)):
        raise ValueError(f"verification needs each of the {store.shards} shards once, got shards {numbers}")
    counted = {int(s["shard"]): int(s["registrations"]) for s in parts}
    ids: list[str] = []
    for shard in range(store.shards):
        part = work.get_json(shard_key(season, shard))
        if len(part) != counted[shard]:
            raise ValueError(f"shard {shard}: {len(part)} ids written, {counted[shard]} counted")
        ids.extend(part)
    return put_batches(
        work,
        batches_key(season),
        ids,
        size=config.verification.batch_size,
        max_concurrency=config.verification.max_concurrency,
        counted="registrations",
    )


def batches_key(season: str) -> str:
    """Where the verification Map reads its batches: the first round's, then each re-ask's."""
    return f"seasons/{season}/verification/batches.json"


# Asking again (issue 17: an agency down for a day costs time, not verdicts) ------------------------


def verification_deadline(config: SeasonConfig) -> datetime:
    """The end of the verification window: agency checks still open then go to review (R-VER-3)."""
    return config.day_end(config.calendar.verification.end)


def _open_cases(
    season: str, *, store: Store, vstore: SeasonVerificationStore
) -> Iterator[tuple[dict[str, Any], CaseRecord]]:
    """Each case with an agency check still open (unanswered, or pending an agency's answer), its
    checks as stored (the community's too, to judge it). Home visits are not agency checks here:
    they close at their own deadline (`close_visits`).

    Only a case without a verdict or with a system verdict naming `agency-unanswered` can have one
    (a complete case's verdict is stored when its checks are): the season's verdicts are listed
    once from the index, and only the other cases read, `CLOSE_BATCH` at a time. A case a person
    signed is theirs (R-VER-3): not asked again."""
    settled = {
        f.registration_id
        for f in vstore.verdict_facts(season)
        if f.decided_by != "system" or "agency-unanswered" not in f.reasons
    }
    batch: list[dict[str, Any]] = []

    def read(items: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], CaseRecord]]:
        needed = {str(i["registration_id"]): checks_needed(i) for i in items}
        stored = vstore.cases({rid: agencies for rid, agencies in needed.items() if agencies})
        for item in items:
            case = stored.get(str(item["registration_id"]))
            if case is not None and any(_agency_open(c) for c in case.checks):
                yield item, case

    for item in store.registrations(season):
        if str(item["registration_id"]) in settled:
            continue
        batch.append(item)
        if len(batch) == CLOSE_BATCH:
            yield from read(batch)
            batch = []
    if batch:
        yield from read(batch)


def _agency_open(check: Check) -> bool:
    return check.agency != "community" and check.status in ("unanswered", "pending")


def find_open_checks(
    config: SeasonConfig,
    season: str,
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    work: WorkFiles,
    now: datetime,
) -> dict[str, Any]:
    """After a round of asking: the cases an agency left unanswered, written as the verification
    Map's batches to be asked again; how many cases are still open (those awaiting an agency's answer
    file too, which are not asked again: the file answers them), whether the verification deadline
    is reached, and when to try next (`next_try`, UTC as the workflow's Wait state reads it): every
    `verification.reask_every_hours`, the last try at the deadline itself."""
    reask: list[str] = []
    awaited = 0
    for item, case in _open_cases(season, store=store, vstore=vstore):
        if any(_agency_open(c) and c.status == "unanswered" for c in case.checks):
            reask.append(str(item["registration_id"]))
        else:
            awaited += 1
    deadline = verification_deadline(config)
    settings = config.verification
    written = put_batches(
        work,
        batches_key(season),
        reask,
        size=settings.batch_size,
        max_concurrency=settings.max_concurrency,
        counted="registrations",
    )
    next_try = min(now + timedelta(hours=settings.reask_every_hours), deadline)
    return {
        **written,
        "open": len(reask) + awaited,
        "awaited": awaited,
        "deadline_reached": now >= deadline,
        "next_try": next_try.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def close_agency_checks(
    config: SeasonConfig, season: str, *, store: Store, vstore: SeasonVerificationStore, now: datetime
) -> dict[str, Any]:
    """The verification deadline passed: an agency check still pending (an answer file that never
    came) is closed as unanswered, and every case with an unanswered check is judged on what is
    stored (review, `agency-unanswered`: R-VER-3), unless its home visit is still open (then at the
    home-visit deadline). An answer that arrives meanwhile wins: it is judged instead."""
    closed = judged = 0
    for item, case in _open_cases(season, store=store, vstore=vstore):
        rid = str(item["registration_id"])
        checks = {c.agency: c for c in case.checks}
        changed = False
        for agency, check in list(checks.items()):
            if not (_agency_open(check) and check.status == "pending"):
                continue
            changed = True
            final = agency_closed(rid, agency, check.asked_at, now)
            if vstore.put_check(final):
                checks[agency] = final
                closed += 1
            else:  # answered at the last moment: judge what is stored
                checks = {c.agency: c for c in vstore.cases({rid: checks_needed(item)})[rid].checks}
                break
        if changed:  # a case only unanswered was judged when its checks were marked
            judged += _judge(config, item, checks.values(), vstore, now)
    return {"agency_checks_closed": closed, "judged": judged}


def close(
    config: SeasonConfig,
    season: str,
    step: Literal["home-visits", "final", "agencies"],
    *,
    store: Store,
    vstore: SeasonVerificationStore,
    now: datetime,
) -> dict[str, Any]:
    """`agencies`: close the agency checks still open at the verification deadline; `home-visits`:
    close what the community did not answer and judge every case; `final`: the record."""
    if step == "agencies":
        return close_agency_checks(config, season, store=store, vstore=vstore, now=now)
    if step == "home-visits":
        return close_visits(config, season, store=store, vstore=vstore, now=now)
    return summary(config, vstore, season)


def spot_check_districts(config: SeasonConfig) -> dict[str, Any]:
    """The districts the city samples (R-VER-5): the workflow draws them one a Map iteration."""
    return {"districts": [d.code for d in config.districts]}


def draw_spot_check(
    config: SeasonConfig,
    season: str,
    district: str,
    *,
    vstore: SeasonVerificationStore,
    seeds: Seeds,
    now: datetime,
) -> dict[str, Any]:
    """One district's sample, drawn once with a fresh seed from `seeds` (a rerun keeps the recorded
    one). The population is the district's verdicts' ids alone, read a page at a time."""
    if district not in config.district_index:
        raise NotFound(f"no district {district!r}")
    settings = config.verification
    existing = vstore.spot_check_sample(season, district)
    sample = existing or spotcheck.draw_from(
        vstore,
        CITY_SYSTEM,
        season,
        district,
        (f.registration_id for f in vstore.verdict_facts(season, district) if f.district == district),
        settings.spot_check_rate,
        seeds.new_seed(f"spot-check/{season}/{district}"),
        now,
        minimum=settings.spot_check_minimum,
    )
    return {
        "district": district,
        "population": sample.population,
        "sampled": len(sample.sample),
        "seed": sample.seed,
    }
