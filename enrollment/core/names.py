"""Names and free text as the household register holds them (R-DATA-1); docs/NAMES.md says why.

The household register (户口簿) and the public-security population system write names in the Chinese
coded character set GB 18030. Python's `gb18030` codec cannot serve as the test: GB 18030 is a
Unicode transformation format, so the codec encodes every code point (emoji, controls, U+202E and
unassigned ones included; only lone surrogates fail). The accepted set is therefore spelt out here by
code point, the same in the parents' portal (functions/register/form.js, `HAN_RANGES`):

Han: exactly the 87,887 Han characters of GB 18030-2022 (收录汉字87887个), the set the register and
the bundled notice fonts share — the basic block U+4E00-9FEF (镕 烜 燊 …), Extension A U+3400-4DB5
(䶮), the twelve unified ideographs of the compatibility block (U+FA0E …), Extensions B U+20000-2A6D6
(𠀀 …), C U+2A700-2B734, D U+2B740-2B81D, E U+2B820-2CEA1 and F U+2CEB0-2EBE0. GB 18030-2022 requires
the four-byte sequences of Extensions B and later. It lacks what Unicode 13.0 and later added (U+9FF0-
9FFF, 4DB6-4DBF, 2A6D7-2A6DF, 2B735-2B739, Extensions G, H, I and J), and no free font covers G and H,
so such a character is refused with a message of its own (`beyond`): the child's district registers
the family by hand. The ranges are explicit because Python's `unicodedata` and the browsers know
different Unicode versions.

A person's name (`name`): Han and ASCII letters, in parts joined by the middle dot `·` (U+00B7, as in
minority and foreign names: 阿依古丽·买买提); a space or hyphen only between two Latin letters
(`Anna-Maria Kim`). No digits, no other punctuation, no leading, trailing or doubled separator.

Free text (`text`: the address detail, the primary school's name): Han, ASCII letters and digits,
spaces, and `- # ( ) / , .` `、` `·`.

Before checking, both are normalised: surrounding White_Space stripped, NFC, U+3000 to a space,
full-width Latin letters to ASCII (in free text every full-width ASCII form U+FF01-FF5E, so
`（３栋）` becomes `(3栋)`), and the middle dot's look-alikes `•` `‧` `∙` `⋅` `・` `･` (and in names `．`)
to `·`; spaces around a name's `·` are dropped. The normalised text is what is stored and printed.
Everything else is refused: controls (Cc: NUL, BEL), format characters (Cf: U+202E, ZWJ, ZWSP,
U+FEFF), private-use (Co) and unassigned (Cn) code points, lone surrogates, emoji and other symbols
(So, Sk, Sm), other scripts' letters and digits.
"""

from __future__ import annotations

import re
import unicodedata

from enrollment.core.idcard import WHITE_SPACE

# GB 18030-2022's Han characters (87,887), as (first, last) ranges. Keep equal to form.js's.
HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DB5),  # Extension A
    (0x4E00, 0x9FEF),  # the basic block (URO)
    (0xFA0E, 0xFA0F),  # the unified ideographs of the compatibility block
    (0xFA11, 0xFA11),
    (0xFA13, 0xFA14),
    (0xFA1F, 0xFA1F),
    (0xFA21, 0xFA21),
    (0xFA23, 0xFA24),
    (0xFA27, 0xFA29),
    (0x20000, 0x2A6D6),  # Extension B
    (0x2A700, 0x2B734),  # Extension C
    (0x2B740, 0x2B81D),  # Extension D
    (0x2B820, 0x2CEA1),  # Extension E
    (0x2CEB0, 0x2EBE0),  # Extension F
)
# The CJK Unified Ideographs blocks (Unicode 17.0): a code point in them outside HAN_RANGES is a Han
# character GB 18030-2022 lacks (Unicode 13.0 and later). Keep equal to form.js's.
CJK_BLOCKS: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # the basic block (URO)
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2EE5F),  # Extensions C, D, E, F and I
    (0x30000, 0x3347F),  # Extensions G, H and J
)
MIDDLE_DOT = "\u00b7"
# Look-alikes of the middle dot, folded to it: bullet, hyphenation point, bullet operator, dot operator,
# katakana middle dot (full- and half-width).
_DOTS = "\u2022\u2027\u2219\u22c5\u30fb\uff65"
_FULL_STOP = "\uff0e"  # a name's full-width full stop is a middle dot; in free text it is "."


def _class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in ranges)


def _name_pattern(han: str) -> re.Pattern[str]:
    return re.compile(
        rf"[{han}A-Za-z]+(?:(?:{MIDDLE_DOT}|(?<=[A-Za-z])[ \-](?=[A-Za-z]))[{han}A-Za-z]+)*", re.ASCII
    )


