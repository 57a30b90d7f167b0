"""A parent on a phone, in Debian Chromium, against the embedded stack served over local HTTP.

The form is served by the register function through `enrollment.local.http` exactly as API Gateway
would serve it; everything behind it is moto. Each test leaves a full-page screenshot in
test-output/screenshots/<test>.png. Needs Debian's Chromium: `make browser`.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from enrollment import idcard
from enrollment.clock import SimulatedClock
from enrollment.config import SeasonConfig
from enrollment.local.http import serve
from enrollment.local.runtime import EmbeddedSeason
from tests.e2e.conftest import SCREENSHOTS
from tests.integration.conftest import registration_items, table_items
from tests.support import valid_body

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REGISTRATION_ID = re.compile(r"R(-[A-Z2-7]{4}){4}")


@dataclass
class Session:
    rt: EmbeddedSeason
    base: str
    page: Page
    console_errors: list[str] = field(default_factory=list)

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        """A request to the local server, as another client would send it."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as r:  # noqa: S310 - our own 127.0.0.1
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


@pytest.fixture
def ui(browser: Browser, season: SeasonConfig, request: pytest.FixtureRequest) -> Iterator[Session]:
    """A fresh stack with grade-1 registration open, served locally, and a phone-sized page on the form."""
    now = datetime.fromisoformat(f"{season.calendar.grade1_registration.start} 10:00").replace(
        tzinfo=season.tz
    )
    with EmbeddedSeason(season, SimulatedClock(now)) as rt, serve(rt) as base:
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        context.set_default_timeout(5_000)
        page = context.new_page()
        s = Session(rt, base, page)
        page.on("console", lambda m: _console(s, m))
        page.on("pageerror", lambda e: s.console_errors.append(f"page error: {e}"))
        page.goto(base)
        # the page has loaded the season (districts come from GET api/season)
        expect(page.locator("#home_district option")).not_to_have_count(0)
        try:
            yield s
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
            context.close()


def _console(s: Session, message: ConsoleMessage) -> None:
    if message.type == "error":
        s.console_errors.append(f"console: {message.text} ({message.location.get('url', '')})")


def fill_form(page: Page, body: dict[str, Any]) -> None:
    """Fill the form the way a parent would, from a request body the API accepts."""
    child, guardian, home = body["child"], body["guardians"][0], body["home_address"]
    page.select_option("#grade", str(body["grade"]))
    page.select_option("#category", body["category"])
    page.fill("#child_name", child["name"])
    page.select_option("#child_sex", child["sex"])
    page.fill("#child_birth_date", child["birth_date"])
    page.locator("#child_id_number").press_sequentially(child["id_number"])
    page.fill("#g0_name", guardian["name"])
    page.select_option("#g0_relationship", guardian["relationship"])
    page.locator("#g0_phone").press_sequentially(guardian["phone"])
    page.select_option("#home_district", home["district"])
    page.locator("#home_road").press_sequentially(home["road"])
    page.locator("#home_number").press_sequentially(str(home["number"]))
    page.fill("#home_detail", home["detail"])
    page.select_option("#basis", body["residence"]["basis"])
    page.fill("#deed", body["residence"]["property"]["deed_number"])
    page.select_option("#owner", body["residence"]["property"]["owner"])


def test_parent_registers_and_looks_up_the_status(ui: Session, season: SeasonConfig) -> None:
    # Given a parent of a child living in a single-school zone, on the form during the grade-1 window
    body = valid_body(season)
    page = ui.page
    expect(page.locator("#window-hint")).to_contain_text("一年级报名时间：2023-05-20")

    # When they fill it in and submit
    fill_form(page, body)
    page.get_by_role("button", name="提交报名").click()

    # Then the page says it worked, where a phone shows it, and gives the registration id
    result = page.locator("#result")
    expect(result).to_contain_text("报名成功")
    expect(result).to_be_in_viewport()
    expect(result).to_have_class("ok")
    found = REGISTRATION_ID.search(result.inner_text())
    assert found, result.inner_text()
    rid = found.group(0)
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)

    # and the registration really exists, read back through the local API
    status, shown = ui.get(f"api/registrations/{rid}")
    assert status == 200 and shown["registration_id"] == rid and shown["status"] == "registered"
    [item] = registration_items(ui.rt)
    assert item["registration_id"] == rid and item["grade"] == 1

    # When they look the registration up on the page (the id is filled in for them)
    expect(page.locator("#lookup_id")).to_have_value(rid)
    page.get_by_role("button", name="查询").click()

    # Then they see its status, with the child's name and ID number masked
    lookup = page.locator("#lookup-result")
    expect(lookup).to_contain_text("已报名，待审核")
    expect(lookup).to_contain_text("1年级 公办学校")
    expect(lookup).to_contain_text(idcard.mask(body["child"]["id_number"]))
    assert body["child"]["name"] not in lookup.inner_text()
    assert ui.console_errors == []


def test_wrong_check_character_is_shown_beside_the_id_field(ui: Session, season: SeasonConfig) -> None:
    # Given a valid ID number whose check character is mistyped
    body = valid_body(season)
    good = body["child"]["id_number"]
    wrong = next(c for c in "0123456789X" if c != good[-1])
    body["child"]["id_number"] = good[:-1] + wrong
    page = ui.page

    # When the parent submits the form
    fill_form(page, body)
    page.get_by_role("button", name="提交报名").click()

    # Then R-ID-1's message stands beside the ID field, which is marked invalid
    slot = page.locator('[data-error="child.id_number"]')
    expect(slot).to_have_text("身份证号校验位不正确，请核对后重新输入")
    expect(page.locator("#child_id_number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[aria-invalid=true]")).to_have_count(1)
    expect(page.locator("#result")).to_contain_text("报名未成功")
    expect(page.locator("#result")).to_be_in_viewport()  # not below the fold of a phone
    expect(slot).to_be_in_viewport()
    expect(page.locator("#result")).to_have_class("bad")

    # and nothing was stored
    assert registration_items(ui.rt) == []
    assert table_items(ui.rt, ui.rt.idempotency_table_name) == []
    # the only console error is Chromium's note of the refused request (HTTP 422)
    assert [e for e in ui.console_errors if "status of 422" not in e] == []


UNLABELLED = """
() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden" && el.checkVisibility())
  .filter((el) => ![...el.labels].some((l) => l.textContent.trim()))
  .map((el) => el.id || el.name || el.outerHTML)
"""
VISIBLE_FIELDS = """
() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => el.type !== "hidden" && el.checkVisibility()).length
"""


def test_every_visible_field_has_a_label(ui: Session) -> None:
    page = ui.page
    # As the form first shows, and with every field that some choice reveals
    assert page.evaluate(VISIBLE_FIELDS) >= 15
    assert page.evaluate(UNLABELLED) == []

    page.select_option("#grade", "7")
    page.select_option("#category", "private")
    page.select_option("#basis", "residence-permit")
    page.select_option("#child_id_type", "passport")
    for revealed in ("#primary_school", "#private_school_id", "#permit", "#child_nationality"):
        expect(page.locator(revealed)).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    assert ui.console_errors == []
