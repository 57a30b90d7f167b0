"""Names and free text as the household register holds them (R-DATA-1); docs/NAMES.md says why.

The household register (户口簿) and the public-security population system write names in the Chinese
coded character set GB 18030. Python's `gb18030` codec cannot serve as the test: GB 18030 is a
Unicode transformation format, so the codec encodes every code point (emoji, controls, U+202E and
unassigned ones included; only lone surrogates fail). The accepted set is therefore spelt out here by
code point, the same in the parents' portal (functions/register/form.js, `HAN_RANGES`):

Han: the CJK unified ideographs of Unicode 15.0 — the basic block U+4E00-9FFF (镕 烜 燊 …),
Extension A U+3400-4DBF (䶮), Extensions B-F (U+20000-2A6DF, 2A700-2B739, 2B740-2B81D, 2B820-2CEA1,
2CEB0-2EBE0: 𠀀 …), G U+30000-3134A and H U+31350-323AF, and the twelve unified ideographs of the
compatibility block (U+FA0E …). GB 18030-2022 maps all of them and requires the four-byte sequences of
Extensions B and later; the ranges are explicit because Python 3.11's `unicodedata` (Unicode 14.0) does
not know Extension H yet and browsers know newer ones (Extension I is not accepted).

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

# Unicode 15.0's Unified_Ideograph code points, as (first, last) ranges. Keep equal to form.js's.
HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # the basic block (URO)
    (0xFA0E, 0xFA0F),  # the unified ideographs of the compatibility block
    (0xFA11, 0xFA11),
    (0xFA13, 0xFA14),
    (0xFA1F, 0xFA1F),
    (0xFA21, 0xFA21),
    (0xFA23, 0xFA24),
    (0xFA27, 0xFA29),
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2B739),  # Extension C
    (0x2B740, 0x2B81D),  # Extension D
    (0x2B820, 0x2CEA1),  # Extension E
    (0x2CEB0, 0x2EBE0),  # Extension F
    (0x30000, 0x3134A),  # Extension G
    (0x31350, 0x323AF),  # Extension H
)
MIDDLE_DOT = "\u00b7"
# Look-alikes of the middle dot, folded to it: bullet, hyphenation point, bullet operator, dot operator,
# katakana middle dot (full- and half-width).
_DOTS = "\u2022\u2027\u2219\u22c5\u30fb\uff65"
_FULL_STOP = "\uff0e"  # a name's full-width full stop is a middle dot; in free text it is "."

_HAN = "".join(f"{chr(a)}-{chr(b)}" if a != b else chr(a) for a, b in HAN_RANGES)
_NAME = re.compile(
    rf"[{_HAN}A-Za-z]+(?:(?:{MIDDLE_DOT}|(?<=[A-Za-z])[ \-](?=[A-Za-z]))[{_HAN}A-Za-z]+)*", re.ASCII
)
_TEXT = re.compile(rf"[{_HAN}A-Za-z0-9 \-#()/,.\u3001{MIDDLE_DOT}]*", re.ASCII)
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


class TextError(ValueError):
    """A name or free text with characters outside the accepted set."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


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
    if not _NAME.fullmatch(folded):
        raise TextError(NAME_MESSAGE_ZH, NAME_MESSAGE_EN)
    return folded


def text(raw: str, label_zh: str) -> str:
    """The canonical form of free text (an address detail, a school's name), or TextError naming it."""
    folded = fold_text(raw)
    if not _TEXT.fullmatch(folded):
        raise TextError(label_zh + TEXT_MESSAGE_ZH, f"{label_zh}: {TEXT_MESSAGE_EN}")
    return folded
