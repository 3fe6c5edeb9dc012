"""The compiled scans of a text (``triage/_scan.pyx``) against the regular expressions they
stand for, on random texts over the characters each one tells apart (digits of several
scripts, spaces, hyphens, line breaks, the edges of the Chinese ranges, surrogates,
characters outside the Basic Multilingual Plane) and on the seed corpus; and the callers
give the same answers with and without them."""
import csv
import random

import pytest

from triage import dialogue, privacy, safety, screening, segment

_scan = pytest.importorskip("triage._scan", reason="not built: tests/test_compiled.py says so")

ALPHABET = ["1", "7", "0", "٣", "७", "０", "²", " ", "-", "--", "\n", "a", "Z", "，", "〔电话〕",
            "\u33ff", "\u3400", "\u4dbf", "\u4dc0", "\u4dff", "\u4e00", "\u9fff", "\ua000", "燃", "气", "\ud800",
            "\U00020000", "\ufffd", "\ue000", "喂喂喂", "\n\n\n", "---", "   ", "11", "1 2-3", "〔", "〕", "〔身份证号〕",
            "〔数字〕", "〔abc〕", "〔一二三四五六〕", "〔㐀㐀〕", ".", "1.5", "'", "Don't", "a-b", "٣.٣", "\u3000",
            "一", "零", "〇", "幺", "两", "十", "三四", "湘", "A", "I", "京B", "粤", ",", "、", "。", "1,"]


def random_texts(count: int, seed: int) -> list[str]:
    generator = random.Random(seed)
    texts = ["", " ", "\n", "1", "燃", "燃燃燃", "1234567", "123 456-7", "123  4567", "12-34 56-7", "123--4567",
             "٣٣٣٣٣٣٣", "０１２３４５６", "一三八一二三四", "一三八 一二三-四", "一二三  四五六七", "12345六七", "湘A", "湘I", "一三八,一二三四",
             "一二三,,四五六七", "1234,567",
             "139,1234,5678", "139。1234.5678", "1,2,3,4,5,6,7", "1、2、3、4,", "2019.10.15", "一、二。三"]
    texts += ["".join(generator.choices(ALPHABET, k=generator.randint(1, 40))) for _ in range(count)]
    return texts


def corpus(path) -> list[str]:
    with open(path, encoding="utf-8") as file:
        return [row["text"] for row in csv.DictReader(file)]


def test_each_scan_answers_as_its_expression(small_corpus_path):
    for text in random_texts(3000, 1) + corpus(small_corpus_path):
        assert _scan.han_count(text) == len(screening._NOT_HAN.sub("", text)), text
        assert _scan.number_runs(text) == (privacy._LONG_NUMBER.search(text) is not None) | 2 * privacy._read_out(text), text
        assert _scan.tripled(text) == (segment._TIE_PRONE.search(text) is not None), text
        assert segment._pieces(text) == segment._pieces(text, compiled=False), text


MOJIBAKE = ["à", "ï", "ß", "\u0080", "\u00bf", "\u00c0", "\u2018", "\u203a", "\u0152", "\u02dc", "锟", "斤", "拷",
            "锟斤拷", "烫", "烫烫", "屯屯屯", "\ufffd", "\ue000", "\uf8ff", "\uf900", "\udfff", "鍝", "燃", " ", "a"]


def test_the_garble_marks_are_the_expressions(small_corpus_path):
    """One compiled pass against the substring tests and expressions screening defines them
    by, on texts of mojibake's characters (Latin-1 leads and what follows them, runs of
    锟斤拷, 烫 and 屯, replacement, private-use and surrogate characters); screening's
    verdicts follow from these alone."""
    generator = random.Random(7)
    texts = ["".join(generator.choices(MOJIBAKE, k=generator.randint(1, 30))) for _ in range(5000)]
    texts += corpus(small_corpus_path) + random_texts(500, 8) + ["ä¸\u00adæ–‡", "锟斤拷", "ab烫烫烫", "\ufffd\ufffd"]
    flagged = 0
    for text in texts:
        marks = _scan.garble_marks(text)
        assert marks == screening._marks(text, compiled=False), text
        flagged += marks[0] and marks[2] >= 2
    assert flagged > 100  # texts with a garbage run and two Latin-1 pairs


