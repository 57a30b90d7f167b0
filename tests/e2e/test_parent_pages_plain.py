"""Every page a parent reads is plain Chinese (issue 19): the lookup, each step of the form (with its
errors), the printable 入学信息采集表, the status page (signed in, with every verification reason and a
coordinated place) and the complaints page, at 390×844, 1440×900 and 1920×1080, show no rule id
(`R-VER-4`), no English text and no internal code (reason codes such as owner-not-guardian, zone ids,
school ids, district codes), and axe-core finds no serious or critical violation on any of them.
Screenshots of each page and viewport in test-output/screenshots/ (`plain-*.png`).

One page and one browser context for all three viewports (resized, never reloaded): the form is
filled once, at the first viewport, and walked back and forth at the others."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any, get_args

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.adapters.verification_store import DynamoVerificationStore
from enrollment.core.config import SeasonConfig
from enrollment.placement.routes import REASON_ZH as PLACEMENT_REASONS
from enrollment.verification.verdicts import ReasonCode, Verdict
from tests.e2e import test_browser as portal
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.e2e.test_browser import Session, fill_step, next_step, sign_in_in_page
from tests.support import child_id, valid_body

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ui = portal.ui  # the portal's fixture: grade-1 registration open, the form on a phone-sized page
VIEWPORTS: dict[str, ViewportSize] = {
    "phone": {"width": 390, "height": 844},
    "desktop": {"width": 1440, "height": 900},
    "wide": {"width": 1920, "height": 1080},
}
# identifiers a parent is given and keeps: the registration id and a complaint's number
SHOT_TIMEOUT = 30_000  # ms: a full page of every reason, at twice the pixels, on a busy machine
THEIRS = re.compile(r"R(-[A-Z2-7]{4}){4}|C-\d{8}-[A-Z0-9]+")


def forbidden(season: SeasonConfig) -> re.Pattern[str]:
    """Rule ids, reason codes, zone and school ids, district codes, and any English word."""
    codes = [*get_args(ReasonCode), *PLACEMENT_REASONS, *(d.code for d in season.districts)]
    return re.compile(
        r"R-[A-Z]+-\d|Z-[A-Z]{2,4}-\d|\b[A-Z]{1,2}-[A-Z]{2,4}-\d{2,3}\b|"
        + "|".join(rf"\b{re.escape(c)}\b" for c in codes)
        + r"|[A-Za-z]{3,}"
    )


def plain(page: Page, season: SeasonConfig, name: str) -> None:
    """The page as shown (hidden panels excluded) has nothing `forbidden` and no serious or critical
    axe-core violation; its screenshot is kept."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"plain-{name}.png", full_page=True, timeout=SHOT_TIMEOUT)
    text = THEIRS.sub("", page.locator("body").inner_text())
    found = sorted({m.group(0) for m in forbidden(season).finditer(text)})
    assert found == [], (name, found)
    assert axe_violations(page) == [], name


def tab(page: Page, name: str, ready: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=name).click()
    expect(page.locator("body")).to_have_attribute("data-ready", ready)


