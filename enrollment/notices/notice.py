"""Admission notices (入学通知书, R-NOTE-1): the PDF a family prints, its verification code, its SMS.

On the admission-notice day (`calendar.admission_notices`, 6 Jul) each district bureau issues a notice
to every placed child; on the reporting day (`calendar.reporting_day`, 8 Jul) the child reports to the
school "with the admission notice and the originals of hukou, property deed etc." (annex 2, 三（六）
and 三（七）). This module builds the notice from a placement, renders it and words the SMS.

The PDF is written here, with the standard library only, so it runs on Lambda without a PDF library,
fontTools or any system font:
- one A4 page, Simplified Chinese, as real text: a Type0 font (Identity-H) over a CIDFontType2 whose
  glyphs are a subset, made per notice, of the bundled `fonts/notice-serif.ttf` (Noto Serif CJK SC,
  SIL OFL 1.1, see `fonts/OFL.txt` and `fonts/build_font.py`), with a ToUnicode map so that text can
  be searched, copied and read aloud. The subset holds only the notice's own glyphs (about 300, some
  50 KB compressed), so the PDF is small and renders the same in any viewer;
- the same notice gives the same bytes (no clock: the creation date is the issue date, the file id a
  hash of the content), so a retried batch writes the identical file;
- a character the bundled font lacks (a rare name character outside GB 2312 and the listed extras)
  raises `MissingGlyphs` instead of printing a blank; `render_pdf(..., font=...)` takes another
  TrueType (`glyf`) font for such a child, or `fonts/build_font.py` adds the character.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from enrollment.core import idcard
from enrollment.placement.routes import ROUTE_ZH

if TYPE_CHECKING:
    from enrollment.core.config import SeasonConfig

FONT_PATH = Path(__file__).resolve().parents[1] / "fonts" / "notice-serif.ttf"

NO_NOTICE_ROUTES = frozenset({"deferred"})  # R-DEFER-1: a deferred child is not admitted this season
GRADE_ZH: dict[int, str] = {1: "小学一年级", 7: "初中一年级（七年级）"}
# The online system a family registered in and downloads the notice from (annex 2, 三（二）).
SYSTEM_ZH: dict[int, str] = {1: "“幼升小”管理系统", 7: "“小升初”管理系统"}
# What to bring when reporting (annex 2, 三（七）): "新生持入学通知书、户籍、房证等原件到录取学校报到".
BRING: tuple[str, ...] = (
    "本入学通知书；",
    "户籍原件（户口簿）；",
    "房证原件（房屋产权证明）；",
    "报名时提交审核的其他材料原件（如居住证等）。",
)
# Annex 2 names the reporting day only; the hours are the bureau's, passed to `build_notice`.
DEFAULT_WINDOW: tuple[time, time] = (time(8, 0), time(16, 0))
SMS_MAX = 140
_WEEKDAYS = "一二三四五六日"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 10  # 50 bits
_LOOKALIKES = str.maketrans("OIL", "011")  # Crockford: what a person may type for 0 and 1
_MASKED = re.compile(r"^[0-9A-Za-z]*\*+[0-9A-Za-z*]*$")


# --- the notice --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One child's admission notice: everything printed on it, nothing else (no full ID number)."""

    registration_id: str
    child_name: str  # the full name: the notice goes to the family only
    masked_id: str  # `idcard.mask`: 220204********123X
    grade: Literal[1, 7]
    school_id: str
    school_name: str
    school_address: str
    route: str  # a key of ROUTE_ZH
    reporting_day: date
    reporting_from: time
    reporting_until: time
    bureau: str  # the issuing district bureau, e.g. 吉林市船营区教育局
    city: str
    issued: date
    verification_code: str  # `verification_code(...)`, 10 Crockford base32 characters

    def __post_init__(self) -> None:
        problems = []
        if not _MASKED.match(self.masked_id):
            problems.append("masked_id must be masked (idcard.mask), never the full ID number")
        if self.route not in ROUTE_ZH or self.route in NO_NOTICE_ROUTES:
            problems.append(f"route {self.route!r} does not admit a child to a school")
        if self.grade not in GRADE_ZH:
            problems.append(f"grade {self.grade!r} is not 1 or 7")
        if not self.reporting_from < self.reporting_until:
            problems.append("the reporting window must end after it starts")
        if self.reporting_day < self.issued:
            problems.append("the reporting day is before the issue date")
        if normalise_code(self.verification_code) is None:
            problems.append("verification_code is not 10 Crockford base32 characters")
        if not self.child_name.strip():
            problems.append("child_name is empty")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def route_zh(self) -> str:
        return ROUTE_ZH[self.route]

    @property
    def grade_zh(self) -> str:
        return GRADE_ZH[self.grade]

    @property
    def reporting_zh(self) -> str:
        """`2023年7月8日（星期六）8:00—16:00`"""
        return (
            f"{zh_date(self.reporting_day)}（星期{_WEEKDAYS[self.reporting_day.weekday()]}）"
            f"{_hm(self.reporting_from)}—{_hm(self.reporting_until)}"
        )


