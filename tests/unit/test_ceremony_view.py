"""The big screen's view of a large pool comes in windows of ranks (functions/lottery/api.py `state`).

Eight full lists of tens of thousands of ids and every name would not fit one API answer (6 MB), so
`ceremony.view` shows ranks `offset + 1` to `offset + limit` of each list, with only those children's
names; following `next` shows every rank of every list exactly once, and the lists put together are
the ones the archived record is drawn from.
"""

from __future__ import annotations

from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.staff import StaffError, StaffMember
from enrollment.lottery import ceremony
from enrollment.lottery.pools import Pools, record
from tests.memory_lottery import MemoryLotteryStore

YEAR = "2023"
OWN, OTHER, PLAN = 2_345, 40, 300
INPUTS = {
    "import": str(OWN),
    "shuffle-1": "0417",
    "shuffle-2": "9023",
    "shuffle-3": " 55 61",
    "seats": str(PLAN),
    "draw-1": "3390",
    "draw-2": "7704",
    "draw-3": "1286",
    "slip": "2",
}
STAFF = "district-staff-01"


@pytest.fixture
def held(season: SeasonConfig) -> tuple[SeasonConfig, MemoryLotteryStore, Pools, dict[str, str]]:
    school = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    own = [f"R-{n:04d}-AAAA-BBBB-CCCC" for n in range(OWN)]
    other = [f"R-{n:04d}-ZZZZ-BBBB-CCCC" for n in range(OTHER)]
    pools = Pools.split(school.id, 1, school.district, PLAN, own, other)
    names = {rid: f"张{n}" for n, rid in enumerate(own + other)}
    store = MemoryLotteryStore()
    store.put_school(ceremony.school_item(YEAR, pools, names))
    for index, step in enumerate(ceremony.STEPS):
        recorded = {
            "step": step.name,
            "index": index,
            "value": INPUTS[step.name],
            "representative": step.representative,
            "entered_by": STAFF,
            "at": "2023-06-15T09:00:00+08:00",
        }
        assert store.put_step(YEAR, school.id, 1, recorded)
    return season, store, pools, names


def _view(held: Any, window: ceremony.Window) -> dict[str, Any]:
    season, store, pools, _ = held
    staff = StaffMember(principal=STAFF, role="district", district=pools.district)
    return ceremony.view(season, YEAR, pools.school_id, 1, staff=staff, store=store, window=window)


def test_the_windows_show_every_rank_of_every_list_once(held: Any) -> None:
    _, _, pools, names = held
    assert pools.needs_draw and len(pools.pool) == OWN > ceremony.VIEW_LIMIT
    first = _view(held, ceremony.Window())
    assert first["pool_size"] == OWN and first["offset"] == 0 and first["next"] == str(ceremony.VIEW_LIMIT)
    lists: dict[str, list[str]] = {}
    seen_names: dict[str, str] = {}
    cursor: str | None = None
    windows = 0
    while True:
        view = _view(held, ceremony.window_request(cursor, "700"))
        windows += 1
        assert view["offset"] == (int(cursor) if cursor else 0)
        shown = [view["order0"], *view["orders"], *view["draws"], view["ranking"]]
        assert all(len(ids) == len(view["order0"]) <= 700 for ids in shown)
        for key, ids in [
            ("order0", view["order0"]),
            ("ranking", view["ranking"]),
            ("winners", view["winners"]),
        ]:
            lists[key] = lists.get(key, []) + ids
        for k, ids in enumerate(view["orders"]):
            lists[f"order{k + 1}"] = lists.get(f"order{k + 1}", []) + ids
        for k, ids in enumerate(view["draws"]):
            lists[f"draw{k + 1}"] = lists.get(f"draw{k + 1}", []) + ids
        # only the names of the children on screen, and each of theirs
        assert set(view["names"]) == {rid for ids in shown for rid in ids}
        seen_names |= view["names"]
        cursor = view["next"]
        if cursor is None:
            break
    assert windows == 4  # 700 + 700 + 700 + 245
    for key in ("order0", "order1", "order2", "order3", "draw1", "draw2", "draw3", "ranking"):
        assert sorted(lists[key]) == sorted(pools.pool), key  # every rank once
    drawn = record(YEAR, pools, ceremony._inputs(INPUTS))["draw"]
    assert lists["ranking"] == drawn["ranking"] == lists["draw2"]
    assert lists["winners"] == drawn["ranking"][: pools.seats]
    assert seen_names == {rid: names[rid] for rid in pools.pool}


