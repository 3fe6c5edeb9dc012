"""Character n-gram counting (features.NgramCounter) against the definition written out
plainly: per text, its tokens' Chinese characters run together, every 1- to 3-gram of
them counted, whatever other texts share the call."""
import re
from collections import Counter

import numpy as np
import pytest

from triage import features
from triage.features import CHAR_MARK, OPENING_MARK, NgramCounter
from triage.segment import tokens

TRAINING = [
    "小区楼下饭店油烟直排，熏得不敢开窗",
    "饭店油烟扰民，晚上十点还在排放",
    "A3区某路口红绿灯坏了，车辆乱行",
    "路口红绿灯故障三天无人维修",
    "工地夜间施工噪音大，22点以后还在打桩",
    "夜间施工扰民，打桩声音太大",
    "公司拖欠工资三个月，老板不接电话",
    "拖欠工资，春节前要回家",
]
QUERIES = [
    "楼下油烟直排，晚上十点还有",  # n-grams across a removed comma (排晚) count too
    "红绿灯ABC坏了123天",  # Latin and digits dropped: 灯坏 is a bigram
    "",
    "abc 123",  # no Chinese at all
    "拖欠",
    "工地\ud800打桩",  # a lone surrogate is not Chinese: dropped like punctuation
]


def reference_char_counts(words: list[str], vocabulary: dict[str, int]) -> Counter:
    chars = re.sub(r"[^\u3400-\u4dbf\u4e00-\u9fff]+", "", "".join(words))
    grams = Counter(chars[start:start + n] for n in (1, 2, 3) for start in range(len(chars) - n + 1))
    return Counter({vocabulary[gram]: count for gram, count in grams.items() if gram in vocabulary})


@pytest.fixture(params=["compiled loop", "array steps"], autouse=True)
def counting_loop(request, monkeypatch):
    """Every test here counts through the compiled loop (``triage/_ngrams.pyx``) and
    through the NumPy array steps that do its work where it was not built."""
    if request.param == "array steps":
        monkeypatch.setattr(features, "_ngrams", None)
    elif features._ngrams is None:
        pytest.skip("triage/_ngrams.pyx was not built (tests/test_compiled.py fails for it)")
    return request.param


@pytest.fixture(scope="module")
def counter():
    return NgramCounter(min_df=1).fit(TRAINING)


def test_character_ngrams_are_those_of_each_texts_chinese_characters_run_together(counter):
    names = counter.get_feature_names_out().tolist()
    vocabulary = {name[len(CHAR_MARK):]: column for column, name in enumerate(names) if name.startswith(CHAR_MARK)}
    counts = counter.transform(QUERIES).toarray()
    for row, text in enumerate(QUERIES):
        found = Counter({int(column): int(counts[row, column]) for column in np.flatnonzero(counts[row])
                         if names[column].startswith(CHAR_MARK)})
        assert found == reference_char_counts(tokens(text), vocabulary), text
    assert counts[1, names.index("#灯坏")] == 1


def test_a_texts_row_does_not_depend_on_the_texts_beside_it(counter):
    together = counter.transform(QUERIES).toarray()
    alone = np.vstack([counter.transform([text]).toarray() for text in QUERIES])
    assert np.array_equal(together, alone)
    assert together[2].sum() == 0  # the empty text


def test_a_callers_masked_number_adds_no_feature_nor_do_the_words_that_give_it():
    # 〔身份证号〕 is the masker's word: counted, its 身份证 sent everyday cases to 公安局; the
    # words that give a caller's own number (电话是, 身份证号码) say who calls, not what about
    counter = NgramCounter(min_df=1).fit(["身份证丢了去哪里补办", "老板的电话打不通", "路灯坏了没人修"])
    plain = counter.transform(["路灯坏了没人修"]).toarray()
    assert np.array_equal(counter.transform(["〔身份证号〕路灯坏了〔电话〕没人修"]).toarray(), plain)
    assert np.array_equal(counter.transform(["路灯坏了没人修,我的电话是〔电话〕"]).toarray(),
                          counter.transform(["路灯坏了没人修,我的"]).toarray())
    names = counter.get_feature_names_out().tolist()
    said = counter.transform(["老板的电话打不通,身份证号码〔身份证号〕"]).toarray()[0]
    assert said[names.index("电话")] == 1 and said[names.index("身份证")] == 0  # a phone as the matter counts
    assert features.matter_tokens("楼高〔数字〕层〔车牌号〕") == ["楼高", "〔数字〕", "层"]
    assert features.matter_tokens("车牌〔车牌号〕的车堵门") == ["车牌", "的", "车", "堵门"]  # a plate may be the matter


def test_the_opening_block_counts_the_first_tokens_up_to_opening_chars():
    text = "饭店油烟直排，老板拖欠工资"  # tokens 饭店 油烟 直排 | 老板 拖欠工资: the opening holds six characters
    counter = NgramCounter(min_df=1, opening_chars=6).fit(TRAINING + [text])
    names = counter.get_feature_names_out().tolist()
    row = counter.transform([text]).toarray()[0]
    found = {names[column] for column in np.flatnonzero(row)}
    assert {"油烟", "拖欠工资", "#欠工", "^油烟", "^直排", "^#烟直"} <= found
    assert "^拖欠工资" in names and "^拖欠工资" not in found and "^#欠工" not in found
    start = counter.block_starts_[1]
    assert all(name.startswith(OPENING_MARK) for name in names[start:])
    assert not any(name.startswith(OPENING_MARK) for name in names[:start])
    assert NgramCounter(min_df=1, opening_chars=0).fit(TRAINING + [text]).block_starts_.tolist() == [0, start]


