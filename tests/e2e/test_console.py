"""The bureau staff console (issue 7) in Debian Chromium, against the embedded stack over HTTP.

Staff sign in through the development OIDC issuer (authorization code + PKCE, as with Cognito's hosted
UI): a district's reviewer signs a case of the review queue, the city advances a phase after the
confirmation, and a district-A login sees nothing of district B, neither in the page nor through the
API with its own token. The season then goes on (module fixtures, in file order): a district enters a
placement decision with its reason, the city records a spot-check, and an auditor reads the results
and the signed archive but can write nothing. Each test leaves full-page screenshots in
test-output/screenshots/console-*.png and scans each page state with axe-core. Needs Debian's
Chromium: `make browser`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig
from enrollment.exports.sheets import read_xlsx
from enrollment.local import season as drive
from enrollment.local.http import serve
from enrollment.local.runtime import EmbeddedSeason
from enrollment.synth.population import generate
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.e2e.test_ceremony_screen import deadline_text
from tests.integration.conftest import at
from tests.integration.parent_session import family_call, token_for

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-console")]

APPLICANTS, SEED = 60, 11
DESK: ViewportSize = {"width": 1440, "height": 900}
TABLET: ViewportSize = {"width": 820, "height": 1180}
TOKEN_KEY = "enrollment.core.staff.token"
MASKED_ID = re.compile(r"^\*{14}\d{3}[0-9X]$")  # the last four only (R-DATA-2)


@dataclass
class ReviewDay:
    rt: EmbeddedSeason
    config: SeasonConfig
    base: str  # "http://127.0.0.1:PORT/"
    bodies: dict[str, dict[str, Any]]

    @property
    def season(self) -> str:
        return self.config.season

    def user(self, role: str, district: str | None = None) -> str:
        return drive.member(self.rt, role, district).principal

    def ids_of(self, district: str) -> list[str]:
        return sorted(r for r, b in self.bodies.items() if b["home_address"]["district"] == district)

    def queue(self, district: str) -> list[dict[str, Any]]:
        """The district's whole review queue, page after page."""
        path = f"/admin/verification/{self.season}/districts/{district}/queue"
        cases: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {"limit": "500"} | ({"cursor": cursor} if cursor else {})
            status, body = drive.call(self.rt, "GET", path, None, self.user("district", district), query)
            assert status == 200, body
            cases += body["cases"]
            cursor = body["next"]
            if cursor is None:
                return cases


@pytest.fixture(scope="module")
def review_day(season: SeasonConfig) -> Iterator[ReviewDay]:
    """Registered and checked by the agencies; the workflow waits at the review gate; served over HTTP."""
    population = generate(season, APPLICANTS, seed=SEED)
    start = at(season, f"{season.calendar.grade7_registration.start} 08:00")
    with EmbeddedSeason(season, SimulatedClock(start), registries=population.registries) as rt:
        bodies = drive.to_review(rt, population)
        with serve(rt) as base:
            yield ReviewDay(rt, season, base, bodies)


def two_districts(day: ReviewDay) -> tuple[str, str]:
    """The district with the most cases to review (A) and another with registrations (B)."""
    ranked = sorted(day.config.districts, key=lambda d: (-len(day.queue(d.code)), d.code))
    a = ranked[0].code
    b = next(d.code for d in ranked[1:] if day.ids_of(d.code))
    assert day.queue(a), "district A needs a case to review"
    return a, b


def shoot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"console-{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def new_page(browser: Browser, viewport: ViewportSize = DESK) -> tuple[BrowserContext, Page, list[str]]:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on(
        "console", lambda m: errors.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None
    )
    return context, page, errors


def real(errors: list[str], *expected: str) -> list[str]:
    """Console errors but the expected ones: the issuer's sign-in page asks the server for a favicon."""
    return [e for e in errors if not e.endswith("/favicon.ico") and not any(x in e for x in expected)]


def sign_in(page: Page, day: ReviewDay, username: str) -> None:
    """From the console's sign-in screen through the development issuer's form, back to the console."""
    page.goto(day.base + "console")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/dev-oidc/authorize**")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(day.rt.oidc.passwords[username])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console*")
    expect(page.locator("#who")).to_be_visible()
    assert "code=" not in page.url  # the code is gone from the address bar once exchanged


