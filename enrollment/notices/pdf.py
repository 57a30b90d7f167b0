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
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.drawing_primitives import DeviceRGB
from fpdf.enums import TextMode
from fpdf.fonts import TTFFont
from fpdf.prefs import ViewerPreferences

PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points (fpdf2's "A4")
Colour = tuple[float, float, float]  # DeviceRGB, each 0..1
INK: Colour = (0.0, 0.0, 0.0)
_FAMILY = "notice"
_CLOSING = set("，。、；：！？）》」』”’〕】…—,.;:!?)")  # never at the start of a line (避头)
_TOKENS = re.compile(r"[A-Za-z0-9*\-./:@]+|.")  # a Latin word or number stays whole


class MissingGlyphs(ValueError):
    """The font has no glyph for some characters of the notice: fix the font, do not print blanks."""

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars = "".join(sorted(set(chars)))
        codes = ", ".join(f"U+{ord(c):04X} {c}" for c in self.chars)
        super().__init__(f"the notice font has no glyph for {codes}")


@dataclass(frozen=True)
class Font:
    """What `Page` needs to know of a font file before fpdf2 reads it: which characters it covers."""

    path: Path
    codepoints: frozenset[int]
    postscript_name: str
    digest: bytes  # SHA-256 of the file: a document made with another font gets another file id

    def missing(self, text: str) -> list[str]:
        return [c for c in text if ord(c) not in self.codepoints]


@lru_cache(maxsize=4)
def load_font(path: str) -> Font:
    """The font at `path` (TrueType or OpenType), read once per process."""
    file = Path(path)
    data = file.read_bytes()
    with TTFont(io.BytesIO(data), lazy=True) as face:
        cmap = face.getBestCmap()
        if not cmap:
            raise ValueError(f"{path} has no Unicode cmap")
        name = face["name"].getDebugName(6) or ""
    return Font(
        path=file,
        codepoints=frozenset(cmap),
        postscript_name=re.sub(r"[^A-Za-z0-9-]", "", name) or "NoticeFont",
        digest=hashlib.sha256(data).digest(),
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

    def __init__(self, font: Font) -> None:
        self.font = font
        self.pdf = _Document()
        self.pdf.pdf_version = "1.7"
        self.pdf.set_auto_page_break(False)
        self.pdf.add_font(_FAMILY, "", font.path)
        face = self.pdf.fonts[_FAMILY]
        assert isinstance(face, TTFFont)
        # fpdf2 names the font after its full name ("Enrollment Notice Serif"); a PDF names an
        # embedded TrueType font after its PostScript name
        face.name = font.postscript_name
        # The subset keeps each glyph's outline and bounding box as they are in the font; without
        # this, fontTools decodes and re-encodes every kept glyph to recompute the bounding boxes
        # (some 40 % of the time of a notice). head, hhea and maxp then keep the whole font's
        # bounds and maxima, which hold for any subset.
        face.ttfont.recalcBBoxes = False
        self.pdf.add_page()

    def width(self, text: str, size: float) -> float:
        """The advance width of `text` at `size` points."""
        self.pdf.set_font(_FAMILY, size=size)
        return self.pdf.get_string_width(text)

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
        """`text` from (x, y), y its baseline. Bold is the regular face filled and stroked (fake bold)."""
        missing = self.font.missing(text)
        if missing:
            raise MissingGlyphs(missing)
        pdf = self.pdf
        colour_ = DeviceRGB(*colour)
        if bold:
            with pdf.local_context(
                text_mode=TextMode.FILL_STROKE,
                line_width=size * 0.025,
                draw_color=colour_,
                text_color=colour_,
                font_family=_FAMILY,
                font_size_pt=size,
            ):
                pdf.text(x, PAGE_H - y, text)
            return
        pdf.set_font(_FAMILY, size=size)
        pdf.set_text_color(colour_)
        pdf.text(x, PAGE_H - y, text)

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
