"""Rebuild `notice-serif.ttf`, the font that admission notices (入学通知书) embed: a developer tool.

The notices are rendered on Lambda without any system font, so the font they embed is prepared here
once and committed. This script takes Noto Serif CJK SC Regular (SIL Open Font License 1.1, Debian
package `fonts-noto-cjk`), keeps the characters a notice can need, converts its cubic CFF outlines to
quadratic TrueType ones (`glyf`: fpdf2 embeds it as a CIDFontType2 whose per-notice subset fontTools
makes, see `enrollment/notices/pdf.py`), drops hinting and layout tables and renames the family: the
OFL reserves the name "Source" and asks a modified font not to pass itself off as the original.

Characters kept:
- ASCII and GB 2312 (its symbol rows 1-9 and all 6,763 hanzi of levels 1 and 2);
- `EXTRA_NAME_CHARS`, common given-name characters outside GB 2312 (e.g. 玥, 喆, 堃);
- every non-ASCII character of `enrollment/notices/notice.py`, `enrollment/synth/population.py` and
  `seasons/*.yaml` (the notice's own text, synthetic names, school names and addresses), so a new
  season's school names are covered by running this again.

A character outside the kept set makes `render_pdf` raise `MissingGlyphs` rather than print a blank.

Run (any recent fontTools gives the same glyphs; 4.68.0 is the version pinned for the notices):

    python3 -m venv /tmp/fontvenv && /tmp/fontvenv/bin/pip install fonttools==4.68.0
    /tmp/fontvenv/bin/python enrollment/fonts/build_font.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
SOURCE_NAME = "Noto Serif CJK SC"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "notice-serif.ttf"
FAMILY = "Enrollment Notice Serif"
POSTSCRIPT = "EnrollmentNoticeSerif-Regular"
MAX_ERR = 1.0  # font units (of 1000 per em): how far a quadratic curve may stray from the cubic
EXTRA_NAME_CHARS = "玥喆堃昇珺琇旻祎彧婧璟瑄熠晞昱翀翊淼垚犇甯桠琤骞赟昊晗晟煜钰琪瑾瑜璇婕妤菡萱芮皓濛"


def gb2312() -> set[str]:
    chars: set[str] = set()
    for hi in [*range(0xA1, 0xAA), *range(0xB0, 0xF8)]:
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def wanted() -> set[int]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | gb2312() | set(EXTRA_NAME_CHARS)
    sources = [ROOT / "enrollment" / "notices" / "notice.py", ROOT / "enrollment" / "synth" / "population.py"]
    sources += sorted((ROOT / "seasons").glob("*.yaml"))
    for path in sources:
        chars |= {c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7F}
    return {ord(c) for c in chars if c.isprintable() or c == " "}


def source_font() -> TTFont:
    for font in TTCollection(str(SOURCE)).fonts:
        if font["name"].getDebugName(4) == SOURCE_NAME:
            return font
    raise SystemExit(f"{SOURCE} has no {SOURCE_NAME}")


def to_truetype(font: TTFont) -> None:
    """CFF outlines to glyf/loca, in place (fontTools' otf2ttf recipe, without hinting)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(None)
        glyphs[name].draw(Cu2QuPen(pen, MAX_ERR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    font["post"].formatType = 3.0  # no glyph names: a PDF addresses glyphs by id
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"
    font["head"].glyphDataFormat = 0


def rename(font: TTFont) -> None:
    name = font["name"]
    copyright_ = name.getDebugName(0)
    licence = name.getDebugName(13)
    licence_url = name.getDebugName(14)
    name.names = []
    values = {
        0: f"{copyright_} Subset and TrueType conversion for admission notices, 2023.",
        1: FAMILY,
        2: "Regular",
        3: f"{POSTSCRIPT};subset of {SOURCE_NAME} Regular",
        4: f"{FAMILY} Regular",
        5: "Version 1.0 (from Noto Serif CJK 2.001)",
        6: POSTSCRIPT,
        13: licence,
        14: licence_url,
    }
    for name_id, value in values.items():
        name.setName(value, name_id, 3, 1, 0x409)


def build() -> Path:
    font = source_font()
    options = subset.Options()
    options.layout_features = []
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    options.glyph_names = False
    options.drop_tables += ["BASE", "GDEF", "GPOS", "GSUB", "vhea", "vmtx", "VORG", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted()))
    subsetter.subset(font)
    to_truetype(font)
    rename(font)
    font["head"].created = font["head"].modified = 3_755_376_000  # 2023-01-01 00:00 UTC: reproducible bytes
    font.recalcTimestamp = False
    font.save(str(OUT), reorderTables=True)
    return OUT


if __name__ == "__main__":
    out = build()
    check = TTFont(str(out))
    print(f"{out}: {out.stat().st_size:,} bytes, {len(check.getGlyphOrder()):,} glyphs", file=sys.stderr)
