"""The public season report (招生季报告) in Debian Chromium, on a phone, a laptop and a wide screen.

The same page is what the deployed season produces: the workflow's WriteSeasonReport task
(functions/archive/report.py) calls `enrollment.report.season.write_season_report`, which renders with
`enrollment.report.page.render` and stores the result at `reports/{season}/report.html`; this test
opens what that same `render` writes (`page.write`), from a file, as a parent opens the downloaded
page (`test_the_deployed_report_is_this_pages_generator` pins the chain, and
tests/integration/test_console_api.py checks the stored page carries this page's stylesheet).

It must read on a 390 px phone with nothing wider than the screen (each wide table's rows as cards of
"label value" lines, labels and chart text at least 12 px), hold only Chinese (no rule id, no English
word, no code), pass axe-core with no serious or critical violation, and print without its
navigation, with tables as tables, no row split across pages and none wider than an A4 page.
Screenshots go to test-output/screenshots/report-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from enrollment.report import page as report_page
from enrollment.report import season as report_season
from enrollment.report.page import write
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.unit.test_report import season_data

pytestmark = [pytest.mark.browser]

A4_PRINTED: ViewportSize = {"width": 703, "height": 1000}  # 210 mm less the 12 mm margins, at 96 dpi


def test_the_deployed_report_is_this_pages_generator() -> None:
    from functions.archive import report as task  # the WriteSeasonReport Lambda

    # the task's use case is this module's, and it renders with this page's module
    assert vars(task)["write_season_report"] is report_season.write_season_report
    assert vars(report_season)["page"] is report_page


CARDS = """() => [...document.querySelectorAll("tbody tr")].filter((tr) => !tr.querySelector("[colspan]"))
  .map((tr) => {
    const cells = [...tr.cells];
    const box = tr.getBoundingClientRect();
    const heads = [...tr.closest("table").querySelectorAll("thead th")].map((th) => th.textContent);
    return {
      display: getComputedStyle(tr).display, right: box.right,
      labels: cells.map((c) => c.dataset.label), heads,
      before: cells.filter((c) => c.tagName === "TD").map((c) => getComputedStyle(c, "::before").content),
      smallest: Math.min(...cells.flatMap((c) => [parseFloat(getComputedStyle(c).fontSize),
        ...(c.tagName === "TD" ? [parseFloat(getComputedStyle(c, "::before").fontSize)] : [])])),
      stacked: cells.every((c, i) => i === 0
        || c.getBoundingClientRect().top >= cells[i - 1].getBoundingClientRect().bottom - 1),
      breaks: getComputedStyle(tr).breakInside,
    };
  })"""

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
        # nothing wider than the screen: the page does not scroll sideways
        assert page.evaluate("() => document.scrollingElement.scrollWidth") <= viewport["width"]
        rows = page.evaluate(CARDS)
        assert len(rows) >= 10
        for row in rows:
            assert row["labels"] == row["heads"], row  # each cell names its column
            if viewport["width"] < 600:
                # on a phone each row is a card: its cells one under the other, each with its label
                assert row["display"] == "block" and row["stacked"], row
                assert row["right"] <= viewport["width"] and row["smallest"] >= 12, row
                assert all(b not in ("none", "normal", "") for b in row["before"]), row
            else:
                assert row["display"] == "table-row", row
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
        # Printed (on A4's width): no navigation, the sections and charts all there, tables as tables
        # with no row split across pages and none wider than the page
        page.set_viewport_size(A4_PRINTED)
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation")).to_be_hidden()
        expect(page.locator("figure svg")).to_have_count(5)
        expect(page.locator("section").first).to_be_visible()
        printed = page.evaluate(CARDS)
        assert {(r["display"], r["breaks"]) for r in printed} == {("table-row", "avoid")}, printed[:2]
        widest = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('table')].map((t) => t.getBoundingClientRect().right))"
        )
        assert widest <= A4_PRINTED["width"] + 0.5
        page.screenshot(path=SCREENSHOTS / f"report-{size}-print.png", full_page=True)
    finally:
        context.close()
