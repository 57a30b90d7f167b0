"""A parent on a phone, in Debian Chromium, against the embedded stack served over local HTTP.

The portal (register, status with the SMS code, seat warnings, complaints) is served by the register
function through `enrollment.local.http` exactly as API Gateway would serve it; everything behind it
is moto. Each test leaves full-page screenshots in test-output/screenshots/ (`<test>.png` at the end,
`parent-*.png` on the way) and scans each page it shows with axe-core: no serious or critical
violation. Needs Debian's Chromium: `make browser`.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect

from enrollment.adapters.dynamodb import live_key
from enrollment.adapters.lottery_store import DynamoLotteryStore
from enrollment.core import idcard, names
from enrollment.core.clock import SimulatedClock
from enrollment.core.config import SeasonConfig, load_season
from enrollment.local import season as drive
from enrollment.local.http import serve
from enrollment.local.runtime import EmbeddedSeason
from enrollment.registration import demand
from tests.compounds import compound_address, compound_season
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.integration.conftest import registration_items, table_items
from tests.integration.parent_session import last_code
from tests.support import child_id, valid_body

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

REGISTRATION_ID = re.compile(r"R(-[A-Z2-7]{4}){4}")


@dataclass
class Session:
    rt: EmbeddedSeason
    base: str
    page: Page
    lock: threading.Lock
    console_errors: list[str] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)  # every non-GET request the page sent

    def get(self, path: str) -> tuple[int, dict[str, Any]]:
        return self.send("GET", path)

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        """A request to the local server, as another client would send it."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def staff(
        self, method: str, path: str, body: Any, role: str, district: str | None = None
    ) -> tuple[int, Any]:
        """A staff request through the real routes (as the console would send it)."""
        with self.lock:
            return drive.call(self.rt, method, path, body, drive.member(self.rt, role, district).principal)

    def shoot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"parent-{name}.png", full_page=True)


@pytest.fixture
def ui(
    browser: Browser, season: SeasonConfig, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Session]:
    """A fresh stack with grade-1 registration open, served locally, and a phone-sized page on the form."""
    now = datetime.fromisoformat(f"{season.calendar.grade1_registration.start} 10:00").replace(
        tzinfo=season.tz
    )
    lock = threading.Lock()
    config_path = None
    if season.compounds:  # a season a test built (tests/compounds.py): the functions read it from a file
        config_path = str(tmp_path / "season.yaml")
        Path(config_path).write_text(
            yaml.safe_dump(season.model_dump(mode="json"), allow_unicode=True), encoding="utf-8"
        )
    with (
        EmbeddedSeason(season, SimulatedClock(now), config_path=config_path) as rt,
        serve(rt, lock=lock) as base,
    ):
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        context.set_default_timeout(5_000)
        page = context.new_page()
        s = Session(rt, base, page, lock)
        page.on("console", lambda m: _console(s, m))
        page.on("pageerror", lambda e: s.console_errors.append(f"page error: {e}"))
        page.on("request", lambda r: _request(s, r))
        page.goto(base)
        # the page has loaded the season (districts come from GET api/season)
        expect(page.locator("#home_district option")).not_to_have_count(0)
        expect(page.locator("body")).to_have_attribute("data-ready", "register")
        try:
            yield s
        finally:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
            context.close()


def _console(s: Session, message: ConsoleMessage) -> None:
    if message.type == "error":
        s.console_errors.append(f"console: {message.text} ({message.location.get('url', '')})")


def _request(s: Session, request: Request) -> None:
    if request.method != "GET":
        s.posted.append(f"{request.method} {request.url.removeprefix(s.base)}")


def fill_step(page: Page, body: dict[str, Any], step: int) -> None:
    """Fill one step of the form the way a parent would, from a request body the API accepts."""
    child, guardian, home = body["child"], body["guardians"][0], body["home_address"]
    if step == 1:  # 儿童信息: category and grade, the child, the guardian
        page.select_option("#grade", str(body["grade"]))
        page.select_option("#category", body["category"])
        if body.get("primary_school"):
            page.fill("#primary_school", body["primary_school"])
        page.fill("#child_name", child["name"])
        page.select_option("#child_sex", child["sex"])
        page.fill("#child_birth_date", child["birth_date"])
        page.locator("#child_id_number").press_sequentially(child["id_number"])
        page.fill("#g0_name", guardian["name"])
        page.select_option("#g0_relationship", guardian["relationship"])
        page.fill("#g0_id_number", guardian["id_number"])
        page.locator("#g0_phone").press_sequentially(guardian["phone"])
    elif step == 2:  # 地址与材料: the address, 户籍与房产
        page.select_option("#home_district", home["district"])
        if "compound" in home:  # 小区: chosen from the district's list, building and unit as numbers
            page.get_by_role("radio", name="小区").check()
            page.select_option("#home_compound", home["compound"])
            for key in ("building", "unit"):
                if key in home:
                    page.fill(f"#home_{key}", str(home[key]))
        else:
            page.locator("#home_road").press_sequentially(home["road"])
            page.locator("#home_number").press_sequentially(str(home["number"]))
        page.fill("#home_detail", home["detail"])
        page.select_option("#basis", body["residence"]["basis"])
        page.fill("#deed", body["residence"]["property"]["deed_number"])
        page.select_option("#owner", body["residence"]["property"]["owner"])
    elif step == 3 and body.get("private_school_id"):  # 选择学校: the private school chosen
        page.select_option("#private_school_id", body["private_school_id"])


