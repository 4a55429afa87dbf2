"""Reading numbers, amounts, dates and digits back, as sequences of prompt-fragment keys.

Asterisk's Say applications are not used (they know no 元/角/分, no Spanish genders, and sound
unlike our prompts). Each function returns the keys of recorded fragments played in order;
``prompts/fragments.yaml`` holds each key's text per language (``fragment_keys`` lists them all).

Key naming, the same in every language where the meaning is the same:
``d0``-``d9`` digits (also the words 0-9), ``d_x`` the letter X of an ID number, Mandarin
``d1_yao`` 幺 (1 in digits read one by one); ``pause`` a short silence between groups of digits;
``n<value>`` number words (``n15``, ``n90``; Spanish ``n200``/``n200_f`` for the genders,
``n100`` cien / ``n100_ciento``, ``n_un``/``n_una``, ``n21_un``/``n21_una``);
``n_<word>`` multipliers (``n_hundred``, ``n_thousand``, ``n_million``, ``n_millions``; Mandarin
``n_shi`` 十, ``n_bai`` 百, ``n_qian`` 千, ``n_wan`` 万, ``n_yi`` 亿, ``n_liang`` 两);
``o<day>`` English ordinals; ``m1``-``m12`` month names; ``t_nian``/``t_yue``/``t_ri`` 年/月/日
and ``d0_year`` 〇 for Mandarin dates; ``u_<unit>`` (singular) / ``u_<unit>s`` (plural) for
yuan, jiao, fen and counted units; ``w_and`` (and / y), ``w_de`` (Spanish de).

Choices (spoken forms, as a caller expects them):
- Mandarin: 两 for a 2 in the thousands place (两千, 一万两千), for 2 before 万/亿 (两万, 两亿) and
  for a bare 2 before a measure word (两元, 两角, 两个月); 二 elsewhere (二百, 二十, 二月).
  十 without 一 only at the start (十, 十五, 十万; but 一百一十). 零 once per gap (一万零五).
  Amounts in 元/角/分 with 零 for a missing 角 (一百元零七分). Digits read one by one
  (references, card and telephone numbers) say 1 as 幺, as Chinese callers expect in numbers
  (幺二三三三); amounts, counts and dates keep 一. Dates: year digit by digit with 〇 and 一
  (二〇二六年十一月二十五日).
- Digits read one by one come in groups with a short pause between them, as people read numbers
  out (every language): a 12-digit reference 4-4-4, a mobile number 3-4-4, an ID number 6-8-4
  (area, birth date, sequence and check), up to 6 digits in one breath.
- English: no "and" inside numbers (one hundred fifteen; "and" is kept for amounts); amounts
  list the non-zero parts with "and" before the last (one thousand two hundred thirty four yuan
  five jiao and six fen; ten yuan and five jiao); yuan, jiao and fen are invariant. Dates as
  "November twenty fifth two thousand twenty six": years from 2000 as plain numbers,
  1100-1999 in pairs (nineteen forty nine, nineteen oh five, nineteen hundred).
- Spanish: numbers alone end in uno (veintiuno, ciento uno); before a masculine noun in un
  (un yuan, veintiún meses, un millón de yuanes); ``feminine=True`` gives una, veintiuna,
  doscientas (also before mil: doscientas mil). Money: "un yuan", "dos yuanes" (RAE), jiao and
  fen invariant, joined like English with "y". Dates "veinticinco de noviembre de dos mil
  veintiséis"; the first of the month is "uno" (as in Spain; America also says "primero").
Amounts are rounded half up to the fen; negative amounts raise ValueError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

__all__ = [
    "LANGUAGES",
    "PAUSE",
    "SILENCES",
    "Unit",
    "amount",
    "count",
    "date",
    "digit_groups",
    "digits",
    "fragment_keys",
    "number",
    "year_month",
]

LANGUAGES: tuple[str, ...] = ("zh", "en", "es")
Unit = Literal["month", "year", "day", "working_day"]

_LIMIT = 10**9
# A short silence between groups of digits; the prompt build makes it (its text in the catalog is
# only what the console shows: a comma).
PAUSE = "pause"
SILENCES: Mapping[str, float] = {PAUSE: 0.4}  # fragment key -> seconds of silence
_DIGITS = frozenset(f"d{i}" for i in range(10)) | {"d_x", PAUSE}
# How many digits each group has, by length; other lengths over _ONE_BREATH: groups of 3 or 4.
_GROUPS: Mapping[int, tuple[int, ...]] = {15: (6, 6, 3), 18: (6, 8, 4)}  # ID numbers
_ONE_BREATH = 6
_MONTHS = frozenset(f"m{i}" for i in range(1, 13))
_UNIT_NAMES: tuple[Unit, ...] = ("month", "year", "day", "working_day")
# Singular and plural key of every unit (Mandarin uses the singular only).
_UNIT_KEYS: Mapping[str, tuple[str, str]] = {
    name: (f"u_{name}", f"u_{name}s") for name in (*_UNIT_NAMES, "yuan", "jiao", "fen")
}


def _money_parts(value: Decimal) -> tuple[int, int, int]:
    if not value.is_finite() or value < 0:
        raise ValueError("an amount must be a finite, non-negative number")
    fen_total = int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    yuan, rest = divmod(fen_total, 100)
    if yuan >= _LIMIT:
        raise ValueError("amount too large to read back")
    return yuan, rest // 10, rest % 10


def _joined(parts: list[list[str]], conjunction: str) -> list[str]:
    """Parts in order, the conjunction before the last one (a, b and c)."""
    out: list[str] = []
    for i, part in enumerate(parts):
        if i and i == len(parts) - 1:
            out.append(conjunction)
        out += part
    return out


# --- Mandarin ---------------------------------------------------------------------------------

_ZH_PLACES = ((1000, "n_qian"), (100, "n_bai"), (10, "n_shi"), (1, ""))


def _zh_section(value: int, *, first: bool) -> list[str]:
    """1..9999, with one 零 per run of inner zeros (trailing zeros are silent)."""
    out: list[str] = []
    gap = False
    for place, unit in _ZH_PLACES:
        digit = value // place % 10
        if digit == 0:
            gap = gap or bool(out)
            continue
        if gap:
            out.append("d0")
            gap = False
        if unit == "n_shi" and digit == 1 and first and not out:
            out.append("n_shi")  # 十五, 十万: a leading ten drops its 一
            continue
        out.append("n_liang" if digit == 2 and unit == "n_qian" else f"d{digit}")
        if unit:
            out.append(unit)
    return out


def _zh_number(n: int) -> list[str]:
    if n == 0:
        return ["d0"]
    out: list[str] = []
    gap = False
    for value, unit in ((n // 10**8, "n_yi"), (n // 10**4 % 10**4, "n_wan"), (n % 10**4, "")):
        if value == 0:
            gap = gap or bool(out)
            continue
        if out and (gap or value < 1000):
            out.append("d0")  # 一万零五, 一亿零一千
        out += ["n_liang"] if value == 2 and unit else _zh_section(value, first=not out)
        if unit:
            out.append(unit)
        gap = False
    return out


def _zh_counted(n: int) -> list[str]:
    return ["n_liang"] if n == 2 else _zh_number(n)  # 两元, 两个月


class _Mandarin:
    keys = _DIGITS | {
        "d1_yao",
        "d0_year",
        "n_liang",
        "n_shi",
        "n_bai",
        "n_qian",
        "n_wan",
        "n_yi",
        "t_nian",
        "t_yue",
        "t_ri",
        *(_UNIT_KEYS[name][0] for name in (*_UNIT_NAMES, "yuan", "jiao", "fen")),
    }

    def number(self, n: int, feminine: bool) -> list[str]:
        return _zh_number(n)

    def amount(self, yuan: int, jiao: int, fen: int) -> list[str]:
        out: list[str] = []
        if yuan:
            out += [*_zh_counted(yuan), "u_yuan"]
        if jiao:
            out += [*_zh_counted(jiao), "u_jiao"]
        if fen:
            if yuan and not jiao:
                out.append("d0")  # 一百元零七分
            out += [*_zh_counted(fen), "u_fen"]
        return out or ["d0", "u_yuan"]

    def year_month(self, year: int, month: int) -> list[str]:
        year_digits = ["d0_year" if c == "0" else f"d{c}" for c in str(year)]
        return [*year_digits, "t_nian", *_zh_number(month), "t_yue"]

    def date(self, d: dt.date) -> list[str]:
        return [*self.year_month(d.year, d.month), *_zh_number(d.day), "t_ri"]

    def count(self, n: int, unit: Unit) -> list[str]:
        return [*_zh_counted(n), _UNIT_KEYS[unit][0]]

    def digit(self, char: str) -> str:
        return "d1_yao" if char == "1" else f"d{char}"


# --- English ----------------------------------------------------------------------------------


def _en_below_100(n: int) -> list[str]:
    if n < 10:
        return [f"d{n}"]
    if n < 20:
        return [f"n{n}"]
    tens, unit = divmod(n, 10)
    return [f"n{tens * 10}"] + ([f"d{unit}"] if unit else [])


def _en_below_1000(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    out = [f"d{hundreds}", "n_hundred"] if hundreds else []
    return out + (_en_below_100(rest) if rest else [])


def _en_number(n: int) -> list[str]:
    if n == 0:
        return ["d0"]
    out: list[str] = []
    for value, unit in (
        (n // 10**6, "n_million"),
        (n // 1000 % 1000, "n_thousand"),
        (n % 1000, ""),
    ):
        if value:
            out += _en_below_1000(value) + ([unit] if unit else [])
    return out


def _en_ordinal_day(day: int) -> list[str]:
    if day <= 20 or day == 30:
        return [f"o{day}"]
    tens, unit = divmod(day, 10)
    return [f"n{tens * 10}", f"o{unit}"]  # twenty first


def _en_year(year: int) -> list[str]:
    if year < 1100 or year >= 2000:
        return _en_number(year)  # two thousand twenty six
    high, low = divmod(year, 100)
    if low == 0:
        return [*_en_below_100(high), "n_hundred"]
    if low < 10:
        return [*_en_below_100(high), "n_oh", f"d{low}"]
    return _en_below_100(high) + _en_below_100(low)


class _English:
    keys = (
        _DIGITS
        | _MONTHS
        | {f"n{i}" for i in (*range(10, 20), *range(20, 100, 10))}
        | {f"o{i}" for i in (*range(1, 21), 30)}
        | {"n_hundred", "n_thousand", "n_million", "n_oh", "w_and"}
        | {key for pair in _UNIT_KEYS.values() for key in pair}
    ) - {"u_yuans", "u_jiaos", "u_fens"}

    def number(self, n: int, feminine: bool) -> list[str]:
        return _en_number(n)

    def amount(self, yuan: int, jiao: int, fen: int) -> list[str]:
        parts = [
            [*_en_number(value), f"u_{name}"]
            for value, name in ((yuan, "yuan"), (jiao, "jiao"), (fen, "fen"))
            if value
        ]
        return _joined(parts, "w_and") or ["d0", "u_yuan"]

    def year_month(self, year: int, month: int) -> list[str]:
        return [f"m{month}", *_en_year(year)]

    def date(self, d: dt.date) -> list[str]:
        return [f"m{d.month}", *_en_ordinal_day(d.day), *_en_year(d.year)]

    def count(self, n: int, unit: Unit) -> list[str]:
        singular, plural = _UNIT_KEYS[unit]
        return [*_en_number(n), singular if n == 1 else plural]

    def digit(self, char: str) -> str:
        return f"d{char}"


# --- Spanish ----------------------------------------------------------------------------------

# How a number ending in 1 (or 21) is said: alone (uno), before a masculine noun or mil/millones
# (un), feminine (una).
_EsForm = Literal["alone", "masculine", "feminine"]
_ES_ONE: Mapping[str, tuple[str, str]] = {
    "alone": ("d1", "n21"),
    "masculine": ("n_un", "n21_un"),
    "feminine": ("n_una", "n21_una"),
}


def _es_below_100(n: int, form: _EsForm) -> list[str]:
    if n in (1, 21):
        return [_ES_ONE[form][0 if n == 1 else 1]]
    if n < 10:
        return [f"d{n}"]
    if n < 30:
        return [f"n{n}"]  # dieciséis, veintitrés: one word each
    tens, unit = divmod(n, 10)
    return [f"n{tens * 10}"] + (["w_and", *_es_below_100(unit, form)] if unit else [])


def _es_below_1000(n: int, form: _EsForm) -> list[str]:
    hundreds, rest = divmod(n, 100)
    out: list[str] = []
    if hundreds == 1:
        out.append("n100_ciento" if rest else "n100")  # cien, ciento uno
    elif hundreds:
        out.append(f"n{hundreds}00" + ("_f" if form == "feminine" else ""))
    return out + (_es_below_100(rest, form) if rest else [])


def _es_number(n: int, form: _EsForm) -> list[str]:
    if n == 0:
        return ["d0"]
    millions, thousands, units = n // 10**6, n // 1000 % 1000, n % 1000
    out: list[str] = []
    if millions == 1:
        out += ["n_un", "n_million"]
    elif millions:  # millón is a masculine noun, whatever is counted
        out += [*_es_below_1000(millions, "masculine"), "n_millions"]
    if thousands == 1:
        out.append("n_thousand")  # mil, never un mil
    elif thousands:  # mil takes the gender of what is counted: doscientas mil personas
        out += [*_es_below_1000(thousands, "masculine" if form == "alone" else form), "n_thousand"]
    if units:
        out += _es_below_1000(units, form)
    return out


def _es_counted(n: int, singular: str, plural: str) -> list[str]:
    out = _es_number(n, "masculine")
    if n >= 10**6 and n % 10**6 == 0:
        out.append("w_de")  # un millón de yuanes
    return [*out, singular if n == 1 else plural]


class _Spanish:
    keys = (
        _DIGITS
        | _MONTHS
        | {f"n{i}" for i in (*range(10, 30), *range(30, 100, 10), 100)}
        | {f"n{h}00{g}" for h in range(2, 10) for g in ("", "_f")}
        | {"n_un", "n_una", "n21_un", "n21_una", "n100_ciento"}
        | {"n_thousand", "n_million", "n_millions", "w_and", "w_de", "u_yuan", "u_yuanes"}
        | {"u_jiao", "u_fen"}
        | {key for name in _UNIT_NAMES for key in _UNIT_KEYS[name]}
    )

    def number(self, n: int, feminine: bool) -> list[str]:
        return _es_number(n, "feminine" if feminine else "alone")

    def amount(self, yuan: int, jiao: int, fen: int) -> list[str]:
        parts = [
            _es_counted(value, singular, plural)
            for value, singular, plural in (
                (yuan, "u_yuan", "u_yuanes"),
                (jiao, "u_jiao", "u_jiao"),
                (fen, "u_fen", "u_fen"),
            )
            if value
        ]
        return _joined(parts, "w_and") or ["d0", "u_yuanes"]

    def year_month(self, year: int, month: int) -> list[str]:
        return [f"m{month}", "w_de", *_es_number(year, "alone")]

    def date(self, d: dt.date) -> list[str]:
        return [*_es_number(d.day, "alone"), "w_de", *self.year_month(d.year, d.month)]

    def count(self, n: int, unit: Unit) -> list[str]:
        return _es_counted(n, *_UNIT_KEYS[unit])

    def digit(self, char: str) -> str:
        return f"d{char}"


# --- Public API -------------------------------------------------------------------------------

_Grammar = _Mandarin | _English | _Spanish
_GRAMMARS: Mapping[str, _Grammar] = {"zh": _Mandarin(), "en": _English(), "es": _Spanish()}


def _grammar(lang: str) -> _Grammar:
    try:
        return _GRAMMARS[lang]
    except KeyError:
        raise ValueError(f"no read-back grammar for language {lang!r}") from None


def _check_range(n: int) -> None:
    if not 0 <= n < _LIMIT:
        raise ValueError("numbers are read back from 0 to 999,999,999")


def number(lang: str, n: int, *, feminine: bool = False) -> list[str]:
    """A cardinal number, 0 <= n < 10**9 (``feminine`` matters in Spanish only)."""
    _check_range(n)
    return _grammar(lang).number(n, feminine)


def amount(lang: str, value: Decimal) -> list[str]:
    """Money in yuan: 元/角/分, yuan/jiao/fen (never dollars and cents)."""
    grammar = _grammar(lang)
    return grammar.amount(*_money_parts(value))


def date(lang: str, d: dt.date) -> list[str]:
    return _grammar(lang).date(d)


def year_month(lang: str, year: int, month: int) -> list[str]:
    """A month of a year, e.g. the last month paid."""
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise ValueError("no such month")
    return _grammar(lang).year_month(year, month)


def digit_groups(length: int) -> tuple[int, ...]:
    """The sizes of the groups ``length`` digits are read in (12 -> 4, 4, 4; 11 -> 3, 4, 4)."""
    if length <= _ONE_BREATH:
        return (length,) if length else ()
    if length in _GROUPS:
        return _GROUPS[length]
    groups = -(-length // 4)
    size, longer = divmod(length, groups)  # as even as possible, the longer groups last
    return (size,) * (groups - longer) + (size + 1,) * longer


def digits(lang: str, s: str) -> list[str]:
    """One fragment per character, in groups with a pause between them: references, card and
    telephone numbers, ID numbers (X allowed)."""
    grammar = _grammar(lang)
    spoken: list[str] = []
    for char in s:
        if char in "0123456789":
            spoken.append(grammar.digit(char))
        elif char in "Xx":
            spoken.append("d_x")
        else:  # the text itself stays out of the message: it may be an ID number
            raise ValueError("only digits and X are read one by one")
    out: list[str] = []
    start = 0
    for size in digit_groups(len(spoken)):
        if out:
            out.append(PAUSE)
        out += spoken[start : start + size]
        start += size
    return out


def count(lang: str, n: int, unit: Unit = "month") -> list[str]:
    """A number of units, in the unit's singular or plural (两个月, one month, veintiún meses)."""
    _check_range(n)
    if unit not in _UNIT_NAMES:
        raise ValueError(f"unknown unit {unit!r}")
    return _grammar(lang).count(n, unit)


def fragment_keys(lang: str) -> frozenset[str]:
    """Every key the functions above can return for ``lang``."""
    return frozenset(_grammar(lang).keys)
