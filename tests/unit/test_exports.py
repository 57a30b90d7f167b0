"""The exports (issue 15, docs/EXPORTS.md): every file opens in openpyxl with the expected columns and
rows, a district's files hold only the children placed at its schools, the GB18030 csv decodes, the
public lists are masked, who may take what, and every download is recorded."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pytest

from enrollment.core.config import SeasonConfig
from enrollment.core.staff import Forbidden
from enrollment.exports import lists
from enrollment.exports.sheets import Sheet, read_csv, read_xlsx, sheet_title, to_csv, to_xlsx

S = "2023"
NAMES = ["张小明", "李四", "欧阳子轩", "王𠀀华", "Anna Kim"]


def reg(rid: str, district: str, n: int, *, passport: bool = False) -> dict[str, Any]:
    born = date(2016, 1 + n % 12, 1 + n % 28)
    number = f"E{n:07d}X" if passport else f"220204{born:%Y%m%d}{n % 1000:03d}{n % 10}"
    child: dict[str, Any] = {
        "name": NAMES[n % len(NAMES)],
        "sex": "男女"[n % 2],
        "birth_date": born.isoformat(),
    }
    child |= {"id_type": "passport", "nationality": "KOR"} if passport else {"id_type": "resident-id"}
    child["id_number"] = number
    home = {"district": district, "road": "松江路", "number": 10 + n, "detail": "1栋101室"}
    return {
        "registration_id": rid,
        "season": S,
        "grade": 1,
        "district": district,
        "request": {
            "child": child,
            "guardians": [
                {
                    "name": "家长甲",
                    "relationship": "母亲",
                    "id_number": f"G1{n:05d}A",
                    "phone": f"1700000{n:04d}",
                },
                {
                    "name": "家长乙",
                    "relationship": "父亲",
                    "id_number": f"G2{n:05d}B",
                    "phone": f"1710000{n:04d}",
                },
            ],
            "home_address": home,
            "residence": {"basis": "hukou", "hukou_address": dict(home)},
        },
    }


class Sources:
    """The exports' reads over plain dicts, as the DynamoDB adapter answers them."""

    def __init__(self) -> None:
        self.regs: dict[str, dict[str, Any]] = {}
        self.placed: dict[str, dict[str, Any]] = {}
        self.arrived: dict[tuple[str, str], str] = {}
        self.pools: dict[tuple[str, int], dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.downloads_kept: list[dict[str, Any]] = []

    def place(self, rid: str, district: str, school: str | None, route: str, n: int, **kw: Any) -> None:
        self.regs[rid] = reg(rid, district, n, **kw)
        self.placed[rid] = {"registration_id": rid, "grade": 1, "school_id": school, "route": route}

    def placed_at_school(self, season: str, school_id: str) -> list[dict[str, Any]]:
        return [p for p in self.placed.values() if p["school_id"] == school_id]

    def registrations_of(self, registration_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: self.regs[rid] for rid in registration_ids if rid in self.regs}

    def arrivals_at(self, season: str, school_id: str) -> dict[str, str]:
        return {rid: at for (school, rid), at in self.arrived.items() if school == school_id}

    def lottery(self, season: str, school_id: str, grade: int) -> dict[str, Any] | None:
        return self.pools.get((school_id, grade))

    def archived(self, key: str) -> bytes | None:
        return self.files.get(key)

    def archive_has(self, key: str) -> bool:
        return key in self.files

    def record_download(self, record: dict[str, Any]) -> None:
        self.downloads_kept.append(record)

    def downloads(self, season: str, district: str) -> list[dict[str, Any]]:
        return [d for d in self.downloads_kept if d["district"] == district]


@pytest.fixture
def world() -> Sources:
    """Five children at S-CY-01 (one from CH, one with a passport), two at S-CH-01, two applicants
    to P-CY-01 (one drawn in, one waitlisted), one deferred; arrivals and classes for S-CY-01."""
    w = Sources()
    for n in range(5):
        w.place(f"R-CY-{n}", "CH" if n == 4 else "CY", "S-CY-01", "catchment", n, passport=n == 3)
    for n in range(5, 7):
        w.place(f"R-CH-{n}", "CH", "S-CH-01", "coordination", n)
    w.place("R-P-7", "CY", "P-CY-01", "private-draw", 7)
    w.regs["R-P-8"] = reg("R-P-8", "CH", 8)
    w.place("R-D-9", "CY", None, "deferred", 9)
    w.arrived |= {("S-CY-01", f"R-CY-{n}"): f"2023-07-08T09:0{n}:00+08:00" for n in range(4)}
    w.pools[("P-CY-01", 1)] = {"own": ["R-P-7"], "other": ["R-P-8"]}
    w.files[f"additions/{S}/classes/classes/S-CY-01-g1.json"] = json.dumps(
        {"classes": [["R-CY-0", "R-CY-2"], ["R-CY-1", "R-CY-3"]]}
    ).encode()
    lines = [json.dumps(p) for p in w.placed.values()]
    w.files[f"seasons/{S}/placements.jsonl"] = "\n".join(lines).encode()
    record = {
        "own_district_applicants": ["R-P-7"],
        "other_applicants": ["R-P-8"],
        "admitted": ["R-P-7"],
        "draw": {"seats": 1, "ranking": ["R-P-7", "R-P-8"]},
    }
    w.files[f"seasons/{S}/private/P-CY-01-g1.json"] = json.dumps(record).encode()
    return w


CITY = lists.Taker("city-staff-01", "city")
CY = lists.Taker("cy-staff-01", "district", "CY")
CH = lists.Taker("ch-staff-01", "district", "CH")
AUDITOR = lists.Taker("auditor-01", "auditor")


def take(
    w: Sources, season: SeasonConfig, kind: lists.Kind, scope: str, who: lists.Taker = CITY, fmt: Any = "xlsx"
) -> Any:
    return lists.take(kind, season, S, scope, fmt, who, sources=w, log=w, at="2023-08-20T10:00:00+08:00")


def ids_in(rows: list[tuple[str, ...]]) -> set[str]:
    return {r[0] for r in rows[1:]}


def test_the_admitted_list_opens_with_its_columns_and_the_schools_children(
    season: SeasonConfig, world: Sources
) -> None:
    taken = take(world, season, "admitted", "S-CY-01", CY)
    ((title, rows),) = read_xlsx(taken.data).items()
    assert title.startswith("S-CY-01") and rows[0] == lists.ADMITTED_HEADERS
    assert (
        ids_in(rows)
        == {f"R-CY-{n}" for n in range(5)}
        == {p["registration_id"] for p in world.placed_at_school(S, "S-CY-01")}
    )
    first = dict(zip(rows[0], rows[1], strict=True))
    child = world.regs["R-CY-0"]["request"]["child"]
    assert first["姓名"] == child["name"] and first["证件号码"] == child["id_number"]  # a string, every digit
    assert first["录取途径"] == "划片入学" and first["报到状态"] == "已报到"
    assert first["监护人电话"] == "17000000000、17100000000"
    assert dict(zip(rows[0], rows[5], strict=True))["报到状态"] == "未报到"
    # the guardians' ID numbers serve the housing check only: no list hands them out (R-DATA-1)
    text = json.dumps(rows, ensure_ascii=False)
    assert not any(g["id_number"] in text for r in world.regs.values() for g in r["request"]["guardians"])
    assert taken.export.file_name("xlsx").endswith("录取名单.xlsx")


def test_the_admitted_csv_is_gb18030_with_a_header_and_excel_safe_numbers(
    season: SeasonConfig, world: Sources
) -> None:
    taken = take(world, season, "admitted", "S-CY-01", CY, "csv")
    text = taken.data.decode("gb18030")
    assert text.startswith(",".join(lists.ADMITTED_HEADERS) + "\r\n")
    assert "王𠀀华" in text  # a four-byte GB18030 character survives
    rows = read_csv(taken.data)
    assert rows[0] == lists.ADMITTED_HEADERS and ids_in(rows) == {f"R-CY-{n}" for n in range(5)}
    number = world.regs["R-CY-1"]["request"]["child"]["id_number"]
    assert f"\t{number}" in text and number in {r[5] for r in rows}  # tab-prefixed, stripped on reading
    with pytest.raises(UnicodeDecodeError):
        taken.data.decode("utf-8")


def test_a_district_takes_its_own_schools_lists_only(season: SeasonConfig, world: Sources) -> None:
    with pytest.raises(Forbidden):
        take(world, season, "admitted", "S-CY-01", CH)  # the child from CH at a CY school is CY's pupil
    with pytest.raises(Forbidden):
        take(world, season, "student-status", "CY", CH)
    with pytest.raises(Forbidden):
        take(world, season, "reporting", "CY", AUDITOR)  # personal data: never the auditors
    assert world.downloads_kept == []  # a refusal records nothing


def test_the_student_status_sheets_one_per_school_arrived_children_only(
    season: SeasonConfig, world: Sources
) -> None:
    taken = take(world, season, "student-status", "CY", CY)
    book = read_xlsx(taken.data)
    cy_schools = sorted(s.id for s in season.schools if s.district == "CY")
    assert [t.split(" ")[0] for t in book] == cy_schools  # one sheet per school, in order
    rows = next(r for t, r in book.items() if t.startswith("S-CY-01"))
    assert rows[0] == lists.STUDENT_STATUS_HEADERS
    numbers = {r[5] for r in rows[1:]}
    arrived = {f"R-CY-{n}" for n in range(4)}
    assert numbers == {world.regs[rid]["request"]["child"]["id_number"] for rid in arrived}
    assert all(len(r) == 1 for t, r in book.items() if not t.startswith("S-CY-01"))  # header only
    by_number = {r[5]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    boy = by_number[world.regs["R-CY-0"]["request"]["child"]["id_number"]]
    assert boy["出生日期"] == "20160101" and boy["国籍/地区"] == "CHN" and boy["身份证件类型"] == "居民身份证"
    assert boy["入学年月"] == "202309" and boy["入学方式"] == "就近入学" and boy["班级"] == "1班"
    assert boy["现住址"] == "吉林市船营区松江路10号1栋101室" == boy["户口所在地"]
    assert (boy["成员1姓名"], boy["成员1关系"], boy["成员2关系"]) == ("家长甲", "母亲", "父亲")
    foreign = by_number["E0000003X"]
    assert (foreign["国籍/地区"], foreign["身份证件类型"], foreign["班级"]) == ("KOR", "护照", "2班")
    assert not set(lists.STUDENT_STATUS_HEADERS) & {"民族", "就读方式", "健康状况"}  # not collected: left out


def test_the_reporting_file_counts_arrivals_and_classes(season: SeasonConfig, world: Sources) -> None:
    book = read_xlsx(take(world, season, "reporting", "CY", CY).data)
    summary = {r[0]: r for r in book["汇总"][1:]}
    assert summary["S-CY-01"][3:] == ("5", "4", "1", "2")
    rows = next(r for t, r in book.items() if t.startswith("S-CY-01"))
    assert rows[0] == lists.REPORTING_HEADERS and ids_in(rows) == {f"R-CY-{n}" for n in range(5)}
    assert {r[0]: r[8] for r in rows[1:]}["R-CY-4"] == ""  # did not come: no class
    everyone = set().union(*(ids_in(r) for t, r in book.items() if t != "汇总"))
    placed_in_cy = {
        rid
        for rid, p in world.placed.items()
        if p["school_id"] and season.school_index[p["school_id"]].district == "CY"
    }
    assert everyone == placed_in_cy  # no child placed in another district


def test_a_private_schools_applicants_go_to_the_city(season: SeasonConfig, world: Sources) -> None:
    book = read_xlsx(take(world, season, "private-applicants", "P-CY-01").data)
    assert book["报名人数"][1] == ("一年级", "36", "1", "1", "2", "未超计划，全部录取")
    assert [(r[1], r[7]) for r in book["报名名单"][1:]] == [("R-P-7", "本区"), ("R-P-8", "外区")]
    with pytest.raises(lists.NoSuchScope):
        take(world, season, "private-applicants", "S-CY-01")
    del world.pools[("P-CY-01", 1)]
    with pytest.raises(lists.NotYet):
        take(world, season, "private-applicants", "P-CY-01")


def test_the_public_lists_are_masked(season: SeasonConfig, world: Sources) -> None:
    taken = take(world, season, "public-results", "P-CY-01", AUDITOR)  # masked: auditors may take them
    book = read_xlsx(taken.data)
    last4 = {rid: "*" * 14 + r["request"]["child"]["id_number"][-4:] for rid, r in world.regs.items()}
    assert book["录取名单"][1:] == [("1", "欧**轩", last4["R-P-7"], "一年级", "民办学校电脑派位录取")]
    assert book["派位名单（一年级）"][1:] == [
        ("1", "欧**轩", last4["R-P-7"], "本区", "录取"),
        ("2", "王*华", last4["R-P-8"], "外区", "候补第1位"),
    ]
    text = json.dumps(book, ensure_ascii=False)
    for r in world.regs.values():
        child = r["request"]["child"]
        assert child["id_number"] not in text and child["name"] not in text
        assert all(g["phone"] not in text for g in r["request"]["guardians"])
        assert all(g["id_number"] not in text for g in r["request"]["guardians"])


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张小明", "张*明"),
        ("李四", "李*"),
        ("欧阳子轩", "欧**轩"),
        ("阿依古丽·买买提", "阿******提"),
        ("王", "*"),
    ],
)
def test_names_are_masked_as_published_lists_are(name: str, masked: str) -> None:
    assert lists.mask_name(name) == masked


