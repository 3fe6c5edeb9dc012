import csv
import pickle

import pytest

from triage.normalise import normalise
from triage.segment import NUMBER_TOKEN, domain_words, segment, tokens


def test_domain_words_stay_whole():
    words = segment("我要反映接诉即办的问题，煤改电补贴没到位，楼下油烟扰民")
    for word in ("接诉即办", "煤改电", "油烟扰民"):
        assert word in words


def test_filler_and_stop_words_do_not_become_features():
    words = segment("喂，你好，那个，就是说楼道漏水")
    assert "喂" not in words and "那个" not in words and "就是说" not in words
    assert "漏水" in words


def test_filler_is_told_from_real_words():
    assert "喂养" in segment("有人在小区喂养流浪狗")


@pytest.mark.parametrize("text, word", [("楼道里很臭", "臭"), ("水管又漏了", "漏"), ("服务态度差", "差")])
def test_single_character_complaint_words_are_kept(text, word):
    assert word in segment(text)


def test_numbers_and_placeholders():
    assert tokens("3号楼〔电话〕") == [NUMBER_TOKEN, "号楼", "〔电话〕"]


def test_segment_pickles_by_reference():
    restored = pickle.loads(pickle.dumps(segment))
    assert restored("楼下油烟扰民") == segment("楼下油烟扰民")


def test_every_domain_word_has_a_frequency():
    assert all(isinstance(freq, int) and freq > 0 for _, freq in domain_words())


@pytest.mark.parametrize("text", ["好好好学习", "砰砰砰的声音", "修修修不修", "平平安安住好好好部门"])
def test_fast_engine_matches_jieba_on_ties(text):
    assert tokens(text, "rjieba") == tokens(text, "jieba")


def test_fast_engine_keeps_numbers_latin_and_placeholders_in_place():
    text = "3楼的WiFi坏了，打〔手机号〕没人接2次"
    assert tokens(text, "rjieba") == tokens(text, "jieba")
    assert tokens(text, "rjieba")[:4] == ["〔数字〕", "楼", "的", "wifi"]


def test_fast_engine_matches_jieba_on_seed_corpus():
    from pathlib import Path

    with (Path(__file__).resolve().parent.parent / "training" / "seed_corpus.csv").open(encoding="utf-8") as handle:
        texts = [normalise(row["text"]) for row in csv.DictReader(handle)][::5]
    mismatched = [text for text in texts if tokens(text, "rjieba") != tokens(text, "jieba")]
    assert mismatched == []


def test_fast_engine_matches_jieba_on_shared_data(shared_data):
    with (shared_data / "messages_with_users.csv").open(encoding="utf-8") as handle:
        texts = [normalise(row["subject"] + " " + row["body"]) for row in csv.DictReader(handle)][::4]
    mismatched = [text[:30] for text in texts if tokens(text, "rjieba") != tokens(text, "jieba")]
    assert mismatched == []


@pytest.mark.parametrize("text, expected", [
    ("〔手机\ue000号〕楼道", ["手机", "号", "楼道"]),  # the engine's own mark, in the input, splits like punctuation
    ("\ue000\ue000楼\ue000", ["楼"]),
    ("3.5米高WiFi-6的〔电话〕", [NUMBER_TOKEN, "米", "高", "wifi-", NUMBER_TOKEN, "的", "〔电话〕"]),
    ("〔很长很长的名字〕", ["很长", "很长", "的", "名字"]),  # too long for a placeholder: only its words
])
def test_other_pieces(text, expected):
    assert tokens(text, "rjieba") == tokens(text, "jieba") == expected
