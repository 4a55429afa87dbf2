"""Mandarin text to tone-numbered pinyin, the only Mandarin espeak-ng reads well.

espeak-ng's ``cmn`` voice mangles Chinese characters, but its ``cmn-latn-pinyin`` voice reads
``nin2 hao3`` correctly (and applies third-tone sandhi itself). Neutral tones are written with a 5,
which that voice accepts like a bare syllable. Punctuation is kept (as ASCII) so it still pauses.
"""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin

__all__ = ["digits_to_chinese", "letters_to_pinyin", "to_tone_pinyin"]

_DIGITS = "零一二三四五六七八九"
# Long digit runs are phone or card numbers, read digit by digit with 1 as "yao" like Chinese
# hotlines do; short ones are quantities ("15个工作日").
_DIGIT_BY_DIGIT_FROM = 5
_PHONE_DIGITS = "零幺二三四五六七八九"

# Latin letters (the X of an ID number, a card number's letters) as Mandarin speakers name them,
# in pinyin, so the one Mandarin voice reads them instead of skipping them.
_LETTERS = {
    "A": "ei1", "B": "bi4", "C": "xi1", "D": "di4", "E": "yi4", "F": "ai4 fu1", "G": "ji4",
    "H": "ai4 qi1", "I": "ai4", "J": "jie4", "K": "kai4", "L": "ai4 le5", "M": "ai4 mu5",
    "N": "en1", "O": "ou1", "P": "pi4", "Q": "kiu1", "R": "a4 er3", "S": "ai4 si1", "T": "ti4",
    "U": "you1", "V": "wei1", "W": "da2 bu5 liu2", "X": "ai4 ke4 si1", "Y": "wai4", "Z": "zei4",
}  # fmt: skip
_LETTER = re.compile(r"[A-Za-z]")
# Where pypinyin's dictionary picks the wrong reading for hotline wording (重听 is "hard of
# hearing" to it, "listen again" to a caller). Add a phrase here when a prompt sounds wrong.
_PHRASES = {
    "重听": "chong2 ting1",
    "重拨": "chong2 bo1",
    "最长": "zui4 chang2",
    "行政": "xing2 zheng4",
    "还款": "huan2 kuan3",
    "应为": "ying1 wei2",
}
_PHRASE = re.compile("|".join(_PHRASES))
# 为 before a number is "is" (号码为十八位), not "for" (为您转接).
_WEI_IS = re.compile(r"为(?=[零〇一二两三四五六七八九十百千万])")
_NUMBER = re.compile(r"(\d+)(?:\.(\d+))?(%?)")
_PUNCTUATION = str.maketrans(
    {
        "，": ",",
        "、": ",",
        "。": ".",
        "．": ".",
        "？": "?",
        "！": "!",
        "；": ";",
        "：": ":",
        "（": ",",
        "）": ",",
        "(": ",",
        ")": ",",
        # Quotes and title marks are not heard; a space keeps the syllables apart.
        "“": " ",
        "”": " ",
        "‘": " ",
        "’": " ",
        "《": " ",
        "》": " ",
        '"': " ",
        "…": "...",
        "—": ",",
        "～": " ",
    }
)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.?!;:])")
# A pause mark from a bracket next to a real one: keep the stronger.
_COMMA_BEFORE = re.compile(r",(?:\s*,)*\s*([,.?!;:])")
_COMMA_AFTER = re.compile(r"([.?!;:])\s*,")
_SPACES = re.compile(r"\s+")


def _cardinal(number: int) -> str:
    """0..9999 as read aloud: 105 -> 一百零五, 15 -> 十五, 2000 -> 两千."""
    if number == 0:
        return "零"
    units = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
    parts: list[str] = []
    pending_zero = False
    for value, unit in units:
        digit = number // value % 10
        if digit == 0:
            pending_zero = bool(parts)
            continue
        if pending_zero:
            parts.append("零")
            pending_zero = False
        if digit == 2 and unit in ("千", "百") and not parts:
            parts.append("两" + unit)
        elif digit == 1 and unit == "十" and not parts:
            parts.append("十")  # 十五, not 一十五
        else:
            parts.append(_DIGITS[digit] + unit)
    return "".join(parts)


def _read_integer(digits: str) -> str:
    if len(digits) >= _DIGIT_BY_DIGIT_FROM or (len(digits) > 1 and digits.startswith("0")):
        return "".join(_PHONE_DIGITS[int(d)] for d in digits)
    return _cardinal(int(digits))


def digits_to_chinese(text: str) -> str:
    """Arabic numbers in Chinese text as characters; the catalog should need this only rarely."""

    def spell(match: re.Match[str]) -> str:
        integer, fraction, percent = match.groups()
        spoken = _read_integer(integer)
        if fraction:
            spoken += "点" + "".join(_DIGITS[int(d)] for d in fraction)
        return ("百分之" + spoken) if percent else spoken

    return _NUMBER.sub(spell, text)


def letters_to_pinyin(text: str) -> str:
    """``X`` -> `` ai4 ke4 si1 ``; the result passes through pypinyin untouched."""
    return _LETTER.sub(lambda match: f" {_LETTERS[match.group().upper()]} ", text)


def _fix_readings(text: str) -> str:
    """Spell the known misreadings out in pinyin; pypinyin passes pinyin through untouched."""
    text = _PHRASE.sub(lambda match: f" {_PHRASES[match.group()]} ", text)
    return _WEI_IS.sub(" wei2 ", text)


def to_tone_pinyin(text: str) -> str:
    """``您好，请按1`` -> ``nin2 hao3, qing3 an4 yi1``; ``X`` -> ``ai4 ke4 si1``."""
    prepared = _fix_readings(letters_to_pinyin(digits_to_chinese(text)))
    prepared = prepared.translate(_PUNCTUATION)
    syllables = lazy_pinyin(prepared, style=Style.TONE3, neutral_tone_with_five=True)
    joined = " ".join(syllables)
    joined = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", joined))
    joined = _COMMA_AFTER.sub(r"\1", _COMMA_BEFORE.sub(r"\1", joined))
    return joined.strip(" ,")