def api_from_page(page: Page, day: ReviewDay, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A request from the page with its own token, as anyone holding it could make."""
    answer: dict[str, Any] = page.evaluate(
        """async ([url, method, body, key]) => {
          const init = { method, headers: { Authorization: `Bearer ${sessionStorage.getItem(key)}`,
                                             "Content-Type": "application/json" } };
          if (body !== null) init.body = JSON.stringify(body);
          const r = await fetch(url, init);
          return { status: r.status, text: await r.text() };
        }""",
        [day.base.rstrip("/") + path, method, body, TOKEN_KEY],
    )
    text = answer["text"]
    return int(answer["status"]), json.loads(text) if text.startswith("{") else text


def gate_state(day: ReviewDay, phase: str) -> str:
    status, board = drive.call(
        day.rt, "GET", f"/admin/seasons/{day.season}/phases", None, day.user("auditor")
    )
    assert status == 200, board
    return str(next(p["state"] for p in board["phases"] if p["phase"] == phase))


def nav_titles(page: Page) -> list[str]:
    return page.locator("#nav-list a").all_inner_texts()


def test_district_staff_sign_in_and_review_a_case(review_day: ReviewDay, browser: Browser) -> None:
    day = review_day
    a, _ = two_districts(day)
    name = day.config.district_index[a].name
    user = day.user("district", a)
    context, page, errors = new_page(browser)
    try:
        # Given a district reviewer signs in with the bureau's identity provider
        page.goto(day.base + "console")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        shoot(page, "sign-in")
        assert axe_violations(page) == []
        # the identity provider's page (locally the development issuer) refuses a wrong password
        # without saying whether the user exists
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/dev-oidc/authorize**")
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert axe_violations(page) == []
        page.get_by_label("用户名").fill(user)
        page.get_by_label("密码").fill("wrong-password")
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("alert")).to_have_text("用户名或密码不正确")
        shoot(page, "issuer-wrong-password")
        assert axe_violations(page) == []
        sign_in(page, day, user)
        # Then the console says who is signed in and offers only a district's sections
        expect(page.locator("#who")).to_contain_text(f"{name}教育局")
        expect(page.locator("#who")).to_contain_text(user)
        assert nav_titles(page) == [
            "报名信息",
            "审核队列",
            "入户核查",
            "电脑派位",
            "录取结果",
            "新生报到",
            "投诉答复",
            "短信未送达",
            "招生阶段",
            "名单导出",
        ]
        expect(page.locator("#district-bar")).to_be_hidden()
        # the district's registrations, masked
        rows = page.locator("#reg-table tbody tr[data-rid]")
        expect(rows).to_have_count(len(day.ids_of(a)))
        first = rows.first.locator("td")
        rid = first.nth(0).inner_text()
        full = day.bodies[rid]["child"]
        assert first.nth(1).inner_text() == full["name"][0] + "*" * (len(full["name"]) - 1)
        assert first.nth(2).inner_text() == "*" * 14 + full["id_number"][-4:]
        assert full["id_number"] not in page.content()
        shoot(page, "registrations")
        assert axe_violations(page) == []

        # When the reviewer opens the review queue and signs the first case with a reason
        page.get_by_role("link", name="审核队列").click()
        cases = day.queue(a)
        case = cases[0]
        row = page.locator(f'#queue-table tbody tr[data-rid="{case["registration_id"]}"]')
        expect(row).to_be_visible()
        expect(page.locator("#queue-count")).to_have_text(f"待审核 {len(cases)} 件")
        for reason in case["reasons_zh"]:
            expect(row).to_contain_text(reason)
        assert axe_violations(page) == []
        row.get_by_role("button", name=f"审核 {case['registration_id']}").click()
        dialog = page.get_by_role("dialog", name="审核签字")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(case["registration_id"])
        # a decision without a reason is refused beside the field (R-VER-3: who, when and why)
        dialog.get_by_label("改判为符合片区入学条件").check()
        dialog.get_by_role("button", name="签字确认").click()
        expect(page.locator("#decide-reason-error")).to_have_text("请填写审核理由（至少2个字）")
        expect(dialog.get_by_label("审核理由")).to_have_attribute("aria-invalid", "true")
        shoot(page, "review-dialog")
        assert axe_violations(page) == []
        dialog.get_by_label("审核理由").fill("现场核验房产证和户口簿原件，情况属实")
        dialog.get_by_role("button", name="签字确认").click()
        expect(dialog).to_be_hidden()
        # Then the case leaves the queue and its record names who, when and why
        expect(row).to_have_count(0)
        expect(page.locator("#history-h")).to_have_text(f"审核记录：{case['registration_id']}")
        expect(page.locator("#history-body")).to_contain_text("现场核验房产证和户口簿原件，情况属实")
        expect(page.locator("#history-body")).to_contain_text(user)
        status, history = drive.call(
            day.rt,
            "GET",
            f"/admin/verification/{day.season}/registrations/{case['registration_id']}/history",
            None,
            user,
        )
        assert status == 200
        assert [(d["actor"], d["action"], d["outcome"]) for d in history["decisions"]] == [
            (user, "override", "eligible")
        ]
        shoot(page, "review-signed")

        # The phases: deadlines and gates shown; a district cannot advance one
        page.get_by_role("link", name="招生阶段").click()
        review = page.locator('#phases-table tr[data-phase="review"]')
        expect(review).to_contain_text("审核复核与签字")
        expect(review).to_contain_text("进行中")
        expect(page.locator("#phases-table button")).to_have_count(0)
        shoot(page, "phases-district")
        assert axe_violations(page) == []
        # Sign-out forgets the token
        page.get_by_role("button", name="退出登录").click()
        expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
        assert page.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") is None
        assert real(errors) == []
    finally:
        context.close()


def test_a_district_login_sees_nothing_of_another_district(review_day: ReviewDay, browser: Browser) -> None:
    day = review_day
    a, b = two_districts(day)
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, day.user("district", a))
        expect(page.locator("#reg-table tbody tr[data-rid]")).to_have_count(len(day.ids_of(a)))
        # The page offers no other district and shows none of B's children anywhere
        expect(page.locator("#district-pick option")).to_have_count(1)
        for section in ("审核队列", "录取结果", "投诉答复"):
            page.get_by_role("link", name=section).click()
            page.wait_for_load_state("networkidle")
            html = page.content()
            assert not any(rid in html for rid in day.ids_of(b)), section
        # Direct calls with A's own token to B's data: 403 with the Chinese message, every one
        season = day.season
        b_case = next(iter(day.queue(b)), None)
        b_child = b_case["registration_id"] if b_case else day.ids_of(b)[0]
        for path in (
            f"/admin/verification/{season}/districts/{b}/registrations",
            f"/admin/verification/{season}/districts/{b}/queue",
            f"/admin/verification/{season}/registrations/{b_child}/history",
            f"/admin/placement/{season}/districts/{b}/decisions",
            f"/admin/placement/{season}/districts/{b}/placements",
            f"/admin/complaints/{season}/districts/{b}",
        ):
            status, answer = api_from_page(page, day, "GET", path)
            assert status == 403, (path, status, answer)
            assert "仅限本区" in answer["message"] or "无权" in answer["message"], (path, answer)
        # and writes: a decision on B's child with A's own district nowhere in the path
        status, _ = api_from_page(
            page,
            day,
            "POST",
            f"/admin/verification/{season}/registrations/{b_child}/decisions",
            {"action": "override", "outcome": "eligible", "reason": "越权"},
        )
        assert status == 403
        status, _ = api_from_page(
            page,
            day,
            "POST",
            f"/admin/placement/{season}/registrations/{b_child}/decisions",
            {"kind": "defer", "reason": "越权"},
        )
        assert status == 403
        # and A's own district in the path does not help with B's data either
        status, _ = api_from_page(
            page, day, "GET", f"/admin/verification/{season}/districts/{a}/registrations"
        )
        assert status == 200
        shoot(page, "district-a-only")
        assert real(errors, "status of 403", "status of 409") == []
    finally:
        context.close()


def test_district_staff_answer_a_familys_complaint(review_day: ReviewDay, browser: Browser) -> None:
    day = review_day
    a, _ = two_districts(day)
    user = day.user("district", a)
    # Given a family of district A files an appeal (R-OPEN-1), signed in with its SMS code
    rid = day.ids_of(a)[-1]
    text = "对审核结论有异议：我家实际居住在该地址，请安排复核入户。"
    status, filed, _ = family_call(
        day.rt,
        "POST",
        f"/api/registrations/{rid}/complaints",
        {"kind": "appeal", "text": text},
        token=token_for(day.rt, rid),
    )
    assert status == 201, filed
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, user)
        page.get_by_role("link", name="投诉答复").click()
        card = page.locator(f'#complaints-list li[data-complaint="{filed["complaint_id"]}"]')
        expect(card).to_contain_text(text)
        expect(card).to_contain_text("待答复")
        expect(page.locator("#complaints-count")).to_contain_text("待答复 1 件")
        assert axe_violations(page) == []
        # a too short answer is refused beside the field
        card.get_by_label("答复内容").fill("好的")
        card.get_by_role("button", name="提交答复").click()
        expect(card.locator(".field-error")).to_have_text("答复内容至少5个字")
        # When the district answers
        answer = "已安排社区于三个工作日内复核入户，复核结果将在平台公布，请保持电话畅通。"
        card.get_by_label("答复内容").fill(answer)
        card.get_by_role("button", name="提交答复").click()
        # Then the complaint is answered, signed by the staff member, and the family reads the answer
        expect(card).to_contain_text("已答复")
        expect(card.locator(".answer")).to_contain_text(answer)
        expect(card.locator(".answer")).to_contain_text(user)
        shoot(page, "complaint-answered")
        status, mine, _ = family_call(
            day.rt, "GET", f"/api/registrations/{rid}/complaints", token=token_for(day.rt, rid)
        )
        assert status == 200, mine
        assert answer in json.dumps(mine, ensure_ascii=False)
        assert real(errors) == []
    finally:
        context.close()


def test_district_staff_phone_a_family_whose_notice_sms_failed(
    review_day: ReviewDay, browser: Browser
) -> None:
    from datetime import datetime

    from enrollment.adapters.sms_message_store import DynamoSmsMessageStore
    from enrollment.core.sms_delivery import SmsFailure

    day = review_day
    a, _ = two_districts(day)
    user = day.user("district", a)
    # Given a child of district A whose admission notice SMS failed after its three sends
    rid = day.ids_of(a)[0]
    phone = str(day.bodies[rid]["guardians"][0]["phone"])
    school = next(s.id for s in day.config.schools if s.district == a)
    failed_at = datetime.fromisoformat("2023-07-06T18:00:09+08:00")
    failure = SmsFailure(
        day.season,
        a,
        rid,
        "notice",
        school,
        phone[:3] + "****" + phone[-4:],
        0,
        3,
        "MK:0001",
        failed_at,
        "900619746936498401^0",
    )
    DynamoSmsMessageStore(day.rt.table_name).put_failure(failure)
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, user)
        page.get_by_role("link", name="短信未送达").click()
        row = page.locator("#sms-rows tr", has_text=rid)
        expect(row).to_contain_text(phone)  # the number to call
        expect(row).to_contain_text("录取通知短信")
        expect(row).to_contain_text("短信未送达（手机可能关机、停机、欠费或拒收短信）")
        expect(page.locator("#sms-count")).to_contain_text("待电话联系 1 条")
        assert "MK:0001" not in page.locator("#sec-sms").inner_text()  # no provider code on screen
        assert axe_violations(page) == []
        # When the district's staff phone the family and record it
        row.get_by_role("button", name="已电话联系").click()
        # Then the row says who phoned, and the count has nothing left to call
        expect(row).to_contain_text("已联系")
        expect(row).to_contain_text(user)
        expect(page.locator("#sms-count")).to_contain_text("待电话联系 0 条")
        shoot(page, "sms-failures")
        assert real(errors) == []
    finally:
        context.close()


def test_city_staff_advance_a_phase_after_confirming(review_day: ReviewDay, browser: Browser) -> None:
    day = review_day
    city = day.user("city")
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, city)
        expect(page.locator("#who")).to_contain_text("市教育局")
        titles = nav_titles(page)
        assert "抽查" in titles and "结果与归档" in titles and "招生阶段" in titles
        # the city chooses the district it looks at
        expect(page.locator("#district-bar")).to_be_visible()
        expect(page.locator("#district-pick option")).to_have_count(len(day.config.districts))

        page.get_by_role("link", name="招生阶段").click()
        review = page.locator('#phases-table tr[data-phase="review"]')
        expect(review).to_contain_text("进行中")
        shown = deadline_text(day.config.day_end(day.config.calendar.private_counts_due).isoformat())
        expect(review).to_contain_text(shown)
        assert axe_violations(page) == []
        # When the city asks to end the open review phase early
        review.get_by_role("button", name="提前结束：审核复核与签字").click()
        dialog = page.get_by_role("dialog", name="提前结束阶段")
        expect(dialog).to_be_visible()
        # Then the confirmation names the phase and its deadline, and asks why
        expect(page.locator("#advance-phase")).to_have_text("审核复核与签字")
        expect(page.locator("#advance-deadline")).to_have_text(shown)
        # and says what starts when it ends
        expect(page.locator("#advance-next")).to_contain_text("冻结民办学校报名名单")
        dialog.get_by_role("button", name="确认提前结束").click()
        expect(page.locator("#advance-reason-error")).to_contain_text("请填写提前结束的理由")
        assert gate_state(day, "review") == "open"
        shoot(page, "advance-confirm")
        assert axe_violations(page) == []
        # Cancel changes nothing
        dialog.get_by_role("button", name="取消").click()
        expect(dialog).to_be_hidden()
        expect(review).to_contain_text("进行中")
        assert gate_state(day, "review") == "open"
        # Confirmed with a reason, the gate is advanced and the record says who and why
        review.get_by_role("button", name="提前结束：审核复核与签字").click()
        dialog.get_by_label("理由").fill("各区审核签字已全部完成，提前报送民办学校报名人数")
        dialog.get_by_role("button", name="确认提前结束").click()
        expect(dialog).to_be_hidden()
        expect(review).to_contain_text("已结束")
        expect(review).to_contain_text("各区审核签字已全部完成")
        expect(review).to_contain_text(city)
        expect(page.locator("#announce")).to_have_text("已提前结束：审核复核与签字")
        status, board = drive.call(day.rt, "GET", f"/admin/seasons/{day.season}/phases", None, city)
        assert status == 200
        gate = next(p for p in board["phases"] if p["phase"] == "review")
        assert (gate["state"], gate["source"], gate["advanced_by"]) == ("advanced", "staff", city)
        shoot(page, "phases-advanced")
        assert real(errors) == []
    finally:
        context.close()


def test_the_console_on_a_tablet(review_day: ReviewDay, browser: Browser) -> None:
    day = review_day
    a, _ = two_districts(day)
    context, page, errors = new_page(browser, TABLET)
    try:
        sign_in(page, day, day.user("district", a))
        page.get_by_role("link", name="审核队列").click()
        expect(page.locator("#queue-count")).to_contain_text("待审核")
        # the navigation sits above the content, nothing wider than the screen
        nav, main = page.locator("nav").bounding_box(), page.locator("main").bounding_box()
        assert nav and main and nav["y"] + nav["height"] <= main["y"] + 1
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= TABLET["width"]
        shoot(page, "tablet-queue")
        assert axe_violations(page) == []
        assert real(errors) == []
    finally:
        context.close()


def test_the_review_queue_loads_more_a_page_at_a_time(review_day: ReviewDay, browser: Browser) -> None:
    day = review_day
    d = max((d.code for d in day.config.districts), key=lambda code: (len(day.queue(code)), code))
    whole = [c["registration_id"] for c in day.queue(d)]
    assert len(whole) >= 3, "a district with three cases to review"
    context, page, errors = new_page(browser)
    # pages of two cases instead of the console's hundred: the same paging a large district has
    page.route(
        re.compile(r"/districts/[^/]+/queue\?"),
        lambda route: route.continue_(url=route.request.url.replace("limit=100", "limit=2")),
    )
    try:
        sign_in(page, day, day.user("district", d))
        page.get_by_role("link", name="审核队列").click()
        rows = page.locator("#queue-table tbody tr[data-rid]")
        expect(rows).to_have_count(2)
        expect(page.locator("#queue-count")).to_have_text("待审核：已显示 2 件（还有更多）")
        more = page.get_by_role("button", name="加载更多")
        shoot(page, "queue-more")
        assert axe_violations(page) == []
        # When the reviewer asks for more until there is no more
        for shown in range(4, len(whole) + 2, 2):
            more.click()
            expect(rows).to_have_count(min(shown, len(whole)))
        # Then every case is listed once, by registration id, and the button is gone
        expect(more).to_be_hidden()
        expect(page.locator("#queue-count")).to_have_text(f"待审核 {len(whole)} 件")
        assert [r.get_attribute("data-rid") for r in rows.all()] == whole
        # and a reload starts again from the first page
        page.locator("#queue-reload").click()
        expect(rows).to_have_count(2)
        expect(more).to_be_visible()
        assert real(errors) == []
    finally:
        context.close()


PHONE: ViewportSize = {"width": 390, "height": 844}


def test_a_clerk_finds_cases_by_search_and_filters(review_day: ReviewDay, browser: Browser) -> None:
    day = review_day
    a, _ = two_districts(day)
    user = day.user("district", a)
    cases = day.queue(a)
    case = cases[-1]
    rid = case["registration_id"]
    id_number = day.bodies[rid]["child"]["id_number"]
    for viewport, name in ((DESK, "queue-search"), (PHONE, "phone-queue-search")):
        context, page, errors = new_page(browser, viewport)
        try:
            sign_in(page, day, user)
            page.get_by_role("link", name="审核队列").click()
            rows = page.locator("#queue-table tbody tr[data-rid]")
            expect(rows).to_have_count(len(cases))
            search = page.get_by_role("search", name="查找审核案件")
            # When the clerk types the child's full ID number, the server finds the one case; the number
            # is not shown back anywhere but the box the clerk typed it into
            search.get_by_label("查找").fill(id_number)
            search.get_by_role("button", name="查询").click()
            expect(rows).to_have_count(1)
            expect(rows.first).to_have_attribute("data-rid", rid)
            expect(page.locator("#queue-count")).to_have_text("符合条件的待审核案件 1 件")
            assert id_number not in page.locator("#queue-table").inner_text()
            # a filter on the conclusion: exactly the queue's cases with it
            search.get_by_label("查找").fill("")
            search.get_by_label("当前结论").select_option(case["status"])
            search.get_by_role("button", name="查询").click()
            same = [c["registration_id"] for c in cases if c["status"] == case["status"]]
            expect(rows).to_have_count(len(same))
            assert [r.get_attribute("data-rid") for r in rows.all()] == same
            # every field of the search stays inside the screen
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            shoot(page, name)
            assert axe_violations(page) == []
            if viewport == DESK:
                # the view as an .xlsx file: the same cases, masked as on screen
                with page.expect_download() as taken:
                    search.get_by_role("button", name="导出Excel").click()
                saved = Path(taken.value.path())
                assert taken.value.suggested_filename.endswith(".xlsx")
                [lines] = read_xlsx(saved.read_bytes()).values()
                lines = lines[3:]  # after the title, the filters in words and the header
                assert [line[0] for line in lines] == same
                assert all(MASKED_ID.fullmatch(line[2]) for line in lines)
                expect(page.locator("#queue-export-done")).to_contain_text(f"已导出 {len(same)} 件")
                # the print view: the list only, without navigation, forms or buttons
                page.emulate_media(media="print")
                expect(page.locator("nav")).to_be_hidden()
                expect(page.locator("#queue-search")).to_be_hidden()
                expect(page.locator("#bulk-form")).to_be_hidden()
                expect(rows).to_have_count(len(same))
                expect(rows.first.get_by_role("button")).to_have_count(0)
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.pdf(path=SCREENSHOTS / "console-queue-print.pdf")
                shoot(page, "queue-print")
                page.emulate_media(media="screen")
            # a search the server cannot take is answered in Chinese, naming what to type
            search.get_by_label("查找").fill("abc")
            search.get_by_role("button", name="查询").click()
            expect(page.locator("#queue-error")).to_contain_text("请输入报名编号")
            search.get_by_role("button", name="清除条件").click()
            expect(rows).to_have_count(len(cases))
            assert real(errors, "status of 422") == []
        finally:
            context.close()


def test_a_clerk_signs_several_cases_at_once_with_a_preset_reason(
    review_day: ReviewDay, browser: Browser
) -> None:
    day = review_day
    a, _ = two_districts(day)
    user = day.user("district", a)
    cases = day.queue(a)
    not_eligible = [c["registration_id"] for c in cases if c["status"] == "not-eligible"]
    assert len(not_eligible) >= 2, "district A needs two not-eligible cases"
    signed, changed = not_eligible[:2]
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, user)
        page.get_by_role("link", name="审核队列").click()
        expect(page.locator("#queue-count")).to_have_text(f"待审核 {len(cases)} 件")
        form = page.locator("#bulk-form")
        expect(form).to_be_visible()
        # the list grows with the page: no scroll box inside it
        wrap = page.locator("#sec-queue .table-wrap")
        assert wrap.evaluate("(e) => e.scrollHeight <= e.clientHeight + 1")
        # Given nothing ticked, signing is refused beside the form
        form.get_by_role("button", name="签字确认所选案件").click()
        expect(page.locator("#bulk-error")).to_have_text("请先在下表中勾选要签字的案件")
        # When the clerk ticks two not-eligible cases and confirms them with a preset reason and a
        # note, while a colleague has meanwhile changed one of them to eligible
        for rid in (signed, changed):
            page.get_by_label(f"选择 {rid}").check()
        expect(page.locator("#bulk-count")).to_have_text("已选 2 件")
        form.get_by_label("审核结论").select_option(label="确认不符合条件（统筹安排）")
        expect(form.get_by_label("常用理由").locator("option")).not_to_have_count(1)
        form.get_by_label("常用理由").select_option(label="未能提供有效证明材料")
        form.get_by_label("补充说明").fill("已电话告知家长")
        shoot(page, "bulk-picked")
        assert axe_violations(page) == []
        meanwhile = {"action": "override", "outcome": "eligible", "reason": "补交房产证原件，情况属实"}
        status, _ = drive.call(
            day.rt,
            "POST",
            f"/admin/verification/{day.season}/registrations/{changed}/decisions",
            meanwhile,
            user,
        )
        assert status == 201
        form.get_by_role("button", name="签字确认所选案件").click()
        # Then the first is signed and leaves the list; the changed one is not confirmed to an outcome
        # the clerk did not see: it stays, ticked, with why in Chinese
        reason = "未能提供有效证明材料；已电话告知家长"
        results = page.locator("#bulk-results")
        expect(results).to_contain_text(f"已签署 1 件，1 件未签署（见下）。理由：{reason}")
        expect(page.locator(f'#queue-table tbody tr[data-rid="{signed}"]')).to_have_count(0)
        expect(results.locator("li")).to_have_text(
            [f"{changed}：确认不能改变审核结论；要改变结论请改判并填写理由"]
        )
        expect(page.get_by_label(f"选择 {changed}")).to_be_checked()
        expect(page.locator("#queue-count")).to_have_text(f"待审核 {len(cases) - 1} 件")
        shoot(page, "bulk-signed")
        assert axe_violations(page) == []
        # each case recorded on its own: who, when and why
        path = f"/admin/verification/{day.season}/registrations/{{}}/history"
        status, history = drive.call(day.rt, "GET", path.format(signed), None, user)
        assert [(d["actor"], d["action"], d["outcome"], d["reason"]) for d in history["decisions"]] == [
            (user, "confirm", "not-eligible", reason)
        ]
        status, history = drive.call(day.rt, "GET", path.format(changed), None, user)
        assert [d["reason"] for d in history["decisions"]] == [meanwhile["reason"]]
        assert real(errors) == []
    finally:
        context.close()
    # On a phone: the same form, each control within its panel, nothing wider than the screen
    context, page, errors = new_page(browser, PHONE)
    try:
        sign_in(page, day, user)
        page.get_by_role("link", name="审核队列").click()
        expect(page.locator("#queue-count")).to_contain_text("待审核")
        form = page.locator("#bulk-form")
        expect(form).to_be_visible()
        expect(form.get_by_label("常用理由").locator("option")).not_to_have_count(1)
        box = form.bounding_box()
        assert box
        for control in form.locator("select, textarea, button").all():
            inner = control.bounding_box()
            assert inner and inner["x"] + inner["width"] <= box["x"] + box["width"], control.get_attribute(
                "id"
            )
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, "phone-bulk")
        assert axe_violations(page) == []
        assert real(errors) == []
    finally:
        context.close()


# The season goes on ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def coordination_day(review_day: ReviewDay) -> ReviewDay:
    """After the lotteries: the workflow waits at the coordination gate; the committees' plans are in."""
    day, config = review_day, review_day.config
    day.rt.advance_clock(config.day_end(config.calendar.private_counts_due))  # review may be advanced already
    drive.run_lotteries(day.rt, config)
    day.rt.wait_for_gate("coordination", timeout=600)
    drive.enter_placement_decisions(day.rt, config)
    return day


@pytest.fixture(scope="module")
def spot_check_day(coordination_day: ReviewDay) -> ReviewDay:
    """Placement has run; the city's spot-check sample is drawn; the workflow waits at the spot-check gate."""
    day, config = coordination_day, coordination_day.config
    day.rt.advance_clock(config.day_end(config.calendar.coordination.end))
    day.rt.wait_for_gate("spot-check", timeout=600)
    day.rt.advance_clock(config.day_start(config.calendar.spot_check.start).replace(hour=9))
    return day


@pytest.fixture(scope="module")
def season_over(spot_check_day: ReviewDay) -> ReviewDay:
    """Spot-check done, notices out, the archive sealed: the workflow waits at the reporting gate."""
    day, config = spot_check_day, spot_check_day.config
    drive.spot_check(day.rt)
    day.rt.advance_clock(config.day_end(config.calendar.spot_check.end))
    day.rt.wait_for_gate("reporting", timeout=600)
    return day


def test_district_staff_enter_a_placement_decision_with_its_reason(
    coordination_day: ReviewDay, browser: Browser
) -> None:
    day = coordination_day
    a, _ = two_districts(day)
    user = day.user("district", a)
    decided = {
        d["registration_id"]
        for d in drive.call(
            day.rt, "GET", f"/admin/placement/{day.season}/districts/{a}/decisions", None, user
        )[1]["decisions"]
    }
    child = next(r for r in day.ids_of(a) if r not in decided and not day.bodies[r].get("special_claims"))
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, user)
        page.get_by_role("link", name="录取结果").click()
        form = page.locator("#decision-form")
        expect(form).to_be_visible()
        # placement has not run yet: the results say so, calmly
        expect(page.locator("#placed-table")).to_contain_text("录取结果尚未产生")
        # a committee plan for a child who claimed no disability is refused with the rule's message
        form.get_by_label("报名编号").fill(child)
        form.get_by_label("决定类别").select_option("committee")
        form.get_by_label("安置方式").select_option("special-education")
        form.get_by_label("理由").fill("专家委员会评估意见")
        form.get_by_role("button", name="提交安置决定").click()
        expect(page.locator("#dec-error")).to_contain_text("只有申报残疾的儿童由专家委员会评估安置")
        # a deferral without a reason: the error stands beside the field
        form.get_by_label("决定类别").select_option("defer")
        expect(page.locator("#dec-school-field")).to_be_hidden()
        form.get_by_label("理由").fill("")
        form.get_by_role("button", name="提交安置决定").click()
        expect(page.locator("#dec-reason-error")).to_have_text("请填写理由（至少2个字）")
        shoot(page, "placement-decision-error")
        assert axe_violations(page) == []
        # with the reason, it is recorded: who, when, why (R-DEFER-1, R-VER-3)
        form.get_by_label("理由").fill("监护人因儿童身体原因申请缓学，经审核同意")
        form.get_by_role("button", name="提交安置决定").click()
        row = page.locator("#decisions-table tbody tr", has_text=child)
        expect(row).to_contain_text("缓学")
        expect(row).to_contain_text("监护人因儿童身体原因申请缓学，经审核同意")
        expect(row).to_contain_text(user)
        expect(page.locator("#announce")).to_have_text(f"已录入安置决定：{child}")
        shoot(page, "placement-decision")
        # reporting day is closed until the results are published: the screen says so, its box disabled
        page.get_by_role("link", name="新生报到").click()
        expect(page.locator("#rep-closed")).to_contain_text("录取结果尚未公布")
        expect(page.get_by_label("报名编号和核验码")).to_be_disabled()
        expect(page.get_by_role("button", name="核验并登记报到")).to_be_disabled()
        expect(page.locator("#rep-missing")).to_contain_text("录取结果尚未公布")
        shoot(page, "reporting-closed")
        assert axe_violations(page) == []
        assert real(errors, "status of 409", "status of 422") == []
    finally:
        context.close()


