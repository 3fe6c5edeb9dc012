import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from triage.normalise import normalise
from triage.privacy import mask_personal_data
from triage.screening import screen

CLEAN = "小区楼下有人夜间施工噪音很大，请尽快处理。"


@pytest.mark.parametrize("raw, expected", [
    ("社區樓下噪音擾民，請幫忙處理", "社区楼下噪音扰民,请帮忙处理"),       # traditional -> simplified
    ("电话１３８，ＡＢＣ小区　３号楼", "电话138,ABC小区 3号楼"),            # full-width -> half-width
    ("<p>路灯&nbsp;不亮</p><br/>已经一周", "路灯 不亮 已经一周"),            # HTML tags and entities
    ("  多个   空格\n\t换行  ", "多个 空格 换行"),                             # whitespace runs
    ("头发乾了以後再出門", "头发干了以后再出门"),                             # phrase-aware conversion
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_a_lone_surrogate_reads_as_a_replacement_character():
    """OpenCC cannot encode a lone surrogate; normalising must still never fail on a str."""
    raw = CLEAN + b"\xe5".decode("utf-8", errors="surrogateescape")
    assert normalise(raw) == normalise(CLEAN) + "\ufffd"
    assert screen(raw, normalise(raw), min_chars=6) == []  # one undecodable byte in a long text


def test_normalise_is_idempotent():
    once = normalise("<b>社區</b>ＡＢＣ　樓下")
    assert normalise(once) == once


@pytest.mark.parametrize("text, kinds, must_not_contain", [
    ("我的电话是13812345678请回电", ["phone"], "13812345678"),
    ("手机 +86 138-1234-5678", ["phone"], "1234"),
    ("座机010-62345678", ["phone"], "62345678"),
    ("身份证号110101199003071234", ["id_number"], "110101199003071234"),
    ("身份证11010119900307123X", ["id_number"], "11010119900307123X"),
    ("银行卡6222 0212 3456 7890 123", ["bank_card"], "7890"),
    ("车牌京A12345撞了我", ["plate"], "A12345"),
    # a number read out, as speech recognition writes it
    ("我的电话是一三八一二三四五六七八", ["phone"], "一三八一二三四"),
    ("电话幺三八 幺二三四 五六七八", ["phone"], "五六七八"),
    ("座机零七三一八八八八八八八八", ["phone"], "八八八八八八八"),
    ("身份证号四三零一零二一九八八零三一五一二三叉", ["id_number"], "一九八八零三一五"),
    ("车牌湘A一二三四五撞了我", ["plate"], "一二三四五"),
    ("电话138一二三四五六七八", ["phone"], "一二三四五六七八"),  # written and spoken digits in one number
    ("我电话是一三八，一二三四，五六七八", ["phone"], "五六七八"),  # a comma where the caller paused
    # a number said or typed with pauses: a mark between its groups, a space after each digit
    ("我电话139，1234，5678，3号楼", ["phone"], "5678"),
    ("手机号138、1234、5678", ["phone"], "1234"),
    ("电话1 3 9 8 7 6 5 4 3 2 1", ["phone"], "6 5 4"),
    ("身份证号320106.19880715.0418", ["id_number"], "19880715"),
    ("身份证号三二零一零六。一九八八零七一五。零四一八", ["id_number"], "一九八八零七一五"),
    ("卡号6222，0212，3456，7894", ["bank_card"], "3456"),
    ("座机025、83451234", ["phone"], "83451234"),
    ("座机025 8345 1234", ["phone"], "8345"),
])
def test_personal_data_is_masked(text, kinds, must_not_contain):
    masked, found = mask_personal_data(normalise(text))
    assert found == kinds
    assert must_not_contain not in masked


def test_full_width_phone_is_masked_after_normalising():
    masked, found = mask_personal_data(normalise("电话１３８１２３４５６７８"))
    assert found == ["phone"] and "〔电话〕" in masked


@pytest.mark.parametrize("text", ["二零一九年十二月三十一日", "一三五七九个人", "三十五岁的一二三四五六", "京A市的路灯坏了",
                                  "一二三四五六七号楼，1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16栋",
                                  # numbers in groups that make no one's number whole
                                  "公交有103、104、115、123、204、206、208、210路", "证号分别为2018-0051、2018-0052、2018-0053",
                                  "2017,2018,2019,2020年连续四年", "欠款1,380,000,000元", "地址192.168.100.200",
                                  "成绩 81.15 11 90294 11 中学语文", "2019.10.15开始", "门牌6201、6202、6203、6205号"])
def test_numbers_that_are_no_ones_number_are_kept(text):
    assert mask_personal_data(normalise(text)) == (normalise(text), [])


def test_ordinary_numbers_are_not_masked():
    masked, found = mask_personal_data("3号楼2单元住了20年，物业费每月300元")
    assert found == [] and masked == "3号楼2单元住了20年，物业费每月300元"


@pytest.mark.parametrize("raw, code", [
    ("", "empty"),
    ("   \n ", "empty"),
    ("hello, my street light is broken", "not_chinese"),
    ("噪音", "too_short"),
    (CLEAN.encode("utf-8").decode("gbk", errors="replace"), "unreadable"),
    (CLEAN.encode("utf-8").decode("gb18030", errors="replace"), "unreadable"),
    (CLEAN.encode("utf-8").decode("latin-1"), "unreadable"),
    (CLEAN.encode("gbk").decode("utf-8", errors="replace"), "unreadable"),
    ("锟斤拷锟斤拷锟斤拷烫烫烫", "unreadable"),
    # bytes that did not decode, kept as lone surrogates (surrogateescape: argv, stdin)
    (CLEAN.encode("utf-8").decode("ascii", errors="surrogateescape"), "unreadable"),
    ("路灯坏了\udce5", "too_short"),
])
def test_screen_flags(raw, code):
    flags = screen(raw, normalise(raw), min_chars=6)
    assert [flag.code for flag in flags] == [code]
    assert flags[0].reason


@pytest.mark.parametrize("raw", [CLEAN, "社區樓下噪音擾民，請幫忙處理", "电话１３８１２３４５６７８，ＡＢＣ小区楼道漏水"])
def test_screen_passes_ordinary_text(raw):
    assert screen(raw, normalise(raw), min_chars=6) == []


def test_long_garbled_text_is_caught_past_the_probe():
    long = CLEAN * 8  # hundreds of bytes: _reinterpret judges the first ones before decoding all
    for raw in (long.encode("utf-8").decode("gb18030", errors="replace"), long.encode("utf-8").decode("latin-1")):
        assert [flag.code for flag in screen(raw, normalise(raw), min_chars=6)] == ["unreadable"]
    assert screen(long, normalise(long), min_chars=6) == []


@given(st.lists(st.sampled_from(["clean", "gbk", "latin", "ascii"]), min_size=1, max_size=12))
@example(["clean"] + ["gbk"] * 11)  # the probe sees failures, the whole text is mostly mojibake
@example(["ascii"] * 3 + ["latin"] * 8)
def test_the_probe_never_changes_a_verdict(parts):
    import triage.screening as screening

    make = {"clean": CLEAN, "gbk": CLEAN.encode("utf-8").decode("gb18030", errors="replace"),
            "latin": CLEAN.encode("utf-8").decode("latin-1"), "ascii": "call 12345 now "}
    text = "".join(make[part] for part in parts)
    probed = [screening._reinterpret(text, codec) for codec in ("gb18030", "cp1252")]
    original = screening._PROBE_BYTES
    try:
        screening._PROBE_BYTES = 10**9  # never probes: every byte decoded
        assert [screening._reinterpret(text, codec) for codec in ("gb18030", "cp1252")] == probed
    finally:
        screening._PROBE_BYTES = original


def test_no_false_unreadable_on_real_messages(shared_data):
    import csv

    with (shared_data / "messages_with_users.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    flagged = [row["id"] for row in rows
               if any(f.code == "unreadable" for f in screen(row["body"], normalise(row["body"]), min_chars=6))]
    assert flagged == []


# Compatibility characters complaint text carries: full-width forms, ideographic and
# no-break spaces, circled numbers, square units, small and vertical punctuation.
_COMPATIBILITY = "".join(map(chr, range(0xFF01, 0xFF5F))) + "\u3000\u00a0①⑩㎡㎏℃ⅱ﹐﹑︰ｶﾞ\u2003\u2002"


@given(st.text(alphabet=st.sampled_from(_COMPATIBILITY + "路灯不亮楼道漏水ab12,. 社區樓\t\n\r\x85\u1680\u205f"),
               max_size=40))
def test_normalise_equals_plain_nfkc(text):
    """The mapped-first shortcut gives exactly what NFKC on the whole text gives, and
    white space collapses exactly as a regular expression's \\s+ would."""
    import html
    import re

    from triage.normalise import _TO_SIMPLIFIED

    reference = unicodedata.normalize("NFKC", html.unescape(text))
    reference = re.sub(r"\s+", " ", _TO_SIMPLIFIED.convert(reference)).strip()
    assert normalise(text) == reference
