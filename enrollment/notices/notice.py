"""Admission notices (入学通知书, R-NOTE-1): the PDF a family prints, its verification code, its SMS.

On the admission-notice day (`calendar.admission_notices`, 6 Jul) each district bureau issues a notice
to every placed child; on the reporting day (`calendar.reporting_day`, 8 Jul) the child reports to the
school "with the admission notice and the originals of hukou, property deed etc." (annex 2, 三（六）
and 三（七）). This module builds the notice from a placement, renders it and words the SMS.

The PDF is drawn by `pdf.Page` (fpdf2; fontTools makes the font subset), imported by `render_pdf`
only: the rest of this module (and `season.prepare`) runs without fpdf2, which is in the notice layer
that only the `notify-batch` function gets (infra/functions.py):
- one A4 page, Simplified Chinese, as real text: a Type0 font (Identity-H) over a CIDFontType2 whose
  glyphs are a subset, made per notice, of the bundled `fonts/notice-serif.ttf` (Noto Serif CJK SC,
  SIL OFL 1.1, see `fonts/OFL.txt` and `fonts/build_font.py`), with a ToUnicode map so that text can
  be searched, copied and read aloud. The subset holds only the notice's own glyphs (about 300, some
  30 KB compressed), so the PDF is small and renders the same in any viewer;
- the same notice gives the same bytes (no clock: the creation date is the issue date, the file id a
  hash of the notice and the font), so a retried batch writes the identical file;
- a character the bundled font lacks (a rare name character outside GB 2312 and the listed extras)
  is drawn from the fallback fonts (`FALLBACK_FONTS`, docs/NAMES.md "Fonts"), which together cover
  every Han character registration accepts (GB 18030-2022's 87,887); a character no font has (text
  that did not come through registration, such as a school's address) raises `pdf.MissingGlyphs`
  instead of printing a blank, and `season.issue` records that notice for manual issue.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from enrollment.core import idcard, sms_templates
from enrollment.core.sms_templates import SmsMessage
from enrollment.placement.routes import ROUTE_ZH

if TYPE_CHECKING:
    from enrollment.core.config import SeasonConfig
    from enrollment.notices.pdf import Colour, Page

FONT_PATH = Path(__file__).resolve().parents[1] / "fonts" / "notice-serif.ttf"
# For the characters notice-serif.ttf lacks, in this order (fonts/build_font.py, docs/NAMES.md "Fonts"):
# the rest of Noto Serif CJK SC's URO and Extension A, HanaMinB (Extensions B-F), BabelStone Han (G, H).
FALLBACK_FONTS: tuple[Path, ...] = tuple(
    FONT_PATH.parent / name
    for name in ("notice-serif-han.otf", "notice-han-ext.ttf.xz", "notice-han-ext2.ttf.xz")
)
ISSUE_TZ = timezone(timedelta(hours=8))  # China Standard Time: the notice's creation date is its issue day

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


class Unrenderable(ValueError):
    """A notice the bundled fonts cannot draw (`pdf.MissingGlyphs`); `notices.season.issue` records it
    for manual issue. `code_points` names the characters as `U+XXXXX` only: never the name itself."""

    reason = "unrenderable"
    code_points: tuple[str, ...] = ()


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
    # a notice issued again after a correction changed the child's place (issue 18): its number
    # (1, 2, ...: part of the code's message) and the notice it replaces (its code and issue date)
    issue: int = 0
    replaces_code: str | None = None
    replaces_issued: date | None = None

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
        if self.issue < 0 or (self.issue == 0) != (self.replaces_code is None):
            problems.append("a notice issued again (issue > 0) names the notice it replaces, and only it")
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
    issued: date | None = None,
    issue: int = 0,
    replaces: tuple[str, date] | None = None,
) -> Notice:
    """The notice for a placed child: school, dates and bureau from the season config (R-NOTE-1).

    The bureau is that of the school's district (属地), which issues notices for all its schools,
    private ones included (annex 2, 一（四）). `id_number` is masked here; the full number goes no further.
    A notice issued again after a correction (issue 18) is dated the correction's day (`issued`), has
    its own number `issue` and so its own code, and names the notice it `replaces` (code, issue date).
    """
    school = config.school_index.get(school_id)
    if school is None:
        raise ValueError(f"unknown school {school_id!r}")
    day = issued or config.calendar.admission_notices
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
        reporting_day=reporting_day_for(config, day),
        reporting_from=window[0],
        reporting_until=window[1],
        bureau=f"{config.city}{district.name}教育局",
        city=config.city,
        issued=day,
        verification_code=verification_code(secret, config.season, registration_id, school.id, issue),
        issue=issue,
        replaces_code=replaces[0] if replaces else None,
        replaces_issued=replaces[1] if replaces else None,
    )


def reporting_day_for(config: SeasonConfig, issued: date) -> date:
    """When a child reports with a notice issued on `issued`: the season's reporting day; for a notice
    issued again after it (a correction in July or August), the first day of term, or the next day
    once term has begun."""
    cal = config.calendar
    if issued <= cal.reporting_day:
        return cal.reporting_day
    return cal.term_start if issued < cal.term_start else issued + timedelta(days=1)


# --- verification code -------------------------------------------------------------------------


def verification_message(season: str, registration_id: str, school_id: str, issue: int = 0) -> bytes:
    """What the code authenticates: `enrollment-notice/1|season|registration id|school id`, and for a
    notice issued again after a correction (issue n = 1, 2, ...) `enrollment-notice/2|...|school id|n`:
    each issue its own code, even for a child corrected back to a school it had before."""
    parts = (season, registration_id, school_id)
    if any(not p or "|" in p for p in parts):
        raise ValueError("season, registration id and school id must be non-empty and hold no '|'")
    if issue < 0:
        raise ValueError("a notice's issue is 0 or more")
    if issue == 0:
        return "|".join(("enrollment-notice/1", *parts)).encode()
    return "|".join(("enrollment-notice/2", *parts, str(issue))).encode()


def code_from_mac(mac: bytes) -> str:
    """The first 50 bits of an HMAC-SHA256 as 10 Crockford base32 characters."""
    if len(mac) < 7:
        raise ValueError("need at least 7 bytes of MAC")
    bits = int.from_bytes(mac[:7], "big") >> (56 - 5 * _CODE_LENGTH)
    return "".join(_CROCKFORD[(bits >> (5 * i)) & 31] for i in reversed(range(_CODE_LENGTH)))


def verification_code(
    secret: bytes, season: str, registration_id: str, school_id: str, issue: int = 0
) -> str:
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
    mac = hmac.new(secret, verification_message(season, registration_id, school_id, issue), hashlib.sha256)
    return code_from_mac(mac.digest())


def normalise_code(code: str) -> str | None:
    """A typed code as the 10 canonical characters (hyphens and spaces dropped, O->0, I/L->1), or None."""
    text = code.upper().replace("-", "").replace(" ", "")
    text = text.translate(_LOOKALIKES)
    if len(text) != _CODE_LENGTH or any(c not in _CROCKFORD for c in text):
        return None
    return text


def check_verification_code(
    secret: bytes, season: str, registration_id: str, school_id: str, code: str, issue: int = 0
) -> bool:
    """Whether `code` (as typed by a school: any case, with or without the hyphen) is this notice's."""
    typed = normalise_code(code)
    expected = verification_code(secret, season, registration_id, school_id, issue)
    return typed is not None and hmac.compare_digest(typed, expected)


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


