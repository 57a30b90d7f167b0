"""R-ID-1: GB 11643 resident ID numbers."""

from __future__ import annotations

from datetime import date

import pytest

from enrollment.adapters.observability import mask_text
from enrollment.core import idcard


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # the standard's worked example
        ("22020420170304123", idcard.check_character("22020420170304123")),
        ("44052418800101001", "4"),
    ],
)
def test_check_character(first17: str, check: str) -> None:
    assert idcard.check_character(first17) == check


def test_check_character_x_is_produced_for_some_numbers() -> None:
    # Given sequences 0..999 for one area and date, When computing check characters, Then X occurs (1 in 11)
    checks = {idcard.check_character(f"220204201703{seq:05d}") for seq in range(200)}
    assert "X" in checks and len(checks) == 11


def test_parse_valid_with_x() -> None:
    parsed = idcard.parse("11010519491231002X")
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "女"  # sequence 002 is even
    assert parsed.area_code == "110105"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "check-character"),
        ("11010519491231002x", "shape"),  # lower-case x is not the standard's character
        ("1101051949123100", "shape"),
        ("110105194913310027", "birth-date"),  # month 13
        ("990105194912310028", "area"),
    ],
)
def test_parse_refuses(number: str, code: str) -> None:
    with pytest.raises(idcard.IdNumberError) as e:
        idcard.parse(number)
    assert e.value.code == code
    assert e.value.message_zh


def test_make_round_trip_and_sex_parity() -> None:
    male = idcard.make("220204", date(2017, 8, 31), 123)
    female = idcard.make("220204", date(2017, 8, 31), 124)
    assert idcard.parse(male).sex == "男"
    assert idcard.parse(female).sex == "女"
    assert idcard.parse(male).birth_date == date(2017, 8, 31)


def test_mask() -> None:
    assert idcard.mask("22020220170304123X") == "220202********123X"
    assert idcard.mask_phone("17012345678") == "170****5678"


def test_mask_text_masks_ids_and_phones_inside_any_text() -> None:
    text = '{"id": "22020220170304123X", "phone": "17012345678", "note": "call 17087654321 now", "n": 12345}'
    masked = mask_text(text)
    assert "22020220170304123X" not in masked and "220202********123X" in masked
    assert "17012345678" not in masked and "170****5678" in masked
    assert "170****4321" in masked
    assert '"n": 12345' in masked
