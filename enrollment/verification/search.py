"""Search, filters and sorting on the staff console's lists (issue 19): the review queue, a district's
registrations and its placements. One place for what every list does the same way:

- the search `q`, matched only on what the stores hold for it:
  a registration id; a full ID number, keyed as the form keys it (`ChildKeyer.child_key`, the same
  HMAC) into its registration id, so the number is never compared, stored or logged in the clear;
  four characters of an ID number (the end of the stored masked number, `**************123X`);
  a mobile number (a guardian's phone on the form); Chinese characters (part of the child's name);
- a filter parameter checked against the values it may take (422 naming the parameter);
- a filtered page that keeps the list's own order and cursors (`filtered_page`): each page looks at the list
  after the cursor until it has `limit` matching rows, at most `SCAN_MAX` rows, so a rare match never
  makes a request unbounded; `next` then names the last row looked at;
- sorting by a whitelisted column (`sort=created_at&order=desc`): the matching rows (at most
  `SORT_MAX`) ordered by that column, then by registration id, paged by a cursor that names the last
  row shown by its sort value and id, so a row that changes meanwhile is neither lost nor shown twice.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from enrollment.core.ports import ChildKeyer
from enrollment.core.staff import StaffError
from enrollment.registration.registrar import registration_id

SCAN_MAX = 5000  # rows looked at for one filtered page at most
SORT_MAX = 5000  # rows sorted at most: beyond, the clerk narrows the list first
SORT_SCAN_MAX = 20000  # rows looked at to find them
_RID = re.compile(r"^R(?:-[A-Z2-7]{4}){4}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_TAIL = re.compile(r"^\d{3}[\dX]$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_NAME = re.compile(r"^[\u3400-\u9fff·]{1,20}$")
_SORT_CURSOR = "S"

QueryKind = Literal["registration", "id-tail", "phone", "name"]
Query = tuple[QueryKind, str]
T = TypeVar("T")
R = TypeVar("R")


class BadSearch(StaffError):
    """A search, filter or sort parameter a list does not take; `field` names it."""

    status = 422

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.field = field


def search_query(q: str | None, season: str, keyer: ChildKeyer) -> Query | None:
    """The search box's text as what it is matched on (None: no search). A full ID number becomes
    its registration id here and goes no further."""
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


def child_matches(query: Query | None, item: Mapping[str, Any] | None) -> bool:
    """Whether a registration item is what the search asked for (no search: every item)."""
    if query is None:
        return True
    if item is None:
        return False
    kind, value = query
    request = item.get("request", {})
    if kind == "registration":
        return str(item.get("registration_id")) == value
    if kind == "id-tail":
        return str(item.get("masked_id", "")).upper().endswith(value)
    if kind == "phone":
        return any(str(g.get("phone", "")) == value for g in request.get("guardians", []))
    return value in str(request.get("child", {}).get("name", ""))


def choice(
    params: Mapping[str, str | None], name: str, allowed: Iterable[str], what_zh: str, what_en: str
) -> str | None:
    """A filter parameter: empty → None; one of `allowed`; else 422 naming it."""
    value = params.get(name) or None
    if value is not None and value not in set(allowed):
        raise BadSearch(name, f"参数 {name} 不是{what_zh}", f"{name}: not {what_en}")
    return value


# Sorting -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool


def sort_request(sort: str | None, order: str | None, columns: Sequence[str]) -> Sort | None:
    """`sort` (one of `columns`) and `order` (`asc`, the default, or `desc`), checked (422 naming the
    parameter); None when no sort is asked for (the list's own order, by registration id)."""
    if order and order not in ("asc", "desc"):
        raise BadSearch("order", "参数 order 只能是 asc（升序）或 desc（降序）", "order: asc or desc")
    if not sort:
        if order:
            raise BadSearch("sort", "参数 order 须与 sort 一同使用", "sort: order given without sort")
        return None
    if sort not in columns:
        raise BadSearch(
            "sort",
            f"参数 sort 只能是以下列之一：{'、'.join(columns)}",
            f"sort: one of {', '.join(columns)}",
        )
    return Sort(sort, order == "desc")


def sort_cursor(cursor: str | None) -> tuple[str, str] | None:
    """A sorted list's cursor: the last row shown, by its sort value and registration id."""
    if not cursor:
        return None
    try:
        if not cursor.startswith(_SORT_CURSOR):
            raise ValueError(cursor)
        raw = cursor[len(_SORT_CURSOR) :]
        value, rid = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(value, str) or not isinstance(rid, str):
            raise ValueError(cursor)
    except (ValueError, binascii.Error, TypeError):
        raise BadSearch("cursor", "参数 cursor 无效，请从第一页重新查询", "cursor: not a cursor") from None
    return value, rid


def sorted_page(
    rows: Iterable[R], key: Callable[[R], tuple[str, str]], sort: Sort, cursor: str | None, limit: int
) -> tuple[list[R], str | None]:
    """One page of `rows` ordered by `key` (the sort value as text, then the registration id), after
    the cursor's row, and the next cursor (None at the end)."""
    after = sort_cursor(cursor)
    ordered = sorted(rows, key=key, reverse=sort.descending)
    if after is not None:
        ordered = [r for r in ordered if (key(r) < after if sort.descending else key(r) > after)]
    page = ordered[:limit]
    if len(ordered) <= limit:
        return page, None
    last = json.dumps(list(key(page[-1])), ensure_ascii=False).encode()
    return page, _SORT_CURSOR + base64.urlsafe_b64encode(last).decode().rstrip("=")


def sort_text(value: Any) -> str:
    """A sort value as text that orders as the value does (numbers padded; nothing sorts first)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return f"{value:012d}"
    return str(value)


# Paging through a list with filters ----------------------------------------------------------------

Chunk = Callable[[str | None], tuple[list[T], str | None]]


def filtered_page(
    chunk: Chunk[T],
    position: Callable[[T], str],
    take: Callable[[list[T]], list[R | None]],
    after: str | None,
    limit: int,
    budget: int = SCAN_MAX,
) -> tuple[list[R], str | None]:
    """Up to `limit` rows that `take` keeps (it maps a chunk of the list to rows or None), looking at
    the list in its own order after `after`, at most `budget` rows; and the next cursor: the position
    of the last row looked at (None when the list is done).

    `chunk(after)` gives the next rows of the list and the cursor after them (None: the end)."""
    out: list[R] = []
    scanned = 0
    while True:
        rows, more = chunk(after)
        kept = take(rows)
        for n, (row, found) in enumerate(zip(rows, kept, strict=True)):
            scanned += 1
            if found is not None:
                out.append(found)
            last = n == len(rows) - 1 and more is None
            if len(out) == limit or (scanned >= budget and not last):
                return out, None if last else position(row)
        if more is None or not rows:
            return out, None
        after = more


def collect(
    chunk: Chunk[T],
    take: Callable[[list[T]], list[R | None]],
    cap: int | None = None,
    budget: int | None = None,
    field: str = "sort",
    doing_zh: str = "排序",
) -> list[R]:
    """Every row of the list that `take` keeps, to sort (or export): at most `cap` (`SORT_MAX`) of
    them among at most `budget` (`SORT_SCAN_MAX`) rows looked at, else 422 naming `field` (the clerk narrows the list with the search
    or filters, or takes one grade, then sorts)."""
    cap = SORT_MAX if cap is None else cap
    budget = SORT_SCAN_MAX if budget is None else budget
    out: list[R] = []
    scanned, after = 0, None
    while True:
        rows, more = chunk(after)
        scanned += len(rows)
        out += [r for r in take(rows) if r is not None]
        if len(out) > cap or (scanned >= budget and more is not None):
            raise BadSearch(
                field,
                f"符合条件的超过{cap}件，无法{doing_zh}：请先用查找或筛选条件缩小范围",
                f"{field}: more than {cap} rows to {'sort' if field == 'sort' else 'export'}; narrow the list first",
            )
        if more is None or not rows:
            return out
        after = more
