"""The browser every e2e test drives: Debian's Chromium through Playwright (installed by `make browser`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"  # npm ci


@pytest.fixture(scope="session")
def _chromium() -> Iterator[Browser]:
    """One Chromium for the whole session (with xdist: one per worker); launching it costs about a
    CPU-second, once per module before."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian Chromium is not installed ({CHROMIUM} is missing): run `make browser` "
            "(as root: apt-get install chromium) before the browser tests",
            pytrace=False,
        )
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def browser(_chromium: Browser) -> Iterator[Browser]:
    """The session's Chromium; a module leaves no context open for the next (each test opens its own)."""
    yield _chromium
    for context in _chromium.contexts:
        context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it stands."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const r = await axe.run(document, { resultTypes: ["violations"] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ")) }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]
