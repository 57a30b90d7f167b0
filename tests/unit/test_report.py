"""The season report (R-OPEN-1 openness, R-WARN-1 seat warnings): HTML, charts and Chinese in the charts."""

from __future__ import annotations

import random
import re
import shutil
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from enrollment.core.config import load_season
from enrollment.lottery.pools import Pools
from enrollment.registration.demand import Demand
from enrollment.report import charts
from enrollment.report.data import Lottery
from enrollment.report.page import SECTIONS, render
from enrollment.verification.verdicts import REASON_ZH as VERDICT_REASON_ZH

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "test-output" / "report"
PNG = b"\x89PNG\r\n\x1a\n"
ALL_CHARTS = {
    "charts/demand.png",
    "charts/lotteries.png",
    "charts/verification_reasons.png",
    "charts/placement_routes.png",
    "charts/coordinated_distance.png",
}
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
    "verification-failed": "信息审核未通过（R-VER-4）",
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
    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.imgs: list[dict[str, str | None]] = []
        self.h2: list[str] = []
        self.th = 0
        self.tables = 0
        self.links: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "img":
            self.imgs.append(a)
        elif tag == "h2":
            self._in_h2 = True
            self.h2.append("")
        elif tag == "th":
            self.th += 1
        elif tag == "table":
            self.tables += 1
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(str(a[key]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.h2[-1] += data


def _parse(path: Path) -> tuple[str, _Page]:
    text = path.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    return text, page


def _render_without_tofu(data: dict[str, Any], out: Path) -> Path:
    """Render, failing on any matplotlib 'Glyph … missing from font(s)' warning (a tofu box)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r".*[Gg]lyph.*missing")
        return render(data, out)


def test_full_season_renders_every_section_with_its_charts(tmp_path: Path) -> None:
    path = _render_without_tofu(season_data(), tmp_path / "out")

    assert path == tmp_path / "out" / "report.html"
    text, page = _parse(path)
    assert text.startswith("<!DOCTYPE html>")
    assert page.lang == "zh-CN"
    assert "<h1>吉林市2023年义务教育招生入学情况报告</h1>" in text
    for zh, en in SECTIONS.values():
        assert any(zh in h and en in h for h in page.h2), zh
    assert {img["src"] for img in page.imgs} == ALL_CHARTS  # one <img> per chart
    assert len(page.imgs) == len(ALL_CHARTS)
    for img in page.imgs:
        assert img["alt"] and len(str(img["alt"])) > 10
        png = path.parent / str(img["src"])
        data = png.read_bytes()
        assert len(data) > 2000 and data.startswith(PNG)
    assert page.tables >= 6 and page.th > 40  # tables have header cells
    assert "<caption>" in text and 'scope="col"' in text


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    path = render(season_data(), tmp_path)

    text, page = _parse(path)
    assert all(link.startswith(("#", "charts/")) for link in page.links), page.links
    assert not re.search(r"https?:|//[a-z0-9]|url\(|@import|<script|<link", text, re.IGNORECASE)


def test_seat_warnings_list_every_over_and_near_school(tmp_path: Path) -> None:  # R-WARN-1
    data = season_data()
    text, _ = _parse(render(data, tmp_path))

    warned = [d for d in data["demand"] if d["warning"]]
    assert warned
    for d in warned:
        assert d["id"] in text
    assert text.count('class="tag over"') == sum(1 for d in warned if d["warning"] == "over")
    assert text.count('class="tag near"') == sum(1 for d in warned if d["warning"] == "near")


def test_a_partial_season_renders_only_its_sections(tmp_path: Path) -> None:
    path = _render_without_tofu({"season": "jilin-2023", "demand": season_data()["demand"]}, tmp_path)

    text, page = _parse(path)
    assert page.lang == "zh-CN"
    assert len(page.h2) == 1 and SECTIONS["demand"][0] in page.h2[0]
    for key in ("lotteries", "verification", "placement"):
        assert SECTIONS[key][0] not in text
    assert [img["src"] for img in page.imgs] == ["charts/demand.png"]
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["demand.png"]


def test_a_rerender_drops_charts_of_sections_now_missing(tmp_path: Path) -> None:
    render(season_data(), tmp_path)
    render({"verification": season_data()["verification"]}, tmp_path)

    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["verification_reasons.png"]


def test_an_empty_season_still_renders(tmp_path: Path) -> None:
    text, page = _parse(render({}, tmp_path))

    assert page.lang == "zh-CN" and not page.imgs and not page.h2
    assert "暂无数据" in text


def test_placement_without_distances_has_no_histogram(tmp_path: Path) -> None:
    placement = dict(season_data()["placement"])
    del placement["coordinated_distances_m"]
    text, page = _parse(render({"placement": placement}, tmp_path))

    assert [img["src"] for img in page.imgs] == ["charts/placement_routes.png"]
    assert "统筹安排距离" in text  # the summary statistics are still shown


def _system_cjk_font() -> bool:
    return bool(shutil.which("fc-list")) and bool(charts._fc_list())


def test_the_charts_use_a_cjk_font() -> None:
    from matplotlib import font_manager

    font = charts.chart_font()

    assert font.family is not None and font.covers("学位预警船营区")
    resolved = font_manager.findfont(
        font_manager.FontProperties(family=font.family), fallback_to_default=False
    )
    assert Path(resolved).resolve() == Path(str(font.path)).resolve()
    if not _system_cjk_font():
        pytest.skip("no system CJK font (fonts-noto-cjk): the bundled notice font is used")
    assert "CJK" in font.family
    assert "Noto" in font.family or "noto" in str(font.path).lower()


def test_without_a_system_cjk_font_the_bundled_notice_font_draws_the_charts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "_font_candidates", lambda: [str(charts.BUNDLED_FONT)])
    charts.chart_font.cache_clear()
    try:
        font = charts.chart_font()
        assert font.family == "Enrollment Notice Serif" and Path(str(font.path)) == charts.BUNDLED_FONT
        assert font.covers("学位预警 船营区第一实验小学")
        _render_without_tofu(season_data(), tmp_path)  # any label it cannot draw is given in English
    finally:
        charts.chart_font.cache_clear()


def test_without_a_cjk_font_the_charts_fall_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charts, "chart_font", lambda: charts.ChartFont(None, None, frozenset(range(128))))

    path = _render_without_tofu(season_data(), tmp_path)  # no missing-glyph warning: English labels

    _, page = _parse(path)
    assert len(page.imgs) == len(ALL_CHARTS)


def test_a_label_the_font_cannot_draw_is_given_in_english() -> None:
    font = charts.ChartFont("Some CJK", "/x.ttf", frozenset(ord(c) for c in "船营区第一小学"))

    assert font.label("船营区第一小学", "S-CY-01") == "船营区第一小学"
    assert font.label("船营区第二小学", "S-CY-02") == "S-CY-02"  # 二 is missing
    assert charts.ChartFont(None, None, frozenset()).bilingual("人数", "children") == "children"


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
    """Writes test-output/report/ (git-ignored) for a person, or a browser screenshot, to look at."""
    path = _render_without_tofu(season_data(), SAMPLE_DIR)

    assert path.is_file() and (SAMPLE_DIR / "charts" / "demand.png").is_file()