def test_the_placement_decision_form_is_shown_closed_once_results_are_published(
    spot_check_day: ReviewDay, browser: Browser
) -> None:
    day = spot_check_day
    a, _ = two_districts(day)
    user = day.user("district", a)
    before = drive.call(day.rt, "GET", f"/admin/placement/{day.season}/districts/{a}/decisions", None, user)[
        1
    ]
    for viewport, name in ((DESK, "placement-closed"), (PHONE, "phone-placement-closed")):
        context, page, errors = new_page(browser, viewport)
        try:
            sign_in(page, day, user)
            page.get_by_role("link", name="录取结果").click()
            expect(page.locator("#placed-count")).to_contain_text("已显示")
            form = page.locator("#decision-form")
            # placement has run: the form says so and why, before anyone types into it
            expect(page.locator("#decision-closed")).to_be_visible()
            expect(page.locator("#decision-closed")).to_contain_text("安置结果已经公布，不能再录入安置决定")
            for label in ("报名编号", "决定类别", "理由"):
                expect(form.get_by_label(label)).to_be_disabled()
            expect(form.get_by_role("button", name="提交安置决定")).to_be_disabled()
            # the school select, whatever its schools' names, stays inside the panel
            box, select = form.bounding_box(), form.locator("#dec-school").bounding_box()
            assert box and select and select["x"] + select["width"] <= box["x"] + box["width"]
            # each school by its name, as staff know it, never with its id (S-CY-01)
            offered = form.locator("#dec-school option").all_inner_texts()
            names = {s.name for s in day.config.schools}
            assert offered and all(t in names for t in offered), offered
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            shoot(page, name)
            assert axe_violations(page) == []
            assert real(errors) == []
        finally:
            context.close()
    after = drive.call(day.rt, "GET", f"/admin/placement/{day.season}/districts/{a}/decisions", None, user)[1]
    assert after == before