def build_notice(
    config: SeasonConfig,
    *,
    registration_id: str,
    child_name: str,
    id_number: str,
    grade: Literal[1, 7],
    school_id: str,
    route: str,
    secret: bytes,
    window: tuple[time, time] = DEFAULT_WINDOW,
) -> Notice:
    """The notice for a placed child: school, dates and bureau from the season config (R-NOTE-1).

    The bureau is that of the school's district (属地), which issues notices for all its schools,
    private ones included (annex 2, 一（四）). `id_number` is masked here; the full number goes no further.
    """
    school = config.school_index.get(school_id)
    if school is None:
        raise ValueError(f"unknown school {school_id!r}")
    if school.plan(grade) == 0:
        raise ValueError(f"{school_id} does not take grade {grade}")
    district = config.district_index[school.district]
    return Notice(
        registration_id=registration_id,
        child_name=child_name.strip(),
        masked_id=idcard.mask(id_number.strip().upper()),
        grade=grade,
        school_id=school.id,
        school_name=school.name,
        school_address=school.address,
        route=route,
        reporting_day=config.calendar.reporting_day,
        reporting_from=window[0],
        reporting_until=window[1],
        bureau=f"{config.city}{district.name}教育局",
        city=config.city,
        issued=config.calendar.admission_notices,
        verification_code=verification_code(secret, config.season, registration_id, school.id),
    )


# --- verification code -------------------------------------------------------------------------


def verification_message(season: str, registration_id: str, school_id: str) -> bytes:
    """What the code authenticates: `enrollment-notice/1|season|registration id|school id`."""
    parts = (season, registration_id, school_id)
    if any(not p or "|" in p for p in parts):
        raise ValueError("season, registration id and school id must be non-empty and hold no '|'")
    return "|".join(("enrollment-notice/1", *parts)).encode()


def code_from_mac(mac: bytes) -> str:
    """The first 50 bits of an HMAC-SHA256 as 10 Crockford base32 characters."""
    if len(mac) < 7:
        raise ValueError("need at least 7 bytes of MAC")
    bits = int.from_bytes(mac[:7], "big") >> (56 - 5 * _CODE_LENGTH)
    return "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(_CODE_LENGTH)))


