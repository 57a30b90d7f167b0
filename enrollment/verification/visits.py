"""The community office's home-visit worklist (R-VER-2) and the overdue visits staff watch.

A home visit is requested when verification asks the community agency (`verify_batch`); until now
the request went nowhere the office could read. Each request is now also stored as an `OpenVisit`,
listed per district (the community offices of a district share its list: the system knows no finer
area than the district an address lies in), and removed once the visit is answered or closed at the
home-visit deadline. The office pages through its list (`visits_page`); staff see, per district,
how many open visits are past the deadline, and district staff which ones (`overdue`: the console's
入户核查逾期 section).

What a listed visit carries (R-DATA-2, the least the office needs): the registration id (to answer
it), the full address (it cannot visit a masked one), the child's masked name (to ask for the right
family at the door), when it was requested and the deadline. Never the ID number or a phone: the
office visits in person and the family shows its own papers there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from enrollment.core.config import SeasonConfig
from enrollment.core.gates import deadline_in
from enrollment.core.ports import SeasonState
from enrollment.core.staff import Forbidden, StaffMember, can_read
from enrollment.verification.review import QUEUE_PAGE_DEFAULT, QUEUE_PAGE_MAX, BadPage

VISITS_PAGE_DEFAULT = QUEUE_PAGE_DEFAULT  # paged as the review queue is (`queue_page_request`)
VISITS_PAGE_MAX = QUEUE_PAGE_MAX


class OpenVisit(BaseModel):
    """A home visit requested and not yet answered or closed, as the office's list shows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    registration_id: str
    season: str
    district: str
    address: str = Field(description="要核查的现居住地址")
    child: str = Field(description="儿童姓名（部分隐藏）")
    requested_at: datetime


class VisitStore(Protocol):
    """Where the open visits are kept: one listing per (season, district), by registration id."""

    def put_visit(self, visit: OpenVisit) -> None:
        """Store (or store again: a retried batch) the open visit."""
        ...

    def drop_visit(self, registration_id: str) -> None:
        """Remove the registration's open visit, if any (answered or closed); safe to repeat."""
        ...

    def visits_page(
        self, season: str, district: str, after: str | None, limit: int
    ) -> tuple[list[OpenVisit], bool]:
        """The district's first `limit` open visits after id `after`, by id, and whether more follow."""
        ...

    def open_visits(self, season: str, district: str) -> Iterator[OpenVisit]:
        """Every open visit of the district, a page at a time as consumed."""
        ...


def mask_name(name: str) -> str:
    """The child's name as staff lists show it (people/console.py's rule, which verification may not
    import: it comes before people in the season): the first character, the rest hidden."""
    return name[:1] + "*" * (len(name) - 1) if name else ""


def address_text(address: dict[str, Any]) -> str:
    """The home address as the form took it: road and house number, or compound, building and unit;
    then the detail (room, or building and unit by a road)."""
    if address.get("compound"):
        text = str(address["compound"])
        if address.get("building"):
            text += f"{address['building']}栋"
        if address.get("unit"):
            text += f"{address['unit']}单元"
    else:
        text = f"{address.get('road', '')}{address.get('number', '')}号"
    return text + str(address.get("detail") or "")


def open_visit(season: str, item: dict[str, Any], requested_at: datetime) -> OpenVisit:
    """The open visit of a stored registration whose community check was just requested."""
    req = item["request"]
    return OpenVisit(
        registration_id=str(item["registration_id"]),
        season=season,
        district=str(item["district"]),
        address=address_text(req["home_address"]),
        child=mask_name(str(req["child"].get("name", ""))),
        requested_at=requested_at,
    )


def home_visit_deadline(config: SeasonConfig, state: SeasonState) -> datetime:
    """The home-visit phase's deadline (the config's, as stored for the season)."""
    return deadline_in(config, state, "home-visits")


