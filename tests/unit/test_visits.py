"""The community office's home-visit worklist and the overdue visits staff see (issue 17, R-VER-2,
R-DATA-2): a requested visit is listed for its district's office, answering or closing it takes it
off, the list shows what the office needs to visit and nothing more, and each office and each
district's staff see only their own district."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.ports import SeasonState
from enrollment.core.retention import ERASED, erased_item
from enrollment.core.staff import Forbidden, StaffDirectory, StaffDirectoryError, StaffMember, can_read
from enrollment.verification import visits
from enrollment.verification.review import BadPage
from enrollment.verification.season import close_visits, record_visit, verify_batch
from tests.unit.test_verification_season import NOW, CountingVerificationStore, Found, Registrations, _items

STATE = SeasonState(frozenset(), {})
CY_OFFICE = StaffMember(principal="arn:aws:iam::123456789012:role/cy", role="community", district="CY")
CH_OFFICE = StaffMember(principal="arn:aws:iam::123456789012:role/ch", role="community", district="CH")
CITY_OFFICE = StaffMember(principal="arn:aws:iam::123456789012:role/all", role="community")
CY_STAFF = StaffMember(principal="cy-1", role="district", district="CY")
CITY = StaffMember(principal="city-1", role="city")


@pytest.fixture
def requested(season: SeasonConfig) -> tuple[Registrations, CountingVerificationStore]:
    """Ten registrations asked about: six in CY, four moved to CH; every home visit requested."""
    items = _items(season, 10)
    for i in items[6:]:
        i["district"] = "CH"
    regs, vstore = Registrations(items), CountingVerificationStore()
    verify_batch(
        season,
        list(regs.items),
        "ask",
        store=regs,
        vstore=vstore,
        agencies=Found(regs.items).agencies(),
        now=NOW,
    )
    return regs, vstore


def test_each_requested_visit_is_listed_for_its_own_district_only(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    _, vstore = requested
    cy = visits.visits_page(vstore, season, STATE, "CY", None, 100)
    ch = visits.visits_page(vstore, season, STATE, "CH", None, 100)
    assert [v["registration_id"] for v in cy["visits"]] == [f"R-{k:04d}" for k in range(6)]
    assert [v["registration_id"] for v in ch["visits"]] == [f"R-{k:04d}" for k in range(6, 10)]
    assert cy["next"] is None


def test_a_listed_visit_carries_the_address_deadline_and_masked_name_but_no_id_or_phone(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    regs, vstore = requested
    row = visits.visits_page(vstore, season, STATE, "CY", None, 1)["visits"][0]
    item = regs.items[row["registration_id"]]
    home, child = item["request"]["home_address"], item["request"]["child"]
    assert row["address"] == f"{home['road']}{home['number']}号{home.get('detail', '')}"
    assert row["child"] == child["name"][0] + "*" * (len(child["name"]) - 1)
    assert row["requested_at"] == NOW.isoformat()
    assert row["deadline"] == season.day_end(season.calendar.home_visits.end).isoformat()
    shown = json.dumps(row, ensure_ascii=False)
    assert child["id_number"] not in shown
    guardians = item["request"]["guardians"]
    assert guardians
    for g in guardians:
        assert g["phone"] not in shown and g["name"] not in shown
    assert set(row) == {"registration_id", "child", "address", "requested_at", "deadline"}


def test_pages_follow_the_id_order_and_an_answered_visit_leaves_without_moving_the_others(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    regs, vstore = requested
    first = visits.visits_page(vstore, season, STATE, "CY", None, 4)
    assert [v["registration_id"] for v in first["visits"]] == ["R-0000", "R-0001", "R-0002", "R-0003"]
    assert first["next"] == "R-0003"
    record_visit(season, "R-0001", True, "网格员", store=regs, vstore=vstore, now=NOW + timedelta(1))
    rest = visits.visits_page(vstore, season, STATE, "CY", first["next"], 4)
    assert [v["registration_id"] for v in rest["visits"]] == ["R-0004", "R-0005"] and rest["next"] is None
    again = visits.visits_page(vstore, season, STATE, "CY", None, 100)
    assert "R-0001" not in [v["registration_id"] for v in again["visits"]]


def test_an_office_answering_another_districts_visit_is_refused_and_nothing_changes(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    regs, vstore = requested
    before = dict(vstore.check_items), dict(vstore.visit_items)
    with pytest.raises(Forbidden):
        record_visit(season, "R-0007", True, "网格员", store=regs, vstore=vstore, now=NOW, district="CY")
    assert (dict(vstore.check_items), dict(vstore.visit_items)) == before
    record_visit(season, "R-0007", False, "网格员", store=regs, vstore=vstore, now=NOW, district="CH")
    assert "R-0007" not in vstore.visit_items


def test_the_deadline_closes_every_open_visit_and_empties_the_lists(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    regs, vstore = requested
    close_visits(season, season.season, store=regs, vstore=vstore, now=NOW + timedelta(10))
    assert vstore.visit_items == {}


def test_an_office_reads_its_own_district_and_a_city_wide_office_names_one() -> None:
    assert visits.office_district(CY_OFFICE, None) == "CY"
    assert visits.office_district(CY_OFFICE, "CY") == "CY"
    with pytest.raises(Forbidden):
        visits.office_district(CY_OFFICE, "CH")
    assert visits.office_district(CITY_OFFICE, "CH") == "CH"
    with pytest.raises(BadPage) as e:
        visits.office_district(CITY_OFFICE, None)
    assert e.value.field == "district"
    with pytest.raises(Forbidden):
        visits.office_district(CY_STAFF, "CY")  # bureau staff do not take the office's worklist


def test_an_unknown_district_is_refused_naming_the_parameter(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    with pytest.raises(BadPage) as e:
        visits.visits_page(requested[1], season, STATE, "XX", None, 10)
    assert e.value.field == "district"


def test_overdue_visits_are_counted_per_district_after_the_deadline_for_whom_may_read(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    _, vstore = requested
    deadline = season.day_end(season.calendar.home_visits.end)
    before = visits.overdue(
        vstore, season, STATE, CITY, season.district_index, deadline - timedelta(seconds=1)
    )
    assert all(r["overdue"] == 0 for r in before["districts"])
    city = visits.overdue(vstore, season, STATE, CITY, season.district_index, deadline)
    by = {r["district"]: r for r in city["districts"]}
    assert set(by) == set(season.district_index)
    assert by["CY"]["overdue"] == 6 and by["CH"]["overdue"] == 4
    assert by["CY"]["oldest_requested_at"] == NOW.isoformat()
    assert by["CY"]["label"] == f"{season.district_index['CY'].name}：逾期未完成入户核查 6 件"
    own = visits.overdue(vstore, season, STATE, CY_STAFF, season.district_index, deadline)
    assert [r["district"] for r in own["districts"]] == ["CY"]


def test_a_community_office_may_name_its_district_and_other_roles_still_may_not() -> None:
    directory = StaffDirectory.from_mapping(
        {"staff": [{"principal": "arn:aws:iam::123456789012:role/cy", "role": "community", "district": "CY"}]}
    )
    assert directory.lookup("arn:aws:iam::123456789012:role/cy").district == "CY"
    assert not can_read(CY_OFFICE, "CY")  # its district scopes its visits, not the staff data
    with pytest.raises(StaffDirectoryError):
        StaffDirectory.from_mapping({"staff": [{"principal": "c", "role": "city", "district": "CY"}]})


def test_a_compound_address_reads_as_compound_building_unit_and_room() -> None:
    assert (
        visits.address_text(
            {"district": "CY", "compound": "江畔花园", "building": 3, "unit": 2, "detail": "301室"}
        )
        == "江畔花园3栋2单元301室"
    )
    assert (
        visits.address_text({"district": "CY", "road": "解放路", "number": 12, "detail": ""}) == "解放路12号"
    )


def test_an_open_visit_still_stored_at_the_retention_date_loses_its_address_and_name() -> None:
    fields = {
        "registration_id": "R-1",
        "season": "2023",
        "district": "CY",
        "address": "解放路12号",
        "child": "王**",
        "requested_at": "2023-06-12T09:00:00+00:00",
    }
    erased = erased_item("visit", fields, "2024-04-01")
    assert erased is not None
    assert erased["address"] == ERASED and erased["child"] == ERASED and erased["district"] == "CY"


def test_district_staff_get_their_overdue_visits_listed_longest_waiting_first_and_the_city_counts(
    season: SeasonConfig, requested: tuple[Registrations, CountingVerificationStore]
) -> None:
    # Given CY's visits asked at different times (the batch asked again: a later request)
    _, vstore = requested
    stored = list(vstore.open_visits(season.season, "CY"))
    later = stored[0].model_copy(update={"requested_at": NOW + timedelta(hours=5)})
    vstore.put_visit(later)
    deadline = season.day_end(season.calendar.home_visits.end)
    # When CY's staff look 30 hours after the deadline
    own = visits.overdue(
        vstore, season, STATE, CY_STAFF, season.district_index, deadline + timedelta(hours=30)
    )
    # Then each visit is listed as the office sees it, with the days overdue, the latest request last
    assert own["days_overdue"] == 2
    (cy,) = own["districts"]
    listed = cy["visits"]
    assert [v["registration_id"] for v in listed] == [v.registration_id for v in stored[1:]] + [
        later.registration_id
    ]
    assert listed[0] == {
        "registration_id": stored[1].registration_id,
        "child": stored[1].child,
        "address": stored[1].address,
        "requested_at": NOW.isoformat(),
        "deadline": deadline.isoformat(),
        "days_overdue": 2,
    }
    assert cy["district_name"] == season.district_index["CY"].name
    # the city sees counts only, the district with more overdue visits first, then the others
    city = visits.overdue(vstore, season, STATE, CITY, season.district_index, deadline)
    assert [r["district"] for r in city["districts"][:2]] == ["CY", "CH"]
    assert all(r["overdue"] == 0 for r in city["districts"][2:])
    assert all("visits" not in r for r in city["districts"])
    # before the deadline nothing is overdue, not even by a day
    early = visits.overdue(
        vstore, season, STATE, CY_STAFF, season.district_index, deadline - timedelta(seconds=1)
    )
    assert early["days_overdue"] == 0 and early["districts"][0]["visits"] == []


def test_a_visit_an_hour_past_the_deadline_is_a_day_overdue(season: SeasonConfig) -> None:
    deadline = season.day_end(season.calendar.home_visits.end)
    assert visits.days_overdue(deadline, deadline) == 1
    assert visits.days_overdue(deadline, deadline + timedelta(hours=23, minutes=59)) == 1
    assert visits.days_overdue(deadline, deadline + timedelta(days=1)) == 2
    assert visits.days_overdue(deadline, deadline - timedelta(minutes=1)) == 0