def verification_code(secret: bytes, season: str, registration_id: str, school_id: str) -> str:
    """A short code a school can check to know a notice is genuine and unaltered.

    code = Crockford-base32(first 50 bits of HMAC-SHA256(secret, verification_message(...))), e.g.
    `7K3QX0M2ZD`, printed as `7K3QX-0M2ZD`. It binds the season, the registration id and the school,
    so a notice edited to name another school or another child's registration fails the check. Only
    whoever holds the secret (the bureau's system: a season secret in Secrets Manager, or a KMS
    HMAC_256 key whose GenerateMac over `verification_message` gives the same MAC; feed it to
    `code_from_mac`) can issue or check codes; 50 bits make guessing one hopeless (2^-50 a try), and
    the school checks online, where tries are counted. The child's name and ID number are not in the
    message, so a correction of a name's spelling keeps the code.
    """
    if len(secret) < 16:
        raise ValueError("the secret must be at least 16 bytes")
    mac = hmac.new(secret, verification_message(season, registration_id, school_id), hashlib.sha256)
    return code_from_mac(mac.digest())


def normalise_code(code: str) -> str | None:
    """A typed code as the 10 canonical characters (hyphens and spaces dropped, O->0, I/L->1), or None."""
    text = code.upper().replace("-", "").replace(" ", "")
    text = text.translate(_LOOKALIKES)
    if len(text) != _CODE_LENGTH or any(c not in _CROCKFORD for c in text):
        return None
    return text


def check_verification_code(
    secret: bytes, season: str, registration_id: str, school_id: str, code: str
) -> bool:
    """Whether `code` (as typed by a school: any case, with or without the hyphen) is this notice's."""
    typed = normalise_code(code)
    expected = verification_code(secret, season, registration_id, school_id)
    return typed is not None and hmac.compare_digest(typed, expected)


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


# --- SMS ---------------------------------------------------------------------------------------


def sms_text(notice: Notice) -> str:
    """The SMS telling a family the notice is out (≤ SMS_MAX characters; no name, no ID number).

    It names the school, the reporting day and hours, the registration id and where to download the
    notice. A long school name drops the optional words, longest first, to stay within the limit.
    """
    day = f"{notice.reporting_day.month}月{notice.reporting_day.day}日"
    hours = f"{_hm(notice.reporting_from)}-{_hm(notice.reporting_until)}"
    system = f"{notice.city}{SYSTEM_ZH[notice.grade]}"
    variants = [
        f"【{notice.bureau}】报名编号{notice.registration_id}的新生已被{notice.school_name}录取。"
        f"请于{day}{hours}持入学通知书及户籍、房证等原件到校报到。入学通知书请登录{system}凭报名编号下载。",
        f"【{notice.bureau}】报名编号{notice.registration_id}的新生已被{notice.school_name}录取。"
        f"请于{day}{hours}持入学通知书及户籍、房证等原件到校报到。通知书请登录{system}下载。",
        f"【{notice.bureau}】报名编号{notice.registration_id}已被{notice.school_name}录取，"
        f"请于{day}{hours}持通知书及户籍、房证等原件报到。通知书请在{SYSTEM_ZH[notice.grade]}下载。",
    ]
    return next((v for v in variants if len(v) <= SMS_MAX), variants[-1])


# --- the PDF -----------------------------------------------------------------------------------


class MissingGlyphs(ValueError):
    """The font has no glyph for some characters of the notice: fix the font, do not print blanks."""

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars = "".join(sorted(set(chars)))
        codes = ", ".join(f"U+{ord(c):04X} {c}" for c in self.chars)
        super().__init__(f"the notice font has no glyph for {codes}")


def render_pdf(notice: Notice, *, font: Path | None = None) -> bytes:
    """The notice as a one-page A4 PDF (PDF 1.7) with its own font subset: the same notice, the same bytes."""
    face = _load_font(str(font or FONT_PATH))
    page = _Page(face)
    _layout(page, notice)
    return page.pdf(
        title=f"入学通知书 {notice.registration_id}",
        author=notice.bureau,
        created=notice.issued,
    )


PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
MARGIN = 66.0
INK = (0.0, 0.0, 0.0)
RED = (0.72, 0.07, 0.07)
GREY = (0.38, 0.38, 0.38)


