"""Read-back grammar: the spoken text of fragment sequences in Mandarin, English and Spanish."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ivr.speech import readback
from ivr.speech.readback import LANGUAGES, amount, count, date, digits, fragment_keys, number

FRAGMENTS: Mapping[str, Mapping[str, str]] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "prompts" / "fragments.yaml").read_text(encoding="utf-8")
)


def render(lang: str, keys: list[str]) -> str:
    """What the caller hears, as the console shows it: zh without spaces, en/es with spaces (a
    pause shows as a comma)."""
    text = ("" if lang == "zh" else " ").join(FRAGMENTS[lang][key] for key in keys)
    return text.replace(" ,", ",")


@pytest.mark.parametrize(
    ("n", "zh", "en", "es"),
    [
        (0, "零", "zero", "cero"),
        (1, "一", "one", "uno"),
        (2, "二", "two", "dos"),
        (10, "十", "ten", "diez"),
        (15, "十五", "fifteen", "quince"),
        (21, "二十一", "twenty one", "veintiuno"),
        (100, "一百", "one hundred", "cien"),
        (101, "一百零一", "one hundred one", "ciento uno"),
        (110, "一百一十", "one hundred ten", "ciento diez"),
        (115, "一百一十五", "one hundred fifteen", "ciento quince"),
        (200, "二百", "two hundred", "doscientos"),
        (1000, "一千", "one thousand", "mil"),
        (1005, "一千零五", "one thousand five", "mil cinco"),
        (1055, "一千零五十五", "one thousand fifty five", "mil cincuenta y cinco"),
        (2000, "两千", "two thousand", "dos mil"),
        (10005, "一万零五", "ten thousand five", "diez mil cinco"),
        (10010, "一万零一十", "ten thousand ten", "diez mil diez"),
        (12000, "一万两千", "twelve thousand", "doce mil"),
        (20000, "两万", "twenty thousand", "veinte mil"),
        (21000, "两万一千", "twenty one thousand", "veintiún mil"),
        (100000, "十万", "one hundred thousand", "cien mil"),
        (150000, "十五万", "one hundred fifty thousand", "ciento cincuenta mil"),
        (201000, "二十万一千", "two hundred one thousand", "doscientos un mil"),
        (1000000, "一百万", "one million", "un millón"),
        (1500000, "一百五十万", "one million five hundred thousand", "un millón quinientos mil"),
        (2500000, "二百五十万", "two million five hundred thousand", "dos millones quinientos mil"),
        (10020000, "一千零二万", "ten million twenty thousand", "diez millones veinte mil"),
        (21000000, "两千一百万", "twenty one million", "veintiún millones"),
        (100000005, "一亿零五", "one hundred million five", "cien millones cinco"),
        (
            100050000,
            "一亿零五万",
            "one hundred million fifty thousand",
            "cien millones cincuenta mil",
        ),
        (101000000, "一亿零一百万", "one hundred one million", "ciento un millones"),
        # A 万 group of zeros between 亿 and the rest still says its 零.
        (100001000, "一亿零一千", "one hundred million one thousand", "cien millones mil"),
        (200000000, "两亿", "two hundred million", "doscientos millones"),
        (
            999999999,
            "九亿九千九百九十九万九千九百九十九",
            "nine hundred ninety nine million nine hundred ninety nine thousand "
            "nine hundred ninety nine",
            "novecientos noventa y nueve millones novecientos noventa y nueve mil "
            "novecientos noventa y nueve",
        ),
    ],
)
def test_number(n: int, zh: str, en: str, es: str) -> None:
    assert render("zh", number("zh", n)) == zh
    assert render("en", number("en", n)) == en
    assert render("es", number("es", n)) == es


@pytest.mark.parametrize(
    ("n", "es"),
    [
        (1, "una"),
        (21, "veintiuna"),
        (31, "treinta y una"),
        (100, "cien"),
        (101, "ciento una"),
        (200, "doscientas"),
        (21000, "veintiuna mil"),
        (200000, "doscientas mil"),
        (500500, "quinientas mil quinientas"),
        (200000000, "doscientos millones"),  # millón is masculine whatever is counted
    ],
)
def test_spanish_feminine(n: int, es: str) -> None:
    assert render("es", number("es", n, feminine=True)) == es


def test_feminine_changes_nothing_outside_spanish() -> None:
    assert number("zh", 201, feminine=True) == number("zh", 201)
    assert number("en", 201, feminine=True) == number("en", 201)


@pytest.mark.parametrize(
    ("value", "zh", "en", "es"),
    [
        (
            "1234.56",
            "一千二百三十四元五角六分",
            "one thousand two hundred thirty four yuan five jiao and six fen",
            "mil doscientos treinta y cuatro yuanes cinco jiao y seis fen",
        ),
        ("0.05", "五分", "five fen", "cinco fen"),
        ("10.50", "十元五角", "ten yuan and five jiao", "diez yuanes y cinco jiao"),
        ("100.07", "一百元零七分", "one hundred yuan and seven fen", "cien yuanes y siete fen"),
        ("0", "零元", "zero yuan", "cero yuanes"),
        ("1", "一元", "one yuan", "un yuan"),
        ("2.00", "两元", "two yuan", "dos yuanes"),
        ("0.20", "两角", "two jiao", "dos jiao"),
        ("20", "二十元", "twenty yuan", "veinte yuanes"),
        ("21", "二十一元", "twenty one yuan", "veintiún yuanes"),
        ("31.01", "三十一元零一分", "thirty one yuan and one fen", "treinta y un yuanes y un fen"),
        ("1000000", "一百万元", "one million yuan", "un millón de yuanes"),
        (
            "1500000",
            "一百五十万元",
            "one million five hundred thousand yuan",
            "un millón quinientos mil yuanes",  # "de" only after a round million
        ),
        ("2000000", "二百万元", "two million yuan", "dos millones de yuanes"),
        ("0.005", "一分", "one fen", "un fen"),  # rounded half up to the fen
        ("0.004", "零元", "zero yuan", "cero yuanes"),
    ],
)
def test_amount(value: str, zh: str, en: str, es: str) -> None:
    assert render("zh", amount("zh", Decimal(value))) == zh
    assert render("en", amount("en", Decimal(value))) == en
    assert render("es", amount("es", Decimal(value))) == es


@pytest.mark.parametrize("value", ["-0.01", "NaN", "Infinity", "1000000000"])
def test_amount_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        amount("zh", Decimal(value))


@pytest.mark.parametrize(
    ("day", "zh", "en", "es"),
    [
        (
            dt.date(2026, 11, 25),
            "二〇二六年十一月二十五日",
            "November twenty fifth two thousand twenty six",
            "veinticinco de noviembre de dos mil veintiséis",
        ),
        (
            dt.date(2000, 1, 1),
            "二〇〇〇年一月一日",
            "January first two thousand",
            "uno de enero de dos mil",
        ),
        (
            dt.date(1949, 12, 31),
            "一九四九年十二月三十一日",
            "December thirty first nineteen forty nine",
            "treinta y uno de diciembre de mil novecientos cuarenta y nueve",
        ),
        (
            dt.date(1905, 2, 21),
            "一九〇五年二月二十一日",
            "February twenty first nineteen oh five",
            "veintiuno de febrero de mil novecientos cinco",
        ),
        (
            dt.date(2021, 10, 30),
            "二〇二一年十月三十日",
            "October thirtieth two thousand twenty one",
            "treinta de octubre de dos mil veintiuno",
        ),
        (dt.date(1900, 7, 12), "一九〇〇年七月十二日", "July twelfth nineteen hundred", None),
    ],
)
def test_date(day: dt.date, zh: str, en: str, es: str | None) -> None:
    assert render("zh", date("zh", day)) == zh
    assert render("en", date("en", day)) == en
    if es is not None:
        assert render("es", date("es", day)) == es


@pytest.mark.parametrize(
    ("year", "month", "zh", "en", "es"),
    [
        (
            2026,
            2,
            "二〇二六年二月",
            "February two thousand twenty six",
            "febrero de dos mil veintiséis",
        ),
        (
            2026,
            1,
            "二〇二六年一月",
            "January two thousand twenty six",
            "enero de dos mil veintiséis",
        ),
        (
            2025,
            12,
            "二〇二五年十二月",
            "December two thousand twenty five",
            "diciembre de dos mil veinticinco",
        ),
        (1, 1, "一年一月", "January one", "enero de uno"),
        (1100, 3, "一一〇〇年三月", "March eleven hundred", "marzo de mil cien"),
        (1101, 3, "一一〇一年三月", "March eleven oh one", "marzo de mil ciento uno"),
        (1099, 3, "一〇九九年三月", "March one thousand ninety nine", None),
        (9999, 12, "九九九九年十二月", None, None),
    ],
)
def test_year_month(year: int, month: int, zh: str, en: str | None, es: str | None) -> None:
    assert render("zh", readback.year_month("zh", year, month)) == zh
    if en is not None:
        assert render("en", readback.year_month("en", year, month)) == en
    if es is not None:
        assert render("es", readback.year_month("es", year, month)) == es


@pytest.mark.parametrize(("year", "month"), [(2026, 0), (2026, 13), (0, 1), (10000, 1)])
def test_year_month_refuses_what_is_no_month(year: int, month: int) -> None:
    with pytest.raises(ValueError):
        readback.year_month("zh", year, month)


@pytest.mark.parametrize(
    ("n", "zh", "en", "es"),
    [
        (0, "零个月", "zero months", "cero meses"),
        (1, "一个月", "one month", "un mes"),
        (2, "两个月", "two months", "dos meses"),
        (12, "十二个月", "twelve months", "doce meses"),
        (21, "二十一个月", "twenty one months", "veintiún meses"),
        (31, "三十一个月", "thirty one months", "treinta y un meses"),
        (222, "二百二十二个月", "two hundred twenty two months", "doscientos veintidós meses"),
    ],
)
def test_count_months(n: int, zh: str, en: str, es: str) -> None:
    assert render("zh", count("zh", n, "month")) == zh
    assert render("en", count("en", n, "month")) == en
    assert render("es", count("es", n, "month")) == es


def test_count_is_of_months_unless_told() -> None:
    for lang in LANGUAGES:
        assert count(lang, 2) == count(lang, 2, "month")
    assert render("en", count("en", 2)) == "two months"
    with pytest.raises(ValueError):
        count("en", 2, "week")  # type: ignore[arg-type]


def test_count_other_units() -> None:
    assert render("zh", count("zh", 15, "working_day")) == "十五个工作日"
    assert render("en", count("en", 1, "working_day")) == "one working day"
    assert render("es", count("es", 15, "working_day")) == "quince días hábiles"
    assert render("es", count("es", 1, "year")) == "un año"
    assert render("zh", count("zh", 2, "day")) == "两天"


def test_digits() -> None:
    assert render("en", digits("en", "002X")) == "zero zero two X"
    assert render("es", digits("es", "002x")) == "cero cero dos equis"
    with pytest.raises(ValueError) as caught:
        digits("zh", "12*4")
    assert "12*4" not in str(caught.value)


def test_mandarin_reads_one_as_yao_in_digits_read_one_by_one() -> None:
    assert render("zh", digits("zh", "12333")) == "幺二三三三"
    assert render("zh", digits("zh", "0191")) == "零幺九幺"  # a card's last four
    assert digits("zh", "1") == ["d1_yao"]
    # Numbers, amounts, counts and dates keep 一.
    assert render("zh", number("zh", 11)) == "十一"
    assert render("zh", amount("zh", Decimal("1.1"))) == "一元一角"
    assert render("zh", count("zh", 1, "month")) == "一个月"
    assert render("zh", date("zh", dt.date(2011, 1, 1))) == "二〇一一年一月一日"
    assert "d1_yao" not in digits("en", "1") + digits("es", "1")


@pytest.mark.parametrize(
    ("lang", "spoken"),
    [
        ("zh", "二六幺幺，二五零零，零九零七"),
        ("en", "two six one one, two five zero zero, zero nine zero seven"),
        ("es", "dos seis uno uno, dos cinco cero cero, cero nueve cero siete"),
    ],
)
def test_a_reference_is_read_in_three_groups_of_four(lang: str, spoken: str) -> None:
    keys = digits(lang, "261125000907")
    assert render(lang, keys) == spoken
    assert [i for i, key in enumerate(keys) if key == readback.PAUSE] == [4, 9]


@pytest.mark.parametrize(
    ("value", "groups"),
    [
        ("0191", ["0191"]),  # a card's last four: one breath
        ("12333", ["12333"]),
        ("123456", ["123456"]),
        ("1234567", ["123", "4567"]),
        ("01012345", ["0101", "2345"]),
        ("13812345678", ["138", "1234", "5678"]),  # a mobile number
        ("261125000907", ["2611", "2500", "0907"]),  # a loss reference
        ("11010519491231002X", ["110105", "19491231", "002X"]),  # ID: area, birth date, rest
        ("420102730508001", ["420102", "730508", "001"]),  # an old 15-digit ID number
        ("1234567890", ["123", "456", "7890"]),
    ],
)
def test_long_numbers_are_grouped_as_people_read_them(value: str, groups: list[str]) -> None:
    keys = digits("en", value)
    read_groups = " ".join(keys).split(readback.PAUSE)
    assert [len(group.split()) for group in read_groups] == [len(group) for group in groups]
    assert [k for k in keys if k != readback.PAUSE] == [
        "d_x" if c == "X" else f"d{c}" for c in value
    ]


def test_nothing_to_read_is_no_group() -> None:
    assert readback.digit_groups(0) == ()
    assert readback.digit_groups(1) == (1,)
    assert digits("zh", "") == []


def test_a_pause_is_a_silence_in_every_language() -> None:
    assert readback.SILENCES[readback.PAUSE] > 0
    for lang in LANGUAGES:
        assert readback.PAUSE in fragment_keys(lang)


def test_unknown_language_and_range() -> None:
    with pytest.raises(ValueError):
        number("fr", 1)
    with pytest.raises(ValueError):
        number("zh", 10**9)
    with pytest.raises(ValueError):
        number("en", -1)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalog_has_exactly_the_fragments(lang: str) -> None:
    assert set(FRAGMENTS[lang]) == fragment_keys(lang)
    assert all(isinstance(text, str) and text.strip() for text in FRAGMENTS[lang].values())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_fragment_keys_are_exactly_what_the_grammar_produces(lang: str) -> None:
    rng = random.Random(12333)
    produced: set[str] = set()
    samples = [*range(2000), *(rng.randrange(10**9) for _ in range(3000))]
    samples += [10**6 * k for k in range(1, 1000, 7)]
    for n in samples:
        produced.update(number(lang, n), number(lang, n, feminine=True), count(lang, n, "month"))
    for unit in ("year", "day", "working_day"):
        for n in (0, 1, 2):
            produced.update(count(lang, n, unit))
    for fen in range(0, 100_000, 7):
        produced.update(amount(lang, Decimal(fen) / 100))
    produced.update(amount(lang, Decimal(2_000_000)))
    day = dt.date(1900, 1, 1)
    while day.year < 2030:
        produced.update(date(lang, day))
        day += dt.timedelta(days=1)
    produced.update(digits(lang, "0123456789X"))
    assert produced == fragment_keys(lang)


def test_keys_are_flat_ascii_names() -> None:
    for lang in LANGUAGES:
        for key in fragment_keys(lang):
            assert key.isascii() and key.replace("_", "").isalnum(), key
