"""Mandarin text to tone-numbered pinyin, the only Mandarin espeak-ng reads well.

espeak-ng's ``cmn`` voice mangles Chinese characters, but its ``cmn-latn-pinyin`` voice reads
``nin2 hao3`` correctly (and applies third-tone sandhi itself). Neutral tones are written with a 5,
which that voice reads unstressed. Punctuation is kept (as ASCII) so it still pauses.

pypinyin picks each character's reading from its dictionary of words. Where that is wrong for the
hotline's wording (为 "is" in 余额为, 重听 "listen again"), ``prompts/pinyin.yaml`` says what is
right, by word or by what follows the character; a linguist reads and edits it there. What is
spoken rather than written is done here: numbers in words, 幺 for 1 in digits read one by one
(``spoken_chinese``, for every Mandarin voice), and the tone changes of 一 and 不.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pypinyin import Style, lazy_pinyin

from ivr.speech.catalog import CATALOG_DIR

__all__ = [
    "READINGS_FILE",
    "Readings",
    "default_readings",
    "digits_to_chinese",
    "letters_to_pinyin",
    "polyphones_read",
    "spoken_chinese",
    "to_tone_pinyin",
]

READINGS_FILE = CATALOG_DIR / "pinyin.yaml"

_DIGITS = "零一二三四五六七八九"
# Long Arabic digit runs are phone or card numbers, read digit by digit; short ones are
# quantities ("15个工作日").
_DIGIT_BY_DIGIT_FROM = 5
# Three or more digit words in a row with no 十/百/千 between them are read one by one
# (一二三三三, 九六一零二): telephone style, where 1 is 幺 so it cannot be heard as 七.
_DIGIT_WORDS = "〇零一二三四五六七八九"
_DIGIT_RUN = re.compile(f"[{_DIGIT_WORDS}]{{3,}}")
_NUMERALS = frozenset(_DIGIT_WORDS + "幺两十百千万亿")

# Latin letters (the X of an ID number, a card number's letters) as Mandarin speakers name them,
# in pinyin, so the one Mandarin voice reads them instead of skipping them.
_LETTERS = {
    "A": "ei1", "B": "bi4", "C": "xi1", "D": "di4", "E": "yi4", "F": "ai4 fu1", "G": "ji4",
    "H": "ai4 qi1", "I": "ai4", "J": "jie4", "K": "kai4", "L": "ai4 le5", "M": "ai4 mu5",
    "N": "en1", "O": "ou1", "P": "pi4", "Q": "kiu1", "R": "a4 er3", "S": "ai4 si1", "T": "ti4",
    "U": "you1", "V": "wei1", "W": "da2 bu5 liu2", "X": "ai4 ke4 si1", "Y": "wai4", "Z": "zei4",
}  # fmt: skip
_LETTER = re.compile(r"[A-Za-z]")
_HAN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]")
_SYLLABLE = re.compile(r"[a-z]+[1-5]")
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


# --- The readings table -------------------------------------------------------------------------


class ReadingsError(ValueError):
    """``prompts/pinyin.yaml`` says something that cannot be a reading."""


def _syllables(reading: Any, where: str) -> tuple[str, ...]:
    syllables = tuple(str(reading).split())
    wrong = [s for s in syllables if not _SYLLABLE.fullmatch(s)]
    if not syllables or wrong:
        raise ReadingsError(f"{where}: {reading!r} is not tone-numbered pinyin (zhong4, de5)")
    return syllables


@dataclass(frozen=True)
class Readings:
    """Corrections to pypinyin's readings: whole words, and characters by what follows them."""

    words: Mapping[str, tuple[str, ...]]  # word -> one syllable per character
    before_value: Mapping[str, str]  # character ending a text (a read-back value follows)
    before_number: Mapping[str, str]  # character followed by a number
    polyphones: frozenset[str] = frozenset()  # pointed out for review; changes no reading

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Readings:
        unknown = set(data) - {"words", "before_value", "before_number", "polyphones"}
        if unknown:
            raise ReadingsError(f"unknown section(s): {', '.join(sorted(unknown))}")
        words: dict[str, tuple[str, ...]] = {}
        for word, reading in (data.get("words") or {}).items():
            syllables = _syllables(reading, f"words: {word}")
            if len(syllables) != len(str(word)) or not all(_HAN.match(c) for c in str(word)):
                raise ReadingsError(f"words: {word}: one syllable per Chinese character")
            words[str(word)] = syllables
        by_context: dict[str, dict[str, str]] = {}
        for section in ("before_value", "before_number"):
            by_context[section] = {}
            for char, reading in (data.get(section) or {}).items():
                syllables = _syllables(reading, f"{section}: {char}")
                if len(str(char)) != 1 or len(syllables) != 1:
                    raise ReadingsError(f"{section}: {char}: one character, one syllable")
                by_context[section][str(char)] = syllables[0]
        polyphones = frozenset(_HAN.findall(str(data.get("polyphones") or "")))
        return cls(words, by_context["before_value"], by_context["before_number"], polyphones)

    @classmethod
    def load(cls, path: Path = READINGS_FILE) -> Readings:
        """Blocking (a file): read it once, off the event loop."""
        return cls.parse(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    @functools.cached_property
    def _word_pattern(self) -> re.Pattern[str] | None:
        if not self.words:
            return None
        longest_first = sorted(self.words, key=len, reverse=True)
        return re.compile("|".join(map(re.escape, longest_first)))

    def fixed_words(self, text: str) -> Iterator[tuple[int, str]]:
        """Where each word of the table starts in ``text``, left to right, longest first."""
        if self._word_pattern is not None:
            for match in self._word_pattern.finditer(text):
                yield match.start(), match.group()


@functools.cache
def default_readings() -> Readings:
    """``prompts/pinyin.yaml``, read on first use (the prompt build calls it in a thread)."""
    return Readings.load()


# --- Numbers and letters ------------------------------------------------------------------------


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
        return "".join(_DIGITS[int(d)] for d in digits)  # 幺 comes with the other digit runs
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


def _yao_in_digit_runs(text: str) -> str:
    """一 as 幺 in digits read one by one; a run ending in 年 is a year (二〇一九年), read as 一."""

    def yao(match: re.Match[str]) -> str:
        if text.startswith("年", match.end()):
            return match.group()
        return match.group().replace("一", "幺")

    return _DIGIT_RUN.sub(yao, text)


def spoken_chinese(text: str) -> str:
    """The text as any Mandarin voice should say it: numbers in words, 幺 in digit runs.

    ``请拨打12333`` -> ``请拨打幺二三三三``; ``一二三三三`` -> ``幺二三三三``.
    """
    return _yao_in_digit_runs(digits_to_chinese(text))


def letters_to_pinyin(text: str) -> str:
    """``X`` -> `` ai4 ke4 si1 ``; the result passes through pypinyin untouched."""
    return _LETTER.sub(lambda match: f" {_LETTERS[match.group().upper()]} ", text)


# --- Text to syllables --------------------------------------------------------------------------


@dataclass
class _Syllable:
    char: str
    reading: str
    fixed: bool  # from the readings table: no rule changes it

    @property
    def tone(self) -> str:
        return self.reading[-1]


_Piece = _Syllable | str  # a Chinese character and its reading, or anything else as written


def _pypinyin(run: str) -> list[_Syllable]:
    readings = lazy_pinyin(run, style=Style.TONE3, neutral_tone_with_five=True)
    if len(readings) != len(run):  # a character pypinyin does not know comes back as itself
        readings = [lazy_pinyin(c, style=Style.TONE3, neutral_tone_with_five=True)[0] for c in run]
    return [_Syllable(c, r, fixed=False) for c, r in zip(run, readings, strict=True)]


def _free_pieces(text: str) -> list[_Piece]:
    """pypinyin's reading of each Chinese character; everything else kept as written."""
    pieces: list[_Piece] = []
    start = 0
    for match in re.finditer(f"(?:{_HAN.pattern})+", text):
        if match.start() > start:
            pieces.append(text[start : match.start()])
        pieces += _pypinyin(match.group())
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _pieces(text: str, readings: Readings) -> list[_Piece]:
    pieces: list[_Piece] = []
    start = 0
    for at, word in readings.fixed_words(text):
        pieces += _free_pieces(text[start:at])
        fixed = zip(word, readings.words[word], strict=True)
        pieces += [_Syllable(char, reading, fixed=True) for char, reading in fixed]
        start = at + len(word)
    return pieces + _free_pieces(text[start:])


def _by_context(pieces: list[_Piece], readings: Readings) -> None:
    """The table's readings that depend on what follows: a number, or the value after the text."""
    for i, piece in enumerate(pieces):
        if not isinstance(piece, _Syllable) or piece.fixed:
            continue
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        if following is None and piece.char in readings.before_value:
            piece.reading = readings.before_value[piece.char]
        elif (
            isinstance(following, _Syllable)
            and following.char in _NUMERALS
            and piece.char in readings.before_number
        ):
            piece.reading = readings.before_number[piece.char]


def _tone_changes(pieces: list[_Piece]) -> None:
    """一 and 不 as spoken before another syllable (一位 yi2 wei4, 上一级 yi4 ji2, 不是 bu2 shi4).

    一 keeps its first tone as a numeral: at the end of a phrase (请按一), after 第 or another
    numeral (第一, 十一), before a numeral. 一 changes first, so 不一致 reads bu4 yi2 zhi4.
    """
    for char, changed in (("一", _yi), ("不", _bu)):
        for i, piece in enumerate(pieces):
            if isinstance(piece, _Syllable) and piece.char == char and not piece.fixed:
                before = pieces[i - 1] if i else None
                after = pieces[i + 1] if i + 1 < len(pieces) else None
                piece.reading = changed(piece, before, after)


def _yi(piece: _Syllable, before: _Piece | None, after: _Piece | None) -> str:
    if piece.reading != "yi1" or not isinstance(after, _Syllable) or after.char in _NUMERALS:
        return piece.reading
    if isinstance(before, _Syllable) and (before.char == "第" or before.char in _NUMERALS):
        return piece.reading
    return "yi2" if after.tone in "45" else "yi4"


def _bu(piece: _Syllable, before: _Piece | None, after: _Piece | None) -> str:
    if piece.reading == "bu4" and isinstance(after, _Syllable) and after.tone == "4":
        return "bu2"
    return piece.reading


def _syllable_pieces(text: str, readings: Readings) -> list[_Piece]:
    pieces = _pieces(spoken_chinese(text), readings)
    _by_context(pieces, readings)
    _tone_changes(pieces)
    return pieces


def polyphones_read(text: str, readings: Readings | None = None) -> list[tuple[str, str]]:
    """Each polyphone of ``text`` with the reading chosen, in order, once each: what to review."""
    readings = readings or default_readings()
    found = [
        (piece.char, piece.reading)
        for piece in _syllable_pieces(text, readings)
        if isinstance(piece, _Syllable) and piece.char in readings.polyphones
    ]
    return list(dict.fromkeys(found))


def to_tone_pinyin(text: str, readings: Readings | None = None) -> str:
    """``您好，请按1`` -> ``nin2 hao3, qing3 an4 yi1``; ``X`` -> ``ai4 ke4 si1``."""
    pieces = _syllable_pieces(text, readings or default_readings())
    words = [
        piece.reading if isinstance(piece, _Syllable) else letters_to_pinyin(piece)
        for piece in pieces
    ]
    joined = " ".join(words).translate(_PUNCTUATION)
    joined = _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACES.sub(" ", joined))
    joined = _COMMA_AFTER.sub(r"\1", _COMMA_BEFORE.sub(r"\1", joined))
    return joined.strip(" ,")