def next_step(page: Page, to: int) -> None:
    """下一步, and the form is on step `to`."""
    page.get_by_role("button", name="下一步").click()
    expect(page.locator("#step-indicator")).to_contain_text(f"第{to}步，共4步")


def fill_form(page: Page, body: dict[str, Any], through: int = 3) -> None:
    """Fill steps 1 to `through`, each followed by 下一步: by default up to the review (step 4)."""
    for step in range(1, through + 1):
        fill_step(page, body, step)
        next_step(page, step + 1)


def register_in_page(ui: Session, body: dict[str, Any]) -> str:
    page = ui.page
    fill_form(page, body)
    page.get_by_role("button", name="提交报名").click()
    result = page.locator("#result")
    expect(result).to_contain_text("报名成功")
    found = REGISTRATION_ID.search(result.inner_text())
    assert found, result.inner_text()
    return found.group(0)


def sign_in_in_page(ui: Session, rid: str) -> None:
    """On the status tab: ask for the code, read it from the phone (the SMS outbox), sign in."""
    page = ui.page
    page.get_by_role("navigation").get_by_role("link", name="查询进度").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "status")
    page.fill("#login_id", rid)
    page.get_by_role("button", name="获取短信验证码").click()
    expect(page.locator("#code-sent")).to_contain_text("若报名编号正确，验证码已发送")
    expect(page.locator("#send-code")).to_be_disabled()  # counting down to the next code
    code = last_code(ui.rt, rid)
    assert code is not None
    page.locator("#login_code").press_sequentially(code)
    page.get_by_role("button", name="登录查询").click()
    expect(page.locator("#status-view")).to_be_visible()


# Registration and the status page ------------------------------------------------------------


def test_parent_registers_and_reads_the_status_with_the_sms_code(ui: Session, season: SeasonConfig) -> None:
    # Given a parent of a child living in a single-school zone, on the form during the grade-1 window
    body = valid_body(season)
    page = ui.page
    expect(page.locator("#window-hint")).to_contain_text("一年级报名时间：2023-05-20 至 2023-05-29，正在报名")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("网上报名")
    assert axe_violations(page) == []

    # When they fill it in and submit
    rid = register_in_page(ui, body)

    # Then the page says it worked, where a phone shows it, and the registration exists
    result = page.locator("#result")
    expect(result).to_be_in_viewport()
    expect(result).to_have_class(re.compile(r"\bok\b"))
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    [item] = registration_items(ui.rt)
    assert item["registration_id"] == rid and item["grade"] == 1
    ui.shoot("registered")

    # The status needs the SMS code: without it the API says nothing
    assert ui.get(f"api/registrations/{rid}")[0] == 401

    # When they follow the link to the status page, ask for the code and type it from the SMS
    page.get_by_role("link", name="凭短信验证码查询进度").click()
    expect(page.locator("#login_id")).to_have_value(rid)  # filled in for them
    assert axe_violations(page) == []
    sign_in_in_page(ui, rid)

    # Then they see their child's status: masked, with verification progress and what comes next
    expect(page.locator("#signed-in-id")).to_have_text(rid)
    facts = page.locator("#facts")
    expect(facts).to_contain_text(idcard.mask(body["child"]["id_number"]))
    expect(facts).to_contain_text("已报名，待审核")
    expect(facts).to_contain_text("公办学校")
    assert body["child"]["name"] not in facts.inner_text()
    expect(page.locator("#verification-state")).to_have_text("报名已受理，信息审核将于05月30日开始")
    steps = page.locator("#verification-steps li")
    expect(steps).to_have_count(4)
    expect(steps.nth(0)).to_contain_text("户籍或居住证")
    expect(steps.nth(0)).to_contain_text("待核查")
    expect(page.locator("#placement")).to_contain_text("录取结果将于06月26日统筹安排后公布")
    expect(page.locator("#notice")).to_contain_text("入学通知书将于07月06日发放")
    expect(page.locator("#timeline li")).to_have_count(6)
    assert axe_violations(page) == []
    ui.shoot("status")

    # Signing out ends the session: the page asks for a code again
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#status-view")).to_be_hidden()
    assert ui.console_errors == []


COMPOUND_SEASON = compound_season(load_season("jilin-2023"))


