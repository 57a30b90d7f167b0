"""Staff review of verification verdicts (R-VER-3 谁审谁签字, R-VER-4, R-DATA-2).

Pure domain over the `VerificationStore` port. A district reviewer works through the review queue
of their own district and signs each case: `confirm` keeps the current outcome, `override` changes it
(with a reason). Every signature is a `Decision` appended to the case's history, never changed; the
case's verdict then carries the signed outcome and who signed it. A child who stays not eligible
is not refused schooling: the district places them by coordination (R-VER-4, R-COORD-1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from enrollment.core.ports import NotFound
from enrollment.core.staff import Forbidden, StaffError, StaffMember, require_decide, require_read
from enrollment.verification.verdicts import (
    Check,
    CheckStatus,
    Decision,
    DecisionAction,
    Verdict,
    VerdictStatus,
)

if TYPE_CHECKING:
    from enrollment.verification.spotcheck import SpotCheckOutcome, SpotCheckSample

Outcome = Literal["eligible", "not-eligible"]
NEEDS_REVIEW: tuple[VerdictStatus, ...] = ("review", "not-eligible")
SYSTEM = "system"
CONFIRM_REASON = "确认审核结论"  # recorded when a reviewer confirms without writing a reason
_OPEN_CHECK: frozenset[CheckStatus] = frozenset({"pending", "unanswered"})
_FINAL_CHECK: frozenset[CheckStatus] = frozenset({"answered", "not-confirmed"})
ACTION_ZH: dict[str, str] = {"confirm": "确认", "override": "改判"}
QUEUE_PAGE_DEFAULT = 100  # one page: two ranged queries and one BatchGetItem for the children
QUEUE_PAGE_MAX = 500
_QUEUE_CURSOR = re.compile(r"^R(?:-[A-Z2-7]{4}){4}$")  # a registration id: the last case shown


class CaseNotFound(StaffError, NotFound):
    status = 404


class InvalidDecision(StaffError):
    status = 422


class BadPage(StaffError):
    """A paging parameter of the review queue that is not valid; `field` names it (limit, cursor)."""

    status = 422

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.field = field


class VerificationStore(Protocol):
    """What review and spot-checks need from storage. Every write is safe to retry."""

    def put_check(self, check: Check) -> bool:
        """Store an agency's answer once per (registration, agency); a later write replaces it only
        when the stored one is still open (pending/unanswered) and the new one is final
        (answered/not-confirmed): see `check_supersedes`. True if written."""
        ...

    def checks(self, registration_id: str) -> list[Check]: ...

    def put_verdict(self, verdict: Verdict) -> bool:
        """Store the case's current verdict unless `verdict_supersedes` says no. True if written."""
        ...

    def verdict(self, registration_id: str) -> Verdict | None: ...

    def verdicts(
        self, season: str, district: str | None = None, status: VerdictStatus | None = None
    ) -> list[Verdict]:
        """A season's verdicts, optionally of one district and/or status, sorted by registration id."""
        ...

    def queue_page(
        self, season: str, district: str, after: str | None, limit: int
    ) -> tuple[list[Verdict], bool]:
        """The district's review queue (status in NEEDS_REVIEW, not signed by a person: decided by
        SYSTEM) by registration id after `after`: at most `limit` cases, and whether there are more.
        Read in key order, never the whole queue."""
        ...

    def append_decision(self, decision: Decision) -> bool:
        """Append a decision; never overwrite one. The same decision written again (a retry) is not
        stored twice: False. Different decisions with the same timestamp are both kept."""
        ...

    def decisions(self, registration_id: str) -> list[Decision]:
        """A case's decisions in time order (ties in the order they were appended)."""
        ...

    def put_spot_check_sample(self, sample: SpotCheckSample) -> bool:
        """Record a district's sample once. The same sample again: False; another one: Conflict."""
        ...

    def spot_check_sample(self, season: str, district: str) -> SpotCheckSample | None: ...

    def put_spot_check(self, outcome: SpotCheckOutcome) -> bool:
        """Record a sampled case's outcome once. The same outcome again: False; another one: Conflict."""
        ...

    def spot_checks(self, season: str, district: str) -> list[SpotCheckOutcome]:
        """A district's recorded spot-check outcomes, sorted by registration id."""
        ...


