"""A synthetic but plausible Jilin City urban season config (`seasons/jilin-2023.yaml`).

The districts, their area codes and the 2023 calendar are the source notice's (SPEC.md); roads,
schools, plans and catchment zones are made up, deterministically (a fixed seed, no set iteration),
so `python -m enrollment.synth.city > seasons/jilin-2023.yaml` always prints the same file.

Layout: each district owns its own box of the city map (about 43.80-43.92 N, 126.45-126.65 E), with
east-west roads (路) and north-south streets (街) running across it. Public schools are spread out
over the roads by farthest-point sampling; each road is cut into chunks of house numbers and every
chunk goes to the zone whose school is nearest (weighted by the zone's plan), split by odd/even
numbers where two zones are about equally near. A few chunks at road ends belong to no zone.

Other cities and seasons (`--name siping-2024 --city 四平市 --year 2024 --seed 7`): the same layout
with the city's own districts (四平市 and 吉林市 have theirs; any other city gets three made-up ones),
its private, ethnic, special-education and specialised schools, the notice's calendar in that year,
and residential compounds (小区): in each district one grade-1 zone is drawn by compounds only (its
road ranges are left out), another names compounds beside its ranges, the grade-7 zone around each
of those compounds names it too, and one compound belongs to no zone's list (the zone of its gate).
`--workbook FILE.xlsx` writes the season as the bureau's workbook (enrollment.core.workbook) instead
of the YAML. The default output, seasons/jilin-2023.yaml, has no compounds and never changes.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from enrollment.core.config import GRADES, SeasonConfig

SEED = 20230511
CITY = "吉林市"
COMMAND = "python -m enrollment.synth.city > seasons/jilin-2023.yaml"
# The applicant count the seat totals are sized for (see the header of the YAML file).
DESIGN_APPLICANTS = 20_000
GRADE_SHARE = {1: 0.6, 7: 0.4}

_POLICY = ("policy-priority", "政策性照顾对象子女（现役军人、公安英模、引进人才等）", ("policy-priority",))
_MATCH = (
    "hukou-deed-match",
    "户籍、房产均在片区内，房户一致且实际居住",
    ("hukou-in-zone", "deed-in-zone", "hukou-deed-match", "actual-residence"),
)
_HUKOU = ("hukou-residence", "户籍在片区内且实际居住", ("hukou-in-zone", "actual-residence"))
_PERMIT = ("residence-permit", "持片区内居住证的随迁子女", ("residence-permit-in-zone",))
Tier = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class _DistrictPlan:
    code: str
    name: str
    kind: str
    area_code: str
    box: tuple[float, float, float, float]  # south, north, west, east (degrees)
    primary: int  # public primary schools (grade 1)
    nine_year: int  # public 九年一贯制 schools (grades 1 and 7)
    middle: int  # public middle schools (grade 7)
    assignment: str
    tiers: tuple[Tier, ...]


DISTRICTS: tuple[_DistrictPlan, ...] = (
    _DistrictPlan(
        "CY", "船营区", "urban-district", "220204", (43.835, 43.875, 126.480, 126.540), 10, 5, 5,
        "deferred-acceptance", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "CH", "昌邑区", "urban-district", "220202", (43.842, 43.876, 126.545, 126.605), 10, 4, 5,
        "deferred-acceptance", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "LT", "龙潭区", "urban-district", "220203", (43.880, 43.920, 126.565, 126.650), 8, 4, 4,
        "deferred-acceptance", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "FM", "丰满区", "urban-district", "220211", (43.800, 43.838, 126.548, 126.630), 8, 4, 4,
        "first-choice-first", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "GX", "高新区", "development-zone", "220271", (43.800, 43.832, 126.450, 126.540), 7, 4, 3,
        "deferred-acceptance", (_POLICY, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "JK", "经开区", "development-zone", "220272", (43.878, 43.920, 126.470, 126.555), 7, 3, 3,
        "first-choice-first", (_POLICY, _HUKOU, _PERMIT),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class _FixedSchool:
    """A school that is not public: named here, placed on one of its district's roads."""

    id: str
    name: str
    kind: str
    plans: dict[int, int]
    cross_district_approved: bool = False

    @property
    def district(self) -> str:
        return self.id.split("-")[1]


