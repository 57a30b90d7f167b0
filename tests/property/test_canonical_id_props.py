"""Properties of the one canonical ID number (R-ID-1, R-REG-2) and of the name set (R-DATA-1).

However a valid resident ID number is typed — any mixture of ASCII and full-width digits, `X`, `x`,
`Ｘ` or `ｘ`, with spaces around it — the form keeps the same canonical number, hence the same child key
and registration id; a number with any other digit form in it is refused naming `child.id_number`.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from enrollment.core import idcard, names
from enrollment.core.config import load_season
from enrollment.registration.form import Child, RegistrationRefused, parse_request
from enrollment.registration.registrar import registration_id

SEASON = load_season("jilin-2023")
AREA_CODES = sorted({d.area_code for d in SEASON.districts})
TEST_KEY = b"property-test-child-key"  # a fixed key: not the KMS key, the same derivation


class FixedKeyer:
    """KmsChildKeyer's message under a fixed HMAC key (enrollment/adapters/kms.py)."""

    def child_key(self, season: str, id_type: str, id_number: str) -> str:
        message = f"enrollment-child/1|{season}|{id_type}|{id_number.upper()}".encode()
        return hmac.new(TEST_KEY, message, hashlib.sha256).hexdigest()


KEYER = FixedKeyer()

areas = st.sampled_from(AREA_CODES)
births = st.dates(min_value=date(2005, 1, 1), max_value=date(2017, 8, 31))
sequences = st.integers(min_value=0, max_value=999)
blanks = st.text(alphabet=" \t\u3000\u00a0", max_size=3)


@st.composite
def spellings(draw: st.DrawFn, number: str) -> str:
    """`number` as a parent might type it: each digit ASCII or full-width, the X in any of four forms."""
    out = []
    for c in number:
        if c == "X":
            out.append(draw(st.sampled_from("XxＸｘ")))
        else:
            out.append(draw(st.sampled_from([c, chr(ord(c) + 0xFEE0)])))
    return draw(blanks) + "".join(out) + draw(blanks)


def other_digit_forms() -> st.SearchStrategy[str]:
    """Characters that are digits in some way but neither ASCII nor full-width."""
    return st.characters(
        categories=("Nd", "No", "Nl"), exclude_characters="0123456789０１２３４５６７８９"
    ) | st.sampled_from("²³¹⁰①⑴⒈٠١۲२৩๔𝟐")


@given(area=areas, born=births, sequence=sequences, data=st.data())
def test_every_spelling_gives_the_same_number_key_and_registration_id(
    area: str, born: date, sequence: int, data: st.DataObject
) -> None:
    number = idcard.make(area, born, sequence)
    parsed = idcard.parse(number)
    typed = data.draw(spellings(number))
    child = Child.model_validate(
        {"name": "测试儿童", "sex": parsed.sex, "birth_date": born, "id_number": typed}
    )
    assert child.id_number == number
    key = KEYER.child_key(SEASON.season, child.id_type, child.id_number)
    assert key == KEYER.child_key(SEASON.season, "resident-id", number)
    assert registration_id(key) == registration_id(KEYER.child_key(SEASON.season, "resident-id", number))


@given(area=areas, born=births, sequence=sequences, data=st.data())
def test_any_other_digit_form_is_refused(area: str, born: date, sequence: int, data: st.DataObject) -> None:
    number = idcard.make(area, born, sequence)
    parsed = idcard.parse(number)
    typed = data.draw(spellings(number)).strip(idcard.WHITE_SPACE)
    position = data.draw(st.integers(min_value=0, max_value=17))
    odd = data.draw(other_digit_forms())
    # inserted anywhere, or in place of a digit: never folded, never parsed
    inserted = typed[:position] + odd + typed[position:]
    replaced = typed[:position] + odd + typed[position + 1 :]
    for changed in (inserted, replaced):
        assert not idcard.fold(changed).isascii()
        with pytest.raises(idcard.IdNumberError) as e:
            idcard.parse(idcard.fold(changed))
        assert e.value.code == "characters"
    # through the form (18 characters, as the field allows): refused naming the field and R-ID-1
    body = {
        "season": SEASON.season,
        "grade": 1,
        "category": "public",
        "child": {
            "name": "测试儿童",
            "sex": parsed.sex,
            "birth_date": born.isoformat(),
            "id_number": replaced,
        },
    }
    with pytest.raises(RegistrationRefused) as refused:
        parse_request(body)
    assert ("child.id_number", "R-ID-1") in [(v.field, v.rule) for v in refused.value.violations]


@given(text=st.text(max_size=12))
def test_an_accepted_name_is_canonical_and_only_han_latin_and_separators(text: str) -> None:
    try:
        name = names.name(text)
    except names.TextError:
        return
    assert names.name(name) == name  # folding again changes nothing
    assert unicodedata.normalize("NFC", name) == name
    for c in name:
        latin = c.isascii() and (c.isalpha() or c in " -")
        assert latin or c == "·" or any(a <= ord(c) <= b for a, b in names.HAN_RANGES)


@given(text=st.text(alphabet=st.characters(categories=("Cc", "Cf", "Co", "Cs", "So", "Sk")), min_size=1))
def test_controls_formats_private_use_and_symbols_are_never_in_a_name(text: str) -> None:
    assume(text.strip(idcard.WHITE_SPACE) != "")
    for prefix, suffix in (("王", ""), ("王", "明"), ("", "明")):
        try:
            names.name(prefix + text + suffix)
        except names.TextError:
            continue
        raise AssertionError(f"accepted {prefix + text + suffix!r}")


def _in(ranges: tuple[tuple[int, int], ...]) -> st.SearchStrategy[str]:
    return st.one_of(*(st.integers(a, b) for a, b in ranges)).map(chr)


@given(chars=st.lists(st.one_of(_in(names.HAN_RANGES), _in(names.CJK_BLOCKS)), min_size=1, max_size=6))
def test_a_han_name_is_accepted_exactly_when_gb18030_2022_has_every_character(chars: list[str]) -> None:
    typed = "".join(chars)
    lacking = [c for c in dict.fromkeys(chars) if not any(a <= ord(c) <= b for a, b in names.HAN_RANGES)]
    if not lacking:
        assert names.name(typed) == typed
        return
    # refused only for the characters the set lacks, with the message naming each of them once
    with pytest.raises(names.TextError) as e:
        names.name(typed)
    quoted = "".join(f"“{c}”" for c in lacking)
    assert e.value.message_zh == f"姓名中的{quoted}{names.BEYOND_MESSAGE_ZH}"
