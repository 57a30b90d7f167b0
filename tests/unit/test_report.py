"""The season report (R-OPEN-1 openness, R-WARN-1 seat warnings): one Chinese page, charts inline.

The page is for the public and staff: Chinese only (no rule id, no English heading, no internal
code), readable on a phone (viewport, fluid layout, scrolling tables, charts drawn at a phone's
width) and printable (`@media print`); it holds everything itself and the same input gives the same
bytes. The workflow's task that writes it is tested in tests/integration/test_season_report.py.
"""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from enrollment.core.config import load_season
from enrollment.lottery.pools import Pools
from enrollment.registration.demand import Demand
from enrollment.report import charts
from enrollment.report.data import Lottery, word
from enrollment.report.page import SECTIONS, render, write
from enrollment.verification.verdicts import REASON_ZH as VERDICT_REASON_ZH

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "test-output" / "report"
ALL_CHARTS = ["chart-demand", "chart-lotteries", "chart-reasons", "chart-routes", "chart-distance"]
RULE_ID = re.compile(r"R-[A-Z]+-\d")
ROUTE_ZH = {
    "catchment": "划片入学",
    "priority": "政策性照顾（优先）",
    "private-no-draw": "民办学校录取（未超计划）",
    "private-draw": "民办学校电脑派位录取",
    "coordination": "统筹安排",
    "regular-class": "随班就读（专家委员会评估）",
    "deferred": "缓学",
}
COORDINATION_ZH = {
    "catchment-overflow": "片区学校学位已满",
    "verification-failed": "信息审核未通过（R-VER-4）",  # a rule id in a word: the page drops it
    "no-catchment": "住址不在任何招生片区",
    "private-not-admitted": "民办学校未录取（R-LOT-5）",
}


def _applicants(rnd: random.Random, plan: int) -> int:
    """Most schools below plan, about 13 % near it and 7 % over it (R-WARN-1)."""
    r = rnd.random()
    share = (
        rnd.uniform(1.02, 1.6) if r < 0.07 else rnd.uniform(0.9, 1.0) if r < 0.2 else rnd.uniform(0.4, 0.88)
    )
    return round(plan * share)