# R-LOT-*: small plans, so the popular ones are oversubscribed (two flagships very small: their
# lotteries run even in the 300-applicant demo); a few approved across districts.
OTHER_SCHOOLS: tuple[_FixedSchool, ...] = (
    _FixedSchool("P-CY-01", "船营区启明民办小学", "private", {1: 36}, True),
    _FixedSchool("P-CY-02", "船营区博雅民办中学", "private", {7: 36}, True),
    _FixedSchool("P-CH-01", "昌邑区明德民办小学", "private", {1: 40}),
    _FixedSchool("P-CH-02", "昌邑区致远民办学校", "private", {1: 36, 7: 16}, True),
    _FixedSchool("P-CH-03", "昌邑区弘文民办中学", "private", {7: 40}),
    _FixedSchool("P-LT-01", "龙潭区思源民办小学", "private", {1: 40}),
    _FixedSchool("P-LT-02", "龙潭区松苑民办中学", "private", {7: 80}),
    _FixedSchool("P-FM-01", "丰满区育英民办学校", "private", {1: 40, 7: 40}),
    _FixedSchool("P-FM-02", "丰满区求实民办中学", "private", {7: 120}),
    _FixedSchool("P-GX-01", "高新区英才民办小学", "private", {1: 8}, True),
    _FixedSchool("P-GX-02", "高新区睿思民办中学", "private", {7: 80}),
    _FixedSchool("P-JK-01", "经开区新苗民办小学", "private", {1: 40}),
    _FixedSchool("P-JK-02", "经开区远航民办中学", "private", {7: 40}),
    _FixedSchool("E-CH-01", "昌邑区朝鲜族实验小学", "ethnic", {1: 90}),
    _FixedSchool("E-CY-01", "船营区朝鲜族中学", "ethnic", {7: 150}),
    _FixedSchool("E-LT-01", "龙潭区满族九年一贯制学校", "ethnic", {1: 45, 7: 90}),
    _FixedSchool("SE-LT-01", "龙潭区启智特殊教育学校", "special-education", {1: 24, 7: 24}),
    _FixedSchool("T-FM-01", "丰满区育新专门学校", "specialised", {7: 40}),
)


@dataclass(frozen=True)
class CityPlan:
    """Which city and season `build` makes: its districts, its schools that are not public, compounds."""

    name: str  # the config's name, e.g. siping-2024
    city: str
    year: int
    seed: int
    districts: tuple[_DistrictPlan, ...]
    other_schools: tuple[_FixedSchool, ...]
    compounds: bool  # residential compounds (小区) in some zones


JILIN = CityPlan("jilin-2023", CITY, 2023, SEED, DISTRICTS, OTHER_SCHOOLS, compounds=False)

# Siping (四平市): its two urban districts' real names and area codes; the development zone, the
# boxes and everything on them are made up.
SIPING_DISTRICTS: tuple[_DistrictPlan, ...] = (
    _DistrictPlan(
        "TX", "铁西区", "urban-district", "220302", (43.150, 43.185, 124.300, 124.350), 5, 2, 3,
        "deferred-acceptance", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "TD", "铁东区", "urban-district", "220303", (43.150, 43.185, 124.355, 124.410), 5, 2, 3,
        "first-choice-first", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "HZ", "红嘴开发区", "development-zone", "220371", (43.190, 43.215, 124.320, 124.400), 4, 2, 2,
        "deferred-acceptance", (_POLICY, _HUKOU, _PERMIT),
    ),
)  # fmt: skip
_GENERIC_DISTRICTS: tuple[_DistrictPlan, ...] = (
    _DistrictPlan(
        "CD", "城东区", "urban-district", "229901", (43.150, 43.185, 124.355, 124.410), 5, 2, 3,
        "deferred-acceptance", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "CX", "城西区", "urban-district", "229902", (43.150, 43.185, 124.300, 124.350), 5, 2, 3,
        "first-choice-first", (_POLICY, _MATCH, _HUKOU, _PERMIT),
    ),
    _DistrictPlan(
        "KF", "开发区", "development-zone", "229971", (43.190, 43.215, 124.320, 124.400), 4, 2, 2,
        "deferred-acceptance", (_POLICY, _HUKOU, _PERMIT),
    ),
)  # fmt: skip


