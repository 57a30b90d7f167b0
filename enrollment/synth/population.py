"""A synthetic population for a season: what parents submit and what the agencies know about them.

`generate(config, applicants, seed)` is deterministic for its arguments and returns `applicants`
submissions (the JSON bodies a parent's browser would POST, each with its day inside the grade's
registration window) plus the agencies' records (`enrollment.verification.registries`). Everyone is made up:
names come from common surname and given-name characters, ID numbers from `idcard.make`, phone
numbers from the 170/171 virtual-operator ranges.

About 3% of the submissions are deliberately bad, each kind present once there are 200 or more:

    bad-check-character  the ID number's check character is wrong            R-ID-1
    under-age            a grade-1 child born after the age cut-off          R-AGE-1
    duplicate            a second body for a child already registered,
                         in another category (公民同招, 不可兼报)               R-REG-2
    forbidden-field      a field that is never collected (income, job, ...)   R-DATA-1

Half of the refused ID-number and forbidden-field attempts are retried at once, corrected: a
refusal stores nothing, so the retry must be accepted.

The registries are consistent with the bodies, and realistic: most families have their hukou and a
property deed at their home address; some deeds were registered on or after the property cut-off,
some have a commercial planned use, some are at another address than the hukou; a few deed numbers
are unknown to housing and a few hukou addresses are not what the family stated (弄虚作假, R-VER-4);
some families do not live where they say, and some home visits answer after the deadline.

When the season lists residential compounds (小区), about a third of the families live in one and
give the compound, building and unit instead of a road and house number, as their hukou, deed and
permit records do; a sought-after zone that names compounds draws families to them too. A season
without compounds draws nothing for them: its population is the same, byte for byte, as before
compounds existed.

    python -m enrollment.synth.population --config jilin-2023 --applicants 500 --seed 7 --out DIR
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from enrollment.core import idcard
from enrollment.core.config import GRADES, Grade, Road, SeasonConfig, Zone, ZoneSegment, load_season
from enrollment.verification.registries import (
    DeedRecord,
    HukouRecord,
    PlanningRecord,
    RecordAddress,
    Registries,
    ResidenceRecord,
)

SUBMISSIONS_FILE = "submissions.jsonl"
_T = TypeVar("_T")

# intent -> the rule the server must refuse it with
BAD_KINDS: dict[str, str] = {
    "bad-check-character": "R-ID-1",
    "under-age": "R-AGE-1",
    "duplicate": "R-REG-2",
    "forbidden-field": "R-DATA-1",
}
BAD_SHARE = 0.03
OWNER_NOT_GUARDIAN_SHARE = 0.03  # of the deeds: in a grandparent's name, who is not a named guardian
HOT_SHARE = 0.2  # of the families live in a sought-after school's zone (学区房)
COMPOUND_SHARE = 0.35  # of the families outside those zones live in a compound, where the season has them

# --- names (common characters, combined at random: not real people) ---------------------------
_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
    "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺"
)
_ETHNIC_SURNAMES = "金朴崔李郑姜全韩申尹玄关那佟富索"  # 朝鲜族 and 满族 families
_BOY = "浩宇轩泽博文子梓睿晨昊阳俊杰鑫磊鹏铭嘉一明天瑞宸航皓然辰逸凯伟涛朗毅哲远晟煜锦恒彬翔泓峻楷钧烁亦承沐"
_GIRL = "欣怡梓涵雨萱诗琪佳悦思彤可馨语嘉婷雅静若梦晴妍瑶璐月芮茜蕊颖琳菲晨安心一子依沫诺然希钰婉清玥宁乐曦"
_MAN = "建国伟军强磊勇涛斌刚鹏辉宇峰超东明亮波龙海平飞杰志华永春洪林松柏庆"
_WOMAN = "丽静敏燕艳娟霞芳婷秀玲红梅莉娜琳晶雪颖慧倩丹萍洁媛薇蕾欣月凤"
_FOREIGN: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # nationality: (family names, boys' given names, girls' given names), as written in Chinese
    "KOR": (("金", "朴", "崔", "李"), ("志勋", "敏俊", "俊浩", "在贤"), ("瑞妍", "智秀", "秀彬", "夏恩")),
    "RUS": (
        ("·彼得罗夫", "·伊万诺夫", "·索科洛夫", "·波波夫"),
        ("伊万", "阿列克谢", "德米特里", "马克西姆"),
        ("安娜", "玛丽亚", "索菲亚", "达丽娅"),
    ),
    "JPN": (
        ("佐藤", "铃木", "高桥", "田中"),
        ("健太", "翔太", "大辉", "悠真"),
        ("阳菜", "结衣", "美咲", "葵"),
    ),
}
# Area codes of migrant families' hukou: other provinces and other cities of Jilin province.
_MIGRANT_AREAS = (
    "130102",
    "130602",
    "230103",
    "230203",
    "410105",
    "370102",
    "210102",
    "150102",
    "220102",
    "222401",
)
_RELATIVE_ADULT = {"父亲": "男", "母亲": "女", "祖父": "男", "祖母": "女", "外祖父": "男", "外祖母": "女"}
_FORBIDDEN_VARIANTS = (
    ("guardians[0]", "income", "8000-10000元/月"),
    ("(top)", "guardian_income", "10000"),
    ("guardians[0]", "occupation", "教师"),
    ("(top)", "kindergarten", "实验幼儿园"),
    ("(top)", "family_planning_certificate", "JS-2016-0001"),
    ("guardians[0]", "employer", "某公司"),
)


@dataclass(frozen=True)
class Submission:
    """One POST a parent's browser would send, on one day of the grade's registration window."""

    body: dict[str, Any]
    grade: Grade
    submit_day: date
    intent: str  # "valid", or a key of BAD_KINDS
    expected_rule: str | None  # the rule the server refuses it with; None for "valid"

    def to_json(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "submit_day": self.submit_day.isoformat(),
            "intent": self.intent,
            "expected_rule": self.expected_rule,
            "body": self.body,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Submission:
        grade: Grade = 1 if data["grade"] == 1 else 7
        return cls(
            body=data["body"],
            grade=grade,
            submit_day=date.fromisoformat(data["submit_day"]),
            intent=data["intent"],
            expected_rule=data["expected_rule"],
        )


@dataclass(frozen=True)
class Population:
    submissions: list[Submission]
    registries: Registries

    def write(self, directory: str | Path) -> None:
        """`DIR/submissions.jsonl` and the four registry files."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        with (out / SUBMISSIONS_FILE).open("w", encoding="utf-8") as f:
            for s in self.submissions:
                f.write(json.dumps(s.to_json(), ensure_ascii=False, separators=(",", ":")))
                f.write("\n")
        self.registries.write(out)