def test_city_staff_record_a_spot_check(spot_check_day: ReviewDay, browser: Browser) -> None:
    day = spot_check_day
    a, _ = two_districts(day)
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, day.user("city"))
        page.get_by_role("link", name="抽查").click()
        page.get_by_label("查看区").select_option(a)
        rows = page.locator("#spot-table tbody tr")
        expect(rows.first).to_contain_text("待复核")
        rid = rows.first.locator("td").nth(1).inner_text()
        assert rid in day.ids_of(a)
        rows.first.get_by_label(f"{rid} 复核结果").select_option("discrepancy")
        rows.first.get_by_label(f"{rid} 复核说明").fill("房产证复印件与原件不一致")
        rows.first.get_by_role("button", name="记录").click()
        first = page.locator("#spot-table tbody tr").first
        expect(first).to_contain_text("发现问题")
        expect(first).to_contain_text("房产证复印件与原件不一致")
        expect(page.locator("#spot-summary")).to_contain_text("发现问题")
        shoot(page, "spot-check")
        assert axe_violations(page) == []
        assert real(errors) == []
    finally:
        context.close()


def test_an_auditor_reads_results_and_the_archive_and_writes_nothing(
    season_over: ReviewDay, browser: Browser
) -> None:
    day = season_over
    a, _ = two_districts(day)
    auditor = day.user("auditor")
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, auditor)
        expect(page.locator("#who")).to_contain_text("审计监督")
        # every read the API allows them, as a page (docs/ACCESS.md): all sections but the agencies' files
        assert nav_titles(page) == [
            "报名信息",
            "审核队列",
            "入户核查",
            "电脑派位",
            "录取结果",
            "新生报到",
            "投诉答复",
            "短信未送达",
            "招生阶段",
            "招生季",
            "抽查",
            "结果与归档",
            "名单导出",
        ]
        for title, slug, shown in (
            ("报名信息", "registrations", "#reg-table tbody tr"),
            ("审核队列", "queue", "#queue-table tbody tr"),
            ("入户核查", "visits", "#visits-body"),
            ("电脑派位", "lottery", "#lottery-table tbody tr"),
            ("投诉答复", "complaints", "#complaints-list li"),
            ("招生阶段", "phases", "#phases-table tbody tr[data-phase]"),
            ("抽查", "spotcheck", "#spot-table tbody tr"),
        ):
            page.get_by_role("link", name=title).click()
            if title in ("报名信息", "审核队列", "投诉答复", "抽查"):
                page.get_by_label("查看区").select_option(a)
            expect(page.locator(shown).first).to_be_visible()
            expect(page.locator("main .error-box:visible:not(:empty)")).to_have_count(0)
            # read-only once loaded: no write control offered anywhere in the section (the queue's
            # 记录 button reads a case's history)
            section = page.locator("section.section:visible")
            expect(section).not_to_contain_text("正在载入")
            # (a search form reads: the review queue's, role=search)
            expect(section.locator("form:visible:not([role=search]), textarea:visible")).to_have_count(0)
            writes = re.compile(r"^(审核|提前结束|结束抽查并发布结果|提交答复|签字确认)$")
            expect(section.locator("button:visible", has_text=writes)).to_have_count(0)
            shoot(page, f"auditor-{slug}")
            assert axe_violations(page) == []
        expect(page.locator("#phases-table")).not_to_contain_text("提前结束")
        # the places of a district, masked, read-only
        page.get_by_role("link", name="录取结果").click()
        page.get_by_label("查看区").select_option(a)
        expect(page.locator("#placed-table tbody tr[data-rid]")).to_have_count(len(day.ids_of(a)))
        expect(page.locator("#decision-form")).to_be_hidden()
        expect(page.locator("#placed-table")).to_contain_text("划片入学")
        shoot(page, "auditor-placements")
        assert axe_violations(page) == []
        # the signed archive: its files, with five-minute links, and the season's summary
        page.get_by_role("link", name="结果与归档").click()
        expect(page.locator("#archive-files")).to_contain_text("placements.jsonl")
        expect(page.locator("#archive-files")).to_contain_text("manifest.sig.json")
        expect(page.locator("#archive-summary")).to_contain_text(f"{len(day.bodies)}人")
        # every table fits its panel at 1440 px: no count column scrolled out of view
        overflowing = page.evaluate(
            """() => [...document.querySelectorAll("#sec-archive .table-wrap")]
                 .filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => w.getAttribute("aria-label"))"""
        )
        assert overflowing == [], overflowing
        link = page.get_by_role("link", name="下载 placements.jsonl")
        href = link.get_attribute("href") or ""
        assert "placements.jsonl" in href and "Expires=300" in href.replace("X-Amz-", "")
        # and it downloads, locally too (the local server stands in for S3): the very bytes whose
        # SHA-256 the table shows, one line per child, and the signature beside them
        assert "/local-s3/" in href, href
        with page.expect_download() as taken:
            link.click()
        placed = Path(taken.value.path()).read_bytes()
        assert taken.value.suggested_filename == "placements.jsonl"
        row = page.locator("#archive-files tr", has=link)
        expect(row.locator("td.hash")).to_have_text(hashlib.sha256(placed).hexdigest())
        assert len(placed.splitlines()) == len(day.bodies)
        with page.expect_download() as taken:
            page.locator("#archive-files li a", has_text="manifest.sig.json").first.click()
        assert json.loads(Path(taken.value.path()).read_bytes())
        # the season report the workflow wrote beside the archive: a five-minute link, in a new tab
        report = page.locator("#archive-report a")
        expect(report).to_contain_text("招生季报告")
        assert f"reports/{day.season}/report.html" in (report.get_attribute("href") or "")
        assert report.get_attribute("target") == "_blank"
        expect(page.locator("#corrections-seal")).to_be_hidden()  # the city's alone
        shoot(page, "auditor-archive")
        assert axe_violations(page) == []
        # the exports: the masked public lists only, each download recorded (docs/EXPORTS.md)
        page.get_by_role("link", name="名单导出").click()
        page.get_by_label("查看区").select_option(a)
        expect(page.locator("#exports-district-files button")).to_have_count(0)  # no personal data
        school = next(s for s in day.config.schools if s.district == a)
        page.get_by_role("button", name=f"Excel {school.name}公示名单").click()
        link = page.get_by_role("link", name=f"下载 {day.season}年{school.name}公示名单.xlsx")
        href = link.get_attribute("href") or ""
        assert f"exports/{day.season}/" in href and "Expires=300" in href.replace("X-Amz-", "")
        expect(page.locator("#downloads-table")).to_contain_text("公示名单")
        shoot(page, "auditor-exports")
        assert axe_violations(page) == []
        # an auditor's token writes nothing
        rid = day.ids_of(a)[0]
        for path, body in (
            (
                f"/admin/verification/{day.season}/registrations/{rid}/decisions",
                {"action": "confirm", "reason": "审计"},
            ),
            (
                f"/admin/placement/{day.season}/registrations/{rid}/decisions",
                {"kind": "defer", "reason": "审计"},
            ),
            (f"/admin/seasons/{day.season}/phases/reporting/advance", {"reason": "审计推进"}),
        ):
            status, _ = api_from_page(page, day, "POST", path, body)
            assert status == 403, path
        assert real(errors, "status of 403") == []  # the refused writes above
    finally:
        context.close()


