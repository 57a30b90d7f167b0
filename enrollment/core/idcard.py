"""Resident identity card numbers (居民身份证号码), GB 11643-1999: R-ID-1.

An 18-character number: 6-digit administrative area code, 8-digit birth date (YYYYMMDD), 3-digit
sequence whose parity gives the sex (odd: male, even: female), and an ISO 7064 MOD 11-2 check
character (0-9 or X).

One canonical number (R-ID-1, R-REG-2): what a parent types is first `fold`ed — surrounding Unicode
White_Space stripped (U+3000, the ideographic space, included), full-width digits U+FF10-FF19 and
full-width Latin letters U+FF21-FF3A, U+FF41-FF5A turned into their ASCII forms, ASCII a-z upper-cased
— and only then checked. Nothing else is folded: any other character (digits of other scripts such as
Arabic-Indic or Devanagari, superscripts, inner spaces, symbols) is left in place and refused, so an
ID number is always ASCII `[0-9]` and `X` once accepted. The folded number is the one stored, hashed
into the child key and shown (masked). Every pattern here is ASCII-only (`[0-9]`, `re.ASCII`): `\\d`
and `int()` alone would accept other scripts' digits. docs/NAMES.md says why.

Passport numbers (R-FOREIGN-1) are folded the same way and are then 5 to 18 ASCII letters and digits
(ICAO 9303 document numbers use A-Z and 0-9 only). A number that is a valid resident ID number is never
accepted as a passport number: a Chinese citizen registers with the resident ID, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["男", "女"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_PASSPORT = re.compile(r"[A-Z0-9]{5,18}", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# Unicode White_Space, stripped around a number: what pydantic's str_strip_whitespace (Rust `str::trim`)
# strips, and the portal's `\p{White_Space}` (functions/register/form.js).
WHITE_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# The fold: full-width digits and Latin letters to ASCII, ASCII lower-case to upper-case. Nothing else.
_FOLD = {
    **{0xFF10 + i: ord("0") + i for i in range(10)},
    **{0xFF21 + i: ord("A") + i for i in range(26)},
    **{0xFF41 + i: ord("A") + i for i in range(26)},
    **{ord("a") + i: ord("A") + i for i in range(26)},
}
# GB/T 2260 province-level codes: the first two digits of every valid area code.
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


class IdNumberError(ValueError):
    """An ID number that breaks GB 11643; `code` says which part."""

    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class ResidentId:
    number: str
    area_code: str
    birth_date: date
    sequence: int
    sex: Sex


def fold(raw: str) -> str:
    """The documented normalisation of a typed ID or passport number (never raises): strip White_Space
    around it, full-width digits and letters to ASCII, a-z to A-Z. Check the result with `parse` or
    `parse_passport`; anything else non-ASCII is still there and they refuse it."""
    return raw.strip(WHITE_SPACE).translate(_FOLD)


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 17 digits."""
    if len(first17) != 17 or not _DIGITS.fullmatch(first17):
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse(number: str) -> ResidentId:
    """Validate and parse a canonical ID number (`fold` it first); raise IdNumberError naming what is wrong."""
    if not number.isascii():
        raise IdNumberError(
            "characters",
            "身份证号只能填写数字0-9和字母X，请勿使用其他文字的数字或符号",
            "the ID number may only contain the digits 0-9 and X (no other script's digits or symbols)",
        )
    if not _SHAPE.fullmatch(number):
        raise IdNumberError(
            "shape",
            "身份证号应为18位：前17位为数字，最后一位为数字或大写X",
            "the ID number must be 17 digits followed by a digit or an upper-case X",
        )
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(
            "birth-date", "身份证号中的出生日期不存在", "the birth date inside the ID number does not exist"
        ) from None
    if number[:2] not in _PROVINCES:
        raise IdNumberError("area", "身份证号的地区码无效", "the area code of the ID number is not valid")
    if number[17] != check_character(number[:17]):
        raise IdNumberError(
            "check-character",
            "身份证号校验位不正确，请核对后重新输入",
            "the check character of the ID number is wrong",
        )
    sequence = int(number[14:17])
    return ResidentId(
        number=number,
        area_code=number[:6],
        birth_date=born,
        sequence=sequence,
        sex="男" if sequence % 2 else "女",
    )


def is_resident_id(number: str) -> bool:
    """Whether `number` (canonical) is a valid resident ID number, check character and all."""
    try:
        parse(number)
    except IdNumberError:
        return False
    return True


def parse_passport(number: str) -> str:
    """Check a canonical passport number (`fold` it first): 5-18 ASCII letters and digits, and not a
    resident ID number (R-FOREIGN-1, R-REG-2); return it, or raise IdNumberError."""
    if not _PASSPORT.fullmatch(number):
        raise IdNumberError(
            "passport-shape",
            "护照号码应为5至18位英文字母或数字0-9，请勿使用其他文字的数字或符号",
            "a passport number is 5 to 18 letters A-Z and digits 0-9",
        )
    if is_resident_id(number):
        raise IdNumberError(
            "resident-id-as-passport",
            "该号码是居民身份证号，请将证件类型选为“居民身份证”（每名儿童只能报名一次）",
            "this is a valid resident ID number: register with it as a resident ID, not as a passport",
        )
    return number


def make(area_code: str, birth_date: date, sequence: int) -> str:
    """Build a valid ID number (for synthetic people only)."""
    if not (_DIGITS.fullmatch(area_code) and len(area_code) == 6 and 0 <= sequence <= 999):
        raise ValueError("area code must be 6 digits and sequence 0-999")
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def mask(number: str) -> str:
    """Mask an ID number for logs and lists (R-DATA-2): `**************123X`, the last four only.

    The area code and birth date are never shown: with them a known birth cohort left ~33 candidates
    for the full number. Masking a masked number (say one stored as `220202********123X` before) gives
    the same form, so lists may re-mask what they read."""
    if len(number) < 10:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]


def mask_name(name: str) -> str:
    """A child's name as published lists print it (docs/EXPORTS.md "The public lists"): the first and
    last characters with the middle hidden, 张*明, 欧**轩; a two-character name keeps its first, 李*.
    Two children of one surname stay apart on a list or the ceremony's big screen, which a surname
    alone (王**) did not allow."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """Mask a mobile number: `138****5678`."""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