def _other_schools(districts: tuple[_DistrictPlan, ...]) -> tuple[_FixedSchool, ...]:
    """Private schools in every district (the first district's approved across districts), one
    ethnic school, one special-education school and one specialised school."""
    out: list[_FixedSchool] = []
    for i, d in enumerate(districts):
        out.append(
            _FixedSchool(
                f"P-{d.code}-01", f"{d.name}启明民办小学", "private", {1: 12 if i == 0 else 40}, i == 0
            )
        )
        out.append(_FixedSchool(f"P-{d.code}-02", f"{d.name}博雅民办中学", "private", {7: 40}, i == 0))
    first, second, last = districts[0], districts[1 % len(districts)], districts[-1]
    out.append(_FixedSchool(f"E-{first.code}-01", f"{first.name}朝鲜族学校", "ethnic", {1: 45, 7: 60}))
    out.append(
        _FixedSchool(
            f"SE-{second.code}-01", f"{second.name}特殊教育学校", "special-education", {1: 16, 7: 16}
        )
    )
    out.append(_FixedSchool(f"T-{last.code}-01", f"{last.name}专门学校", "specialised", {7: 30}))
    return tuple(out)


def city_plan(name: str, city: str, year: int, seed: int) -> CityPlan:
    """Another synthetic city or season: Jilin City's or Siping's districts, or three made-up ones."""
    if city == CITY:
        districts, others = DISTRICTS, OTHER_SCHOOLS
    else:
        districts = SIPING_DISTRICTS if city == "四平市" else _GENERIC_DISTRICTS
        others = _other_schools(districts)
    return CityPlan(name, city, year, seed, districts, others, compounds=True)


# Street-name stems (made up in the usual style of north-eastern Chinese cities).
_ROAD_STEMS = (
    "松江 解放 重庆 北京 天津 上海 河南 山东 辽宁 长春 珲春 延吉 通化 白山 "
    "敦化 德胜 致和 光华 新华 东昌 建华 民主 友谊 团结 胜利 和平 繁荣 前进 "
    "兴华 青年 长江 黄河 珠江 嫩江 牡丹 丁香 紫荆 梧桐 银杏 白桦 红旗 朝阳 "
    "东升 北山 江湾 滨江 临江 沿江 天池 长白 越山 大东 九站 哈达 世纪 恒山 "
    "华山 泰山 嵩山 衡山 黄山 庐山 秦岭 昆仑 祁连 太行 雁鸣 桃源 杏林 枫林 "
    "松花 清源 荣华 安居 福民 康乐 宁静 春晖 秋实 春光 阳光 启明 翠园 金珠 "
    "玉泉 锦江 汇丰 通达 顺城 永安 长安 平安 吉祥 兴业 创业 科技 学府 文化 "
    "仁和 德惠 江南 江北 新兴 迎宾 欧亚 翰林 书院 龙华 凤凰 鸿博 明珠 "
)  # split into stems in build()
_EW_SUFFIXES = ("路", "东路", "西路", "大路")  # roads run east-west, numbered from the west
_NS_SUFFIXES = ("街", "南街", "北街", "大街")  # streets run north-south, numbered from the south
_DIGITS = "零一二三四五六七八九"


def _cn(n: int) -> str:
    """1..99 in Chinese numerals (第三, 第十二, 第二十)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Planar distance in km; good enough across a city at 43.9 N."""
    dy = (a[0] - b[0]) * 111.2
    dx = (a[1] - b[1]) * 111.2 * 0.7208  # cos(43.9 degrees)
    return math.hypot(dx, dy)


@dataclass
class _Road:
    name: str
    stem: str
    district: str
    start: tuple[float, float]
    end: tuple[float, float]
    max_number: int

    def locate(self, number: int) -> tuple[float, float]:
        f = min(max(number, 1), self.max_number) / self.max_number
        return (
            round(self.start[0] + (self.end[0] - self.start[0]) * f, 6),
            round(self.start[1] + (self.end[1] - self.start[1]) * f, 6),
        )


@dataclass
class _School:
    id: str
    name: str
    kind: str
    district: str
    road: _Road
    number: int
    plans: dict[int, int]
    cross_district_approved: bool = False

    @property
    def location(self) -> tuple[float, float]:
        return self.road.locate(self.number)


@dataclass
class _Chunk:
    road: int  # index into the district's roads
    first: int
    last: int
    mid: tuple[float, float]
    covered: bool = True
    owners: dict[str, int] = field(default_factory=dict)  # parity ("all"/"odd"/"even") -> zone index