def office_district(office: StaffMember, district: str | None) -> str:
    """Whose list a community office reads: its own district's (an office of a district naming another
    is refused); an office serving the whole city names the district it asks about."""
    if office.role != "community":
        raise Forbidden("只有街道社区可以查看入户核查任务", "only the community office lists home visits")
    if office.district is not None:
        if district not in (None, office.district):
            raise Forbidden("只能查看本辖区的入户核查任务", "a community office lists its own district only")
        return office.district
    if not district:
        raise BadPage(
            "district", "参数 district 不能为空：请指定所在区", "query parameter district: required"
        )
    return district


def visits_page(
    vstore: VisitStore,
    config: SeasonConfig,
    state: SeasonState,
    district: str,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of the district's open visits, each with the home-visit deadline; `next` is the last
    id of the page when more follow (a visit answered meanwhile leaves without moving the others)."""
    if district not in config.district_index:
        raise BadPage(
            "district", "参数 district 不是本市的区代码", "query parameter district: no such district"
        )
    deadline = home_visit_deadline(config, state)
    found, more = vstore.visits_page(config.season, district, cursor, limit)
    return {
        "district": district,
        "visits": [
            {
                "registration_id": v.registration_id,
                "child": v.child,
                "address": v.address,
                "requested_at": v.requested_at.isoformat(),
                "deadline": deadline.isoformat(),
            }
            for v in found
        ],
        "next": found[-1].registration_id if more and found else None,
    }


def _district_name(config: SeasonConfig, district: str) -> str:
    found = config.district_index.get(district)
    return found.name if found is not None else district


OVERDUE_LISTED_MAX = 500  # a district's overdue visits listed by name at most; the count is always whole
DAY = timedelta(days=1)


def days_overdue(deadline: datetime, now: datetime) -> int:
    """Days a visit is past the deadline, the day it is in counted (an hour late is a day late, as the
    office's deadline is a day's end); 0 before the deadline."""
    return (now - deadline) // DAY + 1 if now >= deadline else 0


def _late_row(visit: OpenVisit, deadline: datetime, late_by: int) -> dict[str, Any]:
    return {
        "registration_id": visit.registration_id,
        "child": visit.child,
        "address": visit.address,
        "requested_at": visit.requested_at.isoformat(),
        "deadline": deadline.isoformat(),
        "days_overdue": late_by,
    }


def overdue(
    vstore: VisitStore,
    config: SeasonConfig,
    state: SeasonState,
    staff: StaffMember,
    districts: Iterable[str],
    now: datetime,
) -> dict[str, Any]:
    """Per district the staff member may read (R-DATA-2), the open visits past the home-visit deadline
    (none before it): how many, and the oldest request; most overdue first (more visits, then the
    older request). District staff, who follow up with their own community offices, also get the
    visits themselves (at most `OVERDUE_LISTED_MAX`, longest waiting first) as the office's list shows
    them; the city and auditors watch counts. Labels in Chinese for the console."""
    deadline = home_visit_deadline(config, state)
    late_by = days_overdue(deadline, now)
    listed = staff.role == "district"
    rows: list[dict[str, Any]] = []
    for district in (d for d in districts if can_read(staff, d)):
        late = list(vstore.open_visits(config.season, district)) if late_by else []
        late.sort(key=lambda v: (v.requested_at, v.registration_id))
        row: dict[str, Any] = {
            "district": district,
            "district_name": _district_name(config, district),
            "label": f"{_district_name(config, district)}：逾期未完成入户核查 {len(late)} 件",
            "overdue": len(late),
            "oldest_requested_at": late[0].requested_at.isoformat() if late else None,
        }
        if listed:
            row["visits"] = [_late_row(v, deadline, late_by) for v in late[:OVERDUE_LISTED_MAX]]
        rows.append(row)
    rows.sort(key=lambda r: (-r["overdue"], r["oldest_requested_at"] or "", r["district"]))
    return {
        "season": config.season,
        "deadline": deadline.isoformat(),
        "days_overdue": late_by,
        "districts": rows,
    }