def load_submissions(path: str | Path) -> list[Submission]:
    with Path(path).open(encoding="utf-8") as f:
        return [Submission.from_json(json.loads(line)) for line in f if line.strip()]


# --- the generator -----------------------------------------------------------------------------


@dataclass
class _Child:
    """One child, as the generator knows them (true facts, before any bad submission)."""

    grade: Grade
    district: str
    body: dict[str, Any]
    submit_day: date
    rank: float  # order within the day
    foreign: bool
    records: list[Any] = field(default_factory=list)


class _Random(random.Random):
    """random.Random with quicker small draws (the stdlib's are exact but slow for this volume)."""

    def pick(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.random() * len(seq))]

    def below(self, n: int) -> int:
        return int(self.random() * n)

    def between(self, lo: int, hi: int) -> int:
        """lo..hi inclusive."""
        return lo + int(self.random() * (hi - lo + 1))


class _Generator:
    def __init__(self, config: SeasonConfig, seed: int) -> None:
        self.config = config
        self.rng = _Random(f"{config.name}/{seed}")
        self.ids: set[str] = set()
        self.serial = 0
        rng = self.rng
        self.district_codes = [d.code for d in config.districts]
        public = [s for s in config.schools if s.kind == "public"]
        # Demand follows public capacity, so every district can place its own children.
        self.district_cum = {
            g: _cumulative([sum(s.plan(g) for s in public if s.district == d) for d in self.district_codes])
            for g in GRADES
        }
        self.roads: dict[str, list[Road]] = {
            d: [r for r in config.roads if r.district == d] for d in self.district_codes
        }
        # Some roads are busier than others (new estates), so some zones get more children.
        self.road_cum = {
            d: _cumulative([rng.pick((1, 1, 1, 2, 2, 3, 5, 8)) for _ in rs]) for d, rs in self.roads.items()
        }
        self.private = {
            g: [s for s in config.schools if s.kind == "private" and s.plan(g) > 0] for g in GRADES
        }
        self.private_cum = {(g, d): self._private_options(g, d) for g in GRADES for d in self.district_codes}
        # the zone of every house number, per grade and road (config.zone_for, precomputed)
        self.zone_at: dict[tuple[int, str], list[Zone | None]] = {
            (g, r.name): [None] * (r.max_number + 1) for g in GRADES for r in config.roads
        }
        for z in config.zones:
            for seg in z.segments:
                at = self.zone_at[(z.grade, seg.road)]
                step = 1 if seg.parity == "all" else 2
                first = seg.from_number
                if seg.parity != "all" and (first % 2 == 1) != (seg.parity == "odd"):
                    first += 1
                for n in range(first, seg.to_number + 1, step):
                    at[n] = z
        # 学区房: in each district and grade, the two smallest single-school zones are sought after;
        # families move there for the school, so these zones fill up first (R-PUB-2, R-WARN-1).
        self.hot: dict[tuple[int, str], list[ZoneSegment]] = {}
        self.hot_compounds: dict[tuple[int, str], list[str]] = {}
        # residential compounds (小区) per district, and each one's zone per grade (config.zone_of)
        self.compounds: dict[str, list[str]] = {
            d: [c.name for c in config.compounds if c.district == d] for d in self.district_codes
        }
        self.compound_zone: dict[tuple[int, str], Zone | None] = {
            (g, c.name): config.zone_of(g, {"compound": c.name}) for g in GRADES for c in config.compounds
        }
        for g in GRADES:
            for d in self.district_codes:
                zones = [z for z in config.zones if z.grade == g and z.district == d]
                single = [z for z in zones if not z.multi_school] or zones
                single.sort(key=lambda z: (config.school_index[z.schools[0]].plan(z.grade), z.id))
                self.hot[(g, d)] = [seg for z in single[:2] for seg in z.segments]
                self.hot_compounds[(g, d)] = [name for z in single[:2] for name in z.compounds]
        self.specialised = [s for s in config.schools if s.kind == "specialised" and s.plan(7) > 0]
        self.ethnic = {g: any(s.kind == "ethnic" and s.plan(g) > 0 for s in config.schools) for g in GRADES}
        self.primaries = {
            d: [s.name for s in public if s.district == d and s.plan(1) > 0] for d in self.district_codes
        }
        self.area = {d.code: d.area_code for d in config.districts}
        cal = config.calendar
        self.windows = {g: cal.registration_window(g) for g in GRADES}
        self.days: dict[int, tuple[list[date], list[float]]] = {}
        for g, w in self.windows.items():
            days = [w.start + timedelta(days=i) for i in range((w.end - w.start).days + 1)]
            # a rush on the first days, a smaller one on the last
            weights = [max(1.0, 3.0 - 0.7 * i) for i in range(len(days))]
            weights[-1] += 0.5
            self.days[g] = (days, _cumulative(weights))

    # small helpers ---------------------------------------------------------------------------

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def _given(self, chars: str, two: float = 0.75) -> str:
        rng = self.rng
        first = rng.pick(chars)
        if rng.random() >= two:
            return first
        second = rng.pick(chars)
        while second == first:
            second = rng.pick(chars)
        return first + second

    def _surname(self, ethnic: bool = False) -> str:
        pool = _ETHNIC_SURNAMES if ethnic else _SURNAMES
        return pool[int(len(pool) * self.rng.random() ** 1.7)]  # common surnames more often

    def _id(self, area: str, born: date, sex: str) -> str:
        rng = self.rng
        while True:
            seq = rng.below(500) * 2 + (1 if sex == "男" else 0)
            number = idcard.make(area, born, seq)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def _phone(self) -> str:
        return f"17{self.rng.pick('01')}{self.rng.below(10**8):08d}"

    def _day(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.rng.below((hi - lo).days + 1))

    def _address(self, district: str, hot_grade: int | None = None) -> dict[str, Any]:
        rng = self.rng
        rand = rng.random
        segments = self.hot.get((hot_grade, district)) if hot_grade else None
        compounds = self.hot_compounds.get((hot_grade, district)) if hot_grade else None
        if compounds and (not segments or rand() < len(compounds) / (len(compounds) + len(segments))):
            return self._compound_address(district, rng.pick(compounds))
        if segments:
            seg = rng.pick(segments)
            number = seg.from_number + int(rand() * (seg.to_number - seg.from_number + 1))
            if not seg.covers(number):  # the other side of the road
                number = number + 1 if number < seg.to_number else number - 1
            road_name = seg.road
        else:
            if self.compounds[district] and rand() < COMPOUND_SHARE:  # no draw where there are none
                return self._compound_address(district, rng.pick(self.compounds[district]))
            road = rng.choices(self.roads[district], cum_weights=self.road_cum[district])[0]
            number, road_name = int(rand() * road.max_number) + 1, road.name
        if rand() < 0.92:
            b, u, f, r = int(rand() * 36) + 1, int(rand() * 6) + 1, int(rand() * 18) + 1, int(rand() * 4) + 1
            detail = f"{b}栋{u}单元{f}{r:02d}室"
        else:
            detail = ""  # a single-family house
        return {"district": district, "road": road_name, "number": number, "detail": detail}

    def _compound_address(self, district: str, compound: str) -> dict[str, Any]:
        """A flat in a compound: building and unit as their own fields, the room in the detail."""
        rand = self.rng.random
        b, u, f, r = int(rand() * 24) + 1, int(rand() * 6) + 1, int(rand() * 18) + 1, int(rand() * 4) + 1
        return {
            "district": district,
            "compound": compound,
            "building": b,
            "unit": u,
            "detail": f"{f}{r:02d}室",
        }

    def _other_address(self, district: str, avoid: dict[str, Any]) -> dict[str, Any]:
        while True:
            addr = self._address(district)
            if _house(addr) != _house(avoid):
                return addr

    def _submit_day(self, grade: Grade) -> date:
        days, cum = self.days[grade]
        return self.rng.choices(days, cum_weights=cum)[0]

    def _birth(self, grade: Grade) -> date:
        rng = self.rng
        cutoff = self.config.age_cutoff
        r = rng.random()
        if grade == 1:
            if r < 0.004:
                return cutoff  # born on the cut-off day: still eligible (含)
            if r < 0.03:  # deferred a year
                return self._day(cutoff - timedelta(days=730), cutoff - timedelta(days=366))
            return self._day(cutoff - timedelta(days=365), cutoff)
        # grade 7: primary graduates, mostly six years older than this year's grade 1
        top = date(cutoff.year - 6, cutoff.month, cutoff.day)
        if r < 0.05:
            return self._day(top - timedelta(days=730), top - timedelta(days=366))
        if r < 0.07:
            return self._day(top + timedelta(days=1), top + timedelta(days=120))
        return self._day(top - timedelta(days=365), top)

    # one child -------------------------------------------------------------------------------

    def _foreign_name(self, nationality: str, sex: str, family: str | None = None) -> str:
        families, boys, girls = _FOREIGN[nationality]
        family = family or self.rng.pick(families)
        given = self.rng.pick(boys if sex == "男" else girls)
        if family.startswith("·"):  # Russian: given name first, feminine family name
            return given + family + ("娃" if sex == "女" else "")
        return family + given

    def child(self, grade: Grade, birth: date | None = None, resident: bool = False) -> _Child:
        """A new child and a valid body; `resident`: with a resident ID number, not a passport."""
        rng = self.rng
        cfg = self.config
        district = rng.choices(self.district_codes, cum_weights=self.district_cum[grade])[0]
        foreign = not resident and rng.random() < 0.005
        migrant = not foreign and rng.random() < 0.10
        r = rng.random()
        if foreign:
            category = "private" if r < 0.5 else "public"
        elif grade == 7 and r < 0.006 and self.specialised:
            category = "specialised"
        elif r < 0.03 and self.ethnic[grade]:
            category = "ethnic"
        elif r < 0.20 and self.private[grade]:  # private demand concentrates on a few known schools
            category = "private"
        else:
            category = "public"
        sex = "男" if rng.random() < 0.51 else "女"
        born = birth or self._birth(grade)

        # the child
        nationality = rng.pick(sorted(_FOREIGN)) if foreign else None
        if nationality is not None:
            surname = rng.pick(_FOREIGN[nationality][0])
            name = self._foreign_name(nationality, sex, surname)
            if nationality == "KOR":
                number = f"M{rng.below(10**8):08d}"
            elif nationality == "RUS":
                number = f"7{rng.below(10**8):08d}"
            else:
                number = f"T{rng.pick('KRZ')}{rng.below(10**7):07d}"
            child = {
                "name": name,
                "sex": sex,
                "birth_date": born.isoformat(),
                "id_type": "passport",
                "id_number": number,
                "nationality": nationality,
            }
        else:
            surname = self._surname(ethnic=category == "ethnic")
            name = surname + self._given(_BOY if sex == "男" else _GIRL)
            if migrant:
                area = rng.pick(_MIGRANT_AREAS)
            elif rng.random() < 0.85:
                area = self.area[district]
            else:
                area = self.area[rng.pick(self.district_codes)]
            number = self._id(area, born, sex)
            child = {
                "name": name,
                "sex": sex,
                "birth_date": born.isoformat(),
                "id_type": "resident-id",
                "id_number": number,
            }

        # guardians
        r = rng.random()
        if r < 0.78:
            relations = ["父亲", "母亲"] if rng.random() < 0.6 else ["母亲", "父亲"]
        elif r < 0.90:
            relations = ["母亲"]
        elif r < 0.95:
            relations = ["父亲"]
        else:
            relations = [rng.pick(("祖父", "祖母", "外祖父", "外祖母")), rng.pick(("父亲", "母亲"))]
        adults: dict[str, str] = {}  # relationship -> ID number: the guardians, who may own the deed
        guardians = []
        for rel in relations:
            adult_sex = _RELATIVE_ADULT[rel]
            paternal = rel in ("父亲", "祖父")
            if nationality is not None:
                adult_name = self._foreign_name(nationality, adult_sex, surname if paternal else None)
            else:
                family_name = surname if paternal and rng.random() < 0.92 else self._surname()
                adult_name = family_name + self._given(_MAN if adult_sex == "男" else _WOMAN, 0.6)
            if nationality is not None:
                id_type, adult_id = "passport", self._passport()
            else:
                id_type, adult_id = "resident-id", self._adult_id(rel, born, migrant)
            guardians.append(
                {
                    "name": adult_name,
                    "relationship": rel,
                    "id_type": id_type,
                    "id_number": adult_id,
                    "phone": self._phone(),
                }
            )
            adults[rel] = adult_id

        home = self._address(district, hot_grade=grade if rng.random() < HOT_SHARE else None)
        body: dict[str, Any] = {
            "season": cfg.season,
            "grade": grade,
            "category": category,
            "child": child,
            "guardians": guardians,
            "home_address": home,
        }
        records: list[Any] = []
        body["residence"] = self._residence(child, district, home, born, migrant or foreign, adults, records)

        claims = self._claims(grade) if not foreign else []
        if claims:
            body["special_claims"] = claims
        if category == "private":
            body["private_school_id"] = self._private_choice(grade, district)
        elif category == "specialised":
            body["private_school_id"] = rng.pick(self.specialised).id
        elif category == "public":
            prefs = self._preferences(grade, home)
            if prefs:
                body["school_preferences"] = prefs
        if grade == 7:
            d = district if rng.random() < 0.92 else rng.pick(self.district_codes)
            body["primary_school"] = rng.pick(self.primaries[d] or ["吉林市实验小学"])
        return _Child(grade, district, body, self._submit_day(grade), rng.random(), foreign, records)

    def _residence(
        self,
        child: dict[str, Any],
        district: str,
        home: dict[str, Any],
        born: date,
        permit: bool,
        adults: dict[str, str],
        records: list[Any],
    ) -> dict[str, Any]:
        rng = self.rng
        cfg = self.config
        child_id = child["id_number"]
        last_day = self.windows[1].start - timedelta(days=20)
        residence: dict[str, Any]
        deed_at: dict[str, Any] | None = None
        home_record = RecordAddress(**home)
        if permit:  # R-MIG-1 migrant families and foreign families
            prefix = "WJ" if child["id_type"] == "passport" else "JZ"
            permit_number = f"{prefix}{self.area[district]}{rng.between(2016, 2022)}{self._next():06d}"
            residence = {"basis": "residence-permit", "residence_permit_number": permit_number}
            records.append(
                HukouRecord(
                    id_number=child_id,
                    kind="residence-permit",
                    address=home_record,
                    permit_number=permit_number,
                    since=self._day(date(2016, 1, 1), last_day),
                )
            )
            if child["id_type"] == "resident-id" and rng.random() < 0.25:
                deed_at = home  # bought a flat
        else:
            r = rng.random()
            if r < 0.88:
                hukou = home
            elif r < 0.96:
                hukou = self._other_address(district, home)
            else:
                hukou = self._address(rng.pick(self.district_codes))
            true_hukou = hukou
            if rng.random() < 0.01:  # stated a hukou address the police do not have (弄虚作假)
                true_hukou = self._other_address(str(hukou["district"]), hukou)
            residence = {"basis": "hukou", "hukou_address": dict(hukou)}
            moved = rng.random() < 0.15
            since = (
                self._day(max(born, date(2018, 1, 1)), last_day)
                if moved
                else born + timedelta(days=rng.between(7, 90))
            )
            records.append(
                HukouRecord(
                    id_number=child_id,
                    kind="hukou",
                    address=home_record if true_hukou is home else RecordAddress(**true_hukou),
                    since=since,
                )
            )
            if rng.random() < 0.82:
                if hukou is home:
                    deed_at = home if rng.random() < 0.94 else self._other_address(district, home)
                else:
                    deed_at = home if rng.random() < 0.7 else hukou
        if deed_at is not None:
            owner, owners = self._owners(child_id, born, adults, permit)
            registered = self._registered(cfg.property_cutoff, last_day, born)
            deed_number = f"{self.area[str(deed_at['district'])]}-{registered.year}-{self._next():07d}"
            residence["property"] = {"deed_number": deed_number, "owner": owner}
            if rng.random() < 0.01:  # a deed number housing does not know (弄虚作假)
                residence["property"]["deed_number"] = f"{deed_number[:-7]}9{deed_number[-6:]}"
            address = home_record if deed_at is home else RecordAddress(**deed_at)
            records.append(
                DeedRecord(
                    deed_number=deed_number,
                    owner_id_numbers=owners,
                    address=address,
                    registered_on=registered,
                )
            )
            r = rng.random()
            use = "residential" if r < 0.95 else ("commercial" if r < 0.99 else "industrial")
            records.append(PlanningRecord(deed_number=deed_number, address=address, planned_use=use))
        r = rng.random()
        delay = rng.between(0, 3) if r < 0.8 else (rng.between(4, 5) if r < 0.93 else rng.between(6, 14))
        records.append(
            ResidenceRecord(
                address=home_record,
                id_number=child_id,
                lives_there=rng.random() < 0.95,
                visit_delay_days=delay,
            )
        )
        return residence

    def _adult_id(self, rel: str, child_born: date, migrant: bool) -> str:
        """A guardian's (or a relative's) resident ID number: a parent 24-38 years older than the
        child, a grandparent 48-62."""
        rng = self.rng
        older = rng.between(24, 38) if rel in ("父亲", "母亲") else rng.between(48, 62)
        adult_born = self._day(date(child_born.year - older, 1, 1), date(child_born.year - older, 12, 28))
        area = rng.pick(_MIGRANT_AREAS) if migrant else self.area[rng.pick(self.district_codes)]
        return self._id(area, adult_born, _RELATIVE_ADULT[rel])

    def _passport(self) -> str:
        """A foreign guardian's passport number, unique among the synthetic people."""
        while True:
            number = f"P{self.rng.below(10**8):08d}"
            if number not in self.ids:
                self.ids.add(number)
                return number

    def _owners(
        self, child_id: str, born: date, adults: dict[str, str], migrant: bool
    ) -> tuple[str, list[str]]:
        """Who owns the family's deed, as the form states it (`property.owner`) and as housing holds
        it (the owners' ID numbers). Mostly a guardian, sometimes jointly with the other; now and then
        the child; and a small share a grandparent who is not a guardian named on the form, which the
        housing check finds (owner-not-guardian, R-VER-1)."""
        rng = self.rng
        r = rng.random()
        if r < 0.03:
            return "本人", [child_id]
        if r < 0.03 + OWNER_NOT_GUARDIAN_SHARE:
            others = [rel for rel in ("祖父", "祖母", "外祖父", "外祖母") if rel not in adults]
            if others:
                rel = rng.pick(others)
                return rel, [self._adult_id(rel, born, migrant)]
        owner = rng.pick(sorted(adults))
        owners = [adults[owner]]
        if len(adults) > 1 and rng.random() < 0.5:  # owned jointly
            owners += [adults[rel] for rel in sorted(adults) if rel != owner][:1]
        return owner, owners

    def _registered(self, cutoff: date, last_day: date, born: date) -> date:
        """A deed's registration date; R-VER-1 counts it only if before the cut-off."""
        r = self.rng.random()
        if r < 0.015:
            return cutoff  # on the cut-off day: too late
        if r < 0.03:
            return cutoff - timedelta(days=1)  # the day before: in time
        if r < 0.15:
            return self._day(cutoff + timedelta(days=1), last_day)
        # bought when the parents were adults: at most six years before the child was born
        return self._day(date(born.year - 6, 1, 1), cutoff - timedelta(days=2))

    def _claims(self, grade: Grade) -> list[str]:
        r = self.rng.random()
        if r < 0.012:
            return ["military"]  # 现役军人, and national fire and rescue personnel
        if r < 0.015:
            return ["police-merit"]
        if r < 0.027:
            return ["introduced-talent"]
        if r < 0.033:
            return ["disability"]
        if r < 0.037 and grade == 1:
            return ["defer-health"]
        return []

    def _private_options(self, grade: Grade, district: str) -> tuple[list[str], list[float]]:
        """R-REG-3, R-LOT-4: the own district's private schools, and approved ones from anywhere."""
        options: list[str] = []
        weights: list[float] = []
        for s in self.private[grade]:
            if s.district == district:
                options.append(s.id)
                weights.append(16.0 if s.cross_district_approved else 2.0)
            elif s.cross_district_approved:  # the well-known ones draw from the whole city
                options.append(s.id)
                weights.append(8.0)
        return options, _cumulative(weights)

    def _private_choice(self, grade: Grade, district: str) -> str:
        options, cum = self.private_cum[(grade, district)]
        return self.rng.choices(options, cum_weights=cum)[0] if options else self.private[grade][0].id

    def _preferences(self, grade: Grade, home: dict[str, Any]) -> list[str]:
        """About half of the families in a multi-school zone rank that zone's schools."""
        if "compound" in home:
            zone = self.compound_zone[(grade, home["compound"])]
        else:
            zone = self.zone_at[(grade, home["road"])][home["number"]]
        if zone is None or not zone.multi_school or self.rng.random() < 0.5:
            return []
        schools = list(zone.schools)
        if self.rng.random() < 0.7:  # nearest first
            at = self.config.locate(home)
            schools.sort(key=lambda sid: at.distance_km(self.config.school_index[sid].location))
        else:
            self.rng.shuffle(schools)
        return schools


