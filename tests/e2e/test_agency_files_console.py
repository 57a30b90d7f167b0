"""The console's agency-files section (issue 17, docs/AGENCY-FILES.md) in Debian Chromium: the city
bureau writes a round of the housing office's requests, gets its download links, uploads the clerk's
answer file and reads which row was wrong, in Chinese. District staff are not offered the section.
Screenshots in test-output/screenshots/console-agency-files-*.png; each state scanned with axe-core."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from enrollment.adapters.s3 import WorkBucket
from enrollment.core.config import SeasonConfig
from enrollment.local import fake_agency_files as clerk
from enrollment.local.http import serve
from enrollment.synth.population import generate
from enrollment.verification.agency_files import PART_BYTES, XLSX, csv_bytes
from enrollment.verification.checks import LocalRegistries, checks_needed
from tests.e2e.conftest import axe_violations
from tests.e2e.test_console import ReviewDay, new_page, real, shoot, sign_in
from tests.integration.test_agency_files_moto import files_season

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-agency-files")]


@pytest.fixture(scope="module")
def day(season: SeasonConfig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReviewDay, Any]]:
    population = generate(season, 120, seed=17)
    with files_season(season, population, tmp_path_factory.mktemp("files")) as found:
        rt, config, items, start = found
        with serve(rt) as base:
            yield ReviewDay(rt, config, base, {}), (population, items, start)


def test_the_city_bureau_exchanges_an_agencys_files_in_the_console(
    day: tuple[ReviewDay, Any], browser: Browser
) -> None:
    review, (population, items, start) = day
    deeds = [i for i in items if "housing" in checks_needed(i)]
    context, page, errors = new_page(browser)
    try:
        sign_in(page, review, review.user("city"))
        page.get_by_role("link", name="部门核查文件").click()
        expect(page.get_by_role("heading", name="部门核查文件")).to_be_visible()
        # the season's housing office exchanges files (the embedded season's planning office too)
        page.locator("#af-agency").select_option("housing")
        expect(page.locator("#af-agency")).to_have_value("housing")

        # When the city writes a round, it gets the three files' links
        page.get_by_role("button", name="生成本轮核查请求").click()
        local_time = start.astimezone(review.config.tz).strftime("%Y-%m-%d %H:%M")
        expect(page.locator("#af-links")).to_contain_text(
            f"本轮核查请求（{local_time} 生成）共 {len(deeds)} 条，下载链接"
        )
        links = page.locator("#af-links a")
        expect(links).to_have_count(3)
        assert links.all_inner_texts() == [
            "核查请求（Excel）",
            "核查请求（CSV，GB18030 编码）",
            "文件清单（含各文件 SHA-256）",
        ]
        round_id = (links.first.get_attribute("href") or "").split("/outbox/housing/")[1].split("/")[0]
        shoot(page, "agency-files-round")
        assert axe_violations(page) == []

        # and the clerk's answer file, one row wrong, is recorded but that row, which is named
        files = WorkBucket(review.rt.work_bucket)
        local = LocalRegistries(population.registries)
        answered = clerk.answer_round(local, files, review.season, "housing", round_id, start, spoil=1)
        page.set_input_files(
            "#af-file",
            files=[{"name": "住建答复.xlsx", "mimeType": XLSX, "buffer": files.get_bytes(answered.key)}],
        )
        page.get_by_role("button", name="上传答复文件").click()
        expect(page.locator("#af-done")).to_have_text(
            f"共 {len(deeds)} 行：本次记录 {len(deeds) - 1} 行，此前已记录 0 行，有误 1 行。"
        )
        rows = page.locator("#af-problems tbody tr")
        expect(rows).to_have_count(1)
        assert rows.first.locator("td").all_inner_texts() == [
            "3",
            "核查结果",
            "只能填写：查到 / 未查到（或 found / no-record）",
        ]
        shoot(page, "agency-files-report")
        assert axe_violations(page) == []

        # a larger file goes up in several parts: here 900 rows naming requests never made
        unknown = [
            {"request_id": f"R-NONE-{n:04d}", "deed_number": f"JL-2019-{n:06d}", "reason": "未查到",
             "source": "不动产登记信息系统", "answered_at": "2023-06-01T10:00:00+08:00"}
            for n in range(900)
        ]  # fmt: skip
        big = csv_bytes("housing", unknown)
        assert len(big) > 2 * PART_BYTES
        page.set_input_files(
            "#af-file", files=[{"name": "住建答复.csv", "mimeType": "text/csv", "buffer": big}]
        )
        page.get_by_role("button", name="上传答复文件").click()
        expect(page.locator("#af-done")).to_have_text(
            "共 900 行：本次记录 0 行，此前已记录 0 行，有误 900 行。"
        )
        expect(page.locator("#af-problems tbody tr")).to_have_count(900)

        # a file that is not a workbook is refused, with the reason
        page.set_input_files(
            "#af-file", files=[{"name": "a.xlsx", "mimeType": XLSX, "buffer": b"not a workbook"}]
        )
        page.get_by_role("button", name="上传答复文件").click()
        expect(page.locator("#af-error")).to_have_text("文件不是有效的 Excel (.xlsx) 文件")
        assert real(errors, "422") == []
    finally:
        context.close()

    # District staff are not offered the section
    context, page, errors = new_page(browser)
    try:
        sign_in(page, review, review.user("district", review.config.districts[0].code))
        expect(page.locator("#nav-list")).to_be_visible()
        assert "部门核查文件" not in page.locator("#nav-list a").all_inner_texts()
    finally:
        context.close()