# --- SMS ---------------------------------------------------------------------------------------


def sms_message(notice: Notice) -> SmsMessage:
    """The SMS telling a family the notice is out (≤ SMS_MAX characters; no name, no ID number).

    It names the school, the reporting day and hours, the registration id and where to download the
    notice. A long school name takes the shorter templates, longest first, to stay within the limit
    (each is registered with a China provider as it stands: enrollment/core/sms_templates.py).
    """
    day = f"{notice.reporting_day.month}月{notice.reporting_day.day}日"
    hours = f"{_hm(notice.reporting_from)}-{_hm(notice.reporting_until)}"
    common = {
        "registration_id": notice.registration_id,
        "school": notice.school_name,
        "day": day,
        "hours": hours,
    }
    system = f"{notice.city}{SYSTEM_ZH[notice.grade]}"
    variants = [
        SmsMessage(sms_templates.NOTICE.id, {**common, "system": system}, notice.bureau),
        SmsMessage(sms_templates.NOTICE_SHORT.id, {**common, "system": system}, notice.bureau),
        SmsMessage(
            sms_templates.NOTICE_SHORTEST.id, {**common, "system": SYSTEM_ZH[notice.grade]}, notice.bureau
        ),
    ]
    return next((v for v in variants if len(v.text) <= SMS_MAX), variants[-1])


