"""Search and filters on a district's review queue (issue 19): a clerk with 500 cases a day finds one
child, or works through one kind of case, without paging through them all.

The filters are on the case (`status`, `reason`, `grade`, `category`) and on the child's form
(`school`: the school asked for). The search `q` is matched only on what the stores hold for it:
- a registration id: that case;
- a full ID number: keyed as the form keys it (`ChildKeyer.child_key`, the same HMAC) into its
  registration id, so the number is never compared, stored or written to a log in the clear;
- four characters of an ID number: the end of the stored masked number (`**************123X`);
- a mobile number: a guardian's phone on the form;
- Chinese characters: part of the child's name.

Pages keep the queue's order (by registration id) and its cursors: each page scans the queue after the
cursor until it has `limit` matching cases, at most `SCAN_MAX` cases, so a rare match never makes a
request unbounded; `next` then names the last case looked at and the next page goes on from there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from enrollment.core.ports import ChildKeyer
from enrollment.core.staff import StaffError, StaffMember
from enrollment.registration.form import CATEGORY_ZH
from enrollment.registration.registrar import registration_id
from enrollment.verification import review
from enrollment.verification.review import QueuePage
from enrollment.verification.verdicts import REASON_ZH, Verdict

SCAN_MAX = 5000  # cases looked at for one page at most
_CHUNK = 500
_RID = re.compile(r"^R(?:-[A-Z2-7]{4}){4}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_TAIL = re.compile(r"^\d{3}[\dX]$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_NAME = re.compile(r"^[\u3400-\u9fff·]{1,20}$")

QueryKind = Literal["registration", "id-tail", "phone", "name"]
Registrations = Callable[[Iterable[str]], Mapping[str, Mapping[str, Any]]]


class BadSearch(StaffError):
    """A search or filter parameter the queue does not take; `field` names it."""

    status = 422

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.field = field


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    reason: str | None = None
    grade: int | None = None
    category: str | None = None
    school: str | None = None
    query: tuple[QueryKind, str] | None = None

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
        if self.query is None:
            return True
        kind, value = self.query
        request = item.get("request", {})
        if kind == "id-tail":
            return str(item.get("masked_id", "")).upper().endswith(value)
        if kind == "phone":
            return any(str(g.get("phone", "")) == value for g in request.get("guardians", []))
        if kind == "name":
            return value in str(request.get("child", {}).get("name", ""))
        return True


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
    category = params.get("category") or None
    if category is not None and category not in CATEGORY_ZH:
        raise BadSearch("category", "参数 category 不是已知的报名类别", "category: not a known category")
    school = params.get("school") or None
    if school is not None and school not in set(schools):
        raise BadSearch("school", "参数 school 不是本年度的学校", "school: not a school of the season")
    return QueueFilter(
        status=status,
        reason=reason,
        grade=int(grade) if grade else None,
        category=category,
        school=school,
        query=_query(params.get("q"), season, keyer),
    )


def _query(q: str | None, season: str, keyer: ChildKeyer) -> tuple[QueryKind, str] | None:
    value = re.sub(r"\s+", "", q or "").upper()
    if not value:
        return None
    if _RID.fullmatch(value):
        return ("registration", value)
    if _ID_NUMBER.fullmatch(value):
        return ("registration", registration_id(keyer.child_key(season, "resident-id", value)))
    if _ID_TAIL.fullmatch(value):
        return ("id-tail", value)
    if _PHONE.fullmatch(value):
        return ("phone", value)
    if _NAME.fullmatch(value):
        return ("name", value)
    raise BadSearch(
        "q",
        "请输入报名编号、身份证号（或后四位）、手机号或姓名",
        "q: a registration id, an ID number (or its last four), a mobile number or a name",
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
    after, scanned = page.after, 0
    out: list[tuple[Verdict, Mapping[str, Any] | None]] = []
    while True:
        cases, more = review.review_page(store, staff, season, district, QueuePage(after, _CHUNK))
        candidates = {c.registration_id for c in cases if flt.takes_case(c)}
        items = registrations(candidates) if candidates else {}
        for n, case in enumerate(cases):
            scanned += 1
            if case.registration_id in candidates and flt.takes_child(items.get(case.registration_id)):
                out.append((case, items.get(case.registration_id)))
            last = n == len(cases) - 1 and more is None
            if len(out) == page.limit or (scanned >= SCAN_MAX and not last):
                return out, None if last else case.registration_id
        if more is None:
            return out, None
        after = more
