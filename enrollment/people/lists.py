"""A district's registrations and placements as the console lists them (issue 19): searched, filtered
and sorted on the server, with the search, the filtered paging and the sorting of the review queue
(`enrollment.verification.search`), so a clerk finds one child among thousands without paging.

- registrations: `status` (the verification state: eligible, not-eligible, review, or pending: not
  checked yet), `reason` (a verification reason), `category`, `school` (the school asked for), `q`;
  sorted by `REGISTRATION_SORTS`;
- placements: `status` (the route: catchment, coordination, …), `reason` (why coordinated), `category`,
  `school` (the school placed at), `q`; sorted by `PLACEMENT_SORTS`.
`grade` stays the pages' own parameter (the list's key is grade first). Unsorted, the pages keep the
list's order (grade, then registration id) and its cursors; sorted, the cursor is the sorted one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import ChildKeyer
from enrollment.core.staff import StaffMember
from enrollment.people import console
from enrollment.placement.routes import REASON_ZH as PLACEMENT_REASON_ZH
from enrollment.placement.routes import ROUTE_ZH
from enrollment.registration.form import CATEGORY_ZH
from enrollment.verification import search
from enrollment.verification.search import BadSearch, Query, Sort
from enrollment.verification.verdicts import REASON_ZH, Verdict

REGISTRATION_SORTS = ("registration_id", "created_at", "grade", "category", "school", "status")
PLACEMENT_SORTS = ("registration_id", "grade", "category", "school", "route")
VERIFICATION_STATES = ("eligible", "not-eligible", "review", "pending")
CHUNK = 500  # registrations read at once when a list is searched or sorted

Verdicts = Callable[[Iterable[str]], Mapping[str, Verdict]]
Places = Callable[[Iterable[str]], Mapping[str, Mapping[str, Any]]]
Row = dict[str, Any]


@dataclass(frozen=True)
class ListFilter:
    status: str | None = None
    reason: str | None = None
    category: str | None = None
    school: str | None = None
    query: Query | None = None

    @property
    def empty(self) -> bool:
        return self == ListFilter()

    def takes_child(self, item: Mapping[str, Any]) -> bool:
        return (self.category is None or item.get("category") == self.category) and search.child_matches(
            self.query, item
        )


def registration_filter(
    params: Mapping[str, str | None], *, season: str, schools: Iterable[str], keyer: ChildKeyer
) -> ListFilter:
    """The registrations list's `status`, `reason`, `category`, `school` and `q`, checked (422 naming
    the parameter)."""
    return ListFilter(
        status=search.choice(params, "status", VERIFICATION_STATES, "已知的审核状态", "a verification state"),
        reason=search.choice(params, "reason", REASON_ZH, "已知的审核原因", "a known verification reason"),
        category=search.choice(params, "category", CATEGORY_ZH, "已知的报名类别", "a known category"),
        school=search.choice(params, "school", schools, "本年度的学校", "a school of the season"),
        query=search.search_query(params.get("q"), season, keyer),
    )


def placement_filter(
    params: Mapping[str, str | None], *, season: str, schools: Iterable[str], keyer: ChildKeyer
) -> ListFilter:
    """The placements list's `status` (the route), `reason`, `category`, `school` and `q`, checked."""
    return ListFilter(
        status=search.choice(params, "status", ROUTE_ZH, "已知的录取途径", "a placement route"),
        reason=search.choice(
            params, "reason", PLACEMENT_REASON_ZH, "已知的统筹安排原因", "a known coordination reason"
        ),
        category=search.choice(params, "category", CATEGORY_ZH, "已知的报名类别", "a known category"),
        school=search.choice(params, "school", schools, "本年度的学校", "a school of the season"),
        query=search.search_query(params.get("q"), season, keyer),
    )