# Write rules every store follows (the DynamoDB adapter encodes them as condition expressions) -----


def check_supersedes(old: Check | None, new: Check) -> bool:
    """An agency answers once; an open check (a requested home visit, an agency that was down) may
    be replaced by its final answer, and an agency's pending check (an answer file awaited, not a
    home visit) by `unanswered` when the verification deadline passes without it; nothing else
    replaces anything."""
    if old is None:
        return True
    return (old.status in _OPEN_CHECK and new.status in _FINAL_CHECK) or (
        old.status == "pending" and new.status == "unanswered" and new.agency != "community"
    )


def utc_instant(at: datetime) -> str:
    """A sortable, fixed-width UTC timestamp (naive datetimes are taken as UTC)."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def verdict_supersedes(old: Verdict | None, new: Verdict) -> bool:
    """Newer replaces older; a system verdict never replaces one a person signed (R-VER-3)."""
    if old is None:
        return True
    newer = utc_instant(old.decided_at) <= utc_instant(new.decided_at)
    if new.decided_by == SYSTEM:
        return old.decided_by == SYSTEM and newer
    return old.decided_by == SYSTEM or newer


# Use cases -------------------------------------------------------------------------------------------


def _case(store: VerificationStore, registration_id: str) -> Verdict:
    verdict = store.verdict(registration_id)
    if verdict is None:
        raise CaseNotFound(
            f"未找到报名编号为 {registration_id} 的审核记录", f"no verification record for {registration_id}"
        )
    return verdict


def review_queue(
    store: VerificationStore,
    staff: StaffMember,
    season: str,
    district: str,
    *,
    include_signed: bool = False,
) -> list[Verdict]:
    """Cases of one district a person must look at: status `review`, or not eligible; sorted by
    registration id. Cases a reviewer already signed leave the queue unless `include_signed`."""
    require_read(staff, district)
    cases = [v for status in NEEDS_REVIEW for v in store.verdicts(season, district, status)]
    if not include_signed:
        cases = [v for v in cases if v.decided_by == SYSTEM]
    return sorted(cases, key=lambda v: v.registration_id)


@dataclass(frozen=True)
class QueuePage:
    """A page of the review queue: the cases after `after` (a registration id), at most `limit`."""

    after: str | None
    limit: int


def queue_page_request(cursor: str | None, limit: str | None) -> QueuePage:
    """The query parameters `cursor` and `limit`, checked (422 naming the parameter)."""
    if cursor and _QUEUE_CURSOR.fullmatch(cursor) is None:
        raise BadPage(
            "cursor", "参数 cursor 无效，请从第一页重新查询", "query parameter cursor: not a cursor"
        )
    size = QUEUE_PAGE_DEFAULT
    if limit:
        if not limit.isdigit() or not 1 <= int(limit) <= QUEUE_PAGE_MAX:
            raise BadPage(
                "limit",
                f"参数 limit 应为 1 到 {QUEUE_PAGE_MAX}",
                f"query parameter limit: 1 to {QUEUE_PAGE_MAX}",
            )
        size = int(limit)
    return QueuePage(cursor or None, size)


def review_page(
    store: VerificationStore, staff: StaffMember, season: str, district: str, page: QueuePage
) -> tuple[list[Verdict], str | None]:
    """One page of `review_queue` (same cases, same order: by registration id, both statuses mixed)
    and the cursor of the next page (the last id shown; None at the end). A case signed meanwhile
    leaves the queue without moving the others, so following the cursors shows every case once.
    A case whose stored district is not `district` is refused, not shown (R-DATA-2)."""
    require_read(staff, district)
    cases, more = store.queue_page(season, district, page.after, page.limit)
    for case in cases:
        if case.district != district:
            raise Forbidden(
                f"无权查看{case.district}的审核案件（仅限本区）",
                f"forbidden: cases of district {case.district}",
            )
    return cases, cases[-1].registration_id if more and cases else None


def decide(
    store: VerificationStore,
    staff: StaffMember,
    registration_id: str,
    action: DecisionAction,
    outcome: Outcome | None,
    reason: str,
    now: datetime,
    *,
    zone_id: str | None = None,
    priority_verified: bool | None = None,
) -> Decision:
    """Sign a case (R-VER-3): who (`staff.principal`), when (`now`) and why (`reason`).

    `confirm` keeps the current outcome (`outcome` may be None or must equal it); a case in `review`
    has none to keep and needs an `override`. `override` sets `outcome` (it must differ) and needs a
    reason of at least 2 characters; `zone_id` defaults to the verdict's. `priority_verified` records
    the reviewer's finding on a policy-priority claim (R-PRIO-1): once verified, the child ranks first. The decision is appended
    first, then the verdict becomes the signed outcome, so a retry with the same `now` is harmless.
    """
    current = _case(store, registration_id)
    require_decide(staff, current.district)
    reason = reason.strip()
    if action == "confirm":
        if current.status == "review":
            raise InvalidDecision(
                "该案件待人工复核，没有可确认的结论，请改判并填写理由",
                "a case under review has no outcome to confirm: override it with a reason",
            )
        if outcome is not None and outcome != current.status:
            raise InvalidDecision(
                "确认不能改变审核结论；要改变结论请改判并填写理由",
                "confirm keeps the outcome: use override to change it",
            )
        if zone_id is not None and zone_id != current.zone_id:
            raise InvalidDecision("确认不能改变招生片区；请改判", "confirm keeps the zone: use override")
        signed: Outcome = "eligible" if current.status == "eligible" else "not-eligible"
        reason = reason or CONFIRM_REASON
    elif action == "override":
        if outcome is None:
            raise InvalidDecision("改判须给出审核结论", "override needs an outcome")
        if outcome == current.status:
            raise InvalidDecision(
                "改判结论与当前结论相同，请使用确认", "override to the current outcome: use confirm"
            )
        signed = outcome
    else:
        raise InvalidDecision(f"未知的审核操作 {action!r}", f"unknown action {action!r}")
    if priority_verified is not None and "policy-priority" not in current.facts:
        raise InvalidDecision("该儿童没有申报政策性照顾", "this case has no policy-priority claim to verify")
    if len(reason) < 2:
        raise InvalidDecision("请填写审核理由（至少2个字）", "a reason of at least 2 characters is required")
    if len(reason) > 500:
        raise InvalidDecision("审核理由不能超过500字", "the reason is longer than 500 characters")
    decision = Decision(
        registration_id=registration_id,
        district=current.district,
        action=action,
        outcome=signed,
        zone_id=zone_id if zone_id is not None else current.zone_id,
        priority_verified=priority_verified,
        reason=reason,
        actor=staff.principal,
        at=now,
    )
    store.append_decision(decision)
    store.put_verdict(
        current.model_copy(
            update={
                "status": signed,
                "zone_id": decision.zone_id,
                "facts": current.facts
                if priority_verified is None
                else {**current.facts, "policy-priority": priority_verified},
                "decided_at": now,
                "decided_by": staff.principal,
            }
        )
    )
    return decision


def history(store: VerificationStore, staff: StaffMember, registration_id: str) -> list[Decision]:
    """Every signature on a case, oldest first (append-only: nothing is ever replaced)."""
    require_read(staff, _case(store, registration_id).district)
    return sorted(store.decisions(registration_id), key=lambda d: utc_instant(d.at))  # stable on ties
