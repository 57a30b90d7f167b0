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

A character outside the kept set is drawn from the fallback fonts this script also builds (below,
`FALLBACKS`; Debian packages `fonts-noto-cjk`, `fonts-hanazono`, `fonts-babelstone-han`); one that no
font has makes `render_pdf` raise `MissingGlyphs` rather than print a blank.

Run (any recent fontTools gives the same glyphs; 4.68.0 is the version pinned for the notices):

    python3 -m venv /tmp/fontvenv && /tmp/fontvenv/bin/pip install fonttools==4.68.0
    /tmp/fontvenv/bin/python enrollment/fonts/build_font.py                   # all four fonts
    /tmp/fontvenv/bin/python enrollment/fonts/build_font.py --fallbacks-only  # the fallbacks only
"""

from __future__ import annotations

import io
import lzma
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


# --- the fallback fonts: every Han character registration accepts (docs/NAMES.md, "Fonts") ---------
#
# Registration accepts exactly GB 18030-2022's 87,887 Han characters (`names.HAN_RANGES`), and these
# fonts together cover all of them. `notice.FALLBACK_FONTS`, in this order, each holding only what the
# fonts before it lack:
# 1. notice-serif-han.otf: the rest of Noto Serif CJK SC's accepted Han (URO, Extension A, the
#    compatibility ideographs, some of B-F), kept as CFF outlines; SIL OFL 1.1 (OFL.txt);
# 2. notice-han-ext.ttf.xz: HanaMinB (Debian `fonts-hanazono`, GlyphWiki; Hanazono Font License or SIL
#    OFL 1.1, HANAZONO-LICENSE.txt): Extensions B-F;
# 3. notice-han-ext2.ttf.xz: BabelStone Han (Debian `fonts-babelstone-han`; Arphic Public License,
#    ARPHIC-LICENSE.txt): the last five of URO (U+9FEB-9FEF).
# Extensions G and H are not accepted (GB 18030-2022 lacks them and no free font covers them). A
# character that still reaches a notice without a glyph (a school's address, say) raises
# `pdf.MissingGlyphs`; such a notice is recorded for manual issue (`notices.season.issue`).
# The committed notice-serif-han.otf was built when G and H were accepted and also holds three of
# Noto's Extension G glyphs (U+30EDD, 30EDE, 3106C), unused now; a rebuild drops them.

FALLBACKS = (
    # (output, source, face name in a collection or None, family, PostScript name)
    (
        "notice-serif-han.otf",
        SOURCE,
        SOURCE_NAME,
        "Enrollment Notice Serif Han",
        "EnrollmentNoticeSerifHan-Regular",
    ),
    (
        "notice-han-ext.ttf.xz",
        Path("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"),
        None,
        "Enrollment Notice Han Ext",
        "EnrollmentNoticeHanExt-Regular",
    ),
    (
        "notice-han-ext2.ttf.xz",
        Path("/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf"),
        None,
        "Enrollment Notice Han Ext2",
        "EnrollmentNoticeHanExt2-Regular",
    ),
)


def accepted_han() -> set[int]:
    sys.path.insert(0, str(ROOT))
    from enrollment.core.names import HAN_RANGES

    return {c for lo, hi in HAN_RANGES for c in range(lo, hi + 1)}


def build_fallbacks() -> list[Path]:
    covered = set(TTFont(str(OUT), lazy=True).getBestCmap())
    outs = []
    for out_name, source, face, family, postscript in FALLBACKS:
        if face is None:
            font = TTFont(str(source))
        else:
            font = next(f for f in TTCollection(str(source)).fonts if f["name"].getDebugName(4) == face)
        wanted_here = sorted((accepted_han() - covered) & set(font.getBestCmap()))
        options = subset.Options()
        options.layout_features = []
        options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
        options.notdef_outline = True
        options.hinting = False
        options.desubroutinize = True
        options.glyph_names = False
        options.drop_tables += [
            "BASE",
            "GDEF",
            "GPOS",
            "GSUB",
            "vhea",
            "vmtx",
            "VORG",
            "DSIG",
            "morx",
            "mort",
        ]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=wanted_here)
        subsetter.subset(font)
        # CFF outlines stay CFF (fpdf2 embeds OpenType CFF too): half the size of TrueType ones
        font["post"].formatType = 3.0
        _rename_as(font, family, postscript, str(face or font["name"].getDebugName(4)))
        font["head"].created = font["head"].modified = 3_755_376_000
        font.recalcTimestamp = False
        path = HERE / out_name
        if out_name.endswith(".xz"):  # shipped compressed (`pdf.unpacked`): 42% and 31% of the size
            buffer = io.BytesIO()
            font.save(buffer, reorderTables=True)
            path.write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))
        else:
            font.save(str(path), reorderTables=True)
        covered |= set(wanted_here)
        outs.append(path)
    return outs


def _rename_as(font: TTFont, family: str, postscript: str, source_name: str) -> None:
    name = font["name"]
    copyright_ = name.getDebugName(0) or ""
    version = name.getDebugName(5) or ""
    licence = name.getDebugName(13)
    licence_url = name.getDebugName(14)
    name.names = []
    values = {
        0: f"{copyright_} Subset for admission notices, 2023.",
        1: family,
        2: "Regular",
        3: f"{postscript};subset of {source_name}",
        4: f"{family} Regular",
        5: f"Version 1.0 (from {source_name} {version})",
        6: postscript,
    }
    if licence:
        values[13] = licence
    if licence_url:
        values[14] = licence_url
    for name_id, value in values.items():
        name.setName(value, name_id, 3, 1, 0x409)


if __name__ == "__main__":
    if "--fallbacks-only" not in sys.argv:
        build()
    for out in [OUT, *build_fallbacks()]:
        check = TTFont(io.BytesIO(lzma.decompress(out.read_bytes())) if out.suffix == ".xz" else str(out))
        print(f"{out}: {out.stat().st_size:,} bytes, {len(check.getGlyphOrder()):,} glyphs", file=sys.stderr)
