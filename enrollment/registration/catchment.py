"""The public catchment lookup (查询片区, issue 19): before registering, a family gives its address and
learns the zone's school(s) for each grade and what makes a child eligible there.

The answer is the season config's own mapping (`SeasonConfig.zone_of`, the function verification
uses to turn an agency's address into a zone, R-VER-1), with the zone's schools nearest first, the
order placement offers them to a child who ranks none (R-PUB-1). What makes a child eligible is read
from the same rules verification applies (`enrollment.verification.checks.verdict`): hukou or a
residence permit in the zone, a deed at that address registered before the season's cut-off, in a
guardian's or the child's name, for residential use, and a confirmed residence; and, when a school
is oversubscribed, the district's published priority tiers (R-PUB-2).

Everything a family reads here is plain Chinese: no rule ids, zone ids or district codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from enrollment.core.config import GRADES, District, SeasonConfig, Zone
from enrollment.registration.form import RegistrationRefused, Violation

RULE = "R-PUB-1"  # what a refusal is about: the published zones (never shown on the page)
TEXT_MAX = 40  # longer than any district code, road or compound name of a season
GRADE_ZH = {1: "一年级（小学）", 7: "七年级（初中）"}
MECHANISM_ZH = {
    "deferred-acceptance": "报名时可以对片区内的学校排序；报名人数超过招生计划时，"
    "按录取顺序和填报顺序分配到片区内的学校",
    "first-choice-first": "报名时可以对片区内的学校排序；报名人数超过招生计划时，先满足第一志愿，再依次满足后面的志愿",
}


def _refuse(field: str, zh: str, en: str) -> RegistrationRefused:
    return RegistrationRefused([Violation(field, RULE, zh, en)], status=422)


def _text(query: Mapping[str, str | None], field: str) -> str:
    value = (query.get(field) or "").strip()
    if len(value) > TEXT_MAX:
        raise _refuse(field, f"填写的内容过长（不超过{TEXT_MAX}个字）", f"{field} is longer than {TEXT_MAX}")
    return value


def parse_address(config: SeasonConfig, query: Mapping[str, str | None]) -> dict[str, Any]:
    """The address a family asks about, as `SeasonConfig.zone_of` reads it: a district and either a
    compound, or a road and house number of that district. A wrong field is refused naming it."""
    code = _text(query, "district")
    if not code:
        raise _refuse("district", "请选择所在区", "district is required")
    if code not in config.district_index:
        raise _refuse("district", "所在区不在本市城区范围内，请从列表中选择", f"unknown district {code!r}")
    compound, road, number = _text(query, "compound"), _text(query, "road"), _text(query, "number")
    if compound and (road or number):
        raise _refuse(
            "compound",
            "按门牌或按小区查询只能选一种：住在小区的请只选择小区",
            "give a compound or a road and house number, not both",
        )
    if compound:
        found = config.compound_index.get(compound)
        if found is None or found.district != code:
            raise _refuse("compound", "该区没有这个小区，请从列表中选择，或按门牌查询", "unknown compound")
        return {"district": code, "compound": compound}
    if not road:
        raise _refuse("road", "请填写街路名称，或按小区查询", "road is required")
    known = config.road_index.get(road)
    if known is None or known.district != code:
        raise _refuse("road", "该区没有这条街路，请从列表中选择街路", "unknown road in the district")
    if not number:
        raise _refuse("number", "请填写门牌号", "number is required")
    if not number.isascii() or not number.isdigit() or int(number) < 1:
        raise _refuse("number", "门牌号应为正整数，如 12", "number must be a positive whole number")
    if int(number) > known.max_number:
        raise _refuse(
            "number",
            f"门牌号超出该街路范围（{road}的门牌为1至{known.max_number}号）",
            f"number is above the road's {known.max_number}",
        )
    return {"district": code, "road": road, "number": int(number)}


def zone_schools(config: SeasonConfig, zone: Zone, place: Mapping[str, Any]) -> list[str]:
    """A zone's schools nearest the address first: the order placement offers them to a child of the
    zone whose family ranks none (R-PUB-1)."""
    home = config.locate(place)
    return sorted(zone.schools, key=lambda s: (config.school_index[s].location.distance_km(home), s))


def lookup(config: SeasonConfig, query: Mapping[str, str | None]) -> dict[str, Any]:
    """The answer the lookup page shows: the address, each grade's zone and schools, and what makes a
    child eligible there (the same for every zone of the district, from the season's rules)."""
    place = parse_address(config, query)
    district = config.district_index[place["district"]]
    home = config.locate(place)
    grades: list[dict[str, Any]] = []
    for grade in GRADES:
        zone = config.zone_of(grade, place)
        if zone is None:
            grades.append(
                {"grade": grade, "grade_zh": GRADE_ZH[grade], "schools": [], "note_zh": _outside(grade)}
            )
            continue
        schools = [config.school_index[s] for s in zone_schools(config, zone, place)]
        grades.append(
            {
                "grade": grade,
                "grade_zh": GRADE_ZH[grade],
                "kind_zh": "多校划片" if zone.multi_school else "单校划片",
                "schools": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "address": s.address,
                        "distance_m": round(s.location.distance_km(home) * 1000),
                    }
                    for s in schools
                ],
                "note_zh": MECHANISM_ZH[district.multi_school_assignment] if zone.multi_school else "",
            }
        )
    return {
        "address_zh": _address_zh(config, district, place),
        "district_name": district.name,
        "grades": grades,
        "documents": documents(config),
        "priority_zh": [t.name for t in district.priority_tiers],
        "note_zh": "查询结果按本年度公布的片区划分；能否按片区入学，以报名后的信息审核结果为准。",
    }


def _address_zh(config: SeasonConfig, district: District, place: Mapping[str, Any]) -> str:
    if "compound" in place:
        compound = config.compound_index[place["compound"]]
        return f"{district.name}{compound.name}（{compound.address}）"
    return f"{district.name}{place['road']}{place['number']}号"


def _outside(grade: int) -> str:
    return (
        f"该地址不在{GRADE_ZH[grade]}的任何片区内。仍可以正常报名：经信息审核后，"
        "由区教育局统筹安排到相对就近、有空余学位的公办学校。如对片区划分有疑问，请咨询所在区教育局招生办公室。"
    )


def documents(config: SeasonConfig) -> list[dict[str, str]]:
    """What verification checks for a catchment place (R-VER-1, R-VER-2, R-MIG-1), each with who
    checks it: what a family should have ready, in the order the status page shows the checks."""
    last_day = config.property_cutoff - timedelta(days=1)
    return [
        {
            "what_zh": "户口簿：儿童的户籍在该地址",
            "who_zh": "公安部门核验",
        },
        {
            "what_zh": "不动产权证：该地址的住房在父母（或其他法定监护人）或儿童本人名下，"
            f"登记日期不晚于{_day(last_day)}，且与户籍地址一致（房户一致）",
            "who_zh": "住建部门核验",
        },
        {
            "what_zh": "该住房的规划用途为住宅",
            "who_zh": "自然资源（规划）部门核验",
        },
        {
            "what_zh": "全家实际居住在该地址",
            "who_zh": "社区入户核查",
        },
        {
            "what_zh": "随迁子女：以该地址的居住证为主要依据，不需要其他证明；没有房产的可以不填不动产权证，"
            "仍须实际居住在该地址",
            "who_zh": "公安部门核验居住证，社区入户核查",
        },
    ]


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
