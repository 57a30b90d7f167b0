"""Every character registration accepts (GB 18030-2022's 87,887 Han) prints (docs/NAMES.md "Fonts"),
and a notice that still cannot be drawn is recorded for manual issue without stopping its batch
(R-NOTE-1)."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from functools import cache
from typing import Any

import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from enrollment.core import idcard
from enrollment.core.config import SeasonConfig, load_season
from enrollment.core.names import HAN_RANGES
from enrollment.core.sms_templates import SmsMessage
from enrollment.notices import notice as notices
from enrollment.notices import pdf as drawing
from enrollment.notices.season import issue

SECRET = b"k" * 32
BLOCKS = {  # GB 18030-2022's Han, what registration accepts (names.HAN_RANGES)
    "URO": (0x4E00, 0x9FEF),
    "Ext A": (0x3400, 0x4DB5),
    "Ext B": (0x20000, 0x2A6D6),
    "Ext C": (0x2A700, 0x2B734),
    "Ext D": (0x2B740, 0x2B81D),
    "Ext E": (0x2B820, 0x2CEA1),
    "Ext F": (0x2CEB0, 0x2EBE0),
    "compatibility": (0xFA0E, 0xFA29),
}
BLANK = {"space", "uni0020", "uni3000", "uni00A0", "nbspace"}
ACCEPTED = frozenset(c for lo, hi in HAN_RANGES for c in range(lo, hi + 1))


@cache
def bundled() -> frozenset[int]:
    paths = [notices.FONT_PATH, *notices.FALLBACK_FONTS]
    return frozenset().union(*(drawing.font_codepoints(str(p)) for p in paths))


def uncovered() -> list[int]:
    return sorted(ACCEPTED - bundled())


def no_font_char() -> str:
    """A Han character no bundled font has: registration refuses it (Extension G), so only a notice
    built around registration (a school's address, an old record) can bring it."""
    return chr(next(c for c in range(0x30000, 0x323B0) if c not in bundled()))


@pytest.fixture(scope="module")
def config() -> SeasonConfig:
    return load_season("jilin-2023")


@pytest.fixture(scope="module")
def notice(config: SeasonConfig) -> notices.Notice:
    return notices.build_notice(
        config,
        registration_id="G1-CY-000777",
        child_name="王梓涵",
        id_number=idcard.make("220204", date(2016, 10, 3), 123),
        grade=1,
        school_id="S-CY-01",
        route="catchment",
        secret=SECRET,
    )


def sample_name(block: str) -> str:
    """A synthetic name: 王 and three characters of the block the fonts have (first, middle, last)."""
    lo, hi = BLOCKS[block]
    chars = [c for c in range(lo, hi + 1) if c in ACCEPTED]
    assert chars, block
    return "王" + "".join(chr(chars[i]) for i in sorted({0, len(chars) // 2, len(chars) - 1}))


def embedded_fonts(pdf: bytes) -> list[dict[str, bool]]:
    """Each embedded font subset (TrueType `FontFile2` or bare CFF `FontFile3`, read with fontTools):
    whether each of its glyphs but glyph 0 (.notdef) has an outline."""
    fonts = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            descriptor = ref.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            if "/FontFile2" in descriptor:
                font = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
                glyphs: Any = font.getGlyphSet()
                names = font.getGlyphOrder()
            else:
                cff = CFFFontSet()
                cff.decompile(io.BytesIO(descriptor["/FontFile3"].get_object().get_data()), None)
                top = cff[cff.fontNames[0]]
                glyphs, names = top.CharStrings, top.charset
            drawn = {}
            for name in names[1:]:
                if name in BLANK:  # the space has no outline, rightly
                    continue
                pen = BoundsPen(None if isinstance(glyphs, dict) else glyphs)
                glyphs[name].draw(pen)
                drawn[name] = pen.bounds is not None
            fonts.append(drawn)
    return fonts


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
@pytest.mark.parametrize("block", list(BLOCKS))
def test_a_name_of_every_accepted_block_prints_as_real_text(notice: notices.Notice, block: str) -> None:
    name = sample_name(block)
    pdf = notices.render_pdf(replace(notice, child_name=name))
    assert pdf == notices.render_pdf(replace(notice, child_name=name))  # the same bytes
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert name in "".join(text.split())
    fonts = embedded_fonts(pdf)
    assert len(fonts) >= 2  # 王 from the page's font, the rest from a fallback
    for drawn in fonts:
        assert drawn and all(drawn.values())  # no glyph drawn as an empty box
    page = drawing.Page(drawing.load_font(str(notices.FONT_PATH)), notices.FALLBACK_FONTS)
    for family, face, run in page._runs(name):
        assert all(face.cmap.get(ord(c)) not in (None, ".notdef") for c in run), (block, family)


def test_the_bundled_fonts_cover_every_accepted_character() -> None:
    assert len(ACCEPTED) == 87_887  # GB 18030-2022's Han
    assert uncovered() == []
    assert all(any(lo <= c <= hi for lo, hi in BLOCKS.values()) for c in ACCEPTED)  # each printed above


def test_a_notice_no_font_can_draw_raises_missing_glyphs_with_code_points_only(
    notice: notices.Notice,
) -> None:
    char = no_font_char()
    with pytest.raises(drawing.MissingGlyphs) as caught:
        notices.render_pdf(replace(notice, child_name="王" + char))
    assert caught.value.chars == char
    assert caught.value.code_points == (f"U+{ord(char):04X}",)
    assert char not in str(caught.value)
    assert isinstance(caught.value, notices.Unrenderable)


# --- a batch with one name no font has -----------------------------------------------------------


class Fakes:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.records: dict[str, dict[str, Any]] = {}
        self.manual: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.sms: list[str] = []

    # registrations
    def get_registration(self, rid: str) -> dict[str, Any]:
        return {
            "registration_id": rid,
            "grade": 1,
            "district": "CY",
            "request": {
                "child": {
                    "name": self.names[rid],
                    "id_number": idcard.make("220204", date(2016, 10, 3), 123),
                },
                "guardians": [{"phone": "13800000000"}],
            },
        }

    def get_registrations(self, rids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: self.get_registration(rid) for rid in rids}

    # placements
    def placed(self, rid: str) -> dict[str, Any]:
        return {"school_id": "S-CY-01", "route": "catchment"}

    def placed_of(self, rids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: self.placed(rid) for rid in rids}

    # store
    def notice(self, rid: str) -> dict[str, Any] | None:
        return self.records.get(rid)

    def notices_of(self, rids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {rid: self.records[rid] for rid in rids if rid in self.records}

    def start_notice(self, item: dict[str, Any]) -> bool:
        return self.records.setdefault(item["registration_id"], dict(item)) == item

    def notice_sent(self, rid: str, message_id: str, at: str) -> None:
        self.records[rid]["sms_message_id"] = message_id

    def notice_manual(self, item: dict[str, Any]) -> None:
        self.records[item["registration_id"]] = dict(item)
        self.manual[item["registration_id"]] = dict(item)

    # files and SMS
    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.files[key] = body

    def send(self, phone: str, message: SmsMessage) -> str:
        self.sms.append(message.text)
        return f"m{len(self.sms)}"


def test_a_batch_issues_the_others_and_records_the_one_no_font_can_draw(config: SeasonConfig) -> None:
    char = no_font_char()
    names = {
        "G1-CY-000001": "李镕",  # URO, outside the main font: drawn from the fallback
        "G1-CY-000002": "王" + char,  # no bundled font has it
        "G1-CY-000003": "张\U00020000",  # Extension B
    }
    fakes = Fakes(names)
    now = datetime(2023, 7, 6, 9, 0, tzinfo=config.tz)

    def run() -> dict[str, int]:
        return issue(
            config,
            config.season,
            list(names),
            registrations=fakes,  # type: ignore[arg-type]
            placements=fakes,
            secret=SECRET,
            store=fakes,
            files=fakes,
            sms=fakes,
            now=now,
        )

    assert run() == {"issued": 2, "skipped": 0, "manual": 1}
    assert sorted(fakes.files) == [
        f"seasons/{config.season}/notices/G1-CY-000001.pdf",
        f"seasons/{config.season}/notices/G1-CY-000003.pdf",
    ]
    assert len(fakes.sms) == 2
    [record] = fakes.manual.values()
    assert record["registration_id"] == "G1-CY-000002" and record["district"] == "CY"
    assert record["status"] == "manual" and record["reason"] == "missing-glyphs"
    assert record["code_points"] == [f"U+{ord(char):04X}"]
    assert char not in repr(record)  # never the name
    # a retry skips the sent ones and records the manual one again, the same way
    assert run() == {"issued": 0, "skipped": 2, "manual": 1}
    assert len(fakes.sms) == 2