def _rids(page: Page, table: str) -> list[str]:
    return [r.get_attribute("data-rid") or "" for r in page.locator(f"#{table} tbody tr[data-rid]").all()]


def test_a_clerk_sorts_searches_and_filters_the_registrations_and_placements(
    season_over: ReviewDay, browser: Browser
) -> None:
    day = season_over
    a, _ = two_districts(day)
    user = day.user("district", a)
    s = day.season
    registrations = f"/admin/verification/{s}/districts/{a}/registrations"
    placements = f"/admin/placement/{s}/districts/{a}/placements"

    def listed(path: str, key: str, **query: str) -> list[str]:
        status, body = drive.call(day.rt, "GET", path, None, user, {"limit": "500", **query})
        assert status == 200 and body["next"] is None, body
        return [r["registration_id"] for r in body[key]]

    oldest = listed(registrations, "registrations", sort="created_at", order="asc")
    newest = listed(registrations, "registrations", sort="created_at", order="desc")
    eligible = listed(registrations, "registrations", status="eligible")
    eligible_newest = listed(
        registrations, "registrations", status="eligible", sort="created_at", order="desc"
    )
    status, whole = drive.call(day.rt, "GET", placements, None, user, {"limit": "500"})
    assert status == 200, whole
    # a school of the district's own (the filter lists every school, the district's own first)
    rid, school = next(
        (r["registration_id"], r["school"]["id"])
        for r in whole["placements"]
        if r["school"] and day.config.school_index[r["school"]["id"]].district == a
    )
    by_route = listed(placements, "placements", school=school, sort="route", order="asc")
    for viewport, name in ((DESK, "lists-sorted"), (PHONE, "phone-lists-sorted")):
        context, page, errors = new_page(browser, viewport)
        try:
            sign_in(page, day, user)
            rows = page.locator("#reg-table tbody tr[data-rid]")
            expect(rows).to_have_count(len(day.ids_of(a)))
            # When the clerk clicks a column's header, the whole list is sorted by it on the server;
            # a second click sorts it the other way, and the header says how (aria-sort)
            header = page.locator("#reg-table thead th", has_text="报名时间")
            expect(header).to_have_attribute("aria-sort", "none")
            header.get_by_role("button").click()
            expect(header).to_have_attribute("aria-sort", "ascending")
            expect(rows.first).to_have_attribute("data-rid", oldest[0])
            assert _rids(page, "reg-table") == oldest
            header.get_by_role("button").click()
            expect(header).to_have_attribute("aria-sort", "descending")
            expect(rows.first).to_have_attribute("data-rid", newest[0])
            assert _rids(page, "reg-table") == newest
            # the search and the filters keep the sort, matched on the server
            search = page.get_by_role("search", name="查找报名信息")
            search.get_by_label("审核状态").select_option("eligible")
            search.get_by_role("button", name="查询").click()
            expect(rows).to_have_count(len(eligible))
            assert sorted(_rids(page, "reg-table")) == sorted(eligible)
            if viewport == DESK:
                # 导出Excel: the view as shown (filtered and sorted), every row of it, masked as listed
                with page.expect_download(timeout=120_000) as taken:
                    search.get_by_role("button", name="导出Excel").click()
                assert taken.value.suggested_filename.endswith(".xlsx")
                [lines] = read_xlsx(Path(taken.value.path()).read_bytes()).values()
                assert "状态 审核通过" in lines[1][0] and "排序 报名时间 降序" in lines[1][0]
                assert [line[0] for line in lines[3:]] == eligible_newest
                assert all(MASKED_ID.fullmatch(line[2]) for line in lines[3:])
                expect(page.locator("#reg-export-done")).to_contain_text(f"已导出 {len(eligible)} 条")
            search.get_by_label("审核状态").select_option("")
            search.get_by_label("查找").fill(rid.lower())
            search.get_by_role("button", name="查询").click()
            expect(rows).to_have_count(1)
            expect(page.locator("#reg-count")).to_contain_text("符合条件的报名")
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            shoot(page, name)
            assert axe_violations(page) == []
            # 打印: the list as found, without navigation, search or buttons
            expect(search.get_by_role("button", name="打印")).to_be_visible()
            page.emulate_media(media="print")
            expect(page.locator("nav")).to_be_hidden()
            expect(page.locator("#reg-search")).to_be_hidden()
            expect(rows).to_have_count(1)
            shoot(page, f"{name}-print")
            page.emulate_media(media="screen")
            search.get_by_role("button", name="清除条件").click()
            expect(header).to_have_attribute("aria-sort", "none")
            expect(rows).to_have_count(len(day.ids_of(a)))
            # the placements: one school's children, sorted by how they were placed
            page.get_by_role("link", name="录取结果").click()
            placed = page.locator("#placed-table tbody tr[data-rid]")
            expect(placed).to_have_count(len(day.ids_of(a)))
            found = page.get_by_role("search", name="查找安置结果")
            found.get_by_label("录取学校").select_option(school)
            found.get_by_role("button", name="查询").click()
            expect(placed).to_have_count(len(by_route))
            route = page.locator("#placed-table thead th", has_text="录取方式")
            route.get_by_role("button").click()
            expect(route).to_have_attribute("aria-sort", "ascending")
            expect(placed.first).to_have_attribute("data-rid", by_route[0])
            # (the sorted list may replace the one shown: wait until the rows are the sorted ones)
            page.wait_for_function(
                """(want) => JSON.stringify([...document.querySelectorAll("#placed-table tbody tr[data-rid]")]
                     .map((r) => r.dataset.rid)) === JSON.stringify(want)""",
                arg=by_route,
            )
            if viewport == DESK:
                with page.expect_download(timeout=120_000) as taken:
                    found.get_by_role("button", name="导出Excel").click()
                [lines] = read_xlsx(Path(taken.value.path()).read_bytes()).values()
                assert [line[0] for line in lines[3:]] == by_route and "排序 录取途径 升序" in lines[1][0]
                expect(page.locator("#placed-export-done")).to_contain_text(f"已导出 {len(by_route)} 条")
            # 打印: one school's list, without the closed decision form or the search
            expect(found.get_by_role("button", name="打印")).to_be_visible()
            page.emulate_media(media="print")
            expect(page.locator("#decision-form")).to_be_hidden()
            expect(page.locator("#placed-search")).to_be_hidden()
            expect(placed).to_have_count(len(by_route))
            shoot(page, f"{name}-placements-print")
            page.emulate_media(media="screen")
            # a search the server cannot take is answered in Chinese, naming what to type
            found.get_by_label("查找").fill("abc")
            found.get_by_role("button", name="查询").click()
            expect(page.locator("#placed-error")).to_contain_text("请输入报名编号")
            expect(page.locator("#decision-closed")).to_be_visible()  # a refused search reopens nothing
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            shoot(page, f"{name}-placements")
            assert axe_violations(page) == []
            assert real(errors, "status of 422") == []
        finally:
            context.close()


