"""The public season report (招生季报告) in Debian Chromium, on a phone, a laptop and a wide screen.

The page `enrollment.report.page.render` writes (the same the workflow stores at
`reports/{season}/report.html`) is opened from a file, as a parent opens the downloaded page: it must
read on a 390 px phone with nothing wider than the screen and no chart label under 12 px, hold only
Chinese (no rule id, no English word, no code), pass axe-core with no serious or critical violation,
and print without its navigation. Screenshots go to test-output/screenshots/report-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from enrollment.report.page import write
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.unit.test_report import season_data

pytestmark = [pytest.mark.browser]

VIEWPORTS: list[ViewportSize] = [
    {"width": 390, "height": 844},
    {"width": 1440, "height": 900},
    {"width": 1920, "height": 1080},
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(season_data(), tmp_path_factory.mktemp("report"))


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_the_report_reads_on_every_screen_and_prints(
    report: Path, browser: Browser, viewport: ViewportSize
) -> None:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    size = f"{viewport['width']}x{viewport['height']}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(report.as_uri())
        expect(page.get_by_role("heading", level=1)).to_contain_text("义务教育招生入学情况报告")
        # Chinese only: no rule id, no English word, no code anywhere a reader sees (charts included)
        shown = page.evaluate(
            "() => document.body.innerText + ' ' + [...document.querySelectorAll('svg')]"
            ".map((s) => s.textContent).join(' ')"
        )
        assert not re.search(r"R-[A-Z]+-\d", shown)
        assert not re.search(r"[A-Za-z]", shown), re.findall(r"[A-Za-z]+", shown)[:10]
        # nothing wider than the screen: the page does not scroll sideways, wide tables scroll in their box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        # each chart re-flows to the screen, and its smallest text is at least 12 px as drawn
        found = page.evaluate(
            """() => [...document.querySelectorAll("figure svg")].map((svg) => {
                 const box = svg.getBoundingClientRect();
                 const scale = box.width / svg.viewBox.baseVal.width;
                 const sizes = [...svg.querySelectorAll("text")]
                   .map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
                 return { width: box.width, smallest: Math.min(...sizes) };
               })"""
        )
        assert len(found) == 5
        for chart in found:
            assert chart["width"] <= viewport["width"] - 16
            assert chart["smallest"] >= 12, chart
        if viewport["width"] < 500:  # on a phone the chart takes the content's width
            assert all(chart["width"] >= viewport["width"] - 40 for chart in found), found
        page.screenshot(path=SCREENSHOTS / f"report-{size}.png", full_page=True)
        assert axe_violations(page) == []
        # Printed: no navigation, the sections and charts all there
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation")).to_be_hidden()
        expect(page.locator("figure svg")).to_have_count(5)
        expect(page.locator("section").first).to_be_visible()
        page.screenshot(path=SCREENSHOTS / f"report-{size}-print.png", full_page=True)
    finally:
        context.close()
