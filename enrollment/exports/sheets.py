"""An export's sheets and the two file formats the bureau's offices open: `.xlsx` and GB18030 `.csv`.

`.xlsx` (openpyxl): one worksheet per `Sheet`, its `notes` lines first (the first bold: a title),
then a bold frozen header row, every cell a string (an ID
number or a phone stays text, never a number in scientific notation), columns sized to their text.

`.csv`: one sheet only, a header row, CRLF line ends, encoded GB18030 (what a Chinese-locale Excel
reads by default; UTF-8 without a BOM would show mojibake there, and every accepted name encodes:
docs/NAMES.md). Excel reads a long digit string as a number and loses its last digits, so the cells
of the columns listed in `Sheet.text_columns` (ID numbers, phones) start with a tab, the usual
remedy; readers strip it (`read_csv`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=GB18030"
CONTENT_TYPES = {"xlsx": XLSX, "csv": CSV}
BOLD = Font(bold=True)
TITLE_MAX = 31  # Excel's limit on a worksheet's name
TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[str, ...]] = field(default_factory=list)
    text_columns: frozenset[str] = frozenset()  # columns of long digit strings (csv: tab-prefixed)
    notes: tuple[str, ...] = ()  # xlsx: lines above the header (a title, what the rows are), one cell each

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.headers):
                raise ValueError(
                    f"sheet {self.title}: a row has {len(row)} cells for {len(self.headers)} headers"
                )


def sheet_title(text: str, taken: Sequence[str] = ()) -> str:
    """A worksheet name Excel accepts (31 characters, none of []:*?/\\), unique among `taken`."""
    base = text.translate(TITLE_FORBIDDEN)[:TITLE_MAX] or "Sheet"
    title, n = base, 2
    while title in taken:
        suffix = f"({n})"
        title, n = base[: TITLE_MAX - len(suffix)] + suffix, n + 1
    return title


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """The sheets as one workbook, written in openpyxl's write-only mode (rows streamed: a district's
    15,000 children take seconds, not the API's 29)."""
    if not sheets:
        raise ValueError("an export has at least one sheet")
    book = Workbook(write_only=True)
    titles: list[str] = []
    for s in sheets:
        ws = book.create_sheet(sheet_title(s.title, titles))
        titles.append(ws.title)
        for i, header in enumerate(s.headers, start=1):  # widths first: write-only sets them before rows
            longest = max([_width(header), *(_width(r[i - 1]) for r in s.rows[:500])])
            ws.column_dimensions[get_column_letter(i)].width = min(60, longest + 2)
        ws.freeze_panes = f"A{len(s.notes) + 2}"
        for n, note in enumerate(s.notes):
            cell = WriteOnlyCell(ws, value=note)
            if n == 0:
                cell.font = BOLD
            ws.append([cell])
        header_row = []
        for h in s.headers:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = BOLD
            header_row.append(cell)
        ws.append(header_row)
        for row in s.rows:
            ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _width(text: str) -> int:
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def to_csv(sheet: Sheet) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(sheet.headers)
    tabbed = [i for i, h in enumerate(sheet.headers) if h in sheet.text_columns]
    for row in sheet.rows:
        cells = list(row)
        for i in tabbed:
            if cells[i]:
                cells[i] = "\t" + cells[i]
        w.writerow(cells)
    return out.getvalue().encode("gb18030")


def read_xlsx(data: bytes) -> dict[str, list[tuple[str, ...]]]:
    """Each worksheet's rows (header first) as strings: what the tests and `enroll export` check."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {
        ws.title: [tuple("" if v is None else str(v) for v in row) for row in ws.iter_rows(values_only=True)]
        for ws in book.worksheets
    }


def read_csv(data: bytes) -> list[tuple[str, ...]]:
    """A GB18030 csv's rows (header first), the text columns' tabs stripped."""
    text = data.decode("gb18030")
    return [tuple(c.lstrip("\t") for c in row) for row in csv.reader(io.StringIO(text, newline=""))]