def test_the_placements_filter_offers_schools_outside_the_district(
    season_over: ReviewDay, browser: Browser
) -> None:
    """A district's child may be placed at another district's school (a special-education school, a
    private school approved across districts): the placements list can be filtered for it."""
    day = season_over
    schools = day.config.school_index
    # Given a district with a child placed at a school of another district (whichever there is)
    found: tuple[str, str, str] | None = None
    for d in sorted(x.code for x in day.config.districts):
        path = f"/admin/placement/{day.season}/districts/{d}/placements"
        status, whole = drive.call(day.rt, "GET", path, None, day.user("district", d), {"limit": "500"})
        assert status == 200, whole
        away = sorted(
            (r["school"]["id"], r["registration_id"])
            for r in whole["placements"]
            if r["school"] and schools[r["school"]["id"]].district != d
        )
        if away:
            found = (d, *away[0])
            break
    assert found is not None, "a child placed at another district's school"
    d, school, rid = found
    user = day.user("district", d)
    path = f"/admin/placement/{day.season}/districts/{d}/placements"
    # the API filters by that school: the district's children placed there, and only them
    status, there = drive.call(day.rt, "GET", path, None, user, {"limit": "500", "school": school})
    assert status == 200, there
    wanted = sorted(r["registration_id"] for r in there["placements"])
    assert rid in wanted
    assert all(r["school"]["id"] == school for r in there["placements"])
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, user)
        page.get_by_role("link", name="录取结果").click()
        placed = page.locator("#placed-table tbody tr[data-rid]")
        expect(placed).to_have_count(len(day.ids_of(d)))
        # the filter offers every school of the city, each by its name, the district's own first
        found_form = page.get_by_role("search", name="查找安置结果")
        options = page.locator("#placed-school option")
        expect(options).to_have_count(len(day.config.schools) + 1)
        first_group = page.locator("#placed-school optgroup").first
        expect(first_group).to_have_attribute("label", f"{day.config.district_index[d].name}学校")
        other = page.locator(f"#placed-school option[value='{school}']")
        expect(other).to_have_text(schools[school].name)
        found_form.get_by_label("录取学校").select_option(school)
        found_form.get_by_role("button", name="查询").click()
        expect(placed).to_have_count(len(wanted))
        page.wait_for_function(
            """(want) => JSON.stringify([...document.querySelectorAll("#placed-table tbody tr[data-rid]")]
                 .map((r) => r.dataset.rid).sort()) === JSON.stringify(want)""",
            arg=wanted,
        )
        shoot(page, "placements-other-district-school")
        assert axe_violations(page) == []
        assert real(errors) == []
    finally:
        context.close()