def test_no_parent_page_shows_a_code_a_rule_id_or_english(ui: Session, season: SeasonConfig) -> None:
    page = ui.page
    page.set_default_timeout(SHOT_TIMEOUT)  # the fixture's last full-page screenshot too
    # Given a child whose verification failed for every reason there is, coordinated into a school
    body = valid_body(season)
    rid = ui.send("POST", "api/registrations", body)[1]["registration_id"]
    school = next(
        s for s in season.schools if s.kind == "public" and s.district == body["home_address"]["district"]
    )
    decided = datetime.fromisoformat(f"{season.calendar.verification.start}T10:00").replace(tzinfo=season.tz)
    verdict = Verdict(
        registration_id=rid,
        season=season.season,
        grade=1,
        district=body["home_address"]["district"],
        category="public",
        status="not-eligible",
        reasons=list(get_args(ReasonCode)),
        decided_at=decided + timedelta(days=5),
    )
    line = {"registration_id": rid, "grade": 1, "school_id": school.id, "route": "coordination"}
    with ui.lock:
        DynamoVerificationStore(ui.rt.table_name).put_verdict(verdict)
        DynamoPlacementStore(ui.rt.table_name).put_placements(
            season.season, [line | {"reason": "verification-failed"}]
        )
    sign_in_in_page(ui, rid)
    expect(page.locator("#verification-reasons li")).to_have_count(len(get_args(ReasonCode)))
    # a complaint filed, so that the complaints page lists one
    tab(page, "投诉申诉", "complaints")
    page.fill("#complaint_text", "对审核结论有异议，我家一直实际居住在该地址。")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#complaint-list article")).to_have_count(1)

    # the form is filled in for another child (the first is registered already)
    other = valid_body(season)
    born = date.fromisoformat(other["child"]["birth_date"]) + timedelta(days=1)
    form_body = valid_body(
        season, child__birth_date=born.isoformat(), child__id_number=child_id(season, born)
    )

    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        # When the parent reads each page, Then nothing on it is a code, a rule id or English
        tab(page, "查询片区", "lookup")
        road = next(r for r in season.roads)
        page.select_option("#lookup_district", road.district)
        page.fill("#lookup_road", road.name)
        page.fill("#lookup_number", "1")
        page.get_by_role("button", name="查询").click()
        expect(page.locator("#lookup-result h3")).to_be_visible()
        plain(page, season, f"lookup-{size}")

        tab(page, "网上报名", "register")
        walk_the_form(page, season, form_body, size, first=size == "phone")

        tab(page, "查询进度", "status")
        expect(page.locator("#status-view")).to_be_visible()
        expect(page.locator("#placement")).to_contain_text(school.name)
        expect(page.locator("#facts")).to_contain_text(f"统筹安排：{school.name}")  # the headline
        plain(page, season, f"status-{size}")
        page.get_by_role("button", name="撤回报名").click()  # its confirmation, naming what is given up
        expect(page.locator("#withdraw-consequences")).to_contain_text("即被取消")
        plain(page, season, f"withdraw-confirm-{size}")
        page.get_by_role("button", name="取消").click()
        expect(page.locator("#withdraw-confirm")).to_be_hidden()

        tab(page, "投诉申诉", "complaints")
        expect(page.locator("#complaint-list article")).to_have_count(1)
        plain(page, season, f"complaints-{size}")

        tab(page, "学位预警", "warnings")
        expect(page.locator("#warnings table").first).to_be_visible()
        plain(page, season, f"warnings-{size}")

    # The printable 入学信息采集表 of the child registered in the form, at each viewport
    tab(page, "网上报名", "register")
    page.get_by_role("button", name="提交报名").click()
    expect(page.locator("#result")).to_contain_text("报名成功")
    page.get_by_role("button", name="打印入学信息采集表").click()
    expect(page.locator("#sheet")).to_contain_text("监护人签字：")
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        plain(page, season, f"print-{size}")
    page.get_by_role("button", name="返回").click()

    # The signed-in family's 修改报名信息: the stepped form filled in, the child's ID number fixed
    tab(page, "查询进度", "status")
    page.get_by_role("button", name="修改报名信息").click()
    expect(page.locator("#edit-banner")).to_contain_text(f"正在修改报名编号{rid}的报名信息")
    expect(page.locator("#child_id_number")).not_to_be_editable()
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        plain(page, season, f"edit-{size}")
    assert ui.posted.count(f"POST api/registrations/{rid}/withdraw") == 0  # every confirmation cancelled
    assert ui.console_errors == []


def walk_the_form(page: Page, season: SeasonConfig, body: dict[str, Any], size: str, first: bool) -> None:
    """Each step of the form, and a step's errors. At the first viewport the empty form's errors, then
    each step filled in; at the others the filled form walked back to step 1 (an emptied name shows an
    error) and forward to the review again."""
    step = page.locator("#step-indicator")
    if first:
        page.get_by_role("button", name="下一步").click()  # empty: every error of step 1 shows
        expect(page.locator("#result")).to_contain_text("这一步还有")
        plain(page, season, f"register-errors-{size}")
        fill_step(page, body, 1)
        next_step(page, 2)
        page.get_by_role("button", name="下一步").click()  # the address left empty
        expect(page.locator('[data-error="home_address.road"]')).to_have_text("请填写街路")
        plain(page, season, f"register-step2-errors-{size}")
        fill_step(page, body, 2)
    else:
        for n in (3, 2, 1):
            page.get_by_role("button", name="上一步").click()
            expect(step).to_contain_text(f"第{n}步")
        name = page.locator("#child_name").input_value()
        page.fill("#child_name", "")
        page.get_by_role("button", name="下一步").click()
        expect(page.locator('[data-error="child.name"]')).to_have_text("此项为必填项")
        plain(page, season, f"register-errors-{size}")
        page.fill("#child_name", name)
        next_step(page, 2)
        plain(page, season, f"register-step2-{size}")
    next_step(page, 3)
    plain(page, season, f"register-step3-{size}")
    next_step(page, 4)
    plain(page, season, f"register-review-{size}")
