"""The compiled n-gram loop (triage/_ngrams.pyx) against the NumPy array steps that
define it (features._Vocabulary._known_char_ngrams): what featurising counts must not
depend on which of the two ran."""
import csv

import numpy as np
import pytest

from triage import features
from triage.features import WORD_SEPARATOR, NgramCounter
from triage.segment import tokens

_ngrams = features._ngrams


def test_the_compiled_loop_is_built():
    assert _ngrams is not None, "triage/_ngrams.pyx was not built: pip install -e . on a machine with a C compiler"


@pytest.mark.parametrize("char_ngram_max", [1, 2, 3])
@pytest.mark.skipif(_ngrams is None, reason="not built: test_the_compiled_loop_is_built says so")
def test_the_compiled_loop_finds_what_the_array_steps_find(char_ngram_max, small_corpus_path):
    """Every known n-gram, with its text and where it ends, on the seed corpus and on texts
    at the edges (none Chinese, characters outside the Basic Multilingual Plane, a lone
    surrogate, a separator between texts' n-grams), whichever the order they come in."""
    with open(small_corpus_path, encoding="utf-8") as file:
        corpus = [row["text"] for row in csv.DictReader(file)]
    vocabulary = NgramCounter(min_df=2, char_ngram_max=char_ngram_max).fit(corpus).vocabularies_[0]
    edges = ["", "abc 123", "𠮷野家门口\U00020000油烟", "工地\ud800打桩", "拖\0欠工资",
             "楼下油烟直排，晚上十点还有", "红绿灯ABC坏了123天"]
    for texts in (corpus + edges, edges, [corpus[0]]):
        joined = [WORD_SEPARATOR.join(tokens(text)) for text in texts]
        compiled = _ngrams.known_char_ngrams(joined, char_ngram_max, *vocabulary.char_keys.probe_arrays())
        steps = vocabulary._known_char_ngrams(joined, char_ngram_max, compiled=False)
        assert sorted(zip(*(part.tolist() for part in compiled))) == sorted(zip(*(part.tolist() for part in steps)))
        assert all(part.dtype == np.int64 for part in compiled)
    assert len(steps[0]) > 0