def _text_pattern(han: str) -> re.Pattern[str]:
    return re.compile(rf"[{han}A-Za-z0-9 \-#()/,.\u3001{MIDDLE_DOT}]*", re.ASCII)


_HAN = _class(HAN_RANGES)
_ANY_HAN = _HAN + _class(CJK_BLOCKS)  # what is well formed but for Han characters GB 18030-2022 lacks
_NAME, _NAME_ANY_HAN = _name_pattern(_HAN), _name_pattern(_ANY_HAN)
_TEXT, _TEXT_ANY_HAN = _text_pattern(_HAN), _text_pattern(_ANY_HAN)
_AROUND_DOT = re.compile(rf"[ ]*{MIDDLE_DOT}[ ]*")

_NAME_FOLD = {
    0x3000: " ",
    **{ord(c): MIDDLE_DOT for c in _DOTS + _FULL_STOP},
    **{0xFF21 + i: chr(ord("A") + i) for i in range(26)},
    **{0xFF41 + i: chr(ord("a") + i) for i in range(26)},
}
_TEXT_FOLD = {
    0x3000: " ",
    **{ord(c): MIDDLE_DOT for c in _DOTS},
    **{c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},
}

NAME_MESSAGE_ZH = "姓名只能填写汉字或英文字母（各部分之间可用间隔号“·”），请与户口簿或护照上的姓名一致"
NAME_MESSAGE_EN = (
    "a name is Han characters or Latin letters, its parts joined by the middle dot '·', as the household "
    "register or the passport writes it"
)
TEXT_MESSAGE_ZH = "只能填写汉字、英文字母、数字、空格和常用符号 - # ( ) / , . 、 ·，不能含有表情或特殊字符"
TEXT_MESSAGE_EN = "only Han characters, Latin letters, digits, spaces and - # ( ) / , . 、 · are accepted"
# After "<the field's label>中的“𰻞”": a Han character GB 18030-2022 lacks (none of the notice's fonts has it)
BEYOND_MESSAGE_ZH = (
    "不在国家标准汉字字符集内，暂不能在线登记，也无法打印在录取通知书上，请联系所在区教育局招生办公室办理"
)
BEYOND_MESSAGE_EN = (
    "not in the national standard's Han character set (GB 18030-2022): it cannot be registered online "
    "or printed on the admission notice; please contact the district education bureau's admissions office"
)


class TextError(ValueError):
    """A name or free text with characters outside the accepted set."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


def beyond(folded: str) -> str:
    """The Han characters of `folded` that GB 18030-2022 lacks (in a CJK Unified Ideographs block but
    not in HAN_RANGES), each once, in order of appearance."""
    return "".join(
        dict.fromkeys(
            c
            for c in folded
            if any(a <= ord(c) <= b for a, b in CJK_BLOCKS)
            and not any(a <= ord(c) <= b for a, b in HAN_RANGES)
        )
    )


def _beyond_error(label_zh: str, label_en: str, folded: str) -> TextError:
    chars = beyond(folded)
    quoted = "".join(f"“{c}”" for c in chars)
    code_points = ", ".join(f"{c} (U+{ord(c):04X})" for c in chars)
    return TextError(
        f"{label_zh}中的{quoted}{BEYOND_MESSAGE_ZH}",
        f"{label_en}: {code_points} {'is' if len(chars) == 1 else 'are'} {BEYOND_MESSAGE_EN}",
    )


def fold_name(raw: str) -> str:
    """A name normalised as documented above (never raises)."""
    folded = unicodedata.normalize("NFC", raw.strip(WHITE_SPACE)).translate(_NAME_FOLD)
    return _AROUND_DOT.sub(MIDDLE_DOT, folded)


def fold_text(raw: str) -> str:
    """Free text normalised as documented above (never raises)."""
    return unicodedata.normalize("NFC", raw.strip(WHITE_SPACE)).translate(_TEXT_FOLD)


def name(raw: str) -> str:
    """The canonical form of a person's name, or TextError."""
    folded = fold_name(raw)
    if _NAME.fullmatch(folded):
        return folded
    if _NAME_ANY_HAN.fullmatch(folded):  # well formed, but with Han characters the set lacks
        raise _beyond_error("姓名", "name", folded)
    raise TextError(NAME_MESSAGE_ZH, NAME_MESSAGE_EN)


def text(raw: str, label_zh: str) -> str:
    """The canonical form of free text (an address detail, a school's name), or TextError naming it."""
    folded = fold_text(raw)
    if _TEXT.fullmatch(folded):
        return folded
    if _TEXT_ANY_HAN.fullmatch(folded):
        raise _beyond_error(label_zh, label_zh, folded)
    raise TextError(label_zh + TEXT_MESSAGE_ZH, f"{label_zh}: {TEXT_MESSAGE_EN}")