def _layout(page: _Page, n: Notice) -> None:
    left, right = MARGIN, PAGE_W - MARGIN
    width = right - left
    y = PAGE_H - 92.0
    page.centered(y, 30, "入学通知书", colour=RED, bold=True)
    y -= 24
    page.centered(y, 10.5, f"{n.city}{n.issued.year}年义务教育招生入学", colour=GREY)
    y -= 14
    page.rule(left, right, y, 1.6, RED)
    page.rule(left, right, y - 3.2, 0.5, RED)
    y -= 36

    body = 12.5
    page.text(left, y, body, f"{n.child_name}同学及家长：")
    y -= 24
    y = page.paragraph(
        left,
        y,
        width,
        body,
        f"经审核，{n.child_name}同学已被{n.school_name}录取，就读{n.grade_zh}（录取方式：{n.route_zh}）。"
        f"请于{zh_date(n.reporting_day)}持下列材料到录取学校报到。",
        indent=2,
        leading=22,
    )
    y -= 14

    rows = [
        ("学生姓名", n.child_name),
        ("身份证号", n.masked_id),
        ("报名编号", n.registration_id),
        ("录取学校", f"{n.school_name}（{n.school_id}）"),
        ("学校地址", n.school_address),
        ("就读年级", n.grade_zh),
        ("录取方式", n.route_zh),
        ("报到时间", n.reporting_zh),
        ("报到地点", "录取学校（地址见上）"),
    ]
    y = page.table(left, y, width, 11.5, rows, label_width=84, row_height=23)
    y -= 30

    page.text(left, y, body, "报到须携带：", bold=True)
    y -= 22
    for i, item in enumerate(BRING, 1):
        y = page.paragraph(left + 12, y, width - 12, 11.5, f"{i}. {item}", leading=19)
    y -= 10
    page.text(left, y, body, "注意事项：", bold=True)
    y -= 22
    notes = (
        "未按时报到的学生，学校将及时与其父母或其他法定监护人联系。",
        "阳光分班时间由录取学校通知。",
        "本通知书涂改无效。学校可凭报名编号和核验码在招生系统中核验本通知书。",
    )
    for note in notes:
        y = page.paragraph(left + 12, y, width - 12, 11.5, f"· {note}", leading=19, hanging=10)
    y -= 14
    page.text(left, y, body, "核验码：", bold=True)
    page.text(left + page.width("核验码：", body), y, 14, format_code(n.verification_code))

    y_sign = max(y - 70, 118)
    page.right(right, y_sign, 13, n.bureau)
    page.right(right, y_sign - 22, 13, zh_date(n.issued))
    page.rule(left, right, 76, 0.4, GREY)
    page.text(
        left,
        62,
        8.5,
        f"报名编号 {n.registration_id} · {n.bureau}发放 · 本通知书仅供本人报到使用，请妥善保管",
        colour=GREY,
    )


def zh_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _hm(t: time) -> str:
    return f"{t.hour}:{t.minute:02d}"


# --- a TrueType font, read and subset with the standard library ----------------------------------


@dataclass(frozen=True)
class _Face:
    tables: dict[str, bytes]
    units_per_em: int
    cmap: dict[int, int]  # code point -> glyph id
    advances: tuple[int, ...]  # per glyph id, in font units
    lsbs: tuple[int, ...]
    glyph_offsets: tuple[int, ...]  # loca: glyph i is glyf[offsets[i]:offsets[i + 1]]
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    postscript_name: str

    def glyph(self, ch: str) -> int | None:
        return self.cmap.get(ord(ch))

    def glyph_data(self, gid: int) -> bytes:
        return self.tables["glyf"][self.glyph_offsets[gid] : self.glyph_offsets[gid + 1]]


