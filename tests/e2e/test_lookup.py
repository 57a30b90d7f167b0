"""A parent looks up the catchment (查询片区) before registering, on a phone and on a desktop, in Debian
Chromium against the embedded stack (the `ui` fixture of test_browser.py). The page names what the
lookup API answers (itself tested against placement: tests/unit/test_catchment_lookup.py), shows
refusals beside their fields in Chinese, and shows no rule id, zone id or district code. Screenshots
in test-output/screenshots/ (`lookup-*.png`); axe-core finds no serious or critical violation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from enrollment.core.config import SeasonConfig, load_season
from enrollment.registration import catchment
from tests.compounds import compound_season
from tests.e2e import test_browser as portal
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.e2e.test_browser import Session

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
ui = portal.ui  # the portal's fixture: grade-1 registration open, the form on a phone-sized page


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"lookup-{name}.png", full_page=True, timeout=30_000)


def no_codes(page: Page, season: SeasonConfig) -> None:
    """Nothing a parent reads names a rule, a zone, a school id or a district by its code."""
    text = page.locator("#panel-lookup").inner_text()
    codes = [d.code for d in season.districts]
    pattern = r"R-[A-Z]+-\d|Z-[A-Z]{2,4}-\d|[A-Z]{1,2}-[A-Z]{2,4}-\d{2}|\b(" + "|".join(codes) + r")\b"
    assert not re.search(pattern, text), re.search(pattern, text)


def open_lookup(page: Page) -> None:
    page.get_by_role("navigation").get_by_role("link", name="查询片区").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "lookup")
    expect(page.locator("body")).to_have_attribute("data-lookup-ready", "1")
    expect(page.locator("#lookup_district option")).not_to_have_count(0)


def test_a_parent_finds_the_zone_schools_by_road_and_house_number(ui: Session, season: SeasonConfig) -> None:
    page = ui.page
    # Given a house number in a multi-school zone, and the form's pointer to the lookup
    zone = next(z for z in season.zones if z.multi_school)
    seg = zone.segments[0]
    number = next(n for n in range(seg.from_number, seg.to_number + 1) if seg.covers(n))
    expected = catchment.lookup(season, {"district": zone.district, "road": seg.road, "number": str(number)})
    expect(page.get_by_role("link", name="查询片区").nth(1)).to_be_visible()  # "报名前可以先查询片区"
    open_lookup(page)
    assert axe_violations(page) == []
    # every tab fits a phone's width, its name whole
    assert page.evaluate(
        """() => [...document.querySelectorAll("nav a")].every((a) =>
             a.getBoundingClientRect().right <= innerWidth && a.scrollWidth <= a.clientWidth)"""
    )

    # When they give a house number the road does not have, the server's refusal stands beside it
    road = season.road_index[seg.road]
    page.select_option("#lookup_district", zone.district)
    page.locator("#lookup_road").press_sequentially(seg.road)
    page.fill("#lookup_number", str(road.max_number + 1))
    page.get_by_role("button", name="查询").click()
    expect(page.locator('[data-error="lookup.number"]')).to_have_text(
        f"门牌号超出该街路范围（{seg.road}的门牌为1至{road.max_number}号）"
    )
    expect(page.locator("#lookup_number")).to_have_attribute("aria-invalid", "true")
    shoot(page, "refused-phone")

    # When they correct it, Then each grade's schools are the API's, nearest first, in plain Chinese
    page.fill("#lookup_number", str(number))
    page.get_by_role("button", name="查询").click()
    result = page.locator("#lookup-result")
    expect(result.locator("h3")).to_have_text(expected["address_zh"])
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    shown = [s["name"] for g in expected["grades"] for s in g["schools"]]
    expect(result.locator("ul.schools strong")).to_have_text(shown)
    expect(result).to_contain_text("多校划片")
    expect(result).to_contain_text("不动产权证")
    expect(result.locator("ol li")).to_have_text(expected["priority_zh"])
    no_codes(page, season)
    assert axe_violations(page) == []
    shoot(page, "answer-phone")

    # And on a desktop the same answer fits the window
    page.set_viewport_size(DESKTOP)
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    assert axe_violations(page) == []
    shoot(page, "answer-desktop")

    # And from the answer the parent goes on to register
    result.get_by_role("link", name="去网上报名").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "register")
    assert [e for e in ui.console_errors if "status of 422" not in e] == [] and ui.posted == []


COMPOUND_SEASON = compound_season(load_season("jilin-2023"))


@pytest.mark.parametrize("season", [COMPOUND_SEASON], ids=["compounds"])
def test_a_family_in_a_compound_looks_up_the_compound(ui: Session, season: SeasonConfig) -> None:
    page = ui.page
    open_lookup(page)
    # The choice 按门牌 / 按小区 shows only for a district with compounds (船营区 here, not 昌邑区)
    page.select_option("#lookup_district", "CH")
    expect(page.locator("#lookup-kind-field")).to_be_hidden()
    page.select_option("#lookup_district", "CY")
    expect(page.locator("#lookup-kind-field")).to_be_visible()
    page.get_by_role("radio", name="按小区").check()
    expect(page.locator("#lookup_road")).to_be_hidden()

    # When they ask without choosing a compound, the page says so beside the field and asks nothing
    page.get_by_role("button", name="查询").click()
    expect(page.locator('[data-error="lookup.compound"]')).to_have_text("请选择所在小区")

    # When they choose 江湾小区 (a compounds-only zone), Then its school is named, not its gate's zone's
    page.select_option("#lookup_compound", "江湾小区")
    page.get_by_role("button", name="查询").click()
    result = page.locator("#lookup-result")
    expect(result.locator("h3")).to_contain_text("江湾小区")
    grade1 = result.locator(".card").first
    expect(grade1.locator("ul.schools strong")).to_have_text([season.school_index["S-CY-90"].name])
    expect(grade1).to_contain_text("单校划片")
    no_codes(page, season)
    assert axe_violations(page) == []
    shoot(page, "compound-phone")
    assert ui.console_errors == []