class _Flow(dict[Any, Any]):
    """A mapping written on one line."""


class _FlowList(list[Any]):
    """A list written on one line."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)


def _point(p: tuple[float, float]) -> _Flow:
    return _Flow(lat=p[0], lon=p[1])


# --- roads -------------------------------------------------------------------------------------


def _roads(rng: random.Random, d: _DistrictPlan, stems: list[str]) -> list[_Road]:
    south, north, west, east = d.box
    count = rng.randint(12, 18)
    n_ew = count // 2
    return [
        *_parallel(rng, d, stems, n_ew, (south, north), (west, east), _EW_SUFFIXES, north_south=False),
        *_parallel(rng, d, stems, count - n_ew, (west, east), (south, north), _NS_SUFFIXES, north_south=True),
    ]


def _parallel(
    rng: random.Random,
    d: _DistrictPlan,
    stems: list[str],
    count: int,
    across: tuple[float, float],
    along: tuple[float, float],
    suffixes: tuple[str, ...],
    *,
    north_south: bool,
) -> list[_Road]:
    """`count` roads spread `across` the district (latitudes for east-west roads, longitudes for
    north-south streets), each running `along` most of it, a little tilted."""
    low, high = across
    first, last = along
    roads: list[_Road] = []
    for i in range(count):
        step = (high - low) / count
        at = low + (i + 0.5) * step + rng.uniform(-0.15, 0.15) * step
        a0 = first + rng.uniform(0.0, 0.12) * (last - first)
        a1 = last - rng.uniform(0.0, 0.12) * (last - first)
        tilt = rng.uniform(-0.2, 0.2) * step
        stem = stems.pop()
        start, end = (round(at - tilt, 6), round(a0, 6)), (round(at + tilt, 6), round(a1, 6))
        if north_south:  # (lat, lon): the street's position across is its longitude
            start, end = (start[1], start[0]), (end[1], end[0])
        roads.append(_Road(stem + rng.choice(suffixes), stem, d.code, start, end, rng.randint(10, 40) * 10))
    return roads


# --- schools -----------------------------------------------------------------------------------


def _spread_spots(rng: random.Random, roads: list[_Road], count: int) -> list[tuple[_Road, int]]:
    """`count` places on the roads, spread out (greedy farthest-point sampling)."""
    candidates = [
        (road, max(1, round(road.max_number * f) + rng.randint(-8, 8)))
        for road in roads
        for f in (0.15, 0.32, 0.5, 0.68, 0.85)
    ]
    chosen = [candidates.pop(rng.randrange(len(candidates)))]
    nearest = [_km(r.locate(n), chosen[0][0].locate(chosen[0][1])) for r, n in candidates]
    while len(chosen) < count:
        i = max(range(len(candidates)), key=lambda k: nearest[k])
        pick = candidates.pop(i)
        nearest.pop(i)
        chosen.append(pick)
        where = pick[0].locate(pick[1])
        nearest = [
            min(dist, _km(r.locate(n), where)) for dist, (r, n) in zip(nearest, candidates, strict=True)
        ]
    return chosen


def _public_schools(rng: random.Random, d: _DistrictPlan, roads: list[_Road]) -> list[_School]:
    spots = _spread_spots(rng, roads, d.primary + d.nine_year + d.middle)
    rng.shuffle(spots)
    kinds = ["primary"] * d.primary + ["nine-year"] * d.nine_year + ["middle"] * d.middle
    used: list[str] = []
    counters = {"primary": 0, "nine-year": 0, "middle": 0}
    schools: list[_School] = []
    for n, (kind, (road, number)) in enumerate(zip(kinds, spots, strict=True), start=1):
        counters[kind] += 1
        k = counters[kind]
        if kind == "primary":
            plans = {1: rng.choice((180, 225, 270, 270, 315, 360, 360))}
            styles = (f"{d.name}第{_cn(k)}实验小学", f"{d.name}第{_cn(k)}小学", f"{d.name}{road.stem}小学")
            name = styles[(k - 1) % 3]
        elif kind == "nine-year":
            plans = {1: rng.choice((135, 180, 225, 270)), 7: rng.choice((200, 250, 300, 350))}
            name = f"{d.name}{road.stem}学校" if k % 2 else f"{d.name}第{_cn(k)}九年一贯制学校"
        else:
            plans = {7: rng.choice((300, 350, 400, 450, 500))}
            name = f"{d.name}第{_cn(k)}中学" if k % 2 else f"{d.name}{road.stem}中学"
        if name in used:  # two schools on roads with the same stem: number the second
            name = name.replace(road.stem, f"{road.stem}第二")
        used.append(name)
        schools.append(_School(f"S-{d.code}-{n:02d}", name, "public", d.code, road, number, plans))
    return schools


def _fixed_schools(
    rng: random.Random, d: _DistrictPlan, roads: list[_Road], fixed: tuple[_FixedSchool, ...]
) -> list[_School]:
    out = []
    for s in fixed:
        if s.district != d.code:
            continue
        road = rng.choice(roads)
        number = rng.randint(road.max_number // 8, road.max_number * 7 // 8)
        out.append(
            _School(s.id, s.name, s.kind, d.code, road, number, dict(s.plans), s.cross_district_approved)
        )
    return out


# --- zones -------------------------------------------------------------------------------------


def _chunks(rng: random.Random, roads: list[_Road]) -> list[_Chunk]:
    """Cut every road into runs of house numbers; the last run of some roads is in no zone."""
    chunks: list[_Chunk] = []
    for i, road in enumerate(roads):
        pieces = max(2, round(road.max_number / rng.choice((40, 50, 60))))
        bounds = [round(road.max_number * k / pieces) for k in range(pieces + 1)]
        for k in range(pieces):
            first, last = bounds[k] + 1, bounds[k + 1]
            mid = road.locate((first + last) // 2)
            chunks.append(_Chunk(i, first, last, mid))
        if rng.random() < 0.3:  # a new estate at the road's end, not zoned yet
            chunks[-1].covered = False
    return chunks


def _group(rng: random.Random, grade: int, takers: list[_School]) -> list[list[_School]]:
    """Most zones have one school (单校划片); one or two share a zone (多校划片)."""
    big = len(takers) >= (10 if grade == 1 else 8)
    sizes = {(1, True): [3, 2], (1, False): [2, 2], (7, True): [2, 2], (7, False): [2]}[(grade, big)]
    rest = list(takers)
    groups: list[list[_School]] = []
    for size in sizes:
        seed = rest.pop(rng.randrange(len(rest)))
        rest.sort(key=lambda s: (_km(s.location, seed.location), s.id))
        groups.append([seed, *rest[: size - 1]])
        rest = rest[size - 1 :]
    groups += [[s] for s in rest]
    for g in groups:
        g.sort(key=lambda s: s.id)
    groups.sort(key=lambda g: g[0].id)
    return groups


def _zones(
    rng: random.Random, d: _DistrictPlan, roads: list[_Road], schools: list[_School], chunks: list[_Chunk]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for grade in GRADES:
        groups = _group(rng, grade, [s for s in schools if s.plans.get(grade)])
        plans = [sum(s.plans[grade] for s in g) for g in groups]
        mean = sum(plans) / len(plans)
        weight = [math.sqrt(p / mean) for p in plans]

        def score(
            c: _Chunk, z: int, groups: list[list[_School]] = groups, weight: list[float] = weight
        ) -> float:
            return min(_km(c.mid, s.location) for s in groups[z]) / weight[z]

        live = [c for c in chunks if c.covered]
        for c in live:
            ranked = sorted(range(len(groups)), key=lambda z: (score(c, z), z))
            best, second = ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]
            if best != second and score(c, second) < 1.06 * score(c, best) and c.last - c.first >= 10:
                c.owners = {"odd": best, "even": second}  # the two sides of the road
            else:
                c.owners = {"all": best}
        for z in range(len(groups)):  # every zone gets at least one run of numbers
            if any(z in c.owners.values() for c in live):
                continue
            counts = [sum(z2 in c.owners.values() for c in live) for z2 in range(len(groups))]
            for c in sorted(live, key=lambda c: score(c, z)):
                if all(counts[o] > 1 for o in c.owners.values()):
                    c.owners = {"all": z}
                    break
        segments: list[list[dict[str, Any]]] = [[] for _ in groups]
        for c in live:
            for parity, z in c.owners.items():
                segs = segments[z]
                prev = segs[-1] if segs else None
                if (
                    prev is not None
                    and prev["road"] == roads[c.road].name
                    and prev.get("parity", "all") == parity
                    and prev["to_number"] == c.first - 1
                ):
                    prev["to_number"] = c.last
                    continue
                seg = _Flow(road=roads[c.road].name, from_number=c.first, to_number=c.last)
                if parity != "all":
                    seg["parity"] = parity
                segs.append(seg)
        for n, (group, segs) in enumerate(zip(groups, segments, strict=True), start=1):
            out.append(
                {
                    "id": f"Z-{d.code}-{grade}-{n:02d}",
                    "district": d.code,
                    "grade": grade,
                    "schools": _FlowList(s.id for s in group),
                    "segments": segs,
                }
            )
    return out


# --- residential compounds (小区) ----------------------------------------------------------------

_COMPOUND_NAMES = (
    "锦绣家园 阳光花园 幸福里 翠湖苑 金色华庭 和谐家园 书香门第 绿城花园 江山府 丽景湾 紫金苑 盛世名城 "
    "御景园 春江花月 枫丹白露 万家丽苑 碧水云天 怡然居 康桥水郡 国际花园 融景城 宏源小区 铁路小区 "
    "电业小区 粮食小区 纺织小区 化工小区 师范小区 福星家园 天合园 湖滨苑 长青园 望湖苑 观澜苑 "
    "兴隆家园 东方明珠苑 龙腾苑 新世纪花园 海棠苑 桂花园"
)  # split into names in build()


def _compounds(
    rng: random.Random, d: _DistrictPlan, roads: list[_Road], zones: list[dict[str, Any]], names: list[str]
) -> list[dict[str, Any]]:
    """The district's compounds; changes `zones`: one grade-1 zone is drawn by compounds only (its
    road ranges left out), another names compounds beside its ranges, the grade-7 zone of each
    compound's gate names it too, and one compound is left to the zone of its gate."""
    by_name = {r.name: r for r in roads}
    made: list[dict[str, Any]] = []

    def compound(seg: dict[str, Any]) -> str:
        road = by_name[seg["road"]]
        number = (seg["from_number"] + seg["to_number"]) // 2
        lat, lon = road.locate(number)
        name = names.pop()
        made.append(
            _Flow(
                name=name,
                district=d.code,
                road=road.name,
                number=number,
                location=_point(
                    (round(lat + rng.uniform(0.0002, 0.0006), 6), round(lon + rng.uniform(-4e-4, 4e-4), 6))
                ),
            )
        )
        return name

    grade1 = [z for z in zones if z["grade"] == 1]
    single = [z for z in grade1 if len(z["schools"]) == 1 and len(z["segments"]) >= 2]
    only = rng.choice(single) if single else None
    mixed = rng.choice([z for z in grade1 if z is not only])
    if only is not None:
        segments, only["segments"] = only["segments"], []
        only["compounds"] = _FlowList(compound(seg) for seg in segments[:3])
    mixed["compounds"] = _FlowList(compound(seg) for seg in mixed["segments"][: rng.choice((1, 2))])
    named = list(made)
    for z in [z for z in zones if z["grade"] == 7]:
        z_roads = {
            (s["road"], s["from_number"], s["to_number"], s.get("parity", "all")) for s in z["segments"]
        }
        mine = [
            c["name"]
            for c in named
            if any(
                road == c["road"]
                and lo <= c["number"] <= hi
                and (p == "all" or (c["number"] % 2 == 1) == (p == "odd"))
                for road, lo, hi, p in z_roads
            )
        ]
        if mine:
            z["compounds"] = _FlowList(mine)
    covered = [seg for z in zones if z["grade"] == 1 and z is not only for seg in z["segments"]]
    compound(rng.choice(covered))  # in no zone's list: its gate's zone
    return made