@lru_cache(maxsize=4)
def _load_font(path: str) -> _Face:
    data = Path(path).read_bytes()
    if data[:4] not in (b"\x00\x01\x00\x00", b"true"):
        raise ValueError(f"{path} is not a TrueType (glyf) font; CFF-flavoured OpenType is not supported")
    (num_tables,) = struct.unpack_from(">H", data, 4)
    tables: dict[str, bytes] = {}
    for i in range(num_tables):
        tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        tables[tag.decode("latin-1")] = data[offset : offset + length]
    missing = {"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap"} - set(tables)
    if missing:
        raise ValueError(f"{path} lacks the tables {sorted(missing)}")
    head, hhea = tables["head"], tables["hhea"]
    upem = struct.unpack_from(">H", head, 18)[0]
    bbox = struct.unpack_from(">4h", head, 36)
    long_loca = struct.unpack_from(">h", head, 50)[0] == 1
    num_glyphs = struct.unpack_from(">H", tables["maxp"], 4)[0]
    ascent, descent = struct.unpack_from(">2h", hhea, 4)
    num_metrics = struct.unpack_from(">H", hhea, 34)[0]
    hmtx = tables["hmtx"]
    advances = [struct.unpack_from(">H", hmtx, 4 * i)[0] for i in range(num_metrics)]
    lsbs = [struct.unpack_from(">h", hmtx, 4 * i + 2)[0] for i in range(num_metrics)]
    advances += [advances[-1]] * (num_glyphs - num_metrics)
    lsbs += list(struct.unpack_from(f">{num_glyphs - num_metrics}h", hmtx, 4 * num_metrics))
    if long_loca:
        offsets = struct.unpack_from(f">{num_glyphs + 1}I", tables["loca"])
    else:
        offsets = tuple(2 * o for o in struct.unpack_from(f">{num_glyphs + 1}H", tables["loca"]))
    cap_height = ascent
    os2 = tables.get("OS/2")
    if os2 is not None:
        ascent, descent = struct.unpack_from(">2h", os2, 68)  # sTypoAscender, sTypoDescender
        cap_height = struct.unpack_from(">h", os2, 88)[0] if len(os2) >= 90 else ascent
    return _Face(
        tables=tables,
        units_per_em=upem,
        cmap=_read_cmap(tables["cmap"]),
        advances=tuple(advances),
        lsbs=tuple(lsbs),
        glyph_offsets=tuple(offsets),
        bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
        ascent=ascent,
        descent=descent,
        cap_height=cap_height,
        postscript_name=_postscript_name(tables.get("name", b"")) or "NoticeFont",
    )


def _read_cmap(cmap: bytes) -> dict[int, int]:
    """The Unicode cmap: format 12 (3,10) if there is one, else format 4 (3,1 or 0,3)."""
    (count,) = struct.unpack_from(">H", cmap, 2)
    found: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", cmap, 4 + 8 * i)
        found[(platform, encoding)] = offset
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        if key not in found:
            continue
        offset = found[key]
        fmt = struct.unpack_from(">H", cmap, offset)[0]
        if fmt == 12:
            (groups,) = struct.unpack_from(">I", cmap, offset + 12)
            out: dict[int, int] = {}
            for g in range(groups):
                start, end, gid = struct.unpack_from(">III", cmap, offset + 16 + 12 * g)
                out.update((c, gid + c - start) for c in range(start, end + 1))
            return out
        if fmt == 4:
            return _read_cmap4(cmap, offset)
    raise ValueError("the font has no Unicode cmap of format 4 or 12")


