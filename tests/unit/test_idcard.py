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
    assert idcard.mask("22020220170304123X") == "**************123X"
    assert idcard.mask_phone("17012345678") == "170****5678"


def test_the_mask_shows_neither_area_code_nor_birth_date() -> None:
    # With the area code and birth date shown, a known birth cohort left ~33 candidates (R-DATA-2)
    number = "22020420170304507X"
    for masked in (idcard.mask(number), mask_text(f"id {number}")):
        assert "220204" not in masked and "20170304" not in masked and "170304" not in masked
        assert masked.endswith("507X") and masked.count("*") == 14
    # a number stored masked the old way is masked the new way when shown again
    assert idcard.mask("220204********507X") == "**************507X"


def test_mask_text_masks_ids_and_phones_inside_any_text() -> None:
    text = '{"id": "22020220170304123X", "phone": "17012345678", "note": "call 17087654321 now", "n": 12345}'
    masked = mask_text(text)
    assert "22020220170304123X" not in masked and '"**************123X"' in masked
    assert "17012345678" not in masked and "170****5678" in masked
    assert "170****4321" in masked
    assert '"n": 12345' in masked


# One canonical number (R-ID-1, R-REG-2): the documented fold, and every other digit form refused ----

NUMBER = idcard.make("220202", date(2017, 3, 4), 123)  # synthetic
WITH_X = next(
    n for n in (idcard.make("220202", date(2017, 3, 4), s) for s in range(1, 999, 2)) if n[-1] == "X"
)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(
    "typed",
    [
        NUMBER,
        full_width(NUMBER),  # ２２０２…
        full_width(NUMBER[:9]) + NUMBER[9:],  # a mixture
        f"  {NUMBER}\u3000",  # surrounding spaces, the ideographic one too
        f"\t{full_width(NUMBER)}\n",
    ],
)
def test_fold_gives_the_one_canonical_number(typed: str) -> None:
    assert idcard.fold(typed) == NUMBER
    assert idcard.parse(idcard.fold(typed)).number == NUMBER


@pytest.mark.parametrize("x", ["X", "x", "Ｘ", "ｘ"])
def test_fold_turns_every_x_into_the_standards_x(x: str) -> None:
    assert idcard.fold(WITH_X[:17] + x) == WITH_X
    assert idcard.parse(idcard.fold(full_width(WITH_X[:17]) + x)).number == WITH_X


def other_digits(zero: int) -> str:
    """NUMBER written with the ten digits starting at code point `zero` (X stays X)."""
    return "".join(chr(zero + int(c)) if c.isascii() and c.isdigit() else c for c in NUMBER)


@pytest.mark.parametrize(
    "typed",
    [
        other_digits(0x0660),  # Arabic-Indic ٢٢٠٢…
        other_digits(0x06F0),  # Extended Arabic-Indic (Persian) ۲۲۰۲…
        other_digits(0x0966),  # Devanagari २२०२…
        other_digits(0x09E6),  # Bengali
        other_digits(0x1D7CE),  # mathematical bold 𝟐𝟐𝟎𝟐…
        NUMBER[:17].replace("2", "²", 1) + NUMBER[17],  # a superscript
        "①" + NUMBER[1:],  # a circled digit
        NUMBER[:6] + " " + NUMBER[6:],  # an inner space
        NUMBER[:6] + "\u200b" + NUMBER[6:],  # a zero-width space
    ],
)
def test_every_other_digit_form_is_refused(typed: str) -> None:
    folded = idcard.fold(typed)
    assert folded != NUMBER  # never folded into the same number
    with pytest.raises(idcard.IdNumberError) as e:
        idcard.parse(folded)
    assert e.value.code in ("characters", "shape")
    if not typed.isascii():
        assert e.value.code == "characters"
        assert e.value.message_zh == "身份证号只能填写数字0-9和字母X，请勿使用其他文字的数字或符号"


def test_other_scripts_digits_never_reach_int() -> None:
    # int() and str.isdigit() accept Arabic-Indic digits: the helpers take ASCII digits only
    arabic = other_digits(0x0660)
    with pytest.raises(ValueError, match="17 digits"):
        idcard.check_character(arabic[:17])
    with pytest.raises(ValueError, match="6 digits"):
        idcard.make(arabic[:6], date(2017, 3, 4), 1)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("M12345678", "M12345678"),
        ("m12345678", "M12345678"),
        ("Ｍ１２３４５６７８", "M12345678"),
        (" ek1234567 ", "EK1234567"),
    ],
)
def test_passport_numbers_fold_the_same_way(typed: str, canonical: str) -> None:
    assert idcard.parse_passport(idcard.fold(typed)) == canonical


@pytest.mark.parametrize("typed", ["M123", "M-1234567", "M1234 5678", "M١٢٣٤٥٦٧٨", "É12345678", "1" * 19])
def test_passport_numbers_outside_the_shape_are_refused(typed: str) -> None:
    with pytest.raises(idcard.IdNumberError) as e:
        idcard.parse_passport(idcard.fold(typed))
    assert e.value.code == "passport-shape"


@pytest.mark.parametrize("typed", [NUMBER, full_width(NUMBER), WITH_X[:17] + "x"])
def test_a_resident_id_number_is_never_a_passport_number(typed: str) -> None:
    with pytest.raises(idcard.IdNumberError) as e:
        idcard.parse_passport(idcard.fold(typed))
    assert e.value.code == "resident-id-as-passport"
    assert "居民身份证" in e.value.message_zh
    # an 18-digit number that is not a valid resident ID (wrong check character) may be a passport's
    other = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    assert idcard.parse_passport(other) == other