# --- the whole config --------------------------------------------------------------------------


def _calendar(year: int = 2023) -> dict[str, Any]:
    """The notice's calendar (annex 2), its days in `year`."""

    def day(month: int, d: int) -> date:
        return date(year, month, d)

    def span(a: date, b: date) -> _Flow:
        return _Flow(start=a, end=b)

    return {
        "notice_issued": day(5, 11),
        "plans_published": day(5, 12),
        "grade7_registration": span(day(5, 13), day(5, 19)),
        "grade1_registration": span(day(5, 20), day(5, 29)),
        "verification": span(day(5, 30), day(6, 9)),
        "home_visits": span(day(6, 10), day(6, 15)),
        "private_counts_due": day(6, 16),
        "lottery_day": day(6, 17),
        "coordination": span(day(6, 19), day(6, 26)),
        "spot_check": span(day(6, 27), day(7, 5)),
        "admission_notices": day(7, 6),
        "reporting_day": day(7, 8),
        "term_start": day(9, 1),
        "class_assignment_days_before_term": 7,
    }


def build(scale: int = 1, plan: CityPlan | None = None) -> dict[str, Any]:
    """The season config as plain data (what the YAML file holds). `scale` > 1: the same city with
    every school's plan `scale` times as large, for a season of up to `scale` × DESIGN_APPLICANTS
    children (`enroll demo` at a city's size: `seats_for`). `plan`: another city or season
    (`city_plan`); the default is Jilin City 2023."""
    plan = plan or JILIN
    rng = random.Random(plan.seed)
    stems = _ROAD_STEMS.split()
    rng.shuffle(stems)
    names = _COMPOUND_NAMES.split()
    random.Random(f"{plan.seed}/compounds").shuffle(names)
    districts: list[dict[str, Any]] = []
    roads: list[dict[str, Any]] = []
    compounds: list[dict[str, Any]] = []
    schools: list[dict[str, Any]] = []
    zones: list[dict[str, Any]] = []
    for d in plan.districts:
        district_roads = _roads(rng, d, stems)
        public = _public_schools(rng, d, district_roads)
        others = _fixed_schools(rng, d, district_roads, plan.other_schools)
        chunks = _chunks(rng, district_roads)
        district_zones = _zones(rng, d, district_roads, public, chunks)
        if plan.compounds:
            compounds += _compounds(
                random.Random(f"{plan.seed}/{d.code}"), d, district_roads, district_zones, names
            )
        zones += district_zones
        districts.append(
            {
                "code": d.code,
                "name": d.name,
                "kind": d.kind,
                "area_code": d.area_code,
                "multi_school_assignment": d.assignment,
                "priority_tiers": [_Flow(id=i, name=n, requires=_FlowList(r)) for i, n, r in d.tiers],
            }
        )
        roads += [
            _Flow(
                name=r.name,
                district=r.district,
                start=_point(r.start),
                end=_point(r.end),
                max_number=r.max_number,
            )
            for r in district_roads
        ]
        for s in public + others:
            entry: dict[str, Any] = {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "district": s.district,
                "address": f"{plan.city}{d.name}{s.road.name}{s.number}号",
                "location": _point(s.location),
                "plans": _Flow(sorted((g, p * scale) for g, p in s.plans.items())),
            }
            if s.cross_district_approved:
                entry["cross_district_approved"] = True
            schools.append(entry)
    out: dict[str, Any] = {
        "name": plan.name,
        "season": str(plan.year),
        "year": plan.year,
        "city": plan.city,
        "timezone": "Asia/Shanghai",
        "calendar": _calendar(plan.year),
        "districts": districts,
        "roads": roads,
    }
    if plan.compounds:
        out["compounds"] = compounds
    out["schools"] = schools
    out["zones"] = zones
    return out


