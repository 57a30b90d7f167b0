"""The stepped registration form (issue 19): a family in a multi-school zone goes 儿童信息 → 地址与材料 →
选择学校 (the zone's schools, in the order they pick) → 核对并提交, keeps a draft on the phone across a
reload (never the ID numbers), and prints the 入学信息采集表 that annex 2 of the notice asks for.

Screenshots at 390×844, 1440×900 and 1920×1080 in test-output/screenshots/ (`steps-*.png`); axe-core
on each step: no serious or critical violation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from enrollment.core.config import SeasonConfig
from enrollment.registration import catchment
from tests.e2e import test_browser as portal
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.e2e.test_browser import Session, fill_step, next_step, sign_in_in_page
from tests.integration.conftest import registration_items
from tests.support import valid_body

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ui = portal.ui  # the portal's fixture: grade-1 registration open, the form on a phone-sized page
VIEWPORTS: dict[str, ViewportSize] = {
    "390": {"width": 390, "height": 844},
    "1440": {"width": 1440, "height": 900},
    "1920": {"width": 1920, "height": 1080},
}
DRAFT_KEY = "enrollment.parent.draft"


def shoot_all(page: Page, name: str) -> None:
    """The page as it stands at each viewport, checked with axe-core at each; back to the phone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (name, size)
        page.screenshot(path=SCREENSHOTS / f"steps-{name}-{size}.png", full_page=True)
        assert axe_violations(page) == [], (name, size)
    page.set_viewport_size(VIEWPORTS["390"])


def multi_school_body(season: SeasonConfig) -> dict[str, Any]:
    zone = next(z for z in season.zones if z.multi_school and z.grade == 1)
    seg = zone.segments[0]
    number = next(n for n in range(seg.from_number, seg.to_number + 1) if seg.covers(n))
    address = {"district": zone.district, "road": seg.road, "number": number, "detail": "2栋1单元301室"}
    body = valid_body(season, home_address=address)
    body["residence"]["hukou_address"] = dict(address)
    return body


def draft(page: Page) -> str | None:
    value: str | None = page.evaluate(f"() => localStorage.getItem('{DRAFT_KEY}')")
    return value