def registration_rows(
    config: SeasonConfig, flt: ListFilter, verdicts_of: Verdicts
) -> Callable[[list[dict[str, Any]]], list[Row | None]]:
    """Registration items → their list rows, None for those the filter leaves out."""

    def take(items: list[dict[str, Any]]) -> list[Row | None]:
        verdicts = verdicts_of(str(i["registration_id"]) for i in items)
        out: list[Row | None] = []
        for item in items:
            verdict = verdicts.get(str(item["registration_id"]))
            state = verdict.status if verdict else "pending"
            kept = (
                flt.takes_child(item)
                and (flt.school is None or item.get("target_school") == flt.school)
                and (flt.status is None or state == flt.status)
                and (flt.reason is None or (verdict is not None and flt.reason in verdict.reasons))
            )
            out.append(console.registration_row(config, item, verdict) if kept else None)
        return out

    return take


def placement_rows(
    config: SeasonConfig, flt: ListFilter, placed_of: Places
) -> Callable[[list[dict[str, Any]]], list[Row | None]]:
    """Registration items → their placement rows, None for those the filter leaves out."""

    def take(items: list[dict[str, Any]]) -> list[Row | None]:
        placed = placed_of(str(i["registration_id"]) for i in items)
        out: list[Row | None] = []
        for item in items:
            place = placed.get(str(item["registration_id"]))
            kept = (
                flt.takes_child(item)
                and (flt.school is None or (place is not None and place.get("school_id") == flt.school))
                and (flt.status is None or (place is not None and place.get("route") == flt.status))
                and (flt.reason is None or (place is not None and place.get("reason") == flt.reason))
            )
            out.append(console.placement_row(config, item, place) if kept else None)
        return out

    return take


def sort_key(sort: Sort) -> Callable[[Row], tuple[str, str]]:
    """A list row's sort value (as text) and registration id, for `sort.column`."""

    def key(row: Row) -> tuple[str, str]:
        column = sort.column
        if column == "school":
            school = row.get("target_school", row.get("school"))
            value: Any = school["name"] if school else None
        elif column == "status":
            value = row.get("verification") or "pending"
        else:
            value = row.get(column)
        return search.sort_text(value), str(row["registration_id"])

    return key


def district_rows(
    query: console.DistrictQuery,
    page: console.PageRequest,
    staff: StaffMember,
    district: str,
    take: Callable[[list[dict[str, Any]]], list[Row | None]],
    sort: Sort | None,
    cursor: str | None,
) -> tuple[list[Row], str | None]:
    """One page of a district's list as searched, filtered and sorted: unsorted, in the list's order
    after `page.after` (the cursor `grade:registration id` of the last row looked at); sorted, in
    `sort`'s order after the sorted `cursor`. An item of another district is refused, not hidden."""

    chunk = _chunks(query, page.grades, staff, district)
    if sort is None:
        after = f"{page.after[0]}:{page.after[1]}" if page.after else None
        return search.filtered_page(chunk, _position, take, after, page.limit)
    return search.sorted_page(search.collect(chunk, take), sort_key(sort), sort, cursor, page.limit)


def district_view(
    query: console.DistrictQuery,
    grades: tuple[int, ...],
    staff: StaffMember,
    district: str,
    take: Callable[[list[dict[str, Any]]], list[Row | None]],
    sort: Sort | None,
) -> list[Row]:
    """Every row of a district's list as searched, filtered and sorted (every page of the current
    view, for its export): in the list's own order, or `sort`'s. Bounded as sorting is: more than
    `SORT_MAX` matching rows, 422 naming `sort` (sorted) or `q` (narrow the search first)."""
    rows = search.collect(
        _chunks(query, grades, staff, district),
        take,
        field="sort" if sort else "q",
        doing_zh="排序" if sort else "导出",
    )
    return sorted(rows, key=sort_key(sort), reverse=sort.descending) if sort else rows


def _chunks(
    query: console.DistrictQuery, grades: tuple[int, ...], staff: StaffMember, district: str
) -> search.Chunk[dict[str, Any]]:
    """The district's list in its own order, `CHUNK` items at a time, each checked to be the district's."""

    def chunk(after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        at = console.page_request(None, after, None).after if after else None
        items, more = console.district_page(query, console.PageRequest(grades, at, CHUNK))
        return console.own_items(items, staff, district), more

    return chunk


def _position(item: Mapping[str, Any]) -> str:
    return f"{item['grade']}:{item['registration_id']}"


__all__ = [
    "BadSearch",
    "ListFilter",
    "district_rows",
    "district_view",
    "placement_filter",
    "registration_filter",
]
