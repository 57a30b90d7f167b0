"""A family downloads its admission notice from the status card, locally, in one tap.

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
from tests.e2e.test_browser import Session, sign_in_in_page, ui  # noqa: F401 - the fixture
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