def test_a_family_registers_step_by_step_with_a_draft_and_prints_the_form(
    ui: Session, season: SeasonConfig
) -> None:
    page = ui.page
    body = multi_school_body(season)
    child_id, guardian_id = body["child"]["id_number"], body["guardians"][0]["id_number"]
    home = body["home_address"]
    zone_schools = next(
        g["schools"]
        for g in catchment.lookup(
            season, {"district": home["district"], "road": home["road"], "number": str(home["number"])}
        )["grades"]
        if g["grade"] == 1
    )
    assert len(zone_schools) > 1
    expect(page.locator("#step-indicator")).to_have_text("第1步，共4步：儿童信息")
    expect(page.locator("#draft-hint")).to_contain_text("为保护隐私，身份证号不保存在草稿中")

    # A draft is kept as it is typed; 清除草稿 after a reload forgets it
    page.fill("#child_name", "草稿儿童")
    assert json.loads(draft(page) or "{}")["values"]["child_name"] == "草稿儿童"
    page.reload()
    expect(page.locator("#draft-banner")).to_contain_text("已恢复上次未提交的草稿")
    expect(page.locator("#child_name")).to_have_value("草稿儿童")
    page.get_by_role("button", name="清除草稿").click()
    expect(page.locator("#child_name")).to_have_value("")
    expect(page.locator("#draft-banner")).to_be_hidden()
    assert draft(page) is None

    # Given the first two steps filled in, When the phone reloads the page
    fill_step(page, body, 1)
    shoot_all(page, "1-child")
    next_step(page, 2)
    fill_step(page, body, 2)
    shoot_all(page, "2-address")
    kept = draft(page) or ""
    assert body["child"]["name"] in kept and home["road"] in kept
    assert child_id not in kept and guardian_id not in kept  # never the ID numbers
    page.reload()
    expect(page.locator("#home_district option")).not_to_have_count(0)

    # Then the draft is back, but for the ID numbers, which are typed again
    expect(page.locator("#draft-banner")).to_contain_text("已恢复上次未提交的草稿")
    expect(page.locator("#draft-banner")).to_contain_text("身份证号不保存在草稿中")
    expect(page.locator("#step-indicator")).to_contain_text("第1步")
    expect(page.locator("#child_name")).to_have_value(body["child"]["name"])
    expect(page.locator("#g0_phone")).to_have_value(body["guardians"][0]["phone"])
    expect(page.locator("#child_id_number")).to_have_value("")
    expect(page.locator("#g0_id_number")).to_have_value("")
    page.get_by_role("button", name="下一步").click()  # without the ID numbers, step 1 says so
    expect(page.locator('[data-error="child.id_number"]')).not_to_be_empty()
    expect(page.locator('[data-error="guardians.0.id_number"]')).to_have_text("此项为必填项")
    page.locator("#child_id_number").press_sequentially(child_id)
    page.fill("#g0_id_number", guardian_id)
    next_step(page, 2)
    expect(page.locator("#home_road")).to_have_value(home["road"])
    expect(page.locator("#home_number")).to_have_value(str(home["number"]))

    # Step 3 lists the zone's schools nearest first (the catchment lookup's), to be put in order
    next_step(page, 3)
    prefs = page.locator("#prefs li strong")
    expect(prefs).to_have_text([f"第{i + 1}志愿：{s['name']}" for i, s in enumerate(zone_schools)])
    first, second = zone_schools[0], zone_schools[1]
    page.get_by_role("button", name=f"{first['name']}下移").click()
    expect(prefs.nth(0)).to_have_text(f"第1志愿：{second['name']}")
    expect(prefs.nth(1)).to_have_text(f"第2志愿：{first['name']}")
    shoot_all(page, "3-schools")
    order = [second["id"], first["id"], *(s["id"] for s in zone_schools[2:])]

    # Step 4 reads everything back; 修改 goes to the step and 下一步 comes back with the order kept
    next_step(page, 4)
    review = page.locator("#review")
    for text in (
        body["child"]["name"],
        child_id,
        body["guardians"][0]["name"],
        home["road"],
        "JL-2019-000123",
    ):
        expect(review).to_contain_text(text)
    expect(review).to_contain_text(f"第1志愿：{second['name']}；第2志愿：{first['name']}")
    page.get_by_role("button", name="修改报名学校").click()
    expect(page.locator("#step-indicator")).to_contain_text("第3步")
    next_step(page, 4)
    shoot_all(page, "4-review")

    # When they submit, Then the preferences go in their order, and the draft is gone
    with page.expect_request(lambda r: r.url.endswith("/api/registrations") and r.method == "POST") as sent:
        page.get_by_role("button", name="提交报名").click()
    assert json.loads(sent.value.post_data or "{}")["school_preferences"] == order
    expect(page.locator("#result")).to_contain_text("报名成功")
    [item] = registration_items(ui.rt)
    assert item["request"]["school_preferences"] == order
    assert draft(page) is None

    # The 入学信息采集表: everything registered, the id, the signature and date lines; A4, alone on paper
    page.get_by_role("button", name="打印入学信息采集表").click()
    sheet = page.locator("#sheet")
    expect(sheet.locator("h2")).to_have_text("2023年吉林市小学入学信息采集表")
    for text in (
        item["registration_id"],
        body["child"]["name"],
        child_id,
        guardian_id,
        home["road"],
        second["name"],
    ):
        expect(sheet).to_contain_text(text)
    expect(sheet).to_contain_text("监护人签字：")
    expect(sheet).to_contain_text("日期：")
    expect(page.locator("main")).to_be_hidden()
    shoot_all(page, "print-screen")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印", exact=True)).to_be_hidden()
    expect(page.locator("header").first).to_be_hidden()
    expect(sheet).to_be_visible()
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.screenshot(path=SCREENSHOTS / "steps-print-a4.png", full_page=True)
    page.emulate_media(media="screen")
    page.get_by_role("button", name="返回").click()
    expect(page.locator("main")).to_be_visible()
    assert ui.console_errors == []