def test_every_download_is_recorded_with_who_and_when(season: SeasonConfig, world: Sources) -> None:
    taken = take(world, season, "admitted", "S-CY-01", CY, "csv")
    (record,) = world.downloads_kept
    assert record == taken.record
    assert (record["by"], record["role"], record["by_district"], record["district"]) == (
        "cy-staff-01",
        "district",
        "CY",
        "CY",
    )
    assert (record["kind"], record["scope"], record["format"], record["rows"]) == (
        "admitted",
        "S-CY-01",
        "csv",
        5,
    )
    assert record["at"] == "2023-08-20T10:00:00+08:00" and len(record["sha256"]) == 64


def test_csv_only_where_a_list_is_one_sheet(season: SeasonConfig, world: Sources) -> None:
    with pytest.raises(lists.ExportRefused) as e:
        take(world, season, "reporting", "CY", CY, "csv")
    assert e.value.field == "format" and world.downloads_kept == []


def test_a_school_without_a_registration_behind_a_place_is_no_file(
    season: SeasonConfig, world: Sources
) -> None:
    del world.regs["R-CY-2"]
    with pytest.raises(lists.ExportIncomplete):
        take(world, season, "admitted", "S-CY-01", CY)
    assert world.downloads_kept == []


def test_sheet_titles_and_shapes() -> None:
    assert sheet_title("a/b:c*d?e[f]" + "x" * 40) == ("a_b_c_d_e_f_" + "x" * 40)[:31]
    assert sheet_title("学校", ["学校"]) == "学校(2)"
    with pytest.raises(ValueError, match="cells"):
        Sheet("t", ("a", "b"), [("1",)])
    both = read_xlsx(to_xlsx([Sheet("一", ("a",), [("1",)]), Sheet("一", ("b",), [])]))
    assert both == {"一": [("a",), ("1",)], "一(2)": [("b",)]}
    assert read_csv(to_csv(Sheet("t", ("姓名",), [("𠀀",)]))) == [("姓名",), ("𠀀",)]


