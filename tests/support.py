"""Builders shared by tests: valid registration bodies for synthetic children, the reference matching."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from matching.games import HospitalResident

from enrollment.core import idcard
from enrollment.core.config import SeasonConfig
from enrollment.placement.matching import Applicant, Priority, common_priority

_sequence = itertools.count(101, 2)  # odd sequences: boys


def child_id(config: SeasonConfig, born: date, *, area: str | None = None) -> str:
    return idcard.make(area or config.districts[0].area_code, born, next(_sequence) % 1000)


def guardian_id(config: SeasonConfig, child_born: date) -> str:
    """The test mother's ID number, born 30 years before the child: the same for every body of a grade,
    so that two bodies differ only where a test makes them differ."""
    return idcard.make(config.districts[0].area_code, date(child_born.year - 30, 5, 6), 246)


def mother(config: SeasonConfig, phone: str, grade: int = 1) -> dict[str, Any]:
    """The test mother of `valid_body`, reached at another phone (a test that counts one phone's SMS)."""
    return valid_body(config, grade)["guardians"][0] | {"phone": phone}


def valid_body(config: SeasonConfig, grade: int = 1, **overrides: Any) -> dict[str, Any]:
    """A body that passes every rule: a boy living inside a single-school zone of the first district."""
    zone = next(z for z in config.zones if z.grade == grade and not z.multi_school)
    seg = zone.segments[0]
    number = seg.from_number if seg.parity != "even" or seg.from_number % 2 == 0 else seg.from_number + 1
    born = date(config.year - 6, 3, 4) if grade == 1 else date(config.year - 12, 3, 4)
    address = {"district": zone.district, "road": seg.road, "number": number, "detail": "3栋2单元501室"}
    body: dict[str, Any] = {
        "season": config.season,
        "grade": grade,
        "category": "public",
        "child": {
            "name": "测试儿童",
            "sex": "男",
            "birth_date": born.isoformat(),
            "id_number": child_id(config, born),
        },
        "guardians": [
            {
                "name": "测试家长",
                "relationship": "母亲",
                "id_number": guardian_id(config, born),
                "phone": "17000001234",
            }
        ],
        "home_address": address,
        "residence": {
            "basis": "hukou",
            "hukou_address": dict(address),
            "property": {"deed_number": "JL-2019-000123", "owner": "母亲"},
        },
    }
    if grade == 7:
        body["primary_school"] = "测试小学"
    for path, value in overrides.items():
        target = body
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        target[last] = copy.deepcopy(value)
    return body


def library_resident_optimal(
    applicants: Sequence[Applicant], capacity: Mapping[str, int], priority: Priority | None = None
) -> dict[str, str | None]:
    """The `matching` library's resident-optimal matching as applicant id -> school id.

    Each school ranks the children who ranked it by (priority, id). Schools without seats (the library
    needs capacity >= 1), schools nobody ranks and children with no school left are left out: none of
    them can be matched anyway.
    """
    rank = priority or common_priority
    open_schools = {s for s, seats in capacity.items() if seats > 0}
    resident_prefs = {
        a.id: [s for s in a.choices if s in open_schools]
        for a in applicants
        if any(s in open_schools for s in a.choices)
    }
    by_id = {a.id: a for a in applicants}
    ranked = sorted({s for prefs in resident_prefs.values() for s in prefs})
    hospital_prefs = {
        s: [r for _, r in sorted((rank(s, by_id[r]), r) for r, p in resident_prefs.items() if s in p)]
        for s in ranked
    }
    result: dict[str, str | None] = dict.fromkeys(by_id)
    if resident_prefs:
        game = HospitalResident.create_from_dictionaries(
            resident_prefs, hospital_prefs, {s: capacity[s] for s in ranked}
        )
        for hospital, residents in game.solve(optimal="resident").items():
            for resident in residents:
                result[resident.name] = hospital.name
    return result