def config(scale: int = 1, plan: CityPlan | None = None) -> SeasonConfig:
    """The generated season, validated."""
    return SeasonConfig.model_validate(build(scale, plan))


def seats_for(applicants: int) -> int:
    """The smallest `scale` whose city seats `applicants` children (the design ratio of DESIGN_APPLICANTS)."""
    return max(1, -(-applicants // DESIGN_APPLICANTS))


def _other_header(raw: dict[str, Any], plan: CityPlan) -> str:
    schools = raw["schools"]
    kinds = ("public", "private", "ethnic", "special-education", "specialised")
    counts = ", ".join(f"{k} {sum(s['kind'] == k for s in schools)}" for k in kinds)
    seats = {g: sum(s["plans"].get(g, 0) for s in schools if s["kind"] == "public") for g in GRADES}
    by_compounds = sum(1 for z in raw["zones"] if not z["segments"])
    mixed = sum(1 for z in raw["zones"] if z["segments"] and z.get("compounds"))
    command = f"python -m enrollment.synth.city --name {plan.name} --city {plan.city} --year {plan.year} --seed {plan.seed}"
    return "\n".join(
        [
            f"# {plan.city} compulsory-education enrollment season {plan.year}: SYNTHETIC test data.",
            f"# Generated by `{command}`.",
            "# Roads, compounds, schools, plans and zones are made up. No real addresses of families are implied.",
            f"# Schools: {counts}. Public seats: grade 1 {seats[1]}, grade 7 {seats[7]}.",
            f"# Compounds: {len(raw.get('compounds', []))}; zones drawn by compounds only {by_compounds},"
            f" by road ranges and compounds {mixed}.",
            "",
        ]
    )


def _header(raw: dict[str, Any], scale: int = 1) -> str:
    schools = raw["schools"]
    kinds = ("public", "private", "ethnic", "special-education", "specialised")
    counts = ", ".join(f"{k} {sum(s['kind'] == k for s in schools)}" for k in kinds)
    seats = {g: sum(s["plans"].get(g, 0) for s in schools if s["kind"] == "public") for g in GRADES}
    demand = {g: round(DESIGN_APPLICANTS * scale * GRADE_SHARE[g]) for g in GRADES}
    multi = {g: sum(len(z["schools"]) > 1 for z in raw["zones"] if z["grade"] == g) for g in GRADES}
    single = {g: sum(len(z["schools"]) == 1 for z in raw["zones"] if z["grade"] == g) for g in GRADES}
    return "\n".join(
        [
            "# Jilin City (吉林市) urban compulsory-education enrollment season 2023: SYNTHETIC test data.",
            f"# Generated by `{COMMAND}`:",
            "# edit enrollment/synth/city.py and regenerate, do not edit this file by hand.",
            "# Districts, area codes and the calendar follow 吉市教发〔2023〕55号 (SPEC.md); roads, schools,",
            "# plans and zones are made up. No real addresses of families are implied.",
            f"# Schools: {counts}.",
            f"# Public seats: grade 1 {seats[1]}, grade 7 {seats[7]}. A season of {DESIGN_APPLICANTS * scale} applicants",
            f"# (60% grade 1, 40% grade 7) needs at most {demand[1]} and {demand[7]}, so coordination",
            "# (R-COORD-1) always finds a public seat, even for every lottery loser.",
            f"# Zones: grade 1 {single[1]} single-school + {multi[1]} multi-school;"
            f" grade 7 {single[7]} single-school + {multi[7]} multi-school.",
            "",
        ]
    )


def render(scale: int = 1, plan: CityPlan | None = None) -> str:
    """The YAML text of `seasons/jilin-2023.yaml` (`scale` 1), header comment included; `plan`:
    another city or season's."""
    raw = build(scale, plan)
    SeasonConfig.model_validate(raw)  # never print a config that does not load
    body = yaml.dump(raw, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=200)
    header = _header(raw, scale) if plan is None or plan == JILIN else _other_header(raw, plan)
    return header + body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m enrollment.synth.city",
        description="a synthetic season config: by default Jilin City 2023 (seasons/jilin-2023.yaml) on stdout",
    )
    parser.add_argument("--scale", type=int, default=1, help="every plan this many times as large")
    parser.add_argument("--name", help="another season's config name, e.g. siping-2024")
    parser.add_argument("--city", help="its city, e.g. 四平市 (吉林市 and 四平市 have their districts)")
    parser.add_argument("--year", type=int, help="its year (the notice's calendar in that year)")
    parser.add_argument("--seed", type=int, help="its seed")
    parser.add_argument("--workbook", help="write the season as the bureau's workbook (.xlsx) instead")
    args = parser.parse_args(argv)
    plan = None
    if any(v is not None for v in (args.name, args.city, args.year, args.seed)):
        year = args.year or 2024
        plan = city_plan(
            args.name or f"synthetic-{year}", args.city or "四平市", year, args.seed or SEED + year
        )
    if args.workbook:
        from enrollment.core.workbook import workbook_bytes

        with open(args.workbook, "wb") as f:
            f.write(workbook_bytes(config(args.scale, plan)))
        sys.stderr.write(f"workbook written: {args.workbook}\n")
        return
    sys.stdout.buffer.write(render(args.scale, plan).encode("utf-8"))


if __name__ == "__main__":
    main()
