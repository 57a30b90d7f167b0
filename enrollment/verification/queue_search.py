"""Search and filters on a district's review queue (issue 19): a clerk with 500 cases a day finds one
child, or works through one kind of case, without paging through them all.

The filters are on the case (`status`, `reason`, `grade`, `category`) and on the child's form
(`school`: the school asked for); the search `q`, the paging of a filtered list and the sorting are
the console lists' own (`enrollment.verification.search`): pages keep the queue's order (by
registration id) and its cursors, a sorted queue is ordered by `QUEUE_SORTS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from enrollment.core.ports import ChildKeyer
from enrollment.core.staff import StaffMember
from enrollment.registration.form import CATEGORY_ZH
from enrollment.verification import review, search
from enrollment.verification.review import QueuePage
from enrollment.verification.search import SCAN_MAX, BadSearch, Query, Sort
from enrollment.verification.verdicts import REASON_ZH, Verdict

__all__ = ["SCAN_MAX", "BadSearch", "QueueFilter", "queue_filter", "search_page", "sorted_queue"]

_CHUNK = 500  # cases read at once
QUEUE_SORTS = ("registration_id", "status", "grade", "category", "decided_at")
Registrations = Callable[[Iterable[str]], Mapping[str, Mapping[str, Any]]]
Found = tuple[Verdict, Mapping[str, Any] | None]


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    reason: str | None = None
    grade: int | None = None
    category: str | None = None
    school: str | None = None
    query: Query | None = None

    @property
    def empty(self) -> bool:
        return self == QueueFilter()

    def takes_case(self, case: Verdict) -> bool:
        """The filters on the case itself (no registration read)."""
        return (
            (self.status is None or case.status == self.status)
            and (self.reason is None or self.reason in case.reasons)
            and (self.grade is None or case.grade == self.grade)
            and (self.category is None or case.category == self.category)
            and (
                self.query is None or self.query[0] != "registration" or case.registration_id == self.query[1]
            )
        )

    def takes_child(self, item: Mapping[str, Any] | None) -> bool:
        """The filters on the child's form (the school asked for, the search on name, ID, phone)."""
        if self.school is None and (self.query is None or self.query[0] == "registration"):
            return True
        if item is None:
            return False
        if self.school is not None and item.get("target_school") != self.school:
            return False
        return self.query is None or self.query[0] == "registration" or search.child_matches(self.query, item)


def queue_filter(
    params: Mapping[str, str | None],
    *,
    season: str,
    schools: Iterable[str],
    keyer: ChildKeyer,
) -> QueueFilter:
    """The query parameters `status`, `reason`, `grade`, `category`, `school` and `q`, checked (422
    naming the parameter). A full ID number becomes its registration id here and goes no further."""
    status = params.get("status") or None
    if status is not None and status not in review.NEEDS_REVIEW:
        raise BadSearch(
            "status", "参数 status 只能是 review 或 not-eligible", "status: review or not-eligible"
        )
    reason = params.get("reason") or None
    if reason is not None and reason not in REASON_ZH:
        raise BadSearch("reason", "参数 reason 不是已知的审核原因", "reason: not a known verification reason")
    grade = params.get("grade") or None
    if grade is not None and grade not in ("1", "7"):
        raise BadSearch("grade", "参数 grade 只能是 1 或 7", "grade: 1 or 7")
    category = search.choice(params, "category", CATEGORY_ZH, "已知的报名类别", "a known category")
    school = search.choice(params, "school", schools, "本年度的学校", "a school of the season")
    return QueueFilter(
        status=status,
        reason=reason,
        grade=int(grade) if grade else None,
        category=category,
        school=school,
        query=search.search_query(params.get("q"), season, keyer),
    )


def search_page(
    store: review.VerificationStore,
    staff: StaffMember,
    season: str,
    district: str,
    page: QueuePage,
    flt: QueueFilter,
    registrations: Registrations,
) -> tuple[list[tuple[Verdict, Mapping[str, Any] | None]], str | None]:
    """Up to `page.limit` cases of the queue after `page.after` that pass `flt`, each with its
    registration item, and the next cursor (None when the queue is done)."""

    def chunk(after: str | None) -> tuple[list[Verdict], str | None]:
        return review.review_page(store, staff, season, district, QueuePage(after, _CHUNK))

    take = _taker(flt, registrations)
    return search.filtered_page(
        chunk, lambda c: c.registration_id, take, page.after, page.limit, budget=SCAN_MAX
    )


def sorted_queue(
    store: review.VerificationStore,
    staff: StaffMember,
    season: str,
    district: str,
    flt: QueueFilter,
    registrations: Registrations,
    sort: Sort,
    cursor: str | None,
    limit: int,
) -> tuple[list[Found], str | None]:
    """The queue's cases that pass `flt`, ordered by `sort` (one of `QUEUE_SORTS`), one page of them
    after the sorted cursor, and the next sorted cursor."""

    def chunk(after: str | None) -> tuple[list[Verdict], str | None]:
        return review.review_page(store, staff, season, district, QueuePage(after, _CHUNK))

    found = search.collect(chunk, _taker(flt, registrations))

    def key(row: Found) -> tuple[str, str]:
        case = row[0]
        value = getattr(case, sort.column)
        return search.sort_text(
            value.isoformat() if hasattr(value, "isoformat") else value
        ), case.registration_id

    return search.sorted_page(found, key, sort, cursor, limit)


def _taker(flt: QueueFilter, registrations: Registrations) -> Callable[[list[Verdict]], list[Found | None]]:
    def take(cases: list[Verdict]) -> list[Found | None]:
        candidates = {c.registration_id for c in cases if flt.takes_case(c)}
        items = registrations(candidates) if candidates else {}
        return [
            (c, items.get(c.registration_id))
            if c.registration_id in candidates and flt.takes_child(items.get(c.registration_id))
            else None
            for c in cases
        ]

    return take
