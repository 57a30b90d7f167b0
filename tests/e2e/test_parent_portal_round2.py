"""A family downloads its admission notice from the status card, locally, in one tap; gets its
registration id by SMS and finds a lost one with the child's ID number; reads an error summary that
names each field (issue 19).

The notice link the API hands out is a presigned S3 link; locally the server stands in for S3
(enrollment/local/s3_links.py), so the browser gets the PDF itself, on a phone and on a desktop.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from playwright.sync_api import expect

from enrollment.adapters.placement_store import DynamoPlacementStore
from enrollment.core.config import SeasonConfig
from tests.e2e.conftest import axe_violations
from tests.e2e.test_browser import (  # noqa: F401 - the fixture
    Session,
    fill_step,
    next_step,
    register_in_page,
    sign_in_in_page,
    ui,
)
from tests.integration.parent_session import last_code, receipts
from tests.support import valid_body

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _issue_notice(s: Session, season: SeasonConfig, rid: str, district: str) -> None:
    """The child placed at a school of its district, and its notice issued by the real notices batch."""
    school = next(x for x in season.schools if x.kind == "public" and x.district == district and x.plan(1))
    with s.lock:
        DynamoPlacementStore(s.rt.table_name).put_placements(
            season.season,
            [{"registration_id": rid, "school_id": school.id, "route": "catchment", "grade": 1}],
        )
        batch = {"season": season.season, "registration_ids": [rid]}
        answer = boto3.client("lambda").invoke(
            FunctionName=s.rt.function_arns["notify-batch"], Payload=json.dumps(batch).encode()
        )
        assert json.loads(answer["Payload"].read())["issued"] == 1


@pytest.mark.parametrize("viewport", [(390, 844), (1440, 900)], ids=["phone", "desktop"])
def test_one_tap_on_the_status_card_downloads_the_notice_pdf(
    ui: Session,  # noqa: F811 - the fixture imported above
    season: SeasonConfig,
    viewport: tuple[int, int],
) -> None:
    # Given a registered child whose admission notice has been issued
    page = ui.page
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    body = valid_body(season)
    status, registered = ui.send("POST", "api/registrations", body)
    assert status == 201, registered
    rid = registered["registration_id"]
    _issue_notice(ui, season, rid, body["home_address"]["district"])

    # When the family signs in and taps the notice button on the status card
    sign_in_in_page(ui, rid)
    button = page.get_by_role("button", name="下载入学通知书")
    expect(button).to_be_visible()
    with page.expect_download() as downloading:
        button.click()

    # Then the browser has the PDF itself, from the local server (no amazonaws address at all)
    download = downloading.value
    assert download.url.startswith(ui.base + "local-s3/"), download.url
    pdf = download.path().read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    link = page.locator("#notice-file")
    expect(link).to_be_visible()  # to download it again
    assert "amazonaws" not in (link.get_attribute("href") or "")
    expect(page.locator("#notice-link")).not_to_contain_text("R-")
    assert axe_violations(page) == []
    ui.shoot(f"notice-downloaded-{viewport[0]}")

    # The link is S3's, not an open door: without its signature the same file is refused
    unsigned = download.url.split("?", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned, timeout=5)  # noqa: S310 - our own 127.0.0.1
    assert refused.value.code == 403
    assert ui.console_errors == []


@pytest.mark.parametrize("viewport", [(390, 844), (1440, 900)], ids=["phone", "desktop"])
def test_the_id_comes_by_sms_and_a_lost_one_is_found_with_the_id_number(
    ui: Session,  # noqa: F811 - the fixture imported above
    season: SeasonConfig,
    viewport: tuple[int, int],
) -> None:
    page = ui.page
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    body = valid_body(season)
    # Given a parent who registered (the page says the id went to the phone, and it did)
    rid = register_in_page(ui, body)
    expect(page.locator("#result")).to_contain_text("报名编号已通过短信发送到您登记的手机")
    assert [m["text"] for m in receipts(ui.rt) if rid in m["text"]]
    assert axe_violations(page) == []

    # When they have lost the id: on the status tab, they find it with the child's ID number
    page.get_by_role("navigation").get_by_role("link", name="查询进度").click()
    page.locator("#login_id").fill("")
    page.get_by_text("忘记报名编号？凭儿童证件号码找回").click()
    page.get_by_label("儿童证件号码").fill(body["child"]["id_number"])
    page.get_by_role("button", name="获取找回验证码").click()
    expect(page.locator("#recover-sent")).to_contain_text("若该儿童已报名，验证码已发送")
    assert axe_violations(page) == []
    ui.shoot(f"recover-{viewport[0]}")
    # a wrong code is refused beside the code field, the right one (from the SMS) signs them in
    page.get_by_label("找回验证码").fill("000000" if last_code(ui.rt, rid) != "000000" else "111111")
    page.get_by_role("button", name="找回并登录").click()
    expect(page.locator('[data-error="recover.code"]')).to_contain_text("验证码不正确或已失效")
    code = last_code(ui.rt, rid)
    assert code is not None
    page.get_by_label("找回验证码").fill(code)
    page.get_by_role("button", name="找回并登录").click()
    expect(page.locator("#status-view")).to_be_visible()
    expect(page.locator("#signed-in-id")).to_have_text(rid)
    assert "R-" not in page.locator("#status-view").inner_text().replace(rid, "")
    assert axe_violations(page) == []
    assert [e for e in ui.console_errors if "status of 401" not in e] == []


def test_the_error_summary_names_each_field_and_an_empty_road_asks_for_the_road(
    ui: Session,  # noqa: F811 - the fixture imported above
    season: SeasonConfig,
) -> None:
    page = ui.page
    page.set_viewport_size({"width": 1440, "height": 900})
    # The property field no longer invites leaving it blank
    expect(page.locator("label[for=deed]")).to_have_text("不动产权证号")
    expect(page.locator("#deed-hint")).to_contain_text("漏填会导致审核不通过")
    assert "无房产可不填" not in page.content()
    # When a parent goes on from the empty first step
    page.get_by_role("button", name="下一步").click()
    summary = page.locator("#result li")
    texts = summary.all_inner_texts()
    # Then each line names its field, no line twice
    assert "儿童姓名：此项为必填项" in texts and "儿童出生日期：此项为必填项" in texts
    assert "监护人姓名：此项为必填项" in texts and "监护人证件号码：此项为必填项" in texts
    assert len(texts) == len(set(texts)) and "此项为必填项" not in texts
    # and only the first step's fields are named: the address is the next step's
    assert not [t for t in texts if t.startswith("街路")]
    # When the first step is right and the second is left empty, the road's error is the road's
    fill_step(page, valid_body(season), 1)
    next_step(page, 2)
    page.get_by_role("button", name="下一步").click()
    texts = page.locator("#result li").all_inner_texts()
    assert "街路：请填写街路" in texts, texts
    expect(page.locator('[data-error="home_address.road"]')).to_have_text("请填写街路")
    expect(page.locator('[data-error="residence.hukou_address"]')).to_have_text("")
    assert "该区没有这条街路" not in page.locator("#form").inner_text()
    assert axe_violations(page) == []
    ui.shoot("error-summary-1440")
    assert ui.posted == []
