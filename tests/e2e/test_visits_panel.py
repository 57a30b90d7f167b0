"""The console's 入户核查 section (issue 17) in Debian Chromium: the home visits the community offices
have not answered by the home-visit deadline. A district's staff see their own district's visits
(masked child, address, when asked, deadline, days overdue), longest waiting first; city staff see
every district's count, the most overdue district first; a district whose offices answered every
visit reads the empty state; a failed load reads in Chinese. On a desk and a phone (the two lists on
a 1920×1080 screen too, where every table fits its section), each state scanned with axe-core and
left as test-output/screenshots/console-visits-*.png; nothing on the page names a rule id or reads
in English. Needs Debian's Chromium: `make browser`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.local import season as drive
from enrollment.local.http import serve
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import generate
from tests.e2e.conftest import axe_violations
from tests.e2e.test_ceremony_screen import deadline_text
from tests.e2e.test_console import DESK, ReviewDay, new_page, real, shoot, sign_in
from tests.integration.conftest import at

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-visits")]

APPLICANTS, SEED = 80, 17
PHONE: ViewportSize = {"width": 390, "height": 844}
WIDE: ViewportSize = {"width": 1920, "height": 1080}  # a district office's wide screen
SLUG = {390: "phone", 1440: "desk", 1920: "wide"}
LATE = timedelta(days=2, hours=10)  # the clock stands this long after the home-visit deadline: 3 days overdue
RULE_ID = re.compile(r"R-[A-Z0-9]")  # rule ids (R-VER-2) and registration ids alike: neither is shown here
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass
class LateVisits:
    day: ReviewDay
    late: str  # the district with the most overdue visits
    done: str  # a district whose offices answered every visit

    def overdue(self, caller: str) -> dict[str, Any]:
        status, body = drive.call(
            self.day.rt, "GET", f"/admin/seasons/{self.day.season}/visits/overdue", None, caller
        )
        assert status == 200, body
        return dict(body)


def open_visits(rt: EmbeddedSeason, office: str, district: str) -> list[dict[str, Any]]:
    status, page = drive.call(
        rt, "GET", "/agency/community/visits", None, office, {"district": district, "limit": "500"}
    )
    assert status == 200 and page["next"] is None, page
    return list(page["visits"])


@pytest.fixture(scope="module")
def late_visits(season: SeasonConfig) -> Iterator[LateVisits]:
    """Registered and asked; the community offices answer one district's visits and none of the others';
    the clock then stands past the home-visit deadline before the workflow closed the open visits (the
    deadline's schedule not yet fired, as when the close step is paused), served over HTTP."""
    population = generate(season, APPLICANTS, seed=SEED)
    start = at(season, f"{season.calendar.grade7_registration.start} 08:00")
    with EmbeddedSeason(season, SimulatedClock(start), registries=population.registries) as rt:
        rt.start()
        rt.wait_for_gate("grade7-registration")
        bodies = drive.register_valid(rt, population)
        rt.wait_for_gate("home-visits", timeout=drive.WAIT_S)
        office = drive.member(rt, "community").principal  # the city-wide office names the district
        listed = {d.code: open_visits(rt, office, d.code) for d in season.districts}
        ranked = sorted((d for d in listed if listed[d]), key=lambda d: (-len(listed[d]), d))
        assert len(ranked) >= 2, "two districts need home visits"
        late, done = ranked[0], ranked[-1]
        for v in listed[done]:
            answer = {
                "registration_id": v["registration_id"],
                "lives_there": True,
                "visited_on": str(season.calendar.home_visits.start),
                "visitor": "社区网格员",
            }
            assert drive.call(rt, "POST", "/agency/community/visits", answer, office)[0] == 201
        rt.clock.set(season.day_end(season.calendar.home_visits.end) + LATE)
        with serve(rt) as base:
            yield LateVisits(ReviewDay(rt, season, base, bodies), late, done)


def assert_plain_chinese(page: Page) -> None:
    """What the staff member reads names no rule or registration id and has no English in it (the
    status code the console adds to a failed load's message, "HTTP 500", aside)."""
    shown = page.locator("#main").inner_text()
    assert not RULE_ID.search(shown), shown
    assert LATIN_WORD.findall(re.sub(r"HTTP \d{3}", "", shown)) == [], shown


def fits(page: Page, viewport: ViewportSize) -> None:
    """The page does not scroll sideways; on a desk or a wide screen every table fits its section."""
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= viewport["width"]
    if viewport["width"] >= 1440:
        wider = page.evaluate(
            """() => { const panel = document.getElementById("visits-body").getBoundingClientRect();
                 return [...document.querySelectorAll("#visits-body table")]
                   .filter((t) => t.getBoundingClientRect().right > panel.right + 1).length; }"""
        )
        assert wider == 0


def open_section(page: Page) -> None:
    page.get_by_role("link", name="入户核查").click()
    expect(page.get_by_role("heading", name="逾期未完成的入户核查")).to_be_visible()


@pytest.mark.parametrize("viewport", [DESK, PHONE, WIDE], ids=["desk", "phone", "wide"])
def test_district_staff_see_their_overdue_visits_longest_waiting_first(
    late_visits: LateVisits, browser: Browser, viewport: ViewportSize
) -> None:
    day, district = late_visits.day, late_visits.late
    user = day.user("district", district)
    expected = late_visits.overdue(user)
    (row,) = expected["districts"]
    assert row["district"] == district and row["overdue"] > 0 and expected["days_overdue"] == 3
    context, page, errors = new_page(browser, viewport)
    try:
        # Given the district's staff signed in, past the home-visit deadline
        sign_in(page, day, user)
        if viewport == PHONE:
            expect(page.get_by_role("link", name="入户核查")).to_be_visible()
        # When they open the section
        open_section(page)
        # Then their district's visits only, as the community offices' list shows them
        groups = page.locator(".visit-group")
        expect(groups).to_have_count(1)
        name = day.config.district_index[district].name
        expect(groups.first).to_have_attribute("data-district", district)
        expect(groups.first.get_by_role("heading")).to_have_text(f"{name}街道社区（逾期{row['overdue']}件）")
        body = groups.first.locator("tbody tr")
        expect(body).to_have_count(row["overdue"])
        deadline = deadline_text(expected["deadline"])
        for i, v in enumerate(row["visits"]):
            cells = body.nth(i).locator("td")
            expect(cells).to_have_text(
                [v["child"], v["address"], v["requested_at"][:16].replace("T", " "), deadline, "3天"]
            )
            assert "*" in v["child"]  # masked
        asked = [v["requested_at"] for v in row["visits"]]
        assert asked == sorted(asked)  # most overdue (longest waiting) first
        expect(page.locator("#visits-count")).to_have_text(
            f"入户核查截止时间：{deadline}，已逾期3天；逾期未完成共{row['overdue']}件"
        )
        assert_plain_chinese(page)
        assert axe_violations(page) == []
        fits(page, viewport)
        shoot(page, f"visits-district-{SLUG[viewport['width']]}")
        assert real(errors) == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [DESK, PHONE, WIDE], ids=["desk", "phone", "wide"])