def test_the_opening_block_counts_what_the_opening_alone_holds():
    """The opening's columns are found among the whole text's, not looked up again
    (``NgramCounter._opening_columns``): the same counts as the opening's own words and the
    n-grams of their characters, by the definition written out."""
    counter = NgramCounter(min_df=1, opening_chars=6).fit(TRAINING)
    names = counter.get_feature_names_out().tolist()
    start = counter.block_starts_[1]
    opening_names = {name[len(OPENING_MARK):]: column for column, name in enumerate(names[start:], start)}
    words = {name: column for name, column in opening_names.items() if not name.startswith(CHAR_MARK)}
    chars = {name[len(CHAR_MARK):]: column for name, column in opening_names.items() if name.startswith(CHAR_MARK)}
    texts = TRAINING + QUERIES
    counts = counter.transform(texts).toarray()
    for row, text in enumerate(texts):
        opening, held = [], 0
        for word in tokens(text):
            if held >= 6:
                break
            opening.append(word)
            held += len(word)
        expected = reference_char_counts(opening, chars) + Counter(words[word] for word in opening if word in words)
        found = Counter({int(column): int(counts[row, column]) for column in np.flatnonzero(counts[row, start:]) + start})
        assert found == expected, text
    assert counts[:len(TRAINING), start:].sum(axis=1).min() >= 6  # every training opening counted


def test_an_opening_vocabulary_outside_the_texts_is_refused_not_miscounted():
    """The opening's columns are looked for among the whole text's: a model whose opening
    block holds a word the text block lacks (never learned so) is refused with a ModelError."""
    from triage.errors import ModelError

    counter = NgramCounter(min_df=1, opening_chars=6).fit(TRAINING)
    opening = counter.vocabularies_[1]
    opening.words.append("不曾见过")
    opening.word_index["不曾见过"] = opening.n_features
    counter.vocabularies_ = list(counter.vocabularies_)  # a new model: the map is made again
    with pytest.raises(ModelError, match="opening block"):
        counter.transform(QUERIES)


def test_columns_go_by_document_frequency_and_an_alphabetical_vocabulary_still_counts_alike(counter):
    """Columns of the most frequent features first (the SVM solver reads their weights
    together); a vocabulary saved before that, words then n-grams in order, loads with its
    own columns and counts every text alike."""
    import pickle

    body = counter.vocabularies_[0]
    frequency = np.bincount(counter.transform(TRAINING).indices, minlength=counter.n_features_)
    assert (np.diff(frequency[:body.n_features]) <= 0).all()
    old = pickle.loads(pickle.dumps(counter))
    for vocabulary in old.vocabularies_:  # as the previous triage saved it
        vocabulary.word_index = {word: column for column, word in enumerate(vocabulary.words)}
        del vocabulary.char_columns
    old = pickle.loads(pickle.dumps(old))
    names, old_names = counter.get_feature_names_out(), old.get_feature_names_out()
    assert list(old_names[:len(body.words)]) == body.words and sorted(names) == sorted(old_names)
    by_name = {name: column for column, name in enumerate(names)}
    moved = np.array([by_name[name] for name in old_names])
    assert np.array_equal(counter.transform(QUERIES).toarray()[:, moved], old.transform(QUERIES).toarray())


def test_learning_stacks_its_chunks_into_one_matrix_letting_each_go(monkeypatch):
    """Counted a chunk at a time, the rows come out as one canonical matrix, in order, and
    the chunks are let go as they are copied (the list is emptied)."""
    import scipy.sparse as sp

    from triage import features

    texts = [f"第{number}号楼楼道燃气泄漏，物业不管，已经{number % 7}天" for number in range(23)]
    whole = NgramCounter(min_df=2).fit_transform(texts)
    monkeypatch.setattr(features, "COUNT_CHUNK", 5)  # five chunks, the last of three texts
    chunked = NgramCounter(min_df=2).fit_transform(texts)
    assert chunked.has_canonical_format and (chunked != whole).nnz == 0
    parts = [whole[:10], whole[10:11], whole[11:]]
    stacked = features._stack_rows(parts)
    assert parts == [] and (stacked != whole).nnz == 0 and np.array_equal(stacked.indptr, whole.indptr)
    assert sp.isspmatrix_csr(stacked) and stacked.indices.dtype == whole.indices.dtype


def test_weighing_in_chunks_gives_the_values_of_weighing_whole(monkeypatch):
    """Rows beyond one chunk are weighed a chunk at a time in place; rows within one are
    weighed whole: the same values to the bit either way."""
    from triage import features
    from triage.features import Featuriser

    texts = [f"第{number}号楼楼道燃气泄漏，物业不管，已经{number % 7}天" for number in range(23)] + TRAINING
    featuriser = Featuriser(min_df=2).fit(texts)
    whole = featuriser.transform(texts + QUERIES)
    monkeypatch.setattr(features, "COUNT_CHUNK", 4)  # ten chunks of 37 texts, the last of one
    chunked = featuriser.transform(texts + QUERIES)
    assert whole.data.dtype == chunked.data.dtype and whole.data.tobytes() == chunked.data.tobytes()
    assert np.array_equal(whole.indptr, chunked.indptr) and whole.nnz > 10 * len(texts)


def test_features_of_a_text_already_read_equal_those_of_the_transcript(small_model):
    from triage.dialogue import caller_turns

    transcript = "话务员：您好，12345热线，请讲。市民：楼下饭店油烟直排。好的，已经给您登记了，感谢您的来电，再见。"
    featuriser = small_model.featuriser_
    words_whole, words_read = [], []
    whole = featuriser.rows([transcript], words_whole).matrix()
    read = featuriser.rows([caller_turns(transcript)], words_read, turns_read=True).matrix()
    assert (whole != read).nnz == 0 and words_whole == words_read
    assert "登记" not in words_read[0] and "油烟" in words_read[0]