def sms_text(notice: Notice) -> str:
    return sms_message(notice).text


# --- the PDF ----------------------------------------------------------------------------------


def render_pdf(notice: Notice, *, font: Path | None = None) -> bytes:
    """The notice as a one-page A4 PDF (PDF 1.7) with its own font subset: the same notice, the same bytes.

    Characters the bundled font lacks are drawn from `FALLBACK_FONTS` (not when another `font` is
    given); `pdf.MissingGlyphs` (an `Unrenderable`) for a character no font has a glyph for.
    """
    from enrollment.notices.pdf import Page, load_font  # fpdf2: the notice layer (see above)

    page = Page(load_font(str(font or FONT_PATH)), () if font else FALLBACK_FONTS)
    _layout(page, notice)
    return page.output(
        title=f"入学通知书 {notice.registration_id}",
        author=notice.bureau,
        lang="zh-CN",
        created=datetime.combine(notice.issued, time(0, 0), ISSUE_TZ),  # the issue date, not the clock
        key=json.dumps(asdict(notice), default=str, ensure_ascii=False, sort_keys=True).encode(),
    )


# Draws a batch's notices: each one's file, or the `Unrenderable` it raised, in the batch's order
# (`render_each` here, in this process; the embedded backend passes a process pool's, see
# functions/notify/render.py). Any other error is raised.
RenderMany = Callable[[Sequence[Notice]], Iterable[bytes | Unrenderable]]


def render_each(batch: Sequence[Notice]) -> Iterator[bytes | Unrenderable]:
    """`render_pdf` for each notice, one after the other, each when asked for."""
    for notice in batch:
        try:
            yield render_pdf(notice)
        except Unrenderable as e:
            yield e


MARGIN = 66.0
RED: Colour = (0.72, 0.07, 0.07)
GREY: Colour = (0.38, 0.38, 0.38)


def _layout(page: Page, n: Notice) -> None:
    from enrollment.notices.pdf import PAGE_H, PAGE_W

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
    y = page.table(left, y, width, 11.5, rows, label_width=84, row_height=23, label_colour=GREY)
    y -= 30

    page.text(left, y, body, "报到须携带：", bold=True)
    y -= 22
    for i, item in enumerate(BRING, 1):
        y = page.paragraph(left + 12, y, width - 12, 11.5, f"{i}. {item}", leading=19)
    y -= 10
    page.text(left, y, body, "注意事项：", bold=True)
    y -= 22
    notes: tuple[str, ...] = (
        "未按时报到的学生，学校将及时与其父母或其他法定监护人联系。",
        "阳光分班时间由录取学校通知。",
        "本通知书涂改无效。学校可凭报名编号和核验码在招生系统中核验本通知书。",
    )
    if n.replaces_code is not None and n.replaces_issued is not None:
        notes += (
            f"本通知书因安置结果更正重新发放，替代{zh_date(n.replaces_issued)}发放的入学通知书"
            f"（核验码{format_code(n.replaces_code)}），原通知书作废。",
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