def season_data(seed: int = 2023) -> dict[str, Any]:
    """A realistic season: the 2023 config's schools with synthetic counts (no person appears)."""
    rnd = random.Random(seed)
    config = load_season("jilin-2023")
    demand = []
    for s in config.schools:
        if s.kind == "special-education":
            continue
        for g in sorted(s.plans):
            demand.append(
                Demand("school", s.id, s.name, g, s.district, s.kind, s.plan(g), _applicants(rnd, s.plan(g)))
            )
    for z in config.zones:
        if z.multi_school:
            plan = sum(config.school_index[sid].plan(z.grade) for sid in z.schools)
            names = "、".join(config.school_index[sid].name for sid in z.schools)
            demand.append(
                Demand("zone", z.id, names, z.grade, z.district, "public", plan, _applicants(rnd, plan))
            )
    lotteries = []
    for s in config.schools:
        if s.kind != "private":
            continue
        for g in sorted(s.plans):
            plan = s.plan(g)
            own_n = round(plan * rnd.choice([0.5, 0.8, 1.2, 2.5]))
            other_n = round(plan * rnd.choice([0.1, 0.4, 0.9]))
            pools = Pools.split(
                s.id,
                g,
                s.district,
                plan,
                [f"{s.id}-own-{i}" for i in range(own_n)],
                [f"{s.id}-other-{i}" for i in range(other_n)],
            )
            lotteries.append(
                {
                    "school_id": s.id,
                    "school_name": s.name,
                    "grade": g,
                    "plan": plan,
                    "applicants": pools.applicants,
                    "own_district_applicants": own_n,
                    "case": pools.case,
                    "seats": pools.seats,
                    "pool": len(pools.pool),
                    "admitted": min(plan, pools.applicants),
                }
            )
    reasons = list(VERDICT_REASON_ZH)[:11]
    verification = {
        "verdicts": 3000,
        "by_status": {"eligible": 2610, "not-eligible": 331, "review": 59},
        "by_reason": {r: rnd.randint(3, 120) for r in reasons},
        "by_district": {
            d.code: {
                "eligible": rnd.randint(300, 600),
                "not-eligible": rnd.randint(20, 80),
                "review": rnd.randint(0, 15),
            }
            for d in config.districts
        },
        "signed": 390,
        "reason_zh": dict(VERDICT_REASON_ZH),
    }
    distances = sorted(int(rnd.lognormvariate(7.3, 0.6)) for _ in range(240))
    placement = {
        "children": 3000,
        "by_route": {
            "catchment": 2391,
            "coordination": 240,
            "private-draw": 180,
            "private-no-draw": 120,
            "priority": 41,
            "regular-class": 20,
            "deferred": 8,
        },
        "coordinated_by_reason": {
            "catchment-overflow": 120,
            "verification-failed": 70,
            "private-not-admitted": 40,
            "no-catchment": 10,
        },
        "coordinated_distance_m": {
            "count": len(distances),
            "median": distances[len(distances) // 2],
            "p90": distances[int(len(distances) * 0.9)],
            "max": distances[-1],
        },
        "route_zh": ROUTE_ZH,
        "reason_zh": COORDINATION_ZH,
        "coordinated_distances_m": distances,
    }
    return {
        "season": "jilin-2023",
        "city": "吉林市",
        "generated_at": "2023-07-06 09:00 +08:00",
        "district_names": {d.code: d.name for d in config.districts},
        "demand": [d.as_row() for d in demand],
        "lotteries": lotteries,
        "verification": verification,
        "placement": placement,
    }


class _Page(HTMLParser):
    """What a reader sees: the visible text (outside style and the SVG's own title), headings, charts."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.svgs: list[dict[str, str | None]] = []
        self.h: list[str] = []
        self.h2: list[str] = []
        self.th = 0
        self.tables = 0
        self.links: list[str] = []
        self.text: list[str] = []
        self.metas: list[dict[str, str | None]] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "svg":
            self.svgs.append(a)
        elif tag == "meta":
            self.metas.append(a)
        elif tag in ("h1", "h2", "h3", "th", "caption"):
            self.h.append("")
            if tag == "h2":
                self.h2.append("")
        elif tag == "table":
            self.tables += 1
        if tag == "th":
            self.th += 1
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(str(a[key]))
        if tag not in ("meta", "rect", "line", "br"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "style" in self._in:
            return
        self.text.append(data)
        if any(t in self._in for t in ("h1", "h2", "h3", "th", "caption")):
            self.h[-1] += data
        if "h2" in self._in:
            self.h2[-1] += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _visible(page: _Page) -> str:
    return "".join(page.text)


def test_full_season_renders_every_section_with_its_charts() -> None:
    text = render(season_data())

    page = _parse(text)
    assert text.startswith("<!DOCTYPE html>")
    assert page.lang == "zh-CN"
    assert "<h1>吉林市2023年义务教育招生入学情况报告</h1>" in text
    assert page.h2 == list(SECTIONS.values())
    assert [str(s.get("aria-labelledby")).split()[0] for s in page.svgs] == [f"{k}-t" for k in ALL_CHARTS]
    for key in ALL_CHARTS:  # each chart is named and described (its alt text)
        desc = re.search(rf'<desc id="{key}-d">([^<]+)</desc>', text)
        assert desc and len(desc.group(1)) > 20, key
    assert page.tables >= 6 and page.th > 40  # tables have header cells
    assert "<caption>" in text and 'scope="col"' in text


def test_the_page_is_chinese_only_no_rule_ids_no_codes() -> None:
    data = season_data()
    text = render(data)

    page = _parse(text)
    visible = _visible(page)
    assert not RULE_ID.search(text)  # not even in the markup (a word's "（R-VER-4）" is dropped)
    for heading in page.h:  # no heading is English: every one has Chinese and no run of ASCII words
        assert re.search(r"[\u4e00-\u9fff]", heading), heading
        assert not re.search(r"[A-Za-z]{3,}", heading), heading
    assert not re.search(r"\b[a-z]+(?:-[a-z]+)+\b", visible)  # no route, reason or status code
    for d in data["demand"]:  # no school or zone id
        assert d["id"] not in visible
    for lot in data["lotteries"]:
        assert lot["school_id"] not in visible
    assert "信息审核未通过" in visible and "<code>" not in text
    assert not re.search(r"[A-Za-z]", visible), re.findall(r"[A-Za-z]+", visible)  # not one English word


def test_the_page_has_the_seasons_numbers() -> None:
    data = season_data()
    visible = _visible(_parse(render(data)))

    p, v = data["placement"], data["verification"]
    assert f"{p['children']}" in visible and f"{p['by_route']['coordination']}" in visible
    assert f"{v['verdicts']}" in visible and f"{v['by_status']['not-eligible']}" in visible
    assert f"{sum(d['applicants'] for d in data['demand'])}" in visible
    assert f"{sum(lot['applicants'] for lot in data['lotteries'])}" in visible
    assert f"{p['coordinated_distance_m']['median'] / 1000:.1f}公里" in visible


def test_the_page_reads_on_a_phone_and_prints() -> None:
    text = render(season_data())

    page = _parse(text)
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in page.metas
    assert "@media print" in text and "@page" in text and "thead { display: table-header-group; }" in text
    assert not re.search(r"(?<![-\w])width:\s*\d{3,}px", text)  # no fixed page width
    assert ".table-wrap { overflow-x: auto;" in text  # from 600 px a wide table scrolls in its own box
    assert "@media screen and (max-width: 599px)" in text and "content: attr(data-label)" in text  # cards
    assert text.count('class="table-wrap"') == page.tables
    # charts are drawn at a phone's width: 13-unit labels in a 360-unit viewBox read at ~13 px at 390 px
    for svg in page.svgs:
        assert str(svg["viewbox"]).startswith(f"0 0 {charts.WIDTH} ")
        assert svg["font-size"] == str(charts.FONT)
    # on a 390 px phone the chart is 358 px wide (16 px margins): its smallest text is at least 12 px
    assert charts.SMALL * 358 / charts.WIDTH >= 12 and charts.FONT >= charts.SMALL


def test_long_labels_are_cut_to_the_charts_width() -> None:
    long = "船营区第一实验小学与第二实验小学多校划片片区联合招生（一年级）"
    svg = charts.bars("k", "t", "d", [charts.Bar(long, 1.0, "1人", "#000")], scale=1.0)

    label = re.search(r'<text x="0" y="\d+">([^<]+)</text>', svg)
    assert label and len(label.group(1)) == charts.LABEL_CHARS and label.group(1).endswith("…")
    assert charts.LABEL_CHARS * charts.FONT <= charts.WIDTH  # Chinese characters are about FONT wide


def test_the_page_is_self_contained_and_the_same_every_time() -> None:
    text = render(season_data())

    page = _parse(text)
    assert all(link.startswith("#") for link in page.links), page.links
    assert not re.search(r"https?:(?!//www\.w3\.org/2000/svg)|url\(|@import|<script|<link|<img", text, re.I)
    assert render(season_data()) == text


def test_seat_warnings_list_every_over_and_near_school() -> None:  # R-WARN-1
    data = season_data()
    text = render(data)

    warned = [d for d in data["demand"] if d["warning"]]
    assert warned
    for d in warned:
        assert f'<th scope="row" data-label="学校/片区">{d["name"]}</th>' in text
    assert text.count('class="tag over"') == sum(1 for d in warned if d["warning"] == "over")
    assert text.count('class="tag near"') == sum(1 for d in warned if d["warning"] == "near")


def test_every_cell_carries_its_columns_label_for_the_phones_cards() -> None:
    # Given the full season's page, Then each body cell names its column (a phone shows "label: value")
    text = render(season_data())
    tables = re.findall(r"<thead><tr>(.*?)</tr></thead><tbody>(.*?)</tbody>", text, re.S)
    assert len(tables) >= 6
    for head, body in tables:
        labels = re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", head)
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = re.findall(r"<t[hd]([^>]*)>", row)
            if 'colspan="' in row:  # the one "无" row of an empty table
                continue
            found = [m.group(1) if (m := re.search(r'data-label="([^"]*)"', c)) else None for c in cells]
            assert found == labels, (labels, row)


def test_a_partial_season_renders_only_its_sections() -> None:
    text = render({"season": "jilin-2023", "demand": season_data()["demand"]})

    page = _parse(text)
    assert page.lang == "zh-CN"
    assert page.h2 == [SECTIONS["demand"]]
    for key in ("lotteries", "verification", "placement"):
        assert SECTIONS[key] not in text
    assert [str(s["aria-labelledby"]).split()[0] for s in page.svgs] == ["chart-demand-t"]


def test_an_empty_season_still_renders(tmp_path: Path) -> None:
    path = write({}, tmp_path)

    text = path.read_text(encoding="utf-8")
    page = _parse(text)
    assert path == tmp_path / "report.html"
    assert page.lang == "zh-CN" and not page.svgs and not page.h2
    assert "暂无数据" in text


def test_placement_without_distances_has_no_histogram() -> None:
    placement = dict(season_data()["placement"])
    del placement["coordinated_distances_m"]
    text = render({"placement": placement})

    assert [str(s["aria-labelledby"]).split()[0] for s in _parse(text).svgs] == ["chart-routes-t"]
    assert "统筹安排儿童家到学校的距离" in text  # the summary statistics are still shown


def test_an_unknown_code_is_shown_as_other_never_as_itself() -> None:
    assert word({"a": "甲（R-VER-1）"}, "a") == "甲"
    assert word({}, "some-new-reason") == "其他"


@pytest.mark.parametrize(
    ("row", "case", "pool", "seats", "odds"),
    [
        ({"plan": 40, "applicants": 30, "own_district_applicants": 25}, "all-admitted", 0, 0, 1.0),  # R-LOT-1
        ({"plan": 40, "applicants": 130, "own_district_applicants": 100}, "draw-own-district", 100, 40, 0.4),
        ({"plan": 40, "applicants": 70, "own_district_applicants": 30}, "draw-other-districts", 40, 10, 0.25),
        (
            {"plan": 40, "applicants": 70, "own_district_applicants": 30, "pool": "other-districts"},
            "draw-other-districts",
            40,
            10,
            0.25,
        ),
        (
            {"plan": 2, "applicants": 5, "own_district_applicants": 5, "pool": ["a", "b", "c", "d", "e"]},
            "draw-own-district",
            5,
            2,
            0.4,
        ),
    ],
)
def test_lottery_odds(row: dict[str, Any], case: str, pool: int, seats: int, odds: float) -> None:  # R-LOT-2
    lot = Lottery.of({"school_id": "P-CY-01", "grade": 1, **row})

    assert (lot.case, lot.pool, lot.seats) == (case, pool, seats)
    assert lot.odds == pytest.approx(odds)


def test_sample_report_for_review() -> None:
    """Writes test-output/report/report.html (git-ignored) for a person, or a browser, to look at."""
    path = write(season_data(), SAMPLE_DIR)

    assert path.is_file() and path.stat().st_size > 20_000


EMPTY = {"0", "—", "0%", "0.0%", "0米", "无"}


def _rows(text: str) -> list[list[str]]:
    """Each body row of every table, its cells' text."""
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", text, re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            rows.append(
                [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            )
    return rows


def test_rows_with_nothing_in_them_are_left_out() -> None:
    # Given a season where some private schools had no applicant, a reason, a route and a district none
    data = season_data()
    nobody = [
        {
            "school_id": "P-XX-01",
            "school_name": "无人报名民办学校甲",
            "grade": 1,
            "plan": 40,
            "applicants": 0,
            "own_district_applicants": 0,
            "case": "all-admitted",
            "seats": 0,
            "pool": 0,
            "admitted": 0,
        },
        {
            "school_id": "P-XX-02",
            "school_name": "无人报名民办学校乙",
            "grade": 7,
            "plan": 80,
            "applicants": 0,
            "own_district_applicants": 0,
        },
    ]
    data["lotteries"] = [*data["lotteries"], *nobody]
    data["demand"] = [
        *data["demand"],
        {
            "scope": "school",
            "id": "S-XX-09",
            "name": "无人报名公办学校",
            "grade": 1,
            "district": "CY",
            "kind": "public",
            "plan": 40,
            "applicants": 0,
            "warning": None,
        },
    ]
    data["verification"]["by_reason"] = {**data["verification"]["by_reason"], "hukou-mismatch": 0}
    data["verification"]["reason_zh"] = {**data["verification"]["reason_zh"], "hukou-mismatch": "无人的原因"}
    data["verification"]["by_district"] = {
        **data["verification"]["by_district"],
        "XX": {"eligible": 0, "not-eligible": 0, "review": 0},
    }
    data["district_names"] = {**data.get("district_names", {}), "XX": "无人区"}
    data["placement"]["by_route"] = {**data["placement"]["by_route"], "deferred": 0}
    data["placement"]["coordinated_by_reason"] = {
        **data["placement"]["coordinated_by_reason"],
        "no-catchment": 0,
    }
    # When the page is written
    text = render(data)
    visible = _visible(_parse(text))
    # Then no row is only zeros and dashes, and nobody's rows, bars or words are there
    for row in _rows(text):
        assert any(cell not in EMPTY for cell in row[1:]), row
    for absent in (
        "无人报名民办学校甲",
        "无人报名民办学校乙",
        "无人报名公办学校",
        "无人的原因",
        "无人区",
        "缓学",
    ):
        assert absent not in visible, absent
    assert "住址不在任何招生片区" not in visible
    assert "另有2个民办学校年级无人报名，未列出。" in visible
    # while the schools that had applicants are all listed
    for lot in season_data()["lotteries"]:
        assert lot["school_name"] in visible


def test_the_distance_tables_count_is_not_labelled_a_distance() -> None:
    # Given the placement section's distance summary (人数, 中位数, 90%分位, 最远), Then the value column
    # names what all four rows are: a count beside three distances is not "距离 240" on a phone's card
    text = render(season_data())
    [table] = re.findall(r"<caption>统筹安排儿童家到学校的距离</caption>(.*?)</table>", text, re.S)
    assert re.search(r'<td[^>]*data-label="距离"', table) is None, table
    count = re.search(r'<th scope="row"[^>]*>人数</th><td[^>]*data-label="([^"]*)"', table)
    assert count is not None and count.group(1) == "数值", table
