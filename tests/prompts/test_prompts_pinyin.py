"""Mandarin text becomes the tone-numbered pinyin espeak-ng's cmn-latn-pinyin voice reads."""

from __future__ import annotations

import subprocess

import pytest

from ivr.prompts.pinyin import Readings, ReadingsError, spoken_chinese, to_tone_pinyin


def test_greeting_becomes_tone_numbered_pinyin() -> None:
    assert to_tone_pinyin("您好") == "nin2 hao3"


def test_punctuation_is_kept_as_ascii_pauses() -> None:
    assert to_tone_pinyin("您好，请按键。") == "nin2 hao3, qing3 an4 jian4."
    assert to_tone_pinyin("“好的”（谢谢）！") == "hao3 de5, xie4 xie5!"


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
        ("12333", "幺二三三三"),  # service numbers are read digit by digit, 1 as 幺
        ("010", "零幺零"),
        ("8%", "百分之八"),
        ("3.5", "三点五"),
        ("11%", "百分之十一"),
    ],
)
def test_arabic_digits_are_read_in_chinese(text: str, spoken: str) -> None:
    assert spoken_chinese(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("欢迎致电一二三三三", "欢迎致电幺二三三三"),
        ("请拨打九六一零二", "请拨打九六幺零二"),
        ("例如一二三四五六或六五四三二一", "例如幺二三四五六或六五四三二幺"),
        ("二〇一九年", "二〇一九年"),  # a year: a date keeps 一
        ("一百一十一元", "一百一十一元"),  # a number with 十/百: not read digit by digit
        ("请按一", "请按一"),
        ("十一", "十一"),
    ],
)
def test_digits_read_one_by_one_say_yao_for_one(text: str, spoken: str) -> None:
    assert spoken_chinese(text) == spoken
    assert ("yao1" in to_tone_pinyin(text)) == ("幺" in spoken)


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


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        (
            "您的养老保险个人账户余额为",
            "nin2 de5 yang3 lao3 bao3 xian3 ge4 ren2 zhang4 hu4 yu2 e2 wei2",
        ),
        ("余额为。", "yu2 e2 wei4."),  # not at the end: no value follows
        ("卡号后四位为", "ka3 hao4 hou4 si4 wei4 wei2"),
        (
            "初始查询密码为您身份证号码",
            "chu1 shi3 cha2 xun2 mi4 ma3 wei2 nin2 shen1 fen4 zheng4 hao4 ma3",
        ),
        ("正在为您转接", "zheng4 zai4 wei4 nin2 zhuan3 jie1"),
        ("目前为临时挂失状态", "mu4 qian2 wei2 lin2 shi2 gua4 shi1 zhuang4 tai4"),
    ],
)
def test_wei_is_wei2_where_it_means_is(text: str, spoken: str) -> None:
    assert to_tone_pinyin(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("最后一位", "zui4 hou4 yi2 wei4"),  # before a fourth tone
        ("上一级菜单", "shang4 yi4 ji2 cai4 dan1"),  # before a second tone
        ("一天", "yi4 tian1"),
        ("请按一，取消", "qing3 an4 yi1, qu3 xiao1"),  # a numeral ending a phrase
        ("第一次", "di4 yi1 ci4"),  # an ordinal
        ("十一月", "shi2 yi1 yue4"),
        ("不正确", "bu2 zheng4 que4"),
        ("不能", "bu4 neng2"),
        ("不一致", "bu4 yi2 zhi4"),  # 一 changes first: bu4 before yi2
        ("对不起", "dui4 bu5 qi3"),  # the table's neutral tone wins
    ],
)
def test_yi_and_bu_change_tone_as_spoken(text: str, spoken: str) -> None:
    assert to_tone_pinyin(text) == spoken


def test_the_readings_table_is_data_a_linguist_edits() -> None:
    table = Readings.parse(
        {
            "words": {"行长": "hang2 zhang3", "银行": "yin2 hang2"},
            "before_value": {"为": "wei2"},
            "before_number": {"为": "wei2"},
        }
    )
    assert to_tone_pinyin("银行行长", table) == "yin2 hang2 hang2 zhang3"
    assert to_tone_pinyin("银行", Readings.parse({"words": {"银行": "yin2 xing2"}})) == "yin2 xing2"
    assert to_tone_pinyin("余额为", Readings.parse({})) == "yu2 e2 wei4"  # pypinyin alone


def test_the_longest_word_of_the_table_wins() -> None:
    table = Readings.parse({"words": {"重": "zhong4", "重听": "chong2 ting1"}})
    assert to_tone_pinyin("重听，重", table) == "chong2 ting1, zhong4"


@pytest.mark.parametrize(
    "data",
    [
        {"words": {"重听": "chong2"}},  # one syllable for two characters
        {"words": {"重听": "chong ting1"}},  # no tone
        {"words": {"ab": "a1 b1"}},  # not Chinese
        {"before_value": {"为为": "wei2"}},
        {"wrods": {"重听": "chong2 ting1"}},  # a misspelt section
    ],
)
def test_a_wrong_table_is_refused_when_read(data: dict[str, dict[str, str]]) -> None:
    with pytest.raises(ReadingsError):
        Readings.parse(data)