def test_the_last_window_ends_the_lists(held: Any) -> None:
    last = _view(held, ceremony.window_request("2000", str(ceremony.VIEW_MAX)))
    assert last["next"] is None and len(last["ranking"]) == OWN - 2000 and last["winners"] == []
    assert _view(held, ceremony.Window(0, OWN))["next"] is None
    past = _view(held, ceremony.window_request(str(OWN), None))
    assert past["order0"] == [] and past["ranking"] == [] and past["names"] == {} and past["next"] is None


@pytest.mark.parametrize(
    ("cursor", "limit", "named"),
    [
        (None, "0", "limit"),
        (None, "2001", "limit"),
        (None, "x", "limit"),
        ("-1", None, "cursor"),
        ("1e3", None, "cursor"),
    ],
)
def test_a_bad_window_is_named(cursor: str | None, limit: str | None, named: str) -> None:
    with pytest.raises(ceremony.BadWindow) as err:
        ceremony.window_request(cursor, limit)
    assert err.value.status == 422 and err.value.field == named and named in err.value.message_zh


@pytest.mark.parametrize(
    ("name", "masked_id", "label", "shown"),
    [
        ("王小明", "**************5071", "王*明 5071", ("王*明", "5071")),
        ("王晓敏", "**************123X", "王*敏 123X", ("王*敏", "123X")),
        ("李四", "220202********0042", "李* 0042", ("李*", "0042")),
        ("欧阳 子轩", "**************9876", "欧**轩 9876", ("欧**轩", "9876")),  # no space survives
        ("张三", "", "张*", ("张*", "")),
    ],
)
def test_the_screen_labels_a_child_as_published_lists_do(
    name: str, masked_id: str, label: str, shown: tuple[str, str]
) -> None:
    # the masked name and the last four of the ID number, never more of either
    assert ceremony.screen_label(name, masked_id) == label
    assert ceremony.label_parts(label) == shown


def test_the_view_shows_masked_names_id_tails_and_the_district_by_name(season: SeasonConfig) -> None:
    # Given a pool of three children of one surname, frozen with their screen labels
    school = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    children = {
        "R-0001-AAAA-BBBB-CCCC": ("王小明", "220202201601011234"),
        "R-0002-AAAA-BBBB-CCCC": ("王晓敏", "**************5678"),
        "R-0003-AAAA-BBBB-CCCC": ("王明", "22020220160101901X"),
    }
    names = {rid: ceremony.screen_label(n, masked) for rid, (n, masked) in children.items()}
    pools = Pools.split(school.id, 1, school.district, 1, list(children), [])
    store = MemoryLotteryStore()
    store.put_school(ceremony.school_item(YEAR, pools, names))
    store.put_step(
        YEAR,
        school.id,
        1,
        {
            "step": "import",
            "index": 0,
            "value": "",
            "representative": 2,
            "entered_by": STAFF,
            "at": "2023-06-15T09:00:00+08:00",
        },
    )
    staff = StaffMember(principal=STAFF, role="district", district=school.district)
    # When the big screen reads the ceremony
    view = ceremony.view(season, YEAR, school.id, 1, staff=staff, store=store)
    # Then the audience can tell the three apart, and sees no more than a published list shows
    assert view["names"] == {
        "R-0001-AAAA-BBBB-CCCC": "王*明",
        "R-0002-AAAA-BBBB-CCCC": "王*敏",
        "R-0003-AAAA-BBBB-CCCC": "王*",
    }
    assert view["id_tails"] == {
        "R-0001-AAAA-BBBB-CCCC": "1234",
        "R-0002-AAAA-BBBB-CCCC": "5678",
        "R-0003-AAAA-BBBB-CCCC": "901X",
    }
    assert "220202" not in repr(view) and "晓" not in repr(view["names"])
    # and the district by its name, not its code
    assert view["district"] == school.district
    assert view["district_name"] == season.district_index[school.district].name != school.district


def test_only_the_schools_district_may_run_the_ceremony_others_watch(held: Any) -> None:
    season, store, pools, _ = held
    other = next(d.code for d in season.districts if d.code != pools.district)
    for staff, may in (
        (StaffMember(principal=STAFF, role="district", district=pools.district), True),
        (StaffMember(principal="city-staff-01", role="city", district=None), False),
        (StaffMember(principal="auditor-01", role="auditor", district=None), False),
    ):
        view = ceremony.view(
            season, YEAR, pools.school_id, 1, staff=staff, store=store, window=ceremony.Window()
        )
        assert view["may_run"] is may, staff.role
    with pytest.raises(StaffError):  # another district reads nothing at all
        ceremony.view(
            season,
            YEAR,
            pools.school_id,
            1,
            staff=StaffMember(principal="x", role="district", district=other),
            store=store,
        )