@pytest.mark.parametrize("season", [COMPOUND_SEASON], ids=["compounds"])
def test_a_family_in_a_compound_registers_with_the_compound(ui: Session, season: SeasonConfig) -> None:
    page = ui.page
    address = compound_address("江湾小区")
    body = valid_body(season, home_address=address)
    body["residence"]["hukou_address"] = dict(address)
    fill_form(page, body, through=1)  # on step 2, 地址与材料
    # The choice 门牌地址 / 小区 shows only for a district with compounds (船营区 here, not 昌邑区)
    page.select_option("#home_district", "CH")
    expect(page.locator("#address-kind-field")).to_be_hidden()
    expect(page.locator("#home_road")).to_be_visible()
    page.select_option("#home_district", "CY")
    expect(page.locator("#address-kind-field")).to_be_visible()
    expect(page.locator("#compound-fields")).to_be_hidden()
    expect(page.locator("#home_compound option")).to_have_text(
        ["请选择小区", "松苑小区", "江湾小区", "滨江壹号", "锦绣家园"]
    )

    # Given a family in 江湾小区, building 3, unit 2, who choose 小区 but forget the compound and mistype the building
    fill_step(page, body, 2)
    expect(page.locator("#home_road")).to_be_hidden()
    expect(page.locator("label[for=home_detail]")).to_have_text("室号")
    page.select_option("#home_compound", "")
    page.fill("#home_building", "0")
    page.get_by_role("button", name="下一步").click()

    # Then each message stands beside its field, in Chinese, and nothing is sent
    expect(page.locator('[data-error="home_address.compound"]')).to_have_text("请选择所在小区")
    expect(page.locator('[data-error="home_address.building"]')).to_have_text("楼栋号应为1至999的整数")
    expect(page.locator("#home_compound")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#home_building")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#result")).to_contain_text("这一步还有2处需要修改")
    expect(page.locator("#step-indicator")).to_contain_text("第2步，共4步")
    assert ui.posted == []
    assert axe_violations(page) == []
    ui.shoot("compound-errors")

    # When they choose the compound and correct the building, Then step 3 names the compound's school
    page.select_option("#home_compound", "江湾小区")
    page.fill("#home_building", "3")
    next_step(page, 3)
    expect(page.locator("#school-choice")).to_contain_text(season.school_index["S-CY-90"].name)
    next_step(page, 4)
    # and the registration is in the compound's zone
    page.get_by_role("button", name="提交报名").click()
    expect(page.locator("#result")).to_contain_text("报名成功")
    expect(page.locator("[aria-invalid=true]")).to_have_count(0)
    [item] = registration_items(ui.rt)
    assert item["request"]["home_address"] == address
    assert item["request"]["residence"]["hukou_address"] == address
    assert (item["zone_id"], item["target_school"]) == ("Z-CY-1-90", "S-CY-90")

    # And the page finds what the server finds in compound addresses, field and message
    faults: dict[str, dict[str, Any]] = {
        "other-district": {"district": "CH", "compound": "江湾小区"},
        "unknown": {"district": "CY", "compound": "不存在小区"},
        "empty": {"district": "CY", "compound": ""},
        "building": {"district": "CY", "compound": "江湾小区", "building": 1000},
        "unit": {"district": "CY", "compound": "江湾小区", "unit": 0},
        "both": {"district": "CY", "compound": "江湾小区", "road": "康乐大路", "number": 60},
    }
    for name, fault in faults.items():
        wrong = valid_body(season, home_address=fault)
        wrong["residence"]["hukou_address"] = dict(fault)
        found = page.evaluate("b => window.portal.check(b)", wrong)
        status, answer = ui.send("POST", "api/registrations", wrong)
        assert status == 422, (name, answer)
        assert found == [{"field": e["field"], "message": e["message"]} for e in answer["errors"]], name
    assert len(registration_items(ui.rt)) == 1
    assert ui.console_errors == []


def test_a_wrong_code_is_shown_beside_the_code_field(ui: Session, season: SeasonConfig) -> None:
    rid = ui.send("POST", "api/registrations", valid_body(season))[1]["registration_id"]
    page = ui.page
    page.get_by_role("navigation").get_by_role("link", name="查询进度").click()
    page.fill("#login_id", rid)
    page.get_by_role("button", name="获取短信验证码").click()
    expect(page.locator("#code-sent")).to_contain_text("验证码已发送")
    code = last_code(ui.rt, rid)
    page.locator("#login_code").press_sequentially("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="登录查询").click()
    slot = page.locator('[data-error="code"]')
    expect(slot).to_have_text("验证码不正确或已失效，请重新获取")
    expect(page.locator("#login_code")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#login_code")).to_have_attribute("aria-describedby", re.compile(r"err-code"))
    expect(slot).to_have_attribute("role", "alert")
    expect(page.locator("#status-view")).to_be_hidden()
    assert axe_violations(page) == []
    assert [e for e in ui.console_errors if "status of 401" not in e] == []


def test_wrong_check_character_is_shown_beside_the_id_field_and_nothing_is_sent(
    ui: Session, season: SeasonConfig
) -> None:
    # Given a valid ID number whose check character is mistyped
    body = valid_body(season)
    good = body["child"]["id_number"]
    wrong = next(c for c in "0123456789X" if c != good[-1])
    body["child"]["id_number"] = good[:-1] + wrong
    page = ui.page

    # When the parent fills in the first step and goes on
    fill_step(page, body, 1)
    page.get_by_role("button", name="下一步").click()

    # Then R-ID-1's message stands beside the ID field, which is marked invalid and names it
    slot = page.locator('[data-error="child.id_number"]')
    expect(slot).to_have_text("身份证号校验位不正确，请核对后重新输入")
    expect(slot).to_have_attribute("role", "alert")
    id_field = page.locator("#child_id_number")
    expect(id_field).to_have_attribute("aria-invalid", "true")
    described = (id_field.get_attribute("aria-describedby") or "").split()
    assert slot.get_attribute("id") in described and "id-hint" in described
    expect(page.locator("[aria-invalid=true]")).to_have_count(1)
    result = page.locator("#result")
    expect(result).to_contain_text("这一步还有1处需要修改")
    expect(page.locator("#step-indicator")).to_contain_text("第1步，共4步")  # not on to step 2
    expect(result).to_be_in_viewport()  # not below the fold of a phone
    expect(result).to_have_class(re.compile(r"\bbad\b"))
    expect(result.get_by_role("link", name="身份证号校验位不正确，请核对后重新输入")).to_have_attribute(
        "href", "#child_id_number"
    )
    assert axe_violations(page) == []

    # and the browser sent nothing: no request, nothing stored
    assert ui.posted == []
    assert registration_items(ui.rt) == []
    assert table_items(ui.rt, ui.rt.idempotency_table_name) == []
    assert ui.console_errors == []


def single_faults(season: SeasonConfig) -> dict[str, dict[str, Any]]:
    """Bodies that each break one rule the browser checks too."""
    good = valid_body(season)
    id_number = good["child"]["id_number"]
    born = season.age_cutoff + timedelta(days=1)
    private = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    out: dict[str, dict[str, Any]] = {
        "check-character": valid_body(
            season, child__id_number=id_number[:17] + ("0" if id_number[17] != "0" else "1")
        ),
        "shape": valid_body(season, child__id_number=id_number[:16] + "Y1"),
        "no-such-date": valid_body(
            season, child__id_number=idcard.make("220202", born, 1)[:10] + "0231" + "0011"
        ),
        "area": valid_body(
            season, child__id_number=(lambda n: n + idcard.check_character(n))("99" + id_number[2:17])
        ),
        "birth-differs": valid_body(season, child__birth_date="2017-03-05"),
        "sex-differs": valid_body(season, child__sex="女"),
        "under-age": valid_body(
            season, child__birth_date=born.isoformat(), child__id_number=child_id(season, born)
        ),
        "private-without-school": valid_body(season, category="private"),
        "grade-7-without-primary-school": valid_body(season, grade=7, primary_school=None),
        "permit-missing": valid_body(season, residence={"basis": "residence-permit"}),
        "unknown-road": valid_body(season, home_address__road="没有这条路"),
        "window-closed": valid_body(season, grade=7),
        "private-ok": valid_body(season, category="private", private_school_id=private.id),
    }
    out["private-without-school"].pop("private_school_id", None)
    del out["grade-7-without-primary-school"]["primary_school"]
    out["unknown-road"]["residence"]["hukou_address"]["road"] = "没有这条路"
    out.update(spelling_faults(season))
    return out


# Bodies the page and the server must agree on for spellings (docs/NAMES.md): those named "-ok" are
# accepted (201), the others break one rule.
def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def other_digits(number: str, zero: int) -> str:
    return "".join(chr(zero + int(c)) if c.isascii() and c.isdigit() else c for c in number)


def spelling_faults(season: SeasonConfig) -> dict[str, dict[str, Any]]:
    good = valid_body(season)
    born = date.fromisoformat(good["child"]["birth_date"])
    area = season.districts[0].area_code
    with_x = next(n for n in (idcard.make(area, born, q) for q in range(1, 100, 2)) if n.endswith("X"))

    def fresh() -> str:  # a new child's number
        return child_id(season, born)

    persian, spaced = fresh(), fresh()
    passport = {"id_type": "passport", "nationality": "KOR"}
    out: dict[str, dict[str, Any]] = {
        "full-width-id-ok": valid_body(season, child__id_number=full_width(fresh())),
        "mixed-width-lower-x-id-ok": valid_body(
            season, child__id_number=f" {full_width(with_x[:9])}{with_x[9:17]}ｘ\u3000"
        ),
        "arabic-indic-id": valid_body(season, child__id_number=other_digits(fresh(), 0x0660)),
        "devanagari-id": valid_body(season, child__id_number=other_digits(fresh(), 0x0966)),
        "persian-id": valid_body(
            season, child__id_number=full_width(persian[:9]) + other_digits(persian[9:], 0x06F0)
        ),
        "superscript-id": valid_body(season, child__id_number=fresh()[:17].replace("2", "²") + "0"),
        "inner-space-id": valid_body(season, child__id_number=spaced[:6] + " " + spaced[7:]),
        "resident-id-as-passport": valid_body(season, child=dict(good["child"], **passport)),
        "full-width-resident-id-as-passport": valid_body(
            season, child=dict(good["child"], **passport, id_number=full_width(good["child"]["id_number"]))
        ),
        "passport-other-digits": valid_body(
            season, child=dict(good["child"], **passport, id_number="M١٢٣٤٥٦٧٨")
        ),
        "passport-full-width-ok": valid_body(
            season, child=dict(good["child"], **passport, id_number="ｍ１２３４５６７８")
        ),
        "name-nul": valid_body(season, child__name="测试\x00儿童"),
        "name-bel": valid_body(season, child__name="测试儿童\x07"),
        "name-rlo": valid_body(season, child__name="测试\u202e儿童"),
        "name-zwj": valid_body(season, child__name="测试\u200d儿童"),
        "name-emoji": valid_body(season, child__name="测试儿童😀"),
        "name-private-use": valid_body(season, child__name="测试\ue000儿童"),
        "name-digit": valid_body(season, child__name="测试儿童2"),
        "name-space-between-han": valid_body(season, child__name="测试 儿童"),
        "name-leading-dot": valid_body(season, child__name="·测试儿童"),
        "guardian-name-bel": valid_body(season, guardians=[dict(good["guardians"][0], name="测试\x07家长")]),
        "second-guardian-name-emoji": valid_body(
            season,
            guardians=[
                good["guardians"][0],
                {
                    "name": "测试😀",
                    "relationship": "父亲",
                    "id_number": "220202198505061230",
                    "phone": "17000005678",
                },
            ],
        ),
        # Han characters GB 18030-2022 lacks (Extensions G, H, I, the Unicode 13+ tail): a message of their own
        "name-ext-g": valid_body(season, child__name="王\U00030ede"),
        "name-ext-h-twice-and-tail": valid_body(season, child__name="测试\U00031350\u9ff0\U00031350"),
        "name-ext-g-and-emoji": valid_body(season, child__name="测试\U00030ede😀"),
        "second-guardian-name-ext-i": valid_body(
            season,
            guardians=[
                good["guardians"][0],
                {
                    "name": "测试\U0002ebf0",
                    "relationship": "父亲",
                    "id_number": "220202198505061230",
                    "phone": "17000005678",
                },
            ],
        ),
        "detail-ext-g": valid_body(season, home_address__detail="3栋\U00030000单元"),
        "primary-school-ext-h": valid_body(season, primary_school="测试\U000323af小学"),
        "name-ext-f-and-uro-end-ok": valid_body(season, child__name="测试\U0002ebe0\u9fef"),
        "name-ext-b-ok": valid_body(season, child__name="测试𠀀"),
        "name-ext-a-ok": valid_body(season, child__name="李䶮"),
        "name-rong-xuan-shen-ok": valid_body(season, child__name="朱镕烜燊"),
        "name-middle-dot-ok": valid_body(season, child__name="阿依古丽·买买提"),
        "name-look-alike-dots-ok": valid_body(season, child__name=" 阿卜杜拉・买买提 • 艾力 "),
        "name-full-stop-ok": valid_body(season, child__name="伊万．彼得罗夫"),
        "name-latin-ok": valid_body(season, child__name="Anna-Maria Kim"),
        "detail-control": valid_body(season, home_address__detail="3栋\x072单元"),
        "detail-full-width-ok": valid_body(season, home_address__detail="３栋（东）2单元"),
        "primary-school-rlo": valid_body(season, primary_school="测试\u202e小学"),
    }
    # the guardians' ID numbers (the housing check's owners): checked like the child's, message for message
    mother = good["guardians"][0]
    father = {**mother, "relationship": "父亲", "phone": "17000005678"}
    wrong = mother["id_number"][:17] + ("0" if mother["id_number"][17] != "0" else "1")
    out |= {
        "guardian-id-check-character": valid_body(season, guardians=[dict(mother, id_number=wrong)]),
        "guardian-id-missing": valid_body(
            season, guardians=[{k: v for k, v in mother.items() if k != "id_number"}]
        ),
        "guardian-resident-id-as-passport": valid_body(season, guardians=[dict(mother, id_type="passport")]),
        "guardian-id-is-the-childs": valid_body(
            season, child=good["child"], guardians=[dict(mother, id_number=good["child"]["id_number"])]
        ),
        "second-guardian-same-id": valid_body(season, guardians=[mother, father]),
        "second-guardian-bad-id": valid_body(season, guardians=[mother, dict(father, id_number="1234567")]),
        "guardian-full-width-id-ok": valid_body(
            season, guardians=[dict(mother, id_number=full_width(mother["id_number"]))]
        ),
        "guardian-passport-ok": valid_body(
            season, guardians=[dict(mother, id_type="passport", id_number="E1234567")]
        ),
    }
    out["detail-control"]["residence"]["hukou_address"]["detail"] = "3栋\x072单元"
    out["detail-full-width-ok"]["residence"]["hukou_address"]["detail"] = "３栋（东）2单元"
    return out


def server_parse(number: str) -> dict[str, str]:
    try:
        parsed = idcard.parse(number)
    except idcard.IdNumberError as e:
        return {"error": e.message_zh}
    return {"birth": parsed.birth_date.isoformat(), "sex": parsed.sex}


def test_the_browser_runs_the_servers_checks(ui: Session, season: SeasonConfig) -> None:
    page = ui.page
    # ID numbers: the page's GB 11643 check agrees with enrollment/core/idcard.py, message for message
    numbers = [child_id(season, datetime(2017, 1, 1).date() + timedelta(days=37 * i)) for i in range(20)]
    numbers += [n[:17] + c for n in numbers[:5] for c in "0123456789X" if c != n[17]]
    numbers += ["", "12345", "220202201702300011", "000000201701010011", "22020220170101001x", "２２０２"]
    # ...and over every spelling: full-width, lower-case and full-width x, other scripts' digits
    numbers += [full_width(n) for n in numbers[:3]] + [f" {full_width(n[:17])}ｘ\u3000" for n in numbers[:3]]
    numbers += [
        other_digits(n, zero) for n in numbers[:2] for zero in (0x0660, 0x06F0, 0x0966, 0x09E6, 0xFF10)
    ]
    numbers += [
        "²" + numbers[0][1:],
        "①" + numbers[0][1:],
        numbers[0][:6] + "\u200b" + numbers[0][7:],
        "ｍ１２３",
    ]
    for n in numbers:
        assert page.evaluate("n => window.portal.parseId(n)", n) == server_parse(n), n
        folded = idcard.fold(n)
        assert page.evaluate("n => window.portal.foldId(n)", n) == folded, n
        assert page.evaluate("n => window.portal.parseId(window.portal.foldId(n))", n) == server_parse(
            folded
        ), n

    # Names and free text: the same set and the same fold (core/names.py), string for string
    assert page.evaluate("() => window.portal.HAN_RANGES") == [list(r) for r in names.HAN_RANGES]
    assert page.evaluate("() => window.portal.CJK_BLOCKS") == [list(r) for r in names.CJK_BLOCKS]
    texts = [body["child"]["name"] for body in spelling_faults(season).values()]
    texts += [
        "王\x1c明",
        "\ufeff王明",
        "王明\u2764",
        "\uf900明",
        "王\U0002ebf0",
        "王\U00031350",
        "王\U000323b0",
        "王\u9ff0",
        "Ａｎｎａ　Ｋｉｍ",
        "Zoë",
    ]
    texts += ["3栋2单元501室", "３栋（东）", "A座 12#", "3栋<b>", "实验小学\x07", "阿依古丽\u0387买买提", ""]
    for t in texts:
        assert page.evaluate("t => window.portal.foldName(t)", t) == names.fold_name(t), repr(t)
        assert page.evaluate("t => window.portal.foldText(t)", t) == names.fold_text(t), repr(t)

    # Whole bodies that break one rule each: the page finds what the server finds, field and message
    accepted = 0
    for name, body in single_faults(season).items():
        found = page.evaluate("b => window.portal.check(b)", body)
        status, answer = ui.send("POST", "api/registrations", body)
        if name.endswith("-ok"):
            assert (found, status) == ([], 201), (name, answer)
            accepted += 1
            continue
        assert status == 422, (name, answer)
        server = [{"field": e["field"], "message": e["message"]} for e in answer["errors"]]
        if name == "grade-7-without-primary-school":
            # the server stops at the form's own rules before the season's (grade 7 is closed on 20 May);
            # the page says both at once
            assert server[0] in found and len(found) == 2, name
        else:
            assert found == server, (name, found, server)
    assert len(registration_items(ui.rt)) == accepted
    assert all(item["request"]["child"]["id_number"].isascii() for item in registration_items(ui.rt))


def test_an_id_number_typed_in_full_width_digits_is_the_same_child(ui: Session, season: SeasonConfig) -> None:
    # Given a parent whose phone keyboard types full-width digits and a full-width x
    body = valid_body(season)
    number = body["child"]["id_number"]
    typed = dict(
        body, child=dict(body["child"], id_number=full_width(number[:17]) + full_width(number[17].lower()))
    )
    # When they register in the page, Then it is accepted under the canonical (ASCII) number
    rid = register_in_page(ui, typed)
    [item] = registration_items(ui.rt)
    assert item["registration_id"] == rid and item["request"]["child"]["id_number"] == number
    assert item["masked_id"] == idcard.mask(number)
    # and the same child in ASCII digits, for another category, is the same child (不可兼报, R-REG-2)
    private = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    status, answer = ui.send(
        "POST",
        "api/registrations",
        valid_body(season, category="private", private_school_id=private.id, child=body["child"]),
    )
    assert (status, answer["errors"][0]["rule"]) == (409, "R-REG-2"), answer
    assert len(registration_items(ui.rt)) == 1
    assert ui.console_errors == []


def test_a_refusal_only_the_server_can_make_is_shown_beside_its_field(
    ui: Session, season: SeasonConfig
) -> None:
    # Given a child already registered for a public school
    body = valid_body(season)
    assert ui.send("POST", "api/registrations", body)[0] == 201
    # When the parent registers the same child again, for a private school (不可兼报, R-REG-2)
    private = next(
        s
        for s in season.schools
        if s.kind == "private" and s.plan(1) and s.district == body["home_address"]["district"]
    )
    page = ui.page
    fill_form(page, dict(body, category="private", private_school_id=private.id))
    expect(page.locator("#review")).to_contain_text(private.name)
    page.get_by_role("button", name="提交报名").click()
    # Then the form goes back to step 1, where the server's 409 stands beside the ID field
    expect(page.locator("#step-indicator")).to_contain_text("第1步，共4步")
    slot = page.locator('[data-error="child.id_number"]')
    expect(slot).to_have_text("该儿童本年度已报名，每名儿童只能报名一个类别（公民同招，不可兼报）")
    expect(page.locator("#child_id_number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#result")).to_contain_text("报名未成功")
    assert ui.posted == ["POST api/registrations"]
    assert len(registration_items(ui.rt)) == 1
    assert axe_violations(page) == []
    assert [e for e in ui.console_errors if "status of 409" not in e] == []


# Seat warnings (R-WARN-1) ----------------------------------------------------------------------


def test_the_seat_warnings_page(ui: Session, season: SeasonConfig) -> None:
    # Given a private school one registration short of its warning line, and a public school over its plan
    body = valid_body(season)
    home = body["home_address"]["district"]
    private = min(
        (s for s in season.schools if s.kind == "private" and s.plan(1) and s.district == home),
        key=lambda s: s.plan(1),
    )
    near = -(-int(private.plan(1) * demand.NEAR_FULL * 100) // 100)
    zone = season.zone_for(1, body["home_address"]["road"], body["home_address"]["number"])
    assert zone is not None
    public = season.school_index[zone.schools[0]]
    table = boto3.resource("dynamodb").Table(ui.rt.table_name)
    with ui.lock:  # as if that many children had registered (registering them all is slow on moto)
        for school, count in ((private, near - 1), (public, public.plan(1) + 4)):
            table.put_item(
                Item={
                    "pk": live_key(season.season, 0),
                    "sk": f"school#{school.id}#g1",
                    "scope": "school",
                    "id": school.id,
                    "grade": 1,
                    "applicants": count,
                }
            )
    # When one more child registers for the private school, in the page
    fill_form(ui.page, dict(body, category="private", private_school_id=private.id))
    ui.page.get_by_role("button", name="提交报名").click()
    expect(ui.page.locator("#result")).to_contain_text("报名成功")

    # Then the warnings page shows it near its plan, the public school over it, warned rows first
    page = ui.page
    page.get_by_role("navigation").get_by_role("link", name="学位预警").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "warnings")
    expect(page.locator("#warnings-asof")).to_contain_text("数据更新于 2023-05-20 10:00")
    grade1 = page.locator("table").nth(0)
    expect(grade1.locator("caption")).to_have_text("一年级（2所学校或片区有预警）")
    rows = grade1.locator("tbody tr")
    expect(rows.nth(0)).to_contain_text(public.name)
    expect(rows.nth(0).locator(".badge")).to_have_text("超出计划")
    expect(rows.nth(0).locator("td").nth(2)).to_have_text(str(public.plan(1) + 4))
    expect(rows.nth(1)).to_contain_text(private.name)
    expect(rows.nth(1).locator(".badge")).to_have_text("接近计划")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text(str(private.plan(1)))
    expect(rows.nth(1).locator("td").nth(2)).to_have_text(str(near))
    expect(page.locator("table")).to_have_count(2)  # one table per grade
    assert axe_violations(page) == []
    ui.shoot("warnings-all")

    # Filtering to the district's warned schools leaves exactly those two
    page.select_option("#warn_district", home)
    page.get_by_label("只看有预警的学校").check()
    expect(grade1.locator("tbody tr")).to_have_count(2)
    expect(page.locator("table").nth(1).locator("tbody tr")).to_have_text("没有符合条件的学校")
    assert axe_violations(page) == []
    ui.shoot("warnings-filtered")
    assert ui.console_errors == []


# Complaints (R-OPEN-1) -------------------------------------------------------------------------


def test_a_family_declines_a_private_seat_signed_in_after_confirming(
    ui: Session, season: SeasonConfig
) -> None:
    # Given a child the private school admitted, and the next child on its waitlist
    private = next(s for s in season.schools if s.kind == "private" and s.plan(1))
    body = valid_body(season, category="private", private_school_id=private.id)
    rid = ui.send("POST", "api/registrations", body)[1]["registration_id"]
    waiting = "R-AAAA-BBBB-CCCC-DDDD"
    lotteries = DynamoLotteryStore(ui.rt.table_name)
    base = {"season": season.season, "school_id": private.id, "grade": 1, "district": private.district}
    with ui.lock:
        lotteries.put_school({**base, "ranking": [rid, waiting], "seats": 1, "next_waitlist_rank": 2})
        lotteries.put_outcome({**base, "registration_id": rid, "outcome": "admitted", "rank": 1, "seats": 1})
        lotteries.put_outcome(
            {**base, "registration_id": waiting, "outcome": "waitlisted", "rank": 2, "seats": 1}
        )
    page = ui.page

    # The ID number proves nothing: declining with it is refused like any request without a session
    assert (
        ui.send("POST", f"api/registrations/{rid}/decline", {"id_number": body["child"]["id_number"]})[0]
        == 401
    )

    # Signed in, the family sees the admission and a way to decline it, asked to confirm first
    sign_in_in_page(ui, rid)
    expect(page.locator("#lottery")).to_contain_text("派位录取")
    page.get_by_role("button", name="放弃民办学校录取").click()
    confirm = page.locator("#decline-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text(f"确定放弃{private.name}的录取吗？")
    # naming what is given up: the school, the seat to the next on the waitlist at once, for good,
    # and that the district then places the child
    consequences = page.locator("#decline-consequences li")
    expect(consequences.nth(0)).to_contain_text(f"不再被{private.name}录取")
    expect(consequences.nth(0)).to_contain_text("立即由候补名单上的下一位儿童递补")
    expect(consequences.nth(1)).to_contain_text(f"放弃后不能撤销，也不能再回到{private.name}")
    expect(consequences.nth(2)).to_contain_text("由区教育局统筹安排到公办学校")
    assert axe_violations(page) == []
    ui.shoot("decline-confirm")
    # cancelling sends nothing
    page.get_by_role("button", name="取消").click()
    expect(confirm).to_be_hidden()
    assert not [p for p in ui.posted if "decline" in p]

    # When they confirm, with a reason, the seat goes to the waitlist and the page says so
    page.get_by_role("button", name="放弃民办学校录取").click()
    page.get_by_label("放弃原因（可不填）").fill("家庭搬迁")
    with page.expect_request(lambda r: r.url.endswith("/decline")) as sent:
        page.get_by_role("button", name="确认放弃").click()
    request = sent.value
    assert request.headers.get("authorization", "").startswith("Bearer ")
    assert json.loads(request.post_data or "{}") == {"reason": "家庭搬迁"}  # no ID number
    expect(page.locator("#decline-result")).to_contain_text("已放弃民办学校录取")
    expect(page.locator("#lottery")).to_contain_text("已放弃")
    expect(page.locator("#decline-box")).to_be_hidden()
    with ui.lock:
        assert (lotteries.outcome(waiting) or {})["outcome"] == "admitted-from-waitlist"
    assert axe_violations(page) == []
    assert ui.console_errors == []


def test_a_complaint_is_filed_answered_by_the_district_and_read_by_the_family(
    ui: Session, season: SeasonConfig
) -> None:
    body = valid_body(season)
    home = body["home_address"]["district"]
    rid = ui.send("POST", "api/registrations", body)[1]["registration_id"]
    page = ui.page

    # Before signing in the complaints tab asks for it
    page.get_by_role("navigation").get_by_role("link", name="投诉申诉").click()
    expect(page.locator("#complaints-login")).to_be_visible()
    expect(page.locator("#complaint-form")).to_be_hidden()
    assert axe_violations(page) == []

    # Signed in, the family writes too little first: the rule shows beside the text, nothing is sent
    sign_in_in_page(ui, rid)
    page.get_by_role("navigation").get_by_role("link", name="投诉申诉").click()
    expect(page.locator("body")).to_have_attribute("data-ready", "complaints")
    expect(page.locator("#complaint-list")).to_contain_text("还没有提交过投诉申诉")
    page.get_by_label("咨询").check()
    page.fill("#complaint_text", "太短")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator('[data-error="text"]')).to_have_text("投诉申诉内容至少10个字，请写明事由")
    expect(page.locator("#complaint_text")).to_have_attribute("aria-invalid", "true")
    assert not [p for p in ui.posted if "complaints" in p]

    # Then an appeal with its reasons
    text = "对审核结论有异议：我家一直在该地址实际居住，请安排复核入户。"
    page.get_by_label("申诉（对审核、派位或录取结果有异议）").check()
    page.fill("#complaint_text", text)
    expect(page.locator("#complaint-count")).to_have_text(f"{len(text)} / 1000")
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator("#complaint-result")).to_contain_text("已受理")
    item = page.locator("#complaint-list article")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(text)
    expect(item.locator(".badge")).to_have_text("待答复")
    assert axe_violations(page) == []
    ui.shoot("complaint-filed")

    # When the child's district answers it (another district may not)
    path = f"/admin/complaints/{season.season}/districts/{home}"
    status, listed = ui.staff("GET", path, None, "district", home)
    assert status == 200
    [waiting] = listed["complaints"]
    answer_path = f"/admin/complaints/{season.season}/complaints/{waiting['complaint_id']}/answer"
    other = next(d.code for d in season.districts if d.code != home)
    reply = {"answer": "已收到您的申诉，区教育局将于三个工作日内安排社区复核入户，请保持电话畅通。"}
    assert ui.staff("POST", answer_path, reply, "district", other)[0] == 403
    status, _ = ui.staff("POST", answer_path, reply, "district", home)
    assert status == 201

    # Then the family reads the answer, from the district bureau
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "complaints")
    expect(item.locator(".badge")).to_have_text("已答复")
    answer = item.locator(".answer")
    expect(answer).to_contain_text(reply["answer"])
    expect(answer).to_contain_text(f"{season.district_index[home].name}教育局答复")
    assert axe_violations(page) == []
    ui.shoot("complaint-answered")
    assert ui.console_errors == []


# Every field labelled ---------------------------------------------------------------------------

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
    page.select_option("#child_id_type", "passport")
    # every step's fields at once (the steps only hide what is not on the current step)
    page.evaluate(
        "() => document.querySelectorAll('#form [data-step]').forEach((s) => s.classList.remove('hidden'))"
    )
    page.select_option("#basis", "residence-permit")
    for revealed in ("#primary_school", "#private_school_id", "#permit", "#child_nationality"):
        expect(page.locator(revealed)).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    # and on the other tabs
    for tab in ("查询进度", "学位预警", "投诉申诉"):
        page.get_by_role("navigation").get_by_role("link", name=tab).click()
        assert page.evaluate(UNLABELLED) == []
    assert ui.console_errors == []
