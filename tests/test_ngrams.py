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


def test_the_compiled_counting_is_built():
    assert features._ngrams is not None, "triage/_ngrams.pyx was not built: pip install -e . on a machine with a C compiler"


@pytest.mark.skipif(features._ngrams is None, reason="not built: test_the_compiled_counting_is_built says so")
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
        assert fast.shape == steps.shape and fast.has_canonical_format
    assert compiled[0].nnz > 10 * len(corpus) and compiled[0][len(corpus) + 7].max() >= 400  # 饭店 400 times
