"""Once neither grade's registration window is open, the parent's 网上报名 page says so and why, and
offers no form (issue 19: forms a phase has closed are shown closed, with why): each grade's dates and
that they are over, and where a family goes instead (查询进度, the district's bureau), at 390×844,
1440×900 and 1920×1080, in plain Chinese, with no serious or critical axe-core violation. Screenshots in
test-output/screenshots/ (`closed-*.png`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from enrollment.core.config import SeasonConfig
from tests.e2e import test_browser as portal
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.e2e.test_browser import Session
from tests.e2e.test_parent_pages_plain import forbidden

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ui = portal.ui  # the portal's fixture: grade-1 registration open, the form on a phone-sized page
VIEWPORTS: dict[str, ViewportSize] = {
    "390": {"width": 390, "height": 844},
    "1440": {"width": 1440, "height": 900},
    "1920": {"width": 1920, "height": 1080},
}


def md(day: date) -> str:
    return f"{day.month:02d}月{day.day:02d}日"


def reload_at(ui: Session, season: SeasonConfig, day: date) -> Page:
    ui.rt.clock.set(datetime.combine(day, datetime.min.time()).replace(hour=10, tzinfo=season.tz))
    ui.page.reload()
    expect(ui.page.locator("body")).to_have_attribute("data-ready", "register")
    return ui.page


def test_after_both_windows_close_the_page_says_so_and_offers_no_form(
    ui: Session, season: SeasonConfig
) -> None:
    cal = season.calendar
    # Given the day after the later of the two registration windows has closed
    over = max(cal.grade1_registration.end, cal.grade7_registration.end) + timedelta(days=1)
    page = reload_at(ui, season, over)
    closed = page.locator("#closed-banner")
    # Then the page says the form is closed, each grade's dates and that they are over
    expect(closed).to_be_visible()
    expect(closed).to_contain_text("当前不在网上报名时间内，不能提交报名")
    for grade, window in (("一", cal.grade1_registration), ("七", cal.grade7_registration)):
        expect(closed).to_contain_text(f"{grade}年级报名时间：{md(window.start)}至{md(window.end)}，已截止")
    # and where to go instead: the status page, or the district's bureau
    expect(closed).to_contain_text("请联系户籍或居住地所在区教育局")
    # And no step of the form is offered to be filled in and refused at the end
    expect(page.locator("#form")).to_be_hidden()
    expect(page.get_by_role("button", name="下一步")).to_have_count(0)
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"closed-over-{size}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert not forbidden(season).search(page.locator("#panel-register").inner_text())
        assert axe_violations(page) == []
    # And the family who registered goes on to the status page from there
    closed.get_by_role("link", name="查询进度").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "status")
    assert ui.console_errors == [] and ui.posted == []


def test_while_a_window_is_open_the_form_is_offered(ui: Session) -> None:
    expect(ui.page.locator("#closed-banner")).to_be_hidden()
    expect(ui.page.locator("#form")).to_be_visible()
