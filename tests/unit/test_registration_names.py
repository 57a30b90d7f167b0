"""Names, free text and ID numbers as the household register holds them (R-DATA-1, R-ID-1, R-REG-2).

enrollment/core/names.py and docs/NAMES.md define the sets; every name here is made up.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from enrollment.core import names
from enrollment.core.config import SeasonConfig
from enrollment.registration.form import RegistrationRefused, parse_request
from tests.support import valid_body

# Names ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "王小明",
        "𠀀明",  # CJK Extension B (four bytes in GB 18030)
        "李䶮",  # Extension A
        "朱镕",  # 镕, 烜, 燊: characters of names that older systems could not write
        "王烜",
        "林燊",
        "\U00031350\U000323af",  # Extension H (Unicode 15.0), Python 3.11's unicodedata does not know it yet
        "\U0002b739明",  # the Extension C character Unicode 15.0 added
        "阿依古丽·买买提",  # a minority name with the middle dot
        "阿卜杜拉·买买提·艾力",
        "伊万·彼得罗夫",
        "Anna",
        "Anna-Maria Kim",  # a foreign child's name as the passport writes it
        "Tom·李",
        "\ufa0e明",  # a unified ideograph of the compatibility block
    ],
)
def test_register_names_are_accepted_as_they_are(name: str) -> None:
    assert names.name(name) == name


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("阿依古丽•买买提", "阿依古丽·买买提"),  # U+2022 bullet
        ("阿依古丽・买买提", "阿依古丽·买买提"),  # U+30FB katakana middle dot
        ("阿依古丽．买买提", "阿依古丽·买买提"),  # U+FF0E full-width full stop
        ("阿依古丽･买买提", "阿依古丽·买买提"),  # U+FF65 half-width katakana middle dot
        ("阿依古丽‧买买提", "阿依古丽·买买提"),  # U+2027 hyphenation point
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),  # spaces around the dot
        ("阿依古丽\u0387买买提", "阿依古丽·买买提"),  # Greek ano teleia: NFC makes it U+00B7
        ("\u3000王小明 ", "王小明"),  # surrounding spaces, the ideographic one too
        ("Ａｎｎａ　Ｋｉｍ", "Anna Kim"),  # full-width letters and the ideographic space
        ("\uf900明", "\u8c48明"),  # a compatibility ideograph: NFC gives the unified one
    ],
)
def test_names_are_folded_to_one_spelling(typed: str, canonical: str) -> None:
    assert names.name(typed) == canonical


@pytest.mark.parametrize(
    "name",
    [
        "王\x00明",  # NUL (Cc)
        "王\x07明",  # BEL (Cc)
        "王\x1c明",
        "王\u202e明",  # right-to-left override (Cf)
        "王\u200d明",  # zero-width joiner (Cf)
        "王\u200b明",  # zero-width space (Cf)
        "\ufeff王明",  # byte-order mark (Cf)
        "王明😀",  # emoji (So)
        "王明\u2764",
        "王\ue000明",  # private use (Co): GBK's old user-defined area
        "王\U000f0000明",  # supplementary private use
        "王\U0002ebf0",  # Extension I (Unicode 15.1): not in the set
        "王\u0378",  # unassigned (Cn)
        "王\ud800",  # a lone surrogate
        "王小明2",  # digits
        "王 小明",  # a space between Han characters
        "Anna  Kim",  # two spaces
        "·王明",  # a separator at either end
        "王明·",
        "王··明",
        "王-明",  # a hyphen only between Latin letters
        "Zoë",  # Latin letters beyond ASCII
        "Иван",  # other scripts
        "王⺀明",  # a CJK radical (So)
        "王〇明",
        "王明。",
        "<王明>",
    ],
)
def test_names_outside_the_set_are_refused(name: str) -> None:
    with pytest.raises(names.TextError) as e:
        names.name(name)
    assert e.value.message_zh == names.NAME_MESSAGE_ZH


def test_gb18030_codec_maps_every_accepted_character_but_cannot_be_the_filter() -> None:
    # GB 18030-2022 needs four-byte sequences for Extensions B and later: Python's codec has them
    for a, b in names.HAN_RANGES:
        for cp in (a, b, (a + b) // 2):
            encoded = chr(cp).encode("gb18030")
            assert encoded.decode("gb18030") == chr(cp)
            if cp > 0xFFFF:
                assert len(encoded) == 4
    # ...and it encodes emoji, controls and U+202E as well: the set is defined by code point instead
    for refused in ("😀", "\x00", "\u202e", "\ue000"):
        assert refused.encode("gb18030")


def test_han_ranges_are_unicode_15_unified_ideographs() -> None:
    in_ranges = {cp for a, b in names.HAN_RANGES for cp in range(a, b + 1)}
    known = {  # every unified ideograph Python's unicodedata knows (Unicode 14.0 on 3.11)
        cp
        for cp in range(0x3400, 0x32400)
        if unicodedata.name(chr(cp), "").startswith("CJK UNIFIED IDEOGRAPH-")
        or (
            unicodedata.name(chr(cp), "").startswith("CJK COMPATIBILITY IDEOGRAPH-")
            and unicodedata.normalize("NFC", chr(cp)) == chr(cp)
        )
    }
    unicode_15 = {0x2B739, *range(0x31350, 0x323B0)}  # what Unicode 15.0 added
    assert known <= in_ranges
    assert in_ranges - known <= unicode_15
    assert all(unicodedata.category(chr(cp)) == "Lo" for cp in known)


# Free text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("3栋2单元501室", "3栋2单元501室"),
        ("３栋２单元５０１室", "3栋2单元501室"),
        ("（东门）1-2号", "(东门)1-2号"),
        ("A座 12#", "A座 12#"),
        ("", ""),
        (" 3栋 ", "3栋"),
    ],
)
def test_free_text_is_folded_and_accepted(typed: str, canonical: str) -> None:
    assert names.text(typed, "详细地址") == canonical


@pytest.mark.parametrize(
    "typed", ["3栋\x00", "3栋\u202e", "3栋😀", "3栋\ue000", "3栋\u200d", "3栋<b>", "3栋;"]
)
def test_free_text_outside_the_set_is_refused(typed: str) -> None:
    with pytest.raises(names.TextError) as e:
        names.text(typed, "详细地址")
    assert e.value.message_zh == "详细地址" + names.TEXT_MESSAGE_ZH


# Through the registration form: the field, the rule, the Chinese message, the canonical value --------


def refused(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    with pytest.raises(RegistrationRefused) as e:
        parse_request(body)
    return [(v.field, v.rule, v.message_zh) for v in e.value.violations]


@pytest.mark.parametrize("bad", ["王\x00明", "王\x07明", "王\u202e明", "王\u200d明", "王明😀", "王\ue000明"])
def test_bad_names_are_refused_naming_the_field(season: SeasonConfig, bad: str) -> None:
    assert refused(valid_body(season, child__name=bad)) == [("child.name", "R-DATA-1", names.NAME_MESSAGE_ZH)]
    body = valid_body(season)
    body["guardians"].append({"name": bad, "relationship": "父亲", "phone": "17000005678"})
    assert refused(body) == [("guardians.1.name", "R-DATA-1", names.NAME_MESSAGE_ZH)]


def test_a_bad_address_detail_is_refused_where_it_stands(season: SeasonConfig) -> None:
    body = valid_body(season, home_address__detail="3栋\u202e2单元")
    body["residence"]["hukou_address"]["detail"] = "3栋\u202e2单元"
    message = "详细地址" + names.TEXT_MESSAGE_ZH
    assert refused(body) == [
        ("home_address.detail", "R-DATA-1", message),
        ("residence.hukou_address.detail", "R-DATA-1", message),
    ]
    assert refused(valid_body(season, primary_school="实验小学\x07")) == [
        ("primary_school", "R-DATA-1", "小学毕业学校" + names.TEXT_MESSAGE_ZH)
    ]


def test_what_is_stored_is_the_canonical_spelling(season: SeasonConfig) -> None:
    body = valid_body(season, child__name=" 阿依古丽・买买提 ", home_address__detail="３栋（东）")
    number = body["child"]["id_number"]
    body["child"]["id_number"] = "".join(chr(ord(c) + 0xFEE0) for c in number)
    req = parse_request(body)
    stored = req.model_dump(mode="json")
    assert stored["child"]["name"] == "阿依古丽·买买提"
    assert stored["child"]["id_number"] == number
    assert stored["home_address"]["detail"] == "3栋(东)"


def test_an_id_number_in_other_digits_is_refused_r_id_1(season: SeasonConfig) -> None:
    body = valid_body(season)
    number = body["child"]["id_number"]
    for zero in (0x0660, 0x0966):  # Arabic-Indic, Devanagari
        body["child"]["id_number"] = "".join(chr(zero + int(c)) if c != "X" else c for c in number)
        assert refused(body) == [
            ("child.id_number", "R-ID-1", "身份证号只能填写数字0-9和字母X，请勿使用其他文字的数字或符号")
        ]


def test_a_resident_id_number_is_refused_as_a_passport_number(season: SeasonConfig) -> None:
    body = valid_body(season, child__id_type="passport", child__nationality="KOR")
    [(field, rule, message)] = refused(body)
    assert (field, rule) == ("child.id_number", "R-ID-1") and "居民身份证" in message
    body["child"]["id_number"] = "ｍ１２３４５６７８"  # a passport number typed in full width
    assert parse_request(body).child.id_number == "M12345678"
    body["child"]["id_number"] = "M١٢٣٤٥٦٧٨"
    assert refused(body) == [
        ("child.id_number", "R-ID-1", "护照号码应为5至18位英文字母或数字0-9，请勿使用其他文字的数字或符号")
    ]


def test_phone_numbers_take_ascii_digits_only(season: SeasonConfig) -> None:
    body = valid_body(season)
    body["guardians"][0]["phone"] = "13" + "".join(chr(0x0660 + int(d)) for d in "000001234")
    assert [(f, r) for f, r, _ in refused(body)] == [("guardians.0.phone", "R-DATA-1")]