def test_the_tokens_put_back_are_the_expressions(small_corpus_path):
    """rjieba's words of each text's pieces, filler and run breaks dropped and the other
    pieces put back, by the compiled loop and by the list comprehension that defines it."""
    cut = segment.engine("rjieba")._tokenizer.cut
    texts = corpus(small_corpus_path) + random_texts(500, 5) + ["喂，你好，那个就是说电话〔电话〕，12.5 米 Wi-Fi"]
    filled = 0
    for text in texts:
        joined, others = segment._pieces(text)
        words = cut(joined, True)
        assert segment._put_back(words, others) == segment._put_back(words, others, compiled=False), text
        filled += len(others) > 0 and len(segment._put_back(words, others)) < len(words)
    assert filled > 50  # texts with other pieces and dropped words


def test_the_safety_rules_that_may_match_are_the_expressions(small_corpus_path):
    """The patterns the prefilter lets through, from the compiled scan of a table of places
    and from the two expressions, on texts made of the rules' own words too."""
    prefilter = safety._prefilter()
    words = [word for _, pattern in prefilter.patterns for word in safety.required_words(pattern.pattern) or ()]
    generator = random.Random(2)
    texts = random_texts(500, 3) + corpus(small_corpus_path)
    texts += ["".join(generator.choices(words + ["\n", "，", "有", "a", "\U00020000"], k=generator.randint(1, 12)))
              for _ in range(2000)]
    found = 0
    for text in texts:
        bits = prefilter.bits(text)
        assert bits == prefilter.bits(text, compiled=False), text
        found += bits.bit_count() > 1
    assert found > len(texts) // 2 and len(prefilter.patterns) > 64  # most texts hold words; two words of bits


def test_the_clauses_an_operator_may_ask_are_the_expressions(small_corpus_path):
    """Short clauses before a question mark or holding 稍等, 留一下, 提供一下, 留一个 or 留下,
    from the compiled scan and from the expression, on texts made of marks and those words too."""
    generator = random.Random(6)
    pieces = ["?", "？", "。", "，", ",", "!", "、", " ", "\u3000", "\n", "稍等", "稍", "等", "留一下", "提供一下", "供一下",
              "提供", "一下", "请问", "留一个", "留下", "留", "一个", "个", "下", "您贵姓", "在哪个小区", "a", "\U00020000"]
    texts = random_texts(300, 7) + corpus(small_corpus_path)
    texts += ["".join(generator.choices(pieces, k=generator.randint(1, 16))) for _ in range(3000)]
    found = 0
    for text in texts:
        for longest in (3, 20):
            clauses = dialogue.asked_clauses(text, longest)
            assert clauses == dialogue.asked_clauses(text, longest, compiled=False), (text, longest)
            found += len(clauses)
    assert found > 1000


def test_the_callers_answer_the_same_without_the_scans(small_corpus_path, monkeypatch):
    texts = corpus(small_corpus_path) + random_texts(300, 4) + ["电话13812345678，身份证110101199003071234", "砰砰砰地响",
                                                                "路灯坏了。请问您贵姓？姓李。您稍等，我查一下。"]

    def answers():
        return [(screening.screen(text, text, min_chars=6), privacy.mask_personal_data(text), segment.tokens(text),
                 safety.check(text), dialogue.caller_turns(text)) for text in texts]

    compiled = answers()
    monkeypatch.setattr(screening, "_scan", None)
    monkeypatch.setattr(privacy, "_scan", None)
    monkeypatch.setattr(segment, "_scan", None)
    monkeypatch.setattr(dialogue, "_scan", None)
    monkeypatch.setattr(safety._prefilter(), "table", None)
    assert answers() == compiled
    assert any(hits for *_, hits, _ in compiled) and any(kinds for _, (_, kinds), *_ in compiled)
    assert compiled[-1][-1] == "路灯坏了。姓李。"
