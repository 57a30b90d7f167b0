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
        "\u9fef明",  # the last of GB 18030-2022's basic block (Unicode 11.0)
        "\u4db5\U0002a6d6\U0002b734",  # the last of its Extensions A, B and C
        "\U0002ebe0",  # Extension F
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


GB18030_2022 = {  # the published counts, 收录汉字87887个
    "Extension A": ((0x3400, 0x4DB5), 6_582),
    "URO": ((0x4E00, 0x9FEF), 20_976),
    "compatibility": ((0xFA0E, 0xFA29), 12),
    "Extension B": ((0x20000, 0x2A6D6), 42_711),
    "Extension C": ((0x2A700, 0x2B734), 4_149),
    "Extension D": ((0x2B740, 0x2B81D), 222),
    "Extension E": ((0x2B820, 0x2CEA1), 5_762),
    "Extension F": ((0x2CEB0, 0x2EBE0), 7_473),
}
ACCEPTED = frozenset(cp for a, b in names.HAN_RANGES for cp in range(a, b + 1))


def test_han_ranges_are_gb18030_2022s_87887_han_characters() -> None:
    assert len(ACCEPTED) == 87_887
    for block, ((lo, hi), count) in GB18030_2022.items():
        assert len({cp for cp in ACCEPTED if lo <= cp <= hi}) == count, block
    assert sum(count for _, count in GB18030_2022.values()) == 87_887
    for cp in ACCEPTED:  # all of them Unicode 12.0 or older: Python's unicodedata knows every one
        name = unicodedata.name(chr(cp), "")
        assert name == f"CJK UNIFIED IDEOGRAPH-{cp:04X}" or (
            name.startswith("CJK COMPATIBILITY IDEOGRAPH-")
            and unicodedata.normalize("NFC", chr(cp)) == chr(cp)
        ), hex(cp)
        assert unicodedata.category(chr(cp)) == "Lo"
    # every other unified ideograph Python knows (Unicode 14.0 on 3.11) is in a block refused with its own message
    known = {
        cp
        for cp in range(0x3400, 0x32400)
        if unicodedata.name(chr(cp), "").startswith("CJK UNIFIED IDEOGRAPH-")
    }
    assert known - ACCEPTED
    assert all(any(a <= cp <= b for a, b in names.CJK_BLOCKS) for cp in known - ACCEPTED)
    assert {0x9FF0, 0x4DB6, 0x2A6D7, 0x2B735, 0x30000} <= known - ACCEPTED


def beyond_message(label: str, chars: str) -> str:
    quoted = "".join(f"“{c}”" for c in chars)
    return f"{label}中的{quoted}不在国家标准汉字字符集内，暂不能在线登记，也无法打印在录取通知书上，请联系所在区教育局招生办公室办理"


@pytest.mark.parametrize(
    "char",
    [
        "\U00030000",  # Extension G (Unicode 13.0), first and last
        "\U0003134a",
        "\U00030ede",  # 𰻞 (biáng)
        "\U00031350",  # Extension H (Unicode 15.0), first and last
        "\U000323af",
        "\U0002ebf0",  # Extension I (Unicode 15.1)
        "\U0002ee5d",
        "\U000323b0",  # Extension J (Unicode 17.0)
        "\u9ff0",  # the basic block's Unicode 13.0-15.0 tail
        "\u9fff",
        "\u4db6",  # Extension A's Unicode 13.0 tail
        "\u4dbf",
        "\U0002a6d7",  # Extension B's Unicode 13.0-14.0 tail
        "\U0002a6df",
        "\U0002b735",  # Extension C's Unicode 14.0-15.0 tail
        "\U0002b739",
        "\U0002b73a",  # and its Unicode 17.0 one, as Extension E's
        "\U0002cea2",
    ],
)
def test_han_characters_gb18030_2022_lacks_are_refused_with_their_own_message(char: str) -> None:
    assert ord(char) not in ACCEPTED
    for typed in ("王" + char, char + "明", "阿依古丽·" + char):
        with pytest.raises(names.TextError) as e:
            names.name(typed)
        assert e.value.message_zh == beyond_message("姓名", char)
        assert f"U+{ord(char):04X}" in e.value.message_en and "GB 18030-2022" in e.value.message_en
        with pytest.raises(names.TextError) as e:
            names.text(typed + "3栋", "详细地址")
        assert e.value.message_zh == beyond_message("详细地址", char)


def test_the_message_names_each_such_character_once_and_other_faults_keep_theirs() -> None:
    with pytest.raises(names.TextError) as e:
        names.name("\U00030ede\U00031350\U00030ede")
    assert e.value.message_zh == (
        "姓名中的“𰻞”“\U00031350”不在国家标准汉字字符集内，暂不能在线登记，也无法打印在录取通知书上，"
        "请联系所在区教育局招生办公室办理"
    )
    # a name with another fault as well gets the usual message: the character set is not its only problem
    for typed in ("王\U00030ede😀", "王 \U00030ede", "王\U00030ede2", "·\U00030ede"):
        with pytest.raises(names.TextError) as e:
            names.name(typed)
        assert e.value.message_zh == names.NAME_MESSAGE_ZH, typed
    with pytest.raises(names.TextError) as e:
        names.text("3栋\U00030ede<b>", "详细地址")
    assert e.value.message_zh == "详细地址" + names.TEXT_MESSAGE_ZH


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
    body["guardians"].append(
        {"name": bad, "relationship": "父亲", "id_number": "220202198505061230", "phone": "17000005678"}
    )
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


def test_a_han_character_gb18030_2022_lacks_is_refused_naming_the_field(season: SeasonConfig) -> None:
    g, h = "\U00030ede", "\U00031350"  # Extensions G and H
    assert refused(valid_body(season, child__name="王" + g)) == [
        ("child.name", "R-DATA-1", beyond_message("姓名", g))
    ]
    assert beyond_message("姓名", g) == (
        "姓名中的“𰻞”不在国家标准汉字字符集内，暂不能在线登记，也无法打印在录取通知书上，请联系所在区教育局招生办公室办理"
    )
    body = valid_body(season)
    body["guardians"].append(
        {"name": "李" + h, "relationship": "父亲", "id_number": "220202198505061230", "phone": "17000005678"}
    )
    assert refused(body) == [("guardians.1.name", "R-DATA-1", beyond_message("姓名", h))]
    body = valid_body(season, home_address__detail="3栋" + g)
    assert refused(body) == [("home_address.detail", "R-DATA-1", beyond_message("详细地址", g))]
    assert refused(valid_body(season, primary_school="实验" + h + "小学")) == [
        ("primary_school", "R-DATA-1", beyond_message("小学毕业学校", h))
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
