"""Resident identity card numbers (居民身份证号码), GB 11643-1999: R-ID-1.

An 18-character number: 6-digit administrative area code, 8-digit birth date (YYYYMMDD), 3-digit
sequence whose parity gives the sex (odd: male, even: female), and an ISO 7064 MOD 11-2 check
character (0-9 or X).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Sex = Literal["男", "女"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
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


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character over the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse(number: str) -> ResidentId:
    """Validate and parse an ID number; raise IdNumberError naming what is wrong."""
    if not _SHAPE.match(number):
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


def make(area_code: str, birth_date: date, sequence: int) -> str:
    """Build a valid ID number (for synthetic people only)."""
    if not (len(area_code) == 6 and area_code.isdigit() and 0 <= sequence <= 999):
        raise ValueError("area code must be 6 digits and sequence 0-999")
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def mask(number: str) -> str:
    """Mask an ID number for logs and lists (R-DATA-2): `220202********123X`."""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """Mask a mobile number: `138****5678`."""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