def test_city_staff_see_each_districts_count_most_overdue_first(
    late_visits: LateVisits, browser: Browser, viewport: ViewportSize
) -> None:
    day = late_visits.day
    city = day.user("city")
    expected = late_visits.overdue(city)
    counts = [(r["district"], r["overdue"]) for r in expected["districts"]]
    assert counts[0][0] == late_visits.late and dict(counts)[late_visits.done] == 0
    context, page, errors = new_page(browser, viewport)
    try:
        sign_in(page, day, city)
        open_section(page)
        # every district, the one with the most overdue visits first, and no child's data
        rows = page.locator("#visits-body tbody tr")
        expect(rows).to_have_count(len(day.config.districts))
        shown = [
            (rows.nth(i).get_attribute("data-district"), rows.nth(i).locator("td").first.inner_text())
            for i in range(len(counts))
        ]
        assert shown == [(d, f"{n}件") for d, n in counts]
        expect(rows.first.locator("th")).to_have_text(day.config.district_index[late_visits.late].name)
        expect(page.locator(".visit-group")).to_have_count(0)
        expect(page.locator("#district-bar")).to_be_hidden()  # the section is the whole city's
        expect(page.locator("#visits-hint")).to_contain_text("逾期件数最多的区排在最前")
        assert_plain_chinese(page)
        assert axe_violations(page) == []
        fits(page, viewport)
        shoot(page, f"visits-city-{SLUG[viewport['width']]}")
        assert real(errors) == []
    finally:
        context.close()


def test_a_district_with_every_visit_answered_reads_the_empty_state(
    late_visits: LateVisits, browser: Browser
) -> None:
    day = late_visits.day
    context, page, errors = new_page(browser, PHONE)
    try:
        sign_in(page, day, day.user("district", late_visits.done))
        open_section(page)
        group = page.locator(".visit-group")
        expect(group.locator("tbody tr")).to_have_text(["没有逾期未完成的入户核查。"])
        expect(group.get_by_role("heading")).to_contain_text("逾期0件")
        assert_plain_chinese(page)
        assert axe_violations(page) == []
        shoot(page, "visits-empty")
        assert real(errors) == []
    finally:
        context.close()


def test_a_failed_load_reads_in_chinese_without_the_servers_english(
    late_visits: LateVisits, browser: Browser
) -> None:
    day = late_visits.day
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, day.user("district", late_visits.late))
        open_section(page)
        expect(page.locator(".visit-group")).to_have_count(1)
        # When the API fails with an English message, the section says so in Chinese and shows no stale rows
        page.route(
            "**/visits/overdue",
            lambda r: r.fulfill(
                status=500, content_type="application/json", body='{"message": "Internal server error"}'
            ),
        )
        page.get_by_role("button", name="刷新").and_(page.locator("#visits-reload")).click()
        expect(page.locator("#visits-error")).to_have_text("服务暂时不可用，请稍后重试（HTTP 500）")
        expect(page.locator(".visit-group")).to_have_count(0)
        assert "Internal" not in page.locator("#main").inner_text()
        assert_plain_chinese(page)
        assert axe_violations(page) == []
        shoot(page, "visits-error")
        assert real(errors, "status of 500") == []
    finally:
        context.close()
