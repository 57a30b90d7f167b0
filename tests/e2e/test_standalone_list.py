"""The stand-alone ceremony's printable list (`enroll lottery`, README "Stand-alone lottery") in Debian
Chromium: what the notary and the hall read names each child as the console's big screen does (张*明
and the ID number's last four), the school and the district by name, in Chinese only; it passes
axe-core with no serious or critical violation and prints as one table with its signature lines.
Screenshots: test-output/screenshots/standalone-list*.png. Every person here is synthetic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from enrollment.cli import main
from enrollment.core import idcard
from tests.e2e.conftest import SCREENSHOTS, axe_violations
from tests.unit.test_standalone import INPUTS_JSON, SCHOOL, lottery_args, people, write_csv

pytestmark = [pytest.mark.browser]

# the pool's SHA-256 digest, in hex: compared character by character with the record, not a word
DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


def test_the_printed_list_names_children_as_the_big_screen_does(tmp_path: Path, browser: Browser) -> None:
    # Given a sheet of 12 synthetic applicants and the six inputs, the ceremony held for 3 seats
    rows = people(12)
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps(INPUTS_JSON), encoding="utf-8")
    assert (
        main(lottery_args(write_csv(tmp_path / "a.csv", rows), tmp_path / "out", 3, "--inputs", str(inputs)))
        == 0
    )
    listed = tmp_path / "out" / f"{SCHOOL}-g1-list.html"
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        # When the list is opened in the browser
        page.goto(listed.as_uri())
        # Then each child is 张*明 with the ID number's last four, the school and district by name
        expect(page.locator("tbody tr")).to_have_count(len(rows))
        assert page.locator("thead th").all_text_contents() == [
            "名次",
            "序号",
            "姓名",
            "性别",
            "身份证号后四位",
            "结果",
        ]
        by_seq = {str(r[0]): r for r in rows}
        for cells in page.locator("tbody tr").evaluate_all(
            "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
        ):
            child = by_seq[cells[1]]
            assert cells[2] == idcard.mask_name(str(child[1])) != child[1]
            assert cells[4] == str(child[3])[-4:]
        facts = page.locator("dl.inputs")
        expect(facts).to_contain_text("船营区启明民办小学")
        expect(facts).to_contain_text("所在区船营区")
        # and nothing a reader sees is in Latin letters (the digest in hex aside)
        shown = DIGEST.sub("", page.locator("body").inner_text())
        assert re.findall(r"[A-Za-z]{2,}", shown) == []
        page.screenshot(path=SCREENSHOTS / "standalone-list.png", full_page=True)
        assert axe_violations(page) == []
        # Printed: one table, every row kept whole, the signature lines on the page
        page.emulate_media(media="print")
        assert set(
            page.locator("tbody tr").evaluate_all("rs => rs.map(r => getComputedStyle(r).breakInside)")
        ) == {"avoid"}
        expect(page.locator(".signatures")).to_contain_text("公证员签字：")
        page.screenshot(path=SCREENSHOTS / "standalone-list-print.png", full_page=True)
    finally:
        context.close()
