"""Stage 3: features. Words and Chinese character 1- to 3-grams, TF-IDF weighted.

Both kinds matter on real complaints (5-fold macro-F1 on the shared dev set: words 0.911,
characters 0.915, both 0.924). sklearn's ``TfidfVectorizer`` builds and looks up ~1,000
n-gram strings per 300-character text in Python (about 1,300 texts/s); here each n-gram
is an integer made of its code points and all lookups go through a numpy hash table
(``keytable.py``), so counting keeps up with segmentation. Weighting is the stock ``TfidfTransformer``.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from .keytable import KeyTable
from .segment import stopwords, tokens

_CODE_POINT_BITS = 21  # every code point is below 2**21, so a 3-gram fits in an int64
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))  # the characters n-grams are made of
CHAR_MARK = "#"  # feature names of character n-grams start with it
WORD_SEPARATOR = "\0"  # between a text's tokens for explanations: no token contains it


class NgramCounter(TransformerMixin, BaseEstimator):
    """Counts of content words and of Chinese character n-grams, one row per text.

    Parameters:
        min_df: a feature seen in fewer training texts than this is dropped.
        char_ngram_max: longest character n-gram (1 to 3).
    """

    def __init__(self, min_df: int = 2, char_ngram_max: int = 3):
        self.min_df = min_df
        self.char_ngram_max = char_ngram_max

    def fit(self, texts, y=None):
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts, y=None):
        """Learn the vocabulary and count ``texts`` with it, segmenting each text once."""
        words_per_text, joined = self._analyse(texts)
        stop = stopwords()
        document_frequency = Counter(word for words in words_per_text for word in set(words) if word not in stop)
        self.words_ = sorted(word for word, count in document_frequency.items() if count >= self.min_df)
        self.word_index_ = {word: index for index, word in enumerate(self.words_)}
        self.char_keys_ = KeyTable(self._frequent_char_keys(joined))
        return self._count(words_per_text, joined)

    def transform(self, texts):
        check_is_fitted(self, "char_keys_")
        return self.counts(texts)

    def counts(self, texts, words_out: list | None = None) -> sp.csr_matrix:
        """``transform`` without scikit-learn's wrapper and checks (a tenth of a
        millisecond per call, for ``features.transform``). ``words_out``, when given,
        receives each text's tokens joined by ``WORD_SEPARATOR`` (what explanations show)."""
        return self._count(*self._analyse(texts, words_out))

    def _frequent_char_keys(self, joined: list[str], chunk: int = 4096) -> np.ndarray:
        """Sorted keys of the character n-grams found in at least ``min_df`` texts. Counted
        a chunk of texts at a time with one-dimensional ``np.unique`` calls: the pairwise
        ``unique(axis=1)`` it replaces was the slowest step of training on 100k texts."""
        chunk_keys, chunk_counts = [], []
        for start in range(0, len(joined), chunk):
            rows, keys = self._char_ngrams(joined[start:start + chunk])
            found, key_ids = np.unique(keys, return_inverse=True)
            pairs, _ = _unique_counts(key_ids.astype(np.int64) * chunk + rows)  # one per (key, text)
            chunk_keys.append(found)
            chunk_counts.append(np.bincount(pairs // chunk, minlength=len(found)))
        if not chunk_keys:
            return np.zeros(0, np.int64)
        keys, key_ids = np.unique(np.concatenate(chunk_keys), return_inverse=True)
        text_counts = np.bincount(key_ids, weights=np.concatenate(chunk_counts), minlength=len(keys))
        return keys[text_counts >= self.min_df]

    def _count(self, words_per_text: list[list[str]], joined: list[str]) -> sp.csr_matrix:
        word_rows, word_columns = [], []
        lookup = self.word_index_.get
        for row, words in enumerate(words_per_text):
            columns = [column for column in map(lookup, words) if column is not None]
            word_columns.extend(columns)
            word_rows.extend([row] * len(columns))
        char_rows, positions = self._known_char_ngrams(joined)
        rows = np.concatenate([np.asarray(word_rows, np.int64), char_rows])
        columns = np.concatenate([np.asarray(word_columns, np.int64), positions + len(self.words_)])
        return _csr_counts(rows, columns, len(joined), self.n_features_)

    @property
    def n_features_(self) -> int:
        return len(self.words_) + len(self.char_keys_.keys)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "char_keys_")
        return np.asarray(self.words_ + [CHAR_MARK + _decode(key) for key in self.char_keys_.keys], dtype=object)

    def _analyse(self, texts, joined_out: list | None = None):
        """Each text's tokens, stop words included (no stop word enters the vocabulary, so
        counting looks them up in vain rather than filtering them first), and those tokens
        joined by ``WORD_SEPARATOR``: the string character n-grams are taken from (its
        Chinese characters, in token order) and explanations read (``joined_out``)."""
        words_per_text, joined = [], []
        for text in texts:
            all_tokens = tokens(text)
            words_per_text.append(all_tokens)
            joined.append(WORD_SEPARATOR.join(all_tokens))
        if joined_out is not None:
            joined_out.extend(joined)
        return words_per_text, joined

    def _char_ngrams(self, joined: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(text row, integer key) of every character n-gram of ``joined``."""
        rows, keys = [], []
        for row_of_position, key, valid in self._ngram_layers(joined):
            rows.append(row_of_position[valid])
            keys.append(key[valid])
        return (np.concatenate(rows), np.concatenate(keys)) if rows else (np.zeros(0, np.int64),) * 2

    def _known_char_ngrams(self, joined: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(text row, vocabulary position) of every character n-gram of ``joined`` in the
        vocabulary. A vocabulary n-gram was in ``min_df`` training texts, and so were both
        (n-1)-grams inside it: an n-gram is looked up only where both of those are known.
        On real text that leaves a fifth of the trigrams and two thirds of the lookups."""
        rows, positions, known = [], [], None
        for row_of_position, key, valid in self._ngram_layers(joined):
            if known is not None:
                valid = valid & known[:-1] & known[1:]
            found = np.full(len(key), -1, np.int64)
            found[valid] = self.char_keys_.lookup(key[valid])
            known = found >= 0
            rows.append(row_of_position[known])
            positions.append(found[known])
        return (np.concatenate(rows), np.concatenate(positions)) if rows else (np.zeros(0, np.int64),) * 2

    def _ngram_layers(self, joined: list[str]):
        """For n from 1 to ``char_ngram_max``: per position of the texts' Chinese characters
        run together (everything else dropped, so an n-gram may span a removed separator,
        punctuation or Latin word), its text row, the key of the n-gram starting there, and
        whether that n-gram lies in one text. The characters are picked out of all texts in
        one array step (a regular expression per text cost 20 µs of its ~300)."""
        points = np.frombuffer("".join(joined).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        han = np.zeros(len(points), bool)
        for low, high in _HAN_RANGES:
            han |= (points >= low) & (points <= high)
        row_of_position = np.repeat(np.arange(len(joined)), [len(text) for text in joined])[han]
        points = points[han].astype(np.int64)
        key = np.zeros(len(points), np.int64)
        for n in range(1, self.char_ngram_max + 1):
            usable = len(points) - n + 1
            if usable <= 0:
                return
            key = (key[:usable] << _CODE_POINT_BITS) | points[n - 1:n - 1 + usable]
            yield row_of_position[:usable], key, row_of_position[:usable] == row_of_position[n - 1:]


def _csr_counts(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> sp.csr_matrix:
    """How often each (row, column) pair occurs, as a canonical float32 CSR matrix (sorted
    indices, no duplicates). One sort of combined keys: half the time of scipy's COO to
    CSR conversion, whose input checks dominated for a single text."""
    pairs, counts = _unique_counts(rows * n_columns + columns)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(pairs // n_columns, minlength=n_rows), out=indptr[1:])
    index_type = np.int32 if max(n_columns, len(pairs)) < 2**31 else np.int64
    return sp.csr_matrix((counts.astype(np.float32), (pairs % n_columns).astype(index_type),
                          indptr.astype(index_type)), shape=(n_rows, n_columns))


def _unique_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``values``, sorted, and how often each occurs. A plain sort: NumPy's
    hash-based ``unique`` took five times as long on the tens of millions of int64 n-gram
    keys of a large training set."""
    values = np.sort(values, kind="stable")
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1]))) if len(values) else np.zeros(0, np.int64)
    return values[starts], np.diff(np.append(starts, len(values)))


def _decode(key: int) -> str:
    characters = []
    key = int(key)
    while key:
        characters.append(chr(key & ((1 << _CODE_POINT_BITS) - 1)))
        key >>= _CODE_POINT_BITS
    return "".join(reversed(characters))


def transform(featuriser: Pipeline, texts, words_out: list | None = None) -> sp.csr_matrix:
    """``featuriser.transform(texts)`` with the TF-IDF step done as plain array arithmetic
    (1 + log tf, times idf, rows scaled to unit length): the same numbers, without the
    input checks that cost more than the arithmetic when a request carries one text.
    ``words_out``, when given, receives each text's tokens joined by ``WORD_SEPARATOR``."""
    counts = featuriser.named_steps["counts"].counts(texts, words_out)  # float32, as the heads' weights
    counts.data = (np.log(counts.data) + 1.0) * featuriser.named_steps["tfidf"].idf_[counts.indices]
    row_of_value = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    lengths = np.sqrt(np.bincount(row_of_value, weights=counts.data ** 2, minlength=counts.shape[0]))
    counts.data /= lengths[row_of_value]  # a row with values has a length above 0
    return counts


def make_featuriser(min_df: int = 2) -> Pipeline:
    """Counts -> sublinear TF-IDF, L2-normalised rows."""
    return Pipeline([
        ("counts", NgramCounter(min_df=min_df)),
        ("tfidf", TfidfTransformer(sublinear_tf=True)),
    ])
