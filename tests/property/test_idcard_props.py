"""Properties of GB 11643 ID numbers (R-ID-1): make/parse round trip, single-character errors caught."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from enrollment.core import idcard
from enrollment.core.config import load_season

# Every area code the season knows: its districts'. (Loaded once, at collection.)
AREA_CODES = sorted({d.area_code for d in load_season("jilin-2023").districts})
CHARACTERS = "0123456789X"

areas = st.sampled_from(AREA_CODES)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


@given(area=areas, born=births, sequence=sequences)
def test_make_then_parse_round_trips(area: str, born: date, sequence: int) -> None:
    number = idcard.make(area, born, sequence)
    parsed = idcard.parse(number)
    assert len(number) == 18
    assert parsed.number == number
    assert parsed.area_code == area
    assert parsed.birth_date == born
    assert parsed.sequence == sequence
    assert parsed.sex == ("男" if sequence % 2 else "女")
    assert number[17] == idcard.check_character(number[:17])


@given(
    area=areas,
    born=births,
    sequence=sequences,
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from(CHARACTERS),
)
def test_changing_any_one_character_breaks_it(
    area: str, born: date, sequence: int, position: int, replacement: str
) -> None:
    number = idcard.make(area, born, sequence)
    assume(replacement != number[position])
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(idcard.IdNumberError):
        idcard.parse(changed)


@given(area=areas, born=births, sequence=sequences, i=st.integers(0, 15))
def test_swapping_two_different_neighbours_breaks_it(area: str, born: date, sequence: int, i: int) -> None:
    # MOD 11-2 also catches a swap of two adjacent digits before the check character (a common slip).
    number = idcard.make(area, born, sequence)
    assume(number[i] != number[i + 1] and "X" not in number[i : i + 2])
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    with pytest.raises(idcard.IdNumberError):
        idcard.parse(swapped)