def test_before_placement_the_lists_are_not_yet_there(season: SeasonConfig, world: Sources) -> None:
    del world.files[f"seasons/{S}/placements.jsonl"]
    for kind, scope in (("admitted", "S-CY-01"), ("student-status", "CY"), ("public-results", "S-CY-01")):
        with pytest.raises(lists.NotYet):
            take(world, season, kind, scope)
    assert take(world, season, "private-applicants", "P-CY-01").export.rows == 3  # 16 Jun: before placement
    assert [d["kind"] for d in world.downloads_kept] == ["private-applicants"]


def test_after_the_retention_date_no_list_is_handed_out(season: SeasonConfig, world: Sources) -> None:
    # the names and numbers were erased (docs/RETENTION.md): a list would be empty columns
    after = (season.erase_from + timedelta(minutes=1)).isoformat()
    with pytest.raises(lists.NoLonger) as e:
        lists.take("admitted", season, S, "S-CY-01", "xlsx", CITY, sources=world, log=world, at=after)
    assert e.value.status == 409 and str(season.erase_from.date()) in e.value.message_zh
    assert world.downloads_kept == []
    before = (season.erase_from - timedelta(minutes=1)).isoformat()
    assert lists.take("admitted", season, S, "S-CY-01", "xlsx", CITY, sources=world, log=world, at=before)