def test_school_staff_record_arrivals_by_scanning_or_typing_the_notice(
    season_over: ReviewDay, browser: Browser
) -> None:
    from enrollment.adapters.notifications import DynamoNoticeStore
    from tests.integration.conftest import table_items

    day = season_over
    # Given the issued notices whose children have not reported yet, school by school, across the
    # city (the test picks its own school, whatever earlier tests reviewed, corrected or recorded):
    # the school with the most of them in a district that has another such school
    items = table_items(day.rt)
    came = {i["registration_id"] for i in items if i["sk"] == "ARRIVAL"}
    by_school: dict[str, list[dict[str, Any]]] = {}
    for i in sorted(items, key=lambda i: str(i["pk"])):
        at = day.config.school_index.get(str(i.get("school_id")))
        issued = i["sk"] == "NOTICE" and i.get("status") not in ("manual", "revoked")
        if issued and at and i["registration_id"] not in came:
            by_school.setdefault(at.id, []).append(i)
    district_of = {k: day.config.school_index[k].district for k in by_school}
    school, notices = max(
        (
            (k, v)
            for k, v in by_school.items()
            if any(o != k and district_of[o] == district_of[k] for o in by_school)
        ),
        key=lambda kv: (len(kv[1]), kv[0]),
    )
    a = district_of[school]
    user = day.user("district", a)
    elsewhere = next(
        n for k, v in sorted(by_school.items()) if k != school and district_of[k] == a for n in v
    )
    assert len(notices) >= 3, "the school needs three notices"
    # the second child is refused at the desk for a wrong code, then scanned in on the phone: the
    # refusal recorded nothing (the scan answers 已报到, not 已登记过报到)
    first, second, revoked = notices[:3]
    scanned = second
    DynamoNoticeStore(day.rt.table_name).replace_notice(
        {
            "registration_id": revoked["registration_id"],
            "school_id": school,
            "verification_code": "ZZZZZ00000",
            "revoked_on": "2023-07-06",
        },
        None,
    )
    name = day.config.school_index[school].name

    def masked(n: dict[str, Any]) -> str:
        full = str(day.bodies[n["registration_id"]]["child"]["name"])
        return full[0] + "*" * (len(full) - 2) + full[-1] if len(full) > 2 else full[0] + "*"

    for viewport, shot in ((DESK, "reporting"), (PHONE, "phone-reporting")):
        context, page, errors = new_page(browser, viewport)
        try:
            sign_in(page, day, user)
            page.get_by_role("link", name="新生报到").click()
            page.get_by_label("报到学校").select_option(school)
            expect(page.locator("#rep-missing-count")).to_contain_text("未报到")
            box = page.get_by_label("报名编号和核验码")
            result = page.locator("#rep-result")
            if viewport == DESK:
                # When the desk types the id and the code (lower case, no hyphen) and Enter: recorded
                code = first["verification_code"]
                box.fill(f"{first['registration_id'].lower()} {code.lower()}")
                box.press("Enter")
                expect(result).to_contain_text("已报到")
                expect(result).to_contain_text(masked(first))
                expect(result).to_contain_text(name)
                expect(
                    page.locator(f"#rep-arrived tbody tr[data-rid='{first['registration_id']}']")
                ).to_be_visible()
                expect(
                    page.locator(f"#rep-missing tbody tr[data-rid='{first['registration_id']}']")
                ).to_have_count(0)
                # a wrong code, a revoked notice, another school's child, and the same child again
                box.fill(f"{second['registration_id']} 00000-00000")
                box.press("Enter")
                expect(result).to_contain_text("核验码不符")
                box.fill(f"{revoked['registration_id']} zzzzz-00000")
                box.press("Enter")
                expect(result).to_contain_text("作废")
                box.fill(f"{elsewhere['registration_id']} {elsewhere['verification_code']}")
                box.press("Enter")
                expect(result).to_contain_text("不是本校录取的学生")
                box.fill(f"{first['registration_id']} {code}")
                box.press("Enter")
                expect(result).to_contain_text("已登记过报到")
                # text that is no notice is answered beside the box, nothing sent
                box.fill("报到")
                box.press("Enter")
                expect(page.locator("#rep-error")).to_contain_text("请输入通知书上的报名编号和核验码")
            else:
                # a handheld scanner: the id, a new line (Enter), then the code and Enter
                code = scanned["verification_code"]
                box.fill(scanned["registration_id"])
                box.press("Enter")
                expect(result).to_be_empty()
                box.press_sequentially(f"{code[:5]}-{code[5:]}")
                box.press("Enter")
                expect(result).to_contain_text("已报到")
                expect(result).to_contain_text(masked(scanned))
            expect(page.locator("#rep-arrived-count")).to_contain_text("今日已报到")
            expect(page.locator("#rep-missing tbody tr[data-rid]").first).to_be_visible()
            assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
            shoot(page, shot)
            assert axe_violations(page) == []
            assert real(errors) == []
        finally:
            context.close()
    # and the API says the same: the two who came arrived, the revoked notice's child did not
    status, lists = drive.call(
        day.rt, "GET", f"/admin/placement/{day.season}/schools/{school}/no-shows", None, user
    )
    assert status == 200
    arrived = {x["registration_id"] for x in lists["arrived"]}
    assert {first["registration_id"], scanned["registration_id"]} <= arrived
    assert revoked["registration_id"] not in arrived