def _read_cmap4(cmap: bytes, offset: int) -> dict[int, int]:
    seg_x2 = struct.unpack_from(">H", cmap, offset + 6)[0]
    segs = seg_x2 // 2
    ends = struct.unpack_from(f">{segs}H", cmap, offset + 14)
    starts = struct.unpack_from(f">{segs}H", cmap, offset + 16 + seg_x2)
    deltas = struct.unpack_from(f">{segs}h", cmap, offset + 16 + 2 * seg_x2)
    range_at = offset + 16 + 3 * seg_x2
    range_offsets = struct.unpack_from(f">{segs}H", cmap, range_at)
    out: dict[int, int] = {}
    for s in range(segs):
        for c in range(starts[s], ends[s] + 1):
            if c == 0xFFFF:
                continue
            if range_offsets[s] == 0:
                gid = (c + deltas[s]) & 0xFFFF
            else:
                at = range_at + 2 * s + range_offsets[s] + 2 * (c - starts[s])
                gid = struct.unpack_from(">H", cmap, at)[0]
                gid = (gid + deltas[s]) & 0xFFFF if gid else 0
            if gid:
                out[c] = gid
    return out


def _postscript_name(name: bytes) -> str | None:
    if len(name) < 6:
        return None
    count, strings = struct.unpack_from(">HH", name, 2)
    for i in range(count):
        platform, _enc, _lang, name_id, length, offset = struct.unpack_from(">6H", name, 6 + 12 * i)
        if name_id == 6:
            raw = name[strings + offset : strings + offset + length]
            text = raw.decode("utf-16-be") if platform in (0, 3) else raw.decode("latin-1")
            return re.sub(r"[^A-Za-z0-9-]", "", text) or None
    return None


def _subset_font(face: _Face, gids: Sequence[int]) -> bytes:
    """A TrueType font of just `gids` (gids[0] must be 0, .notdef); new glyph i is old gids[i]."""
    if not gids or gids[0] != 0:
        raise ValueError("a subset starts with .notdef")
    glyf = bytearray()
    loca: list[int] = []
    for gid in gids:
        data = face.glyph_data(gid)
        if len(data) >= 2 and struct.unpack_from(">h", data)[0] < 0:
            raise ValueError(f"glyph {gid} is composite; build the font with fonts/build_font.py")
        loca.append(len(glyf))
        glyf += data + b"\0" * (-len(data) % 4)
    loca.append(len(glyf))
    n = len(gids)
    t = face.tables
    head = bytearray(t["head"])
    head[8:12] = b"\0\0\0\0"  # checkSumAdjustment, set below
    struct.pack_into(">h", head, 50, 1)  # long loca
    hhea = bytearray(t["hhea"])
    struct.pack_into(">H", hhea, 34, n)
    maxp = bytearray(t["maxp"])
    struct.pack_into(">H", maxp, 4, n)
    hmtx = b"".join(struct.pack(">Hh", face.advances[g], face.lsbs[g]) for g in gids)
    post = struct.pack(">I", 0x00030000) + (t["post"][4:32] if "post" in t else b"\0" * 28)
    tables = {
        "glyf": bytes(glyf),
        "head": bytes(head),
        "hhea": bytes(hhea),
        "hmtx": hmtx,
        "loca": struct.pack(f">{n + 1}I", *loca),
        "maxp": bytes(maxp),
        "post": post,
    }
    for tag in ("OS/2", "name", "cvt ", "fpgm", "prep"):
        if tag in t:
            tables[tag] = t[tag]
    font, offsets = _sfnt(tables)
    adjustment = (0xB1B0AFBA - _checksum(font)) & 0xFFFFFFFF
    patched = bytearray(font)
    struct.pack_into(">I", patched, offsets["head"] + 8, adjustment)
    return bytes(patched)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) & 0xFFFFFFFF


def _sfnt(tables: dict[str, bytes]) -> tuple[bytes, dict[str, int]]:
    """The font file of these tables, and where each table starts in it."""
    tags = sorted(tables)
    count = len(tags)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    offset = 12 + 16 * count
    directory = bytearray()
    body = bytearray()
    where: dict[str, int] = {}
    for tag in tags:
        data = tables[tag]
        where[tag] = offset + len(body)
        directory += struct.pack(">4sIII", tag.encode("latin-1"), _checksum(data), where[tag], len(data))
        body += data + b"\0" * (-len(data) % 4)
    return header + bytes(directory) + bytes(body), where


