"""Drawing the admission notice: one A4 page of Chinese text, as a PDF, with fpdf2.

`Page` is what `notice._layout` draws on: text runs placed by their baseline, centred or right-aligned
text, rules, wrapped paragraphs and a two-column table, in PDF points with the origin at the bottom
left of the page (as in the PDF itself; fpdf2 counts from the top, `Page` converts). fpdf2 writes the
file:
- the text is real text: a Type0 font (Identity-H) over a CIDFontType2 that embeds a subset, made by
  fontTools for this document, of the TrueType font given (by default the bundled
  `fonts/notice-serif.ttf`), with a ToUnicode map, so that it can be searched, copied and read aloud;
- the same drawing gives the same bytes: the creation date and the file id are given by the caller
  (fpdf2 would otherwise write the clock's time), and fpdf2 writes nothing else that varies;
- a character the font has no glyph for raises `MissingGlyphs` before anything is drawn with it
  (fpdf2 itself would only log a warning and print a blank box).

The font is read once per process (`load_font`), not once per notice. fpdf2's `add_font` parses the
whole font for every document (for the bundled 7,563 glyphs some 45 ms, most of a notice's time),
and its output then subsets that parse in place, so a parse serves one document only. `load_font`
keeps fpdf2's parse (`TTFFont`: widths, glyph ids, the font descriptor) and the fontTools tables
that cost the time (glyph order, cmap, hmtx, each TrueType glyph's bytes). Each `Page` gets its own
`TTFFont`, sharing what no document changes and holding fresh what one does (the subset map of the
glyphs it uses, its missing glyphs, its descriptor object), and its own fontTools font for fpdf2's
output to subset: the file's small tables read on demand, the parsed ones given as copies. The file
is byte for byte the one fpdf2's own `add_font` gives (tests/unit/test_notices.py compares them).

A season draws tens of thousands of notices (60,000 at a large city's size), so the rest of a
notice's time was cut too, each step giving the same bytes (tests/unit/test_notice_speed_parity.py):
- the font subset is written directly (`_Parsed.compiled`, fontTools' own table compilers over the
  glyphs drawn) instead of fpdf2 running fontTools' subsetter over every table of the font and saving
  it twice (once, then again in the recommended table order): about half of a notice's time. Once
  per process a sample subset is compared with fontTools' own; if they ever differ (another
  fontTools), fontTools subsets again, over a font already cut down to the glyphs drawn;
- lines are broken in linear time (a line's width kept as a sum of integer font units), and the
  lines of text every notice shares are kept per font (`Page.lines`);
- fontTools' table-tag-to-module-name lookups are memoised (`tagToIdentifier`).
Fallback fonts in CFF (OpenType) outlines keep fpdf2's way: few notices need them.
"""

from __future__ import annotations

import copy
import hashlib
import io
import lzma
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib import ttFont as _ttfont_module
from fontTools.ttLib.sfnt import SFNTReader, SFNTWriter
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fontTools.ttLib.ttFont import sortedTagList
from fpdf import FPDF
from fpdf.drawing_primitives import DeviceRGB
from fpdf.enums import TextMode
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.prefs import ViewerPreferences

from enrollment.notices.notice import Unrenderable

# fontTools finds a table's class by turning its tag into a module name (`tagToIdentifier`, a regular
# expression per character) on every lookup: some 100 lookups per notice as fpdf2 subsets and writes
# the font, about a tenth of a notice's time. The name depends on the tag alone, so it is memoised
# (for this process, for every user of fontTools: the same names, found once).
if not hasattr(_ttfont_module.tagToIdentifier, "cache_info"):
    _ttfont_module.tagToIdentifier = lru_cache(maxsize=1024)(_ttfont_module.tagToIdentifier)

PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points (fpdf2's "A4")
Colour = tuple[float, float, float]  # DeviceRGB, each 0..1
INK: Colour = (0.0, 0.0, 0.0)
_FAMILY = "notice"
_CLOSING = set("，。、；：！？）》」』”’〕】…—,.;:!?)")  # never at the start of a line (避头)
_LINES_KEPT = 4096  # line breaks kept per font (`Page.lines`); most are of text every notice shares
_TOKENS = re.compile(r"[A-Za-z0-9*\-./:@]+|.")  # a Latin word or number stays whole


class MissingGlyphs(Unrenderable):
    """No bundled font has a glyph for some characters of the notice: do not print blanks. The
    message names code points only (a name's character is personal data, R-DATA-2)."""

    reason = "missing-glyphs"

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars = "".join(sorted(set(chars)))
        self.code_points = tuple(f"U+{ord(c):04X}" for c in self.chars)
        super().__init__(f"the notice fonts have no glyph for {', '.join(self.code_points)}")

    def __reduce__(self) -> tuple[type[MissingGlyphs], tuple[str]]:
        # made again from its characters, as raised (a process pool sends it back to the batch)
        return (MissingGlyphs, (self.chars,))


class _Trimmed(Glyph):  # type: ignore[misc]  # fontTools has no type hints
    """A glyph whose bytes have been trimmed already (`_Glyphs`): fontTools' subsetter trims every
    kept glyph, walking all its points' flags to find where its data ends; here there is nothing
    left to cut. Removing hinting (which the notices do not ask for) is still done."""

    def trim(self, remove_hinting: bool = False, *, extended: bool = False) -> None:
        if remove_hinting:
            super().trim(remove_hinting=True, extended=extended)


class _Glyphs(dict[str, bytes]):
    """A glyf table's glyphs for one subset: each read gives a new fontTools glyph, since the
    subsetter changes the glyphs it keeps (component ids), made of the glyph's bytes as fontTools'
    `trim` leaves them (no padding), trimmed once per process and glyph in `trimmed`."""

    def __init__(self, glyphs: dict[str, bytes], trimmed: dict[str, bytes]) -> None:
        super().__init__(glyphs)
        self.trimmed = trimmed

    def __getitem__(self, name: str) -> Any:
        data = self.trimmed.get(name)
        if data is None:
            glyph = Glyph(super().__getitem__(name))
            glyph.trim()
            data = self.trimmed[name] = bytes(getattr(glyph, "data", b""))
        return _Trimmed(data)


@dataclass(frozen=True, eq=False)
class _Parsed:
    """The font as parsed once: what every document reads and none changes."""

    data: bytes  # the file
    face: TTFFont  # fpdf2's parse; never given to a document itself
    glyph_order: tuple[str, ...]
    cmap: Any  # fontTools' cmap table, decompiled
    metrics: dict[str, tuple[int, int]]  # hmtx
    # glyf: each glyph's bytes, by name (None for CFF outlines, which each document reads from the file)
    glyphs: dict[str, bytes] | None
    trimmed: dict[str, bytes] = field(default_factory=dict)  # the same, trimmed (`_Glyphs`), as used
    # glyph name -> its index in the font's glyph order, and, per cmap subtable, the (position in the
    # subtable, code point) pairs mapped to each glyph: what `_subset_source` needs to hand fpdf2 a
    # font of a document's glyphs only (see there). Empty when the font cannot be cut down before
    # subsetting (CFF outlines, composite glyphs): each document then gets the whole font.
    glyph_index: dict[str, int] = field(default_factory=dict)
    cmap_by_glyph: tuple[dict[str, list[tuple[int, int]]], ...] = ()
    # what `compiled` reuses for every document: the file's head, hhea, maxp and OS/2 as parsed, and
    # the name and post tables as fontTools' subsetter leaves them (they do not depend on the glyphs)
    fixed: dict[str, Any] = field(default_factory=dict)
    # `Page.lines` of text drawn in this font alone: (text, width, size, indent, unit) -> lines
    lines: dict[tuple[str, float, float, float, float], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def read(cls, data: bytes, path: Path, postscript_name: str) -> _Parsed:
        pdf = FPDF(unit="pt", format="A4")
        pdf.add_font(_FAMILY, "", path)
        face = pdf.fonts[_FAMILY]
        assert isinstance(face, TTFFont)
        # fpdf2 names the font after its full name ("Enrollment Notice Serif"); a PDF names an
        # embedded TrueType font after its PostScript name
        face.name = postscript_name
        if face.color_font is not None:  # fpdf2 keeps per-document state in it
            raise ValueError(f"{path} is a colour font: a notice takes a plain TrueType or OpenType font")
        with face.ttfont as parsed:  # fpdf2 has read cmap, hmtx and glyf: keep what it read
            cmap = parsed["cmap"]
            for subtable in cmap.tables:
                subtable.ensureDecompiled()
            glyph_order = tuple(parsed.getGlyphOrder())
            glyphs = (
                {name: getattr(glyph, "data", b"") for name, glyph in parsed["glyf"].glyphs.items()}
                if "glyf" in parsed
                else None
            )
            simple = (
                glyphs is not None
                and glyph_order[0] == ".notdef"
                and all(_simple_glyph(data) for data in glyphs.values())
                and set(parsed.keys()) <= _PLAIN_TABLES
            )
            by_glyph: list[dict[str, list[tuple[int, int]]]] = []
            for subtable in cmap.tables if simple else ():
                # format 4 only: the subsetter treats others in ways `compiled` does not repeat
                # (variation sequences; a format 12 subtable dropped when it repeats its BMP sibling)
                if subtable.format != 4 or not subtable.isUnicode():
                    simple = False
                    break
                mapped: dict[str, list[tuple[int, int]]] = {}
                for position, (code, name) in enumerate(subtable.cmap.items()):
                    mapped.setdefault(name, []).append((position, code))
                # subtables with the same map (Unicode and Windows platforms) share it
                by_glyph.append(next((m for m in by_glyph if m == mapped), mapped))
            return cls(
                data=data,
                face=face,
                glyph_order=glyph_order,
                cmap=cmap,
                metrics=dict(parsed["hmtx"].metrics),
                glyphs=glyphs,
                glyph_index={name: i for i, name in enumerate(glyph_order)} if simple else {},
                cmap_by_glyph=tuple(by_glyph) if simple else (),
            )

    def document_font(self, i: int) -> TTFFont:
        """A TTFFont for one document, the `i`th font of its file: fpdf2's parse shared, the
        per-document state new (fpdf2's output names, numbers and subsets what it is given)."""
        face = self.face
        font = TTFFont.__new__(TTFFont)
        for slot in TTFFont.__slots__:  # widths, glyph ids, cmap, metrics: read, never written
            if hasattr(face, slot):
                setattr(font, slot, getattr(face, slot))
        font.i = i
        font.cw = face.cw.copy()  # a width lookup of a missing character adds the default width
        font.desc = copy.copy(face.desc)  # the output gives it the font's subset name and file
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        # Where the font can be cut down to the document's glyphs, its fontTools font is made when the
        # document is written (`Page.output`, `_subset_source`), once the glyphs are known.
        font.ttfont = None if self.glyph_index else self._subset_source()
        font.subset = SubsetMap(font)  # the glyphs the document uses, numbered as it uses them
        return font

    def compiled(self, used: Iterable[str]) -> _Compiled:
        """The font file subset to the glyphs `used`, as fpdf2's output would write it, made directly
        (only for a font `glyph_index` covers: TrueType outlines, no composites, the plain tables).

        fpdf2 hands the document's font to fontTools' subsetter and saves it; for a notice's 200 or
        so glyphs that machinery (every table loaded, pruned, subset, compiled, the file written and
        then rewritten in the recommended table order) took about half of a notice's time. Here the
        same tables are compiled by fontTools' own table code from the glyphs kept (as
        `_subset_source(used)` keeps them: gids 0-3 and those used, in the font's order; the cmap
        entries of the glyphs used; their metrics and outlines), OS/2's Unicode and code page ranges
        pruned to the cmap as the subsetter prunes them, name and post as it leaves them (read once,
        `_fixed`), and written in the order `TTFont.save` writes them: the same bytes
        (tests/unit/test_notice_speed_parity.py compares the two over every school)."""
        fixed = self._fixed()
        index = self.glyph_index
        requested = set(used)
        order = sorted(set(self.glyph_order[:4]) | requested, key=index.__getitem__)
        font = TTFont(recalcBBoxes=False, recalcTimestamp=False)
        font.setGlyphOrder(order)
        head, hhea, maxp, os2 = (copy.copy(fixed[tag]) for tag in ("head", "hhea", "maxp", "OS/2"))
        cmap = newTable("cmap")
        cmap.tableVersion = self.cmap.tableVersion
        cmap.tables = []
        maps: dict[int, dict[int, str]] = {}  # by the shared map: one dict, which fontTools compiles once
        for parsed, mapped in zip(self.cmap.tables, self.cmap_by_glyph, strict=True):
            kept = maps.get(id(mapped))
            if kept is None:
                entries = sorted(entry for name in requested for entry in mapped.get(name, ()))
                kept = maps[id(mapped)] = {code: parsed.cmap[code] for _, code in entries}
            if kept:  # the subsetter drops a subtable left empty
                subtable = copy.copy(parsed)
                subtable.cmap = kept
                cmap.tables.append(subtable)
        cmap.numSubTables = len(cmap.tables)
        hmtx = newTable("hmtx")
        hmtx.metrics = {name: self.metrics[name] for name in order}
        glyf = newTable("glyf")
        glyf.glyphs = _Glyphs(
            {name: self.glyphs[name] for name in order} if self.glyphs else {}, self.trimmed
        )
        glyf.glyphOrder = order
        glyf._reverseGlyphOrder = {}
        loca = newTable("loca")
        for tag, table in (("head", head), ("hhea", hhea), ("maxp", maxp), ("OS/2", os2), ("cmap", cmap)):
            font[tag] = table
        font["hmtx"], font["glyf"], font["loca"] = hmtx, glyf, loca
        data = {"glyf": glyf.compile(font)}  # sets loca's offsets and maxp's glyph count
        data["loca"] = loca.compile(font)  # sets head's offset format
        data["hmtx"] = hmtx.compile(font)  # sets hhea's count of metrics
        data["hhea"] = hhea.compile(font)
        data["maxp"] = maxp.compile(font)
        data["cmap"] = cmap.compile(font)
        os2.recalcUnicodeRanges(font, pruneOnly=True)
        if os2.version >= 1:
            os2.recalcCodePageRanges(font, pruneOnly=True)
        data["OS/2"] = os2.compile(font)  # with the first and last character of the cmap
        data["head"] = head.compile(font)
        data["name"], data["post"] = fixed["name"], fixed["post"]
        out = io.BytesIO()
        writer = SFNTWriter(out, len(data), font.sfntVersion)
        for tag in sortedTagList(list(data)):
            writer[tag] = data[tag]
        writer.close()
        return _Compiled(order, out.getvalue())

    def direct(self) -> bool:
        """Whether `compiled` writes this font's subsets: it covers the font (`glyph_index`) and, once
        per process, wrote a sample subset (every 25th glyph) byte for byte as fpdf2's steps with the
        fontTools installed write it (should a fontTools release write differently, the notices
        go back to being subset by fontTools, as before, rather than change)."""
        return bool(self.glyph_index) and bool(self._fixed()["direct"])

    def _fixed(self) -> dict[str, Any]:
        """head, hhea, maxp and OS/2 as parsed from the file; name and post as fontTools' subsetter
        leaves them, taken from a subset made by fpdf2's own steps (once per process)."""
        if not self.fixed:
            with TTFont(io.BytesIO(self.data), lazy=False, recalcTimestamp=False) as whole:
                parsed = {tag: whole[tag] for tag in ("head", "hhea", "maxp", "OS/2")}
            sample = list(self.glyph_order[::25])
            reference = _subset_by_fonttools(self._subset_source(sample), sample)
            reader = SFNTReader(io.BytesIO(reference))
            self.fixed.update(parsed, name=reader["name"], post=reader["post"], direct=False)
            self.fixed["direct"] = self.compiled(sample).data == reference
        return self.fixed

    def _subset_source(self, used: Iterable[str] | None = None) -> Any:
        """A fontTools font for fpdf2's output to subset (in place): the small tables read from the
        file when asked for, the large ones given as copies of the parsed ones.

        With `used` (the glyph names a document drew; only for a font `glyph_index` covers) the
        font given holds those glyphs only, with the four fontTools' subsetter always keeps (gids
        0-3, fpdf2 asks for them), in the font's order, and the cmap entries and metrics of those
        glyphs: the subsetter keeps the same glyphs, numbers them the same (in the font's order) and
        keeps the same cmap entries, so the file is the same, but its work over every table no
        longer grows with the font's 7,563 glyphs (tests/unit/test_notice_speed_parity.py compares
        the two)."""
        font = TTFont(io.BytesIO(self.data), lazy=True, recalcTimestamp=False)
        # The subset keeps each glyph's outline and bounding box as they are in the font; without
        # this, fontTools decodes and re-encodes every kept glyph to recompute the bounding boxes
        # (some 35 ms a notice). head, hhea and maxp then keep the whole font's bounds and maxima,
        # which hold for any subset.
        font.recalcBBoxes = False
        cmap = newTable("cmap")
        cmap.tableVersion = self.cmap.tableVersion
        cmap.tables = []
        hmtx = newTable("hmtx")
        if used is None or not self.glyph_index:
            order = list(self.glyph_order)
            for parsed in self.cmap.tables:
                subtable = copy.copy(parsed)
                subtable.cmap = dict(parsed.cmap)
                cmap.tables.append(subtable)
            hmtx.metrics = dict(self.metrics)
            glyphs = self.glyphs
        else:
            index = self.glyph_index
            keep = set(self.glyph_order[:4]).union(used)
            order = sorted(keep, key=index.__getitem__)  # KeyError: a glyph the font has not
            for parsed, mapped in zip(self.cmap.tables, self.cmap_by_glyph, strict=True):
                subtable = copy.copy(parsed)
                entries = sorted(entry for name in order for entry in mapped.get(name, ()))
                subtable.cmap = {code: parsed.cmap[code] for _, code in entries}
                cmap.tables.append(subtable)
            hmtx.metrics = {name: self.metrics[name] for name in order}
            glyphs = {name: self.glyphs[name] for name in order} if self.glyphs is not None else None
        font.setGlyphOrder(order)
        font["cmap"] = cmap
        font["hmtx"] = hmtx
        if glyphs is not None:
            glyf = newTable("glyf")
            glyf.glyphs = _Glyphs(glyphs, self.trimmed)
            glyf.glyphOrder = font.getGlyphOrder()
            glyf._reverseGlyphOrder = {}
            font["glyf"] = glyf
        return font


# the tables a font may have for `_Parsed.compiled` to write its subsets directly
_PLAIN_TABLES = frozenset(
    {"GlyphOrder", "OS/2", "cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post"}
)


def _fpdf2_subset_options() -> Any:
    """fontTools' subsetter options as fpdf2's output sets them (fpdf/output.py, `_add_fonts`)."""
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT"]
    options.drop_tables += ["CBLC", "EBDT", "EBLC", "EBSC", "SVG ", "CPAL", "COLR"]
    return options


def _subset_by_fonttools(font: Any, glyphs: Sequence[str]) -> bytes:
    """`font` subset to `glyphs` and saved as fpdf2's output does it."""
    subsetter = ftsubset.Subsetter(_fpdf2_subset_options())
    subsetter.populate(glyphs=glyphs)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _Compiled(TTFont):  # type: ignore[misc]  # fontTools has no type hints
    """A font already subset and written (`_Parsed.compiled`), handed to fpdf2's output in place of
    the font to subset: fontTools' subsetter, which fpdf2 runs on it, finds no table to load, prune or
    subset (it keeps gid 0, `.notdef`, and the glyphs asked for, as the file has them); fpdf2 asks
    it each glyph's id (`order`, the file's glyph order) and saves it, which writes `data`."""

    def __init__(self, order: list[str], data: bytes) -> None:
        super().__init__(recalcBBoxes=False, recalcTimestamp=False)
        self.glyphOrder = list(order)
        self.data = data

    def keys(self) -> list[str]:
        return ["GlyphOrder"]

    def __contains__(self, tag: object) -> bool:
        return tag == "GlyphOrder"

    def setGlyphOrder(self, glyphOrder: list[str]) -> None:  # fontTools' names
        """The subsetter's new order leaves out the glyphs it did not see; the file's stays."""
        if not set(glyphOrder) <= set(self.glyphOrder):
            raise ValueError("a glyph the compiled font does not hold")

    def save(self, file: Any, reorderTables: bool | None = True) -> None:
        file.write(self.data)


def _simple_glyph(data: bytes) -> bool:
    """Whether a TrueType glyph's bytes are empty or a simple outline (not a composite of others)."""
    return len(data) < 2 or int.from_bytes(data[:2], "big", signed=True) >= 0


@dataclass(frozen=True)
class Font:
    """A font read once per process (`load_font`): the characters it covers, and its parse, which
    every `Page` drawn with it shares."""

    path: Path
    codepoints: frozenset[int]
    postscript_name: str
    digest: bytes  # SHA-256 of the file: a document made with another font gets another file id
    parsed: _Parsed = field(repr=False, compare=False)

    def missing(self, text: str) -> list[str]:
        if self.codepoints.issuperset(map(ord, text)):  # nearly always: no list to build
            return []
        return [c for c in text if ord(c) not in self.codepoints]


@lru_cache(maxsize=16)
def font_codepoints(path: str) -> frozenset[int]:
    """The characters a font file maps, read once per process without parsing its glyphs: which
    fallback font a character needs is known before that font is loaded (`Page._runs`)."""
    with TTFont(unpacked(path), lazy=True) as face:
        return frozenset(face.getBestCmap() or {})


@lru_cache(maxsize=16)
def unpacked(path: str) -> str:
    """A font file to read: `path` itself, or for `*.xz` (the large fallback fonts are shipped
    xz-compressed to keep the functions' code small) its contents unpacked once per process into the
    temporary directory (Lambda's /tmp)."""
    if not path.endswith(".xz"):
        return path
    data = lzma.decompress(Path(path).read_bytes())
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = (
        Path(tempfile.gettempdir()) / "enrollment-fonts" / f"{digest}-{Path(path).name.removesuffix('.xz')}"
    )
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)
    return str(target)


@lru_cache(maxsize=8)
def load_font(path: str) -> Font:
    """The font at `path` (TrueType or OpenType), read once per process."""
    file = Path(path)
    data = file.read_bytes()
    with TTFont(io.BytesIO(data), lazy=True) as face:
        cmap = face.getBestCmap()
        if not cmap:
            raise ValueError(f"{path} has no Unicode cmap")
        name = face["name"].getDebugName(6) or ""
    postscript_name = re.sub(r"[^A-Za-z0-9-]", "", name) or "NoticeFont"
    return Font(
        path=file,
        codepoints=frozenset(cmap),
        postscript_name=postscript_name,
        digest=hashlib.sha256(data).digest(),
        parsed=_Parsed.read(data, file, postscript_name),
    )


class _Document(FPDF):
    """fpdf2's document with a file id given by its maker (fpdf2's own hashes the clock's date in)."""

    def __init__(self) -> None:
        super().__init__(unit="pt", format="A4")
        self.fixed_file_id = ""

    def file_id(self) -> str:
        return f"<{self.fixed_file_id}><{self.fixed_file_id}>"


class Page:
    """One A4 page on fpdf2, drawn in PDF points from the bottom left; `output` gives the file."""

    def __init__(self, font: Font, fallbacks: Sequence[Path] = ()) -> None:
        self.font = font
        # Fallback fonts, in order, for the characters `font` lacks (rare name characters): each is
        # loaded and added to the document only when a character needs it, so a notice that needs
        # none is the same file as without them. fpdf2's own `set_fallback_fonts` does not apply to
        # `FPDF.text` (it splits only `cell`/`write` text), so `text` splits the runs itself.
        self.fallbacks = [str(path) for path in fallbacks]
        self.fallback_faces: dict[str, TTFFont] = {}
        self.pdf = _Document()
        self.pdf.pdf_version = "1.7"
        self.pdf.set_auto_page_break(False)
        # what `add_font` would do, with the font parsed once (`_Parsed`)
        self.face = self.pdf.fonts[_FAMILY] = font.parsed.document_font(len(self.pdf.fonts) + 1)
        self.parsed: dict[str, _Parsed] = {_FAMILY: font.parsed}  # each family's shared parse
        self.pdf.add_page()

    def width(self, text: str, size: float) -> float:
        """The advance width of `text` at `size` points.

        fpdf2's `get_string_width` splits text into styled fragments and measures each with the
        font's `get_text_width`; for this text (no markdown, shaping, fallback fonts, character
        spacing or stretching) that is one fragment, so this calls `get_text_width` itself, with the
        same result, without selecting the font or building the fragment (which took most of the
        layout's time: `lines` measures every line as it grows). Each `text` selects its font itself."""
        if not self.font.missing(text):
            return self._units(text) * size * 0.001 / self.pdf.k
        return sum(face.get_text_width(run, size, None)[1] for _, face, run in self._runs(text)) / self.pdf.k

    def _units(self, text: str) -> float:
        """The advance width of `text` (all of it in the page's font) in font units per 1,000 em:
        what fpdf2's `get_text_width` sums before it scales by the size (it does `sum * size * 0.001`,
        so `_units(...) * size * 0.001` is its very float; the sum of integers is exact, so a line's
        sum may be built token by token, `lines`)."""
        if self.face.is_symbol:  # fpdf2 maps a symbol font's text first; none is used here
            return float(round(self.face.get_text_width(text, 1000, None)[1]))
        cw = self.face.cw  # integer widths: their sum is exact, as a float too (below 2**53)
        return float(sum([cw[ord(c)] for c in text]))

    def _runs(self, text: str) -> list[tuple[str, TTFFont, str]]:
        """`text` split into runs of one font each (family, face, run): the page's font first, then the
        first fallback that has the character; `MissingGlyphs` if no font has some character."""
        runs: list[tuple[str, TTFFont, str]] = []
        missing = []
        for char in text:
            family = _FAMILY
            if ord(char) not in self.font.codepoints:
                family = next(
                    (
                        f"{_FAMILY}fb{i}"
                        for i, path in enumerate(self.fallbacks)
                        if ord(char) in font_codepoints(path)
                    ),
                    "",
                )
                if not family:
                    missing.append(char)
                    continue
            if runs and runs[-1][0] == family:
                runs[-1] = (family, runs[-1][1], runs[-1][2] + char)
            else:
                runs.append((family, self._face(family), char))
        if missing:
            raise MissingGlyphs(missing)
        return runs

    def _face(self, family: str) -> TTFFont:
        if family == _FAMILY:
            return self.face
        face = self.fallback_faces.get(family)
        if face is None:
            font = load_font(unpacked(self.fallbacks[int(family.removeprefix(f"{_FAMILY}fb"))]))
            face = self.fallback_faces[family] = self.pdf.fonts[family] = font.parsed.document_font(
                len(self.pdf.fonts) + 1
            )
            self.parsed[family] = font.parsed
        return face

    def text(
        self,
        x: float,
        y: float,
        size: float,
        text: str,
        *,
        colour: Colour = INK,
        bold: bool = False,
    ) -> None:
        """`text` from (x, y), y its baseline. Bold is the regular face filled and stroked (fake bold).
        Characters the page's font lacks are drawn, run by run, with the fallback fonts."""
        runs = [(_FAMILY, self.face, text)] if not self.font.missing(text) else self._runs(text)
        pdf = self.pdf
        colour_ = DeviceRGB(*colour)
        for family, face, run in runs:
            if bold:
                with pdf.local_context(
                    text_mode=TextMode.FILL_STROKE,
                    line_width=size * 0.025,
                    draw_color=colour_,
                    text_color=colour_,
                    font_family=family,
                    font_size_pt=size,
                ):
                    pdf.text(x, PAGE_H - y, run)
            else:
                pdf.set_font(family, size=size)
                pdf.set_text_color(colour_)
                pdf.text(x, PAGE_H - y, run)
            if len(runs) > 1:
                x += face.get_text_width(run, size, None)[1] / pdf.k

    def centered(self, y: float, size: float, text: str, *, colour: Colour = INK, bold: bool = False) -> None:
        self.text((PAGE_W - self.width(text, size)) / 2, y, size, text, colour=colour, bold=bold)

    def right(self, x: float, y: float, size: float, text: str) -> None:
        self.text(x - self.width(text, size), y, size, text)

    def rule(self, x0: float, x1: float, y: float, thickness: float, colour: Colour) -> None:
        """A horizontal line at y from x0 to x1."""
        self.stroke(x0, y, x1, y, thickness, colour)

    def stroke(self, x0: float, y0: float, x1: float, y1: float, thickness: float, colour: Colour) -> None:
        """A straight line from (x0, y0) to (x1, y1)."""
        self.pdf.set_draw_color(DeviceRGB(*colour))
        self.pdf.set_line_width(thickness)
        self.pdf.line(x0, PAGE_H - y0, x1, PAGE_H - y1)

    def box(self, x: float, y: float, width: float, height: float, thickness: float, colour: Colour) -> None:
        """The outline of a rectangle whose bottom left corner is (x, y)."""
        self.pdf.set_draw_color(DeviceRGB(*colour))
        self.pdf.set_line_width(thickness)
        self.pdf.rect(x, PAGE_H - y - height, width, height, style="D")

    def lines(self, text: str, width: float, size: float, first_indent: float = 0.0) -> list[str]:
        """Break text to fit `width`: anywhere between hanzi, not inside a Latin word or number, and
        never before closing punctuation (避头).

        The same breaks as measuring each grown line afresh (`width(line + token)`), in linear time:
        for text the page's font draws whole, the line's width is kept as a sum of integer font units
        (`_units`), the very float `width` gives; the lines of text every notice shares (headings,
        what to bring, the notes) are kept per font (`_Parsed.lines`). Text needing a fallback font
        is measured as before (`_runs`, which also adds that font to the document, in the order the
        text asks for it)."""
        if self.font.missing(text):
            return self._lines_measured(text, width, size, first_indent)
        key = (text, width, size, first_indent, self.pdf.k)
        known = self.font.parsed.lines.get(key)
        if known is not None:
            return list(known)
        out: list[str] = []
        line, units = "", 0.0
        limit = width - first_indent
        scale = size * 0.001
        k = self.pdf.k
        for token in _TOKENS.findall(text):
            grown = units + self._units(token)
            if line and grown * scale / k > limit and token not in _CLOSING:
                out.append(line)
                line, limit = token.lstrip(), width
                units = self._units(line)
            else:
                line, units = line + token, grown
        if line:
            out.append(line)
        if len(self.font.parsed.lines) >= _LINES_KEPT:
            self.font.parsed.lines.clear()
        self.font.parsed.lines[key] = tuple(out)
        return out

    def _lines_measured(self, text: str, width: float, size: float, first_indent: float) -> list[str]:
        out: list[str] = []
        line = ""
        limit = width - first_indent
        for token in _TOKENS.findall(text):
            if line and self.width(line + token, size) > limit and token not in _CLOSING:
                out.append(line)
                line, limit = token.lstrip(), width
            else:
                line += token
        if line:
            out.append(line)
        return out

    def paragraph(
        self,
        x: float,
        y: float,
        width: float,
        size: float,
        text: str,
        *,
        indent: int = 0,
        leading: float = 20,
        hanging: float = 0,
    ) -> float:
        """Write a wrapped paragraph from baseline y; the baseline after it."""
        first = indent * size
        for i, line in enumerate(self.lines(text, width, size, first)):
            self.text(x + (first if i == 0 else hanging), y, size, line)
            y -= leading
        return y

    def table(
        self,
        x: float,
        y: float,
        width: float,
        size: float,
        rows: Sequence[tuple[str, str]],
        *,
        label_width: float,
        row_height: float,
        label_colour: Colour,
    ) -> float:
        """A two-column table whose top edge is at y; the y of its bottom edge."""
        pad = 8.0
        top = y + row_height * 0.2
        edges = [top]
        cur = top
        for label, value in rows:
            wrapped = self.lines(value, width - label_width - 2 * pad, size)
            height = row_height + (len(wrapped) - 1) * (size + 5)
            base = cur - (row_height + size * 0.7) / 2
            self.text(x + pad, base, size, label, colour=label_colour)
            for j, line in enumerate(wrapped):
                self.text(x + label_width + pad, base - j * (size + 5), size, line)
            cur -= height
            edges.append(cur)
        light = (0.7, 0.7, 0.7)
        for e in edges[1:-1]:
            self.rule(x, x + width, e, 0.4, light)
        bottom = edges[-1]
        self.box(x, bottom, width, top - bottom, 0.8, (0.3, 0.3, 0.3))
        self.stroke(x + label_width, bottom, x + label_width, top, 0.4, light)
        return bottom

    def output(self, *, title: str, author: str, lang: str, created: datetime, key: bytes) -> bytes:
        """The PDF file. `created` is its creation date and `key` what it shows (hashed, with the
        font file's hash, into the file id): with both fixed, the same drawing gives the same bytes."""
        pdf = self.pdf
        pdf.set_title(title)
        pdf.set_author(author)
        pdf.set_lang(lang)
        pdf.set_creation_date(created)
        pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
        pdf.fixed_file_id = hashlib.sha256(key + self.font.digest).hexdigest()[:32].upper()
        for family, parsed in self.parsed.items():
            face = pdf.fonts[family]
            if isinstance(face, TTFFont) and face.ttfont is None:  # subset to the glyphs drawn
                used = face.subset.get_all_glyph_names()
                face.ttfont = parsed.compiled(used) if parsed.direct() else parsed._subset_source(used)
        return bytes(pdf.output())