def test_city_staff_seal_the_corrections_at_once(season_over: ReviewDay, browser: Browser) -> None:
    """Last: after the notices a district corrects a place (a public seat declined); the city seals
    the pending corrections now from the archive panel instead of waiting for the 03:00 run."""
    day = season_over
    a, _ = two_districts(day)
    lines = drive._placed_lines(day.rt)
    rid = next(
        r
        for r in day.ids_of(a)
        if lines[r]["route"] == "catchment"
        and day.config.school_index[lines[r]["school_id"]].kind == "public"
    )
    body = {"kind": "decline", "registration_id": rid, "reason": drive.CORRECTION_REASONS["public-decline"]}
    path = f"/admin/placement/{day.season}/corrections"
    status, made = drive.call(day.rt, "POST", path, body, day.user("district", a))
    assert status == 201, made
    context, page, errors = new_page(browser)
    try:
        sign_in(page, day, day.user("city"))
        page.get_by_role("link", name="结果与归档").click()
        expect(page.locator("#corrections-seal-hint")).to_contain_text("每日凌晨3时自动签名封存")
        page.get_by_role("button", name="立即封存更正").click()
        sealed = page.locator("#corrections-sealed")
        expect(sealed).to_have_text(f"已签名封存：第1批（{len(made['corrections'])}条更正）。")
        shoot(page, "city-seal-corrections")
        assert axe_violations(page) == []
        page.get_by_role("button", name="立即封存更正").click()
        expect(sealed).to_have_text("没有待封存的更正。")
        assert real(errors) == []
    finally:
        context.close()
