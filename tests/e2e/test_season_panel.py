"""The console's 招生季 panel (issue 15) in Debian Chromium: city staff see the season not yet
started, start it after a confirmation naming the season, its calendar and the state machine, and
then see it running; an auditor reads the same status and has no start button. The panel and the
route go through the same use case as `enroll season start|status` (enrollment/core/launch.py).
Needs Debian's Chromium: `make browser`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import boto3
import pytest
from playwright.sync_api import Browser, expect

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.core.launch import config_digest
from enrollment.local import season as drive
from enrollment.local.http import serve
from enrollment.local.runtime import EmbeddedSeason
from tests.e2e.conftest import axe_violations
from tests.e2e.test_console import ReviewDay, new_page, real, shoot, sign_in
from tests.integration.conftest import at

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-season")]


@pytest.fixture(scope="module")
def not_started(season: SeasonConfig) -> Iterator[ReviewDay]:
    """A deployed season nobody has started yet, served over HTTP (no registrations)."""
    start = at(season, f"{season.calendar.plans_published} 09:00")
    with EmbeddedSeason(season, SimulatedClock(start)) as rt, serve(rt) as base:
        yield ReviewDay(rt, rt.config, base, {})  # as deployed: with its agencies' endpoints


def latin(text: str, *usernames: str) -> list[str]:
    """The Latin words a panel shows (as tests/e2e/test_parent_pages_plain.py checks the parents'
    pages): none, but for the config's SHA-256 digest, which operators compare with the CLI's, and
    staff user names (city-staff-01: who started the season). The panel is checked, not the page:
    the header names the signed-in staff member."""
    for name in usernames:
        text = text.replace(name, "")
    return sorted(set(re.findall(r"[A-Za-z]{3,}", re.sub(r"\b[0-9a-f]{64}\b", "", text))))


def executions(rt: EmbeddedSeason) -> int:
    return len(
        boto3.client("stepfunctions").list_executions(stateMachineArn=rt.state_machine_arn)["executions"]
    )


def test_city_staff_start_the_season_after_confirming(not_started: ReviewDay, browser: Browser) -> None:
    day = not_started
    city = drive.member(day.rt, "city").principal
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, city)
        page.get_by_role("link", name="招生季").click()
        summary = page.locator("#season-summary")
        expect(summary).to_contain_text("尚未启动")
        expect(summary).to_contain_text("七年级网上报名")
        # the deadline's schedule by what it does, in Chinese; its AWS name only in the title
        schedule = page.locator("#season-schedule")
        expect(schedule).to_contain_text("到期时自动推进“七年级网上报名”（已启用）")
        expect(schedule).to_have_attribute("title", "deadline-grade7-registration")
        assert latin(page.locator("#sec-season").inner_text()) == []
        assert axe_violations(page) == []
        # When city staff ask to start, the confirmation names the season, its calendar and the state machine
        page.get_by_role("button", name="启动招生季").click()
        dialog = page.get_by_role("dialog", name="启动招生季")
        expect(dialog).to_be_visible()
        title = f"{day.config.city}{day.config.year}年义务教育招生"
        expect(page.locator("#start-season")).to_have_text(f"{title}（{day.config.season}年度）")
        expect(page.locator("#start-season")).to_have_attribute("title", day.config.name)
        expect(page.locator("#start-machine")).to_have_text(f"{title}流程（已部署）")
        expect(page.locator("#start-machine")).to_have_attribute("title", day.rt.state_machine_arn)
        expect(page.locator("#start-digest")).to_have_text(config_digest(day.config))
        assert latin(dialog.inner_text()) == []
        g1 = day.config.calendar.grade1_registration
        expect(page.locator("#start-calendar")).to_contain_text(f"{g1.start} 至 {g1.end}")
        shoot(page, "season-start-confirm")
        assert axe_violations(page) == []
        # Cancel starts nothing
        dialog.get_by_role("button", name="取消").click()
        expect(dialog).to_be_hidden()
        assert executions(day.rt) == 0
        # Confirmed, the season runs: one execution, recorded with who started it
        page.get_by_role("button", name="启动招生季").click()
        dialog.get_by_role("button", name="确认启动").click()
        expect(dialog).to_be_hidden()
        expect(page.locator("#announce")).to_have_text("招生季已启动")
        expect(summary).to_contain_text("运行中")
        expect(summary).to_contain_text(city)
        expect(summary).to_contain_text(str(day.config.calendar.plans_published))  # the season's clock
        expect(page.get_by_role("button", name="启动招生季")).to_be_hidden()
        assert executions(day.rt) == 1
        assert latin(page.locator("#sec-season").inner_text(), city) == []
        shoot(page, "season-started")
        assert real(errors) == []
    finally:
        context.close()


def test_an_auditor_reads_the_season_and_cannot_start_it(not_started: ReviewDay, browser: Browser) -> None:
    day = not_started
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, drive.member(day.rt, "auditor").principal)
        page.get_by_role("link", name="招生季").click()
        expect(page.locator("#season-summary")).to_contain_text("当前阶段")
        expect(page.locator("#season-dead")).to_contain_text("没有失败事项")
        expect(page.get_by_role("button", name="启动招生季")).to_be_hidden()
        assert axe_violations(page) == []
        # the auditor lands on the results, which exist only after placement (409 until then)
        assert real(errors, "/placements?") == []
    finally:
        context.close()