def test_a_signed_in_family_prints_edits_and_withdraws_the_registration(
    ui: Session, season: SeasonConfig
) -> None:
    page = ui.page
    page.set_default_timeout(15_000)  # many steps, each a request or two, on a loaded machine
    # Given a registered child in a single-school zone, the family signed in while the window is open
    body = valid_body(season)
    status, registered = ui.send("POST", "api/registrations", body)
    assert status == 201, registered
    rid = registered["registration_id"]
    zone = season.zone_for(1, body["home_address"]["road"], body["home_address"]["number"])
    assert zone is not None
    school = season.school_index[zone.schools[0]]
    sign_in_in_page(ui, rid)
    expect(page.locator("#changes-state")).to_contain_text("报名截止前，可以修改或撤回报名")
    shoot_all(page, "status-changes")

    # The 入学信息采集表 from the status page: the stored form in full (GET .../form), and the zone's school
    page.get_by_role("button", name="打印入学信息采集表").click()
    sheet = page.locator("#sheet")
    for text in (rid, body["child"]["id_number"], body["guardians"][0]["id_number"], school.name):
        expect(sheet).to_contain_text(text)
    page.get_by_role("button", name="返回").click()
    expect(page.locator("#status-view")).to_be_visible()

    # 修改报名信息 opens the stepped form filled in, the child's ID number read-only
    page.get_by_role("button", name="修改报名信息").click()
    expect(page.locator("#edit-banner")).to_contain_text(f"正在修改报名编号{rid}的报名信息")
    expect(page.locator("#step-indicator")).to_contain_text("第1步")
    expect(page.locator("#child_name")).to_have_value(body["child"]["name"])
    expect(page.locator("#child_id_number")).to_have_value(body["child"]["id_number"])
    expect(page.locator("#child_id_number")).not_to_be_editable()
    expect(page.locator("#grade")).to_be_disabled()
    shoot_all(page, "edit-1")
    # When they change the guardian's phone and go through the steps to submit
    page.fill("#g0_phone", "17000005678")
    next_step(page, 2)
    expect(page.locator("#home_road")).to_have_value(body["home_address"]["road"])
    next_step(page, 3)
    expect(page.locator("#school-choice")).to_contain_text(school.name)
    next_step(page, 4)
    expect(page.locator("#review")).to_contain_text("17000005678")
    with page.expect_request(lambda r: r.method == "PUT") as sent:
        page.get_by_role("button", name="提交报名").click()
    assert sent.value.url.endswith(f"/api/registrations/{rid}")
    assert sent.value.headers.get("authorization", "").startswith("Bearer ")
    # Then the change is stored and named
    expect(page.locator("#result")).to_contain_text("报名信息已修改")
    expect(page.locator("#result")).to_contain_text("修改了：监护人手机号码")
    [item] = registration_items(ui.rt)
    assert item["request"]["guardians"][0]["phone"] == "17000005678"
    assert [c["kind"] for c in item["changes"]] == ["edited"]
    assert draft(page) is None  # an edit keeps no draft

    # 撤回报名 asks first, naming what is given up; 取消 sends nothing
    page.get_by_role("link", name="返回查询进度").click()
    expect(page.locator("#status-view")).to_be_visible()
    # the status page reloads (GET the status, then the form) when shown again, and the reload closes
    # an open confirmation: wait until it is in before pressing 撤回报名
    expect(page.locator("body")).to_have_attribute("data-ready", "status")
    page.get_by_role("button", name="撤回报名").click()
    consequences = page.locator("#withdraw-consequences li")
    expect(consequences.nth(0)).to_contain_text(f"本次报名（报名编号{rid}）即被取消")
    expect(consequences.nth(1)).to_contain_text("不再参加信息审核、民办学校摇号和派位")
    expect(consequences.nth(2)).to_contain_text("须在报名截止（05月29日24时）前重新报名")
    shoot_all(page, "withdraw-confirm")
    page.get_by_role("button", name="取消").click()
    expect(page.locator("#withdraw-confirm")).to_be_hidden()
    assert not [p for p in ui.posted if p.endswith("/withdraw")]

    # When they confirm, Then the registration is withdrawn and can no longer be changed
    page.get_by_role("button", name="撤回报名").click()
    with page.expect_request(lambda r: r.url.endswith("/withdraw")) as withdrawn:
        page.get_by_role("button", name="确认撤回").click()
    assert json.loads(withdrawn.value.post_data or "{}") == {"confirm": True}
    expect(page.locator("#changes-result")).to_contain_text("已撤回本次报名")
    expect(page.locator("#changes-state")).to_have_text("本次报名已撤回；报名时间内可重新报名")
    expect(page.get_by_role("button", name="撤回报名")).to_be_hidden()
    expect(page.get_by_role("button", name="修改报名信息")).to_be_hidden()
    expect(page.get_by_role("button", name="打印入学信息采集表")).to_be_hidden()
    expect(page.locator("#facts")).to_contain_text("已撤回报名")
    expect(page.locator("#verification-state")).to_have_text("本次报名已撤回，不参加信息审核。")
    expect(page.locator("#placement")).to_contain_text("本次报名已撤回，不安排入学学校")
    [item] = registration_items(ui.rt)
    assert item["status"] == "withdrawn"
    shoot_all(page, "withdrawn")
    assert ui.console_errors == []
