"""Mandarin text becomes the tone-numbered pinyin espeak-ng's cmn-latn-pinyin voice reads."""

from __future__ import annotations

import subprocess

import pytest

from ivr.prompts.pinyin import digits_to_chinese, to_tone_pinyin


def test_greeting_becomes_tone_numbered_pinyin() -> None:
    assert to_tone_pinyin("您好") == "nin2 hao3"


def test_punctuation_is_kept_as_ascii_pauses() -> None:
    assert to_tone_pinyin("您好，请按键。") == "nin2 hao3, qing3 an4 jian4."
    assert to_tone_pinyin("“好的”（谢谢）！") == "hao3 de5, xie4 xie4!"


def test_neutral_tone_is_five_and_u_umlaut_is_v() -> None:
    assert to_tone_pinyin("我的") == "wo3 de5"
    assert to_tone_pinyin("绿") == "lv4"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("15个工作日", "十五个工作日"),
        ("105", "一百零五"),
        ("2000元", "两千元"),
        ("20元", "二十元"),
        ("1010", "一千零一十"),
        ("12333", "幺二三三三"),  # service numbers are read digit by digit
        ("010", "零幺零"),
        ("8%", "百分之八"),
        ("3.5", "三点五"),
    ],
)
def test_arabic_digits_are_read_in_chinese(text: str, spoken: str) -> None:
    assert digits_to_chinese(text) == spoken


def test_digits_reach_espeak_as_pinyin() -> None:
    assert to_tone_pinyin("请按1") == "qing3 an4 yi1"


def _phonemes(text: str) -> str:
    result = subprocess.run(
        ["espeak-ng", "-q", "-x", "-v", "cmn-latn-pinyin", text],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_espeak_reads_tone_numbers_and_neutral_five() -> None:
    # Tone 2 is the rising contour 35 and tone 3 the dipping 214 in espeak-ng's phonemes.
    assert _phonemes(to_tone_pinyin("您好")) == "n'i35n_| X'Au214_|"
    # The explicit neutral 5 is read exactly like a bare syllable: it is accepted, not spelled.
    assert _phonemes("wo3 de5") == _phonemes("wo3 de")


def test_latin_letters_are_named_in_pinyin() -> None:
    # The X of an ID number, as Mandarin speakers say it ("ai ke si"), not skipped by the voice.
    assert to_tone_pinyin("X") == "ai4 ke4 si1"
    assert to_tone_pinyin("尾号是X。") == "wei3 hao4 shi4 ai4 ke4 si1."


def test_year_zero_is_read_as_ling() -> None:
    assert to_tone_pinyin("二〇二六年") == "er4 ling2 er4 liu4 nian2"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("重听请按九", "chong2 ting1 qing3 an4 jiu3"),  # listen again, not "hard of hearing"
        ("最长两分钟", "zui4 chang2 liang3 fen1 zhong1"),
        ("本行政区", "ben3 xing2 zheng4 qu1"),
        ("号码应为十八位", "hao4 ma3 ying1 wei2 shi2 ba1 wei4"),
        ("余额为一百元", "yu2 e2 wei2 yi4 bai3 yuan2"),  # 一 before tone 3 is yi4
        ("为您转接", "wei4 nin2 zhuan3 jie1"),
    ],
)
def test_hotline_wording_gets_the_right_reading(text: str, spoken: str) -> None:
    assert to_tone_pinyin(text) == spoken
