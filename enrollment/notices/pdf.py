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

from fontTools.ttLib import TTFont, newTable
from fontTools.ttLib.tables._g_l_y_f import Glyph
from fpdf import FPDF
from fpdf.drawing_primitives import DeviceRGB
from fpdf.enums import TextMode
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.prefs import ViewerPreferences

from enrollment.notices.notice import Unrenderable

PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points (fpdf2's "A4")
Colour = tuple[float, float, float]  # DeviceRGB, each 0..1
INK: Colour = (0.0, 0.0, 0.0)
_FAMILY = "notice"
_CLOSING = set("，。、；：！？）》」』”’〕】…—,.;:!?)")  # never at the start of a line (避头)
_TOKENS = re.compile(r"[A-Za-z0-9*\-./:@]+|.")  # a Latin word or number stays whole


class MissingGlyphs(Unrenderable):
    """No bundled font has a glyph for some characters of the notice: do not print blanks. The
    message names code points only (a name's character is personal data, R-DATA-2)."""

    reason = "missing-glyphs"

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars = "".join(sorted(set(chars)))
        self.code_points = tuple(f"U+{ord(c):04X}" for c in self.chars)
        super().__init__(f"the notice fonts have no glyph for {', '.join(self.code_points)}")


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
            return cls(
                data=data,
                face=face,
                glyph_order=tuple(parsed.getGlyphOrder()),
                cmap=cmap,
                metrics=dict(parsed["hmtx"].metrics),
                glyphs=(
                    {name: getattr(glyph, "data", b"") for name, glyph in parsed["glyf"].glyphs.items()}
                    if "glyf" in parsed
                    else None
                ),
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
        font.ttfont = self._subset_source()
        font.subset = SubsetMap(font)  # the glyphs the document uses, numbered as it uses them
        return font

    def _subset_source(self) -> Any:
        """A fontTools font for fpdf2's output to subset (in place): the small tables read from the
        file when asked for, the large ones given as copies of the parsed ones."""
        font = TTFont(io.BytesIO(self.data), lazy=True, recalcTimestamp=False)
        # The subset keeps each glyph's outline and bounding box as they are in the font; without
        # this, fontTools decodes and re-encodes every kept glyph to recompute the bounding boxes
        # (some 35 ms a notice). head, hhea and maxp then keep the whole font's bounds and maxima,
        # which hold for any subset.
        font.recalcBBoxes = False
        font.setGlyphOrder(list(self.glyph_order))
        cmap = newTable("cmap")
        cmap.tableVersion = self.cmap.tableVersion
        cmap.tables = []
        for parsed in self.cmap.tables:
            subtable = copy.copy(parsed)
            subtable.cmap = dict(parsed.cmap)
            cmap.tables.append(subtable)
        font["cmap"] = cmap
        hmtx = newTable("hmtx")
        hmtx.metrics = dict(self.metrics)
        font["hmtx"] = hmtx
        if self.glyphs is not None:
            glyf = newTable("glyf")
            glyf.glyphs = _Glyphs(self.glyphs, self.trimmed)
            glyf.glyphOrder = font.getGlyphOrder()
            glyf._reverseGlyphOrder = {}
            font["glyf"] = glyf
        return font


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
        self.pdf.add_page()

    def width(self, text: str, size: float) -> float:
        """The advance width of `text` at `size` points.

        fpdf2's `get_string_width` splits text into styled fragments and measures each with the
        font's `get_text_width`; for this text (no markdown, shaping, fallback fonts, character
        spacing or stretching) that is one fragment, so this calls `get_text_width` itself, with the
        same result, without selecting the font or building the fragment (which took most of the
        layout's time: `lines` measures every line as it grows). Each `text` selects its font itself."""
        if not self.font.missing(text):
            width: float = self.face.get_text_width(text, size, None)[1]
            return width / self.pdf.k
        return sum(face.get_text_width(run, size, None)[1] for _, face, run in self._runs(text)) / self.pdf.k

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
        never before closing punctuation (避头)."""
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
        return bytes(pdf.output())
