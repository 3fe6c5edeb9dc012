"""The compiled counting (triage/_ngrams.pyx) against the NumPy array steps that define it
(features.NgramCounter._count_by_array_steps): what featurising counts must not depend on
which of the two ran."""
import csv

import numpy as np
import pytest

from triage import features
from triage.features import NgramCounter

EDGES = ["", "abc 123", "𠮷野家门口\U00020000油烟", "工地\ud800打桩", "拖\0欠工资",
         "楼下油烟直排，晚上十点还有", "红绿灯ABC坏了123天", "饭店" * 400]


@pytest.mark.skipif(features._ngrams is None, reason="not built: tests/test_compiled.py says so")
@pytest.mark.parametrize("char_ngram_max, opening_chars", [(1, 20), (2, 6), (3, 20), (3, 0)])
def test_the_compiled_counting_counts_what_the_array_steps_count(char_ngram_max, opening_chars, small_corpus_path,
                                                                monkeypatch):
    """The same canonical matrix, value for value and type for type, on the seed corpus
    and on texts at the edges (none Chinese, characters outside the Basic Multilingual
    Plane, a lone surrogate, a separator, one word many times), in one list and one text
    at a time."""
    with open(small_corpus_path, encoding="utf-8") as file:
        corpus = [row["text"] for row in csv.DictReader(file)]
    counter = NgramCounter(min_df=2, char_ngram_max=char_ngram_max, opening_chars=opening_chars).fit(corpus)
    batches = [corpus + EDGES, EDGES] + [[text] for text in corpus[:30] + EDGES]
    compiled = [counter.counts(texts) for texts in batches]
    monkeypatch.setattr(features, "_ngrams", None)
    for texts, fast in zip(batches, compiled):
        steps = counter.counts(texts)
        for part in ("indptr", "indices", "data"):
            assert np.array_equal(getattr(fast, part), getattr(steps, part)), (part, texts[:1])
            assert getattr(fast, part).dtype == getattr(steps, part).dtype
        assert fast.shape == steps.shape and fast.matrix().has_canonical_format
    whole = compiled[0].matrix()
    assert whole.nnz > 10 * len(corpus) and whole[len(corpus) + 7].max() >= 400  # 饭店 400 times


@pytest.mark.skipif(features._ngrams is None, reason="not built: tests/test_compiled.py says so")
@pytest.mark.parametrize("opening_chars, idf_type", [(20, np.float64), (0, np.float64), (20, np.float32)])
def test_the_compiled_weighing_gives_the_array_steps_values_to_the_last_bit(opening_chars, idf_type,
                                                                            small_corpus_path, monkeypatch):
    """TF-IDF values, block lengths and the opening's weight (``Featuriser._weigh_rows``):
    the same bits in one list and one text at a time, with weights in float64 (as learned)
    and float32 (as the shipped model holds them, its values then float32 too)."""
    from triage.features import Featuriser

    with open(small_corpus_path, encoding="utf-8") as file:
        corpus = [row["text"] for row in csv.DictReader(file)]
    featuriser = Featuriser(opening_chars=opening_chars)
    featuriser.fit(corpus)
    featuriser.idf_ = featuriser.idf_.astype(idf_type)
    batches = [corpus + EDGES] + [[text] for text in corpus[:30] + EDGES]
    compiled = [featuriser.transform(texts) for texts in batches]
    monkeypatch.setattr(features, "_ngrams", None)
    for texts, fast in zip(batches, compiled):
        steps = featuriser.transform(texts)
        assert fast.data.dtype == steps.data.dtype == idf_type
        assert fast.data.tobytes() == steps.data.tobytes() and np.array_equal(fast.indices, steps.indices)
    squares = compiled[0].multiply(compiled[0]).sum(axis=1).A1[:len(corpus)]  # unit blocks, the opening's times 0.7
    with_opening = np.isclose(squares, 1.0 + 0.7 ** 2, atol=1e-5)
    assert (with_opening | np.isclose(squares, 1.0, atol=1e-5)).all()
    assert with_opening.all() if opening_chars else not with_opening.any()