# --- a one-page PDF writer -----------------------------------------------------------------------

_CLOSING = set("，。、；：！？）》」』”’〕】…—,.;:!?)")  # never at the start of a line


@dataclass
class _Run:
    x: float
    y: float
    size: float
    gids: tuple[int, ...]
    colour: tuple[float, float, float]
    bold: bool


@dataclass
class _Page:
    face: _Face
    runs: list[_Run] = field(default_factory=list)
    graphics: list[str] = field(default_factory=list)
    used: dict[int, str] = field(default_factory=dict)  # glyph id -> the text it shows

    def _gids(self, text: str) -> tuple[int, ...]:
        missing = [c for c in text if self.face.glyph(c) is None]
        if missing:
            raise MissingGlyphs(missing)
        gids = tuple(self.face.glyph(c) or 0 for c in text)
        for gid, ch in zip(gids, text, strict=True):
            self.used.setdefault(gid, ch)
        return gids

    def width(self, text: str, size: float) -> float:
        units = 0
        for c in text:
            gid = self.face.glyph(c)
            units += self.face.advances[gid] if gid is not None else self.face.units_per_em
        return units * size / self.face.units_per_em

    def text(
        self,
        x: float,
        y: float,
        size: float,
        text: str,
        *,
        colour: tuple[float, float, float] = INK,
        bold: bool = False,
    ) -> None:
        self.runs.append(_Run(x, y, size, self._gids(text), colour, bold))

    def centered(
        self,
        y: float,
        size: float,
        text: str,
        *,
        colour: tuple[float, float, float] = INK,
        bold: bool = False,
    ) -> None:
        self.text((PAGE_W - self.width(text, size)) / 2, y, size, text, colour=colour, bold=bold)

    def right(self, x: float, y: float, size: float, text: str) -> None:
        self.text(x - self.width(text, size), y, size, text)

    def rule(
        self, x0: float, x1: float, y: float, thickness: float, colour: tuple[float, float, float]
    ) -> None:
        r, g, b = colour
        self.graphics.append(
            f"{_n(r)} {_n(g)} {_n(b)} RG {_n(thickness)} w {_n(x0)} {_n(y)} m {_n(x1)} {_n(y)} l S"
        )

    def lines(self, text: str, width: float, size: float, first_indent: float = 0.0) -> list[str]:
        """Break text to fit `width`: anywhere between hanzi, not inside a Latin word or number, and
        never before closing punctuation (避头)."""
        tokens = re.findall(r"[A-Za-z0-9*\-./:@]+|.", text)
        out: list[str] = []
        line = ""
        limit = width - first_indent
        for token in tokens:
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
        rows: list[tuple[str, str]],
        *,
        label_width: float,
        row_height: float,
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
            self.text(x + pad, base, size, label, colour=GREY)
            for j, line in enumerate(wrapped):
                self.text(x + label_width + pad, base - j * (size + 5), size, line)
            cur -= height
            edges.append(cur)
        for e in edges[1:-1]:
            self.rule(x, x + width, e, 0.4, (0.7, 0.7, 0.7))
        bottom = edges[-1]
        self.graphics.append(
            f"0.3 0.3 0.3 RG 0.8 w {_n(x)} {_n(bottom)} {_n(width)} {_n(top - bottom)} re S "
            f"0.7 0.7 0.7 RG 0.4 w {_n(x + label_width)} {_n(bottom)} m {_n(x + label_width)} {_n(top)} l S"
        )
        return bottom

    # -- writing the file --

    def pdf(self, *, title: str, author: str, created: date) -> bytes:
        order = [0, *sorted(g for g in self.used if g != 0)]
        new = {old: i for i, old in enumerate(order)}
        content = self._content(new)
        font_file = _subset_font(self.face, order)
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(font_file).digest()[:6])
        base_font = f"{tag}+{self.face.postscript_name}"
        scale = 1000 / self.face.units_per_em
        widths = " ".join(str(round(self.face.advances[g] * scale)) for g in order)
        bx0, by0, bx1, by1 = (round(v * scale) for v in self.face.bbox)
        objects: list[bytes] = [
            b"<< /Type /Catalog /Pages 2 0 R /Lang (zh-CN) /ViewerPreferences << /DisplayDocTitle true >> >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_n(PAGE_W)} {_n(PAGE_H)}] "
                "/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>"
            ).encode(),
            _stream(content),
            (
                f"<< /Type /Font /Subtype /Type0 /BaseFont /{base_font} /Encoding /Identity-H "
                "/DescendantFonts [6 0 R] /ToUnicode 9 0 R >>"
            ).encode(),
            (
                f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base_font} "
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                f"/FontDescriptor 7 0 R /DW 1000 /W [0 [{widths}]] /CIDToGIDMap /Identity >>"
            ).encode(),
            (
                f"<< /Type /FontDescriptor /FontName /{base_font} /Flags 6 "
                f"/FontBBox [{bx0} {by0} {bx1} {by1}] /ItalicAngle 0 "
                f"/Ascent {round(self.face.ascent * scale)} /Descent {round(self.face.descent * scale)} "
                f"/CapHeight {round(self.face.cap_height * scale)} /StemV 80 /FontFile2 8 0 R >>"
            ).encode(),
            _stream(font_file, extra=f"/Length1 {len(font_file)}"),
            _stream(_to_unicode({new[g]: ch for g, ch in self.used.items()})),
            (
                f"<< /Title {_utf16(title)} /Author {_utf16(author)} /Producer (enrollment.notices.notice) "
                f"/CreationDate (D:{created:%Y%m%d}000000+08'00') /ModDate (D:{created:%Y%m%d}000000+08'00') >>"
            ).encode(),
        ]
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
        file_id = hashlib.sha256(bytes(out)).hexdigest()[:32]
        xref_at = len(out)
        out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
        out += (
            f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 10 0 R /ID [<{file_id}> <{file_id}>] >>\n"
            f"startxref\n{xref_at}\n%%EOF\n"
        ).encode()
        return bytes(out)

    def _content(self, new: dict[int, int]) -> bytes:
        ops = ["q", *self.graphics, "Q"]
        for run in self.runs:
            r, g, b = run.colour
            mode = f"2 Tr {_n(run.size * 0.025)} w {_n(r)} {_n(g)} {_n(b)} RG" if run.bold else "0 Tr"
            glyphs = "".join(f"{new[gid]:04X}" for gid in run.gids)
            ops.append(
                f"BT /F1 {_n(run.size)} Tf {mode} {_n(r)} {_n(g)} {_n(b)} rg "
                f"1 0 0 1 {_n(run.x)} {_n(run.y)} Tm <{glyphs}> Tj ET"
            )
        return "\n".join(ops).encode()


def _n(v: float) -> str:
    """A PDF number: at most 2 decimals, no trailing zeros (the same text for the same value)."""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _stream(data: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(data, 9)
    head = f"<< /Length {len(packed)} /Filter /FlateDecode {extra}".rstrip() + " >>"
    return head.encode() + b"\nstream\n" + packed + b"\nendstream"


def _utf16(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def _to_unicode(cids: dict[int, str]) -> bytes:
    """The ToUnicode CMap: each CID (2 bytes) to the character it shows, so text can be extracted."""
    entries = sorted(cids.items())
    chunks = []
    for i in range(0, len(entries), 100):  # at most 100 entries per beginbfchar
        part = entries[i : i + 100]
        lines = "\n".join(f"<{cid:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for cid, ch in part)
        chunks.append(f"{len(part)} beginbfchar\n{lines}\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(chunks)
        + "\nendcmap\nCMapName currentdict /CMapResource defineresource pop\nend\nend"
    ).encode()