def _house(address: dict[str, Any]) -> tuple[Any, ...]:
    """The house an address names, ignoring the room: the road and number, or compound, building, unit."""
    if "compound" in address:
        return (address["compound"], address["building"], address["unit"])
    return (address["road"], address["number"])


def _cumulative(weights: list[float] | list[int]) -> list[float]:
    return list(itertools.accumulate(float(w) for w in weights))


def _copy(body: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = json.loads(json.dumps(body))
    return copied


def _bad_check(body: dict[str, Any]) -> dict[str, Any]:
    bad = _copy(body)
    number = bad["child"]["id_number"]
    right = idcard.check_character(number[:17])
    wrong = "0123456789X"[("0123456789X".index(right) + 1 + len(number) % 7) % 11]
    bad["child"]["id_number"] = number[:17] + wrong
    return bad


def _forbidden(body: dict[str, Any], variant: int) -> dict[str, Any]:
    bad = _copy(body)
    where, key, value = _FORBIDDEN_VARIANTS[variant % len(_FORBIDDEN_VARIANTS)]
    (bad["guardians"][0] if where == "guardians[0]" else bad)[key] = value
    return bad


def generate(config: SeasonConfig, applicants: int, seed: int) -> Population:
    """`applicants` submissions (about 3% bad) and the registries; deterministic for the arguments."""
    # Hundreds of thousands of small objects and no reference cycles: the cyclic garbage
    # collector would only rescan them over and over (a third of the time at 20,000 applicants).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(config, applicants, seed)
    finally:
        if enabled:
            gc.enable()


def _generate(config: SeasonConfig, applicants: int, seed: int) -> Population:
    gen = _Generator(config, seed)
    rng = gen.rng
    per_kind = round(applicants * BAD_SHARE / len(BAD_KINDS))
    if applicants >= 200:
        per_kind = max(1, per_kind)
    valid = applicants - per_kind * len(BAD_KINDS)
    children = [gen.child(1 if rng.random() < 0.6 else 7) for _ in range(valid)]
    # (day, order within the day, submission)
    out: list[tuple[date, float, Submission]] = [
        (c.submit_day, c.rank, Submission(c.body, c.grade, c.submit_day, "valid", None)) for c in children
    ]
    residents = [c for c in children if not c.foreign]
    # R-ID-1 and R-DATA-1: every other refused attempt is retried at once, corrected
    retrying = rng.sample(residents, min(len(residents), per_kind))
    twice = rng.sample(children, per_kind)  # valid > per_kind for any count

    def add_bad(kind: str, child: _Child, body: dict[str, Any], day: date, rank: float) -> None:
        out.append((day, rank, Submission(body, child.grade, day, kind, BAD_KINDS[kind])))

    for i in range(per_kind):
        for kind in ("bad-check-character", "forbidden-field"):
            if i % 2 == 0 and retrying:
                c = retrying.pop()
                rank = c.rank - 1e-9  # just before the corrected submission
            else:  # a child whose family gives up (or registers elsewhere)
                c = gen.child(1 if rng.random() < 0.6 else 7, resident=True)
                children.append(c)
                rank = c.rank
            body = _bad_check(c.body) if kind == "bad-check-character" else _forbidden(c.body, i)
            add_bad(kind, c, body, c.submit_day, rank)
        # R-AGE-1: born after the cut-off, half of them the very next day
        cutoff = config.age_cutoff
        born = cutoff + timedelta(days=1 if i % 2 == 0 else rng.between(2, 120))
        young = gen.child(1, birth=born)
        children.append(young)
        add_bad("under-age", young, young.body, young.submit_day, young.rank)
        # R-REG-2: the same child again, in another category, on the same day or later
        first = twice[i]
        again = _other_category(gen, first)
        window = gen.windows[first.grade]
        day = gen._day(first.submit_day, window.end)
        rank = first.rank + (1 - first.rank) * rng.random() if day == first.submit_day else rng.random()
        add_bad("duplicate", first, again, day, rank)

    out.sort(key=lambda t: (t[0], t[1]))
    records = [r for c in children for r in c.records]
    registries = Registries(
        public_security=[r for r in records if isinstance(r, HukouRecord)],
        housing=[r for r in records if isinstance(r, DeedRecord)],
        planning=[r for r in records if isinstance(r, PlanningRecord)],
        community=[r for r in records if isinstance(r, ResidenceRecord)],
    )
    return Population([s for _, _, s in out], registries)


def _other_category(gen: _Generator, child: _Child) -> dict[str, Any]:
    """A second body for `child` in another category (公民同招, 不可兼报: refused, R-REG-2)."""
    body = _copy(child.body)
    for key in ("private_school_id", "school_preferences"):
        body.pop(key, None)
    if child.body["category"] == "private" or not gen.private[child.grade]:
        body["category"] = "public"
    else:
        body["category"] = "private"
        body["private_school_id"] = gen._private_choice(child.grade, child.district)
    return body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m enrollment.synth.population",
        description="Write a synthetic population: submissions.jsonl and the agencies' JSONL files.",
    )
    parser.add_argument("--config", default="jilin-2023", help="season config name or path")
    parser.add_argument("--applicants", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", required=True, help="output directory")
    args = parser.parse_args(argv)
    config = load_season(args.config)
    started = time.perf_counter()
    population = generate(config, args.applicants, args.seed)
    population.write(args.out)
    intents = Counter(s.intent for s in population.submissions)
    print(
        f"{len(population.submissions)} submissions ({dict(sorted(intents.items()))}) written to {args.out} "
        f"in {time.perf_counter() - started:.2f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
