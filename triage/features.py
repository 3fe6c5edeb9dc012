"""Stage 3: features. Words and Chinese character 1- to 3-grams, TF-IDF weighted.

Both kinds matter on real complaints (5-fold macro-F1 on the shared dev set: words 0.911,
characters 0.915, both 0.924). sklearn's ``TfidfVectorizer`` builds and looks up ~1,000
n-gram strings per 300-character text in Python (about 1,300 texts/s); here each n-gram
is an integer made of its code points and all lookups go through a numpy hash table
(``keytable.py``), so counting keeps up with segmentation. Each text gives two blocks of
columns, its whole text and its opening (``NgramCounter``), TF-IDF weighted and scaled to
unit length block by block (``Featuriser``).
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.utils.validation import check_is_fitted

from .compiled import optional
from .derived import DerivedState
from .dialogue import caller_turns
from .errors import ModelError
from .keytable import KeyTable
from .memory import give_back_freed_memory
from .privacy import PLACEHOLDERS
from .segment import stopwords, tokens

_ngrams = optional("_ngrams")  # where it was not built, NumPy array steps do its work
_products = optional("_products")  # where it was not built, SciPy multiplies

CODE_POINT_BITS = 21  # every code point is below 2**21, so a 3-gram fits in an int64 (_arrays.pxd, safety)
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))  # the characters n-grams are made of
CHAR_MARK = "#"  # feature names of character n-grams start with it
OPENING_MARK = "^"  # feature names of the opening's block start with it (no token holds either)
OPENING_CHARS = 20
OPENING_WEIGHT = 0.7
WORD_SEPARATOR = "\0"  # between a text's tokens for explanations: no token contains it
COUNT_CHUNK = 4096  # texts counted at a time while learning (vocabulary, then counts)
_NO_COLUMNS = np.zeros(0, np.int64)


class NgramCounter(DerivedState, TransformerMixin, BaseEstimator):
    """Counts of content words and of Chinese character n-grams, one row per text: a block
    of columns for the whole text, then (``opening_chars``) a block for its opening.

    The opening of a complaint names its matter more often than the rest (a message's
    subject, a caller's first sentence), and the same word there says more: 5-fold
    macro-F1 of the category head on the shared dev set 0.920 -> 0.928 with a block for the
    first 20 characters' tokens, weighed by ``Featuriser``.

    Parameters:
        min_df: a feature seen in fewer training texts than this is dropped.
        char_ngram_max: longest character n-gram (1 to 3).
        opening_chars: the opening is the first tokens up to this many characters
            (punctuation aside); 0 counts no opening block.
    """

    _derived = ("_opening_cache",)

    def __init__(self, min_df: int = 2, char_ngram_max: int = 3, opening_chars: int = OPENING_CHARS):
        self.min_df = min_df
        self.char_ngram_max = char_ngram_max
        self.opening_chars = opening_chars

    def fit(self, texts, y=None):
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts, y=None):
        """Learn the vocabulary of each block and count ``texts`` with it, segmenting each
        text once. Only each text's tokens joined into one string are kept between the two
        passes, its list of tokens made again from it a chunk at a time (``_word_chunks``):
        on 100,000 texts the lists were 15 million string objects, about 0.8 GB."""
        joined = [WORD_SEPARATOR.join(matter_tokens(text)) for text in texts]  # as ``_analyse`` joins them
        frequencies = [Counter(), Counter()]  # per block: in how many texts each word is
        opening_strings = []
        stop = stopwords()
        for _, words_per_text in _word_chunks(joined):
            blocks = [words_per_text]
            if self.opening_chars:
                blocks.append(self._openings(words_per_text))
                opening_strings += [WORD_SEPARATOR.join(words) for words in blocks[1]]
            for frequency, block in zip(frequencies, blocks):
                frequency.update(word for words in block for word in set(words) if word not in stop)
        strings = [joined, opening_strings] if self.opening_chars else [joined]
        self.vocabularies_ = [_Vocabulary.learn(frequency, block, self.min_df, self.char_ngram_max)
                              for frequency, block in zip(frequencies, strings)]
        del opening_strings, strings
        self.block_starts_ = np.cumsum([0] + [vocabulary.n_features for vocabulary in self.vocabularies_])
        # A chunk of texts at a time: arrays of one value per n-gram of 100,000 texts run to
        # gigabytes, and fresh pages for them cost more than the counting.
        parts = [self._count(words_per_text, chunk, self._openings(words_per_text))
                 for chunk, words_per_text in _word_chunks(joined)]
        return _stack_rows(parts or [self._count([], [], self._openings([]))])

    def transform(self, texts):
        check_is_fitted(self, "vocabularies_")
        return self.counts(texts).matrix()

    def counts(self, texts, words_out: list | None = None, turns_read: bool = False) -> Rows:
        """``transform``'s counts as ``Rows``, without scikit-learn's wrapper and checks (a
        tenth of a millisecond per call, for ``Featuriser.rows``). ``words_out``, when given,
        receives each text's tokens joined by ``WORD_SEPARATOR`` (what explanations show);
        ``turns_read``: the texts are already the caller's turns (``dialogue.caller_turns``)."""
        words_per_text, joined = self._analyse(texts, words_out, turns_read)
        return self._count(words_per_text, joined, self._openings(words_per_text))

    @property
    def n_features_(self) -> int:
        return int(self.block_starts_[-1])

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "vocabularies_")
        return np.asarray([mark + name for mark, vocabulary in zip(("", OPENING_MARK), self.vocabularies_)
                           for name in vocabulary.names()], dtype=object)

    def _openings(self, words_per_text: list[list[str]]) -> list[list[str]] | None:
        """Each text's opening tokens; None without an opening block."""
        return [_opening(words, self.opening_chars) for words in words_per_text] if self.opening_chars else None

    def _count(self, words_per_text: list[list[str]], joined: list[str], openings: list[list[str]] | None
               ) -> Rows:
        # The opening's tokens joined are a prefix of the text's (``joined``): its words are the
        # text's first ones, its character n-grams those of the text that end inside that
        # prefix. Each is a feature of the text as well (seen in as many training texts as
        # openings at least), so the opening's columns are the text's found in that prefix,
        # renamed (``_opening_columns``), not looked up again.
        opening_tokens = opening_lengths = None
        if openings is not None:
            opening_tokens = list(map(len, openings))
            opening_lengths = [sum(map(len, words)) + len(words) - 1 if words else 0 for words in openings]
        if _ngrams is None:
            return self._count_by_array_steps(words_per_text, joined, opening_tokens, opening_lengths)
        body = self.vocabularies_[0]
        indptr, indices, counts = _ngrams.count(
            words_per_text, joined, body.word_index, body.char_columns, self.char_ngram_max,
            *body.char_keys.probe_arrays(), opening_tokens, opening_lengths,
            _NO_COLUMNS if openings is None else self._opening_columns(), int(self.block_starts_[1]), self.n_features_)
        return _csr(indptr, indices, counts, self.n_features_)

    def _count_by_array_steps(self, words_per_text: list[list[str]], joined: list[str],
                              opening_tokens: list[int] | None, opening_lengths: list[int] | None) -> Rows:
        """``_count`` in NumPy array steps: what runs where the compiled loop (``_ngrams``)
        was not built, and its definition. The opening is each text's first
        ``opening_tokens`` tokens, the first ``opening_lengths`` characters of its ``joined``."""
        ends = None
        if opening_tokens is not None:
            lengths = np.fromiter(map(len, joined), np.int64, len(joined))
            ends = np.cumsum(lengths) - lengths + np.asarray(opening_lengths, np.int64)  # in ``joined`` run together
        rows, columns, in_opening = self.vocabularies_[0].entries(words_per_text, joined, self.char_ngram_max,
                                                                  opening_tokens, ends)
        if opening_tokens is not None:
            opening_columns = self._opening_columns()[columns[in_opening]]
            known = opening_columns >= 0
            rows = np.concatenate([rows, rows[in_opening][known]])
            columns = np.concatenate([columns, opening_columns[known] + self.block_starts_[1]])
        return _csr_counts(rows, columns, len(joined), self.n_features_)

    def _opening_columns(self) -> np.ndarray:
        """Per column of the text's block, the opening block's column of the same word or
        n-gram (counted from the block's start), or -1. Derived on first use, again if the
        vocabularies are learned anew."""
        cache = self.__dict__.get("_opening_cache")
        if cache is None or cache[0] is not self.vocabularies_:
            body, opening = self.vocabularies_
            words = [body.word_index.get(word, -1) for word in opening.words]
            positions = body.char_keys.lookup(opening.char_keys.keys)
            if min(words, default=0) < 0 or (positions < 0).any():  # not learned by this class
                raise ModelError("this model's features are inconsistent: its opening block holds words or "
                                 "n-grams its whole-text block does not; train it again with this triage")
            found = np.full(body.n_features, -1, np.int64)
            found[words] = [opening.word_index[word] for word in opening.words]
            found[body.char_columns[positions]] = opening.char_columns
            self._opening_cache = cache = (self.vocabularies_, found)
        return cache[1]

    def _analyse(self, texts, joined_out: list | None = None, turns_read: bool = False):
        """Each text's tokens, stop words included (no stop word enters the vocabulary, so
        counting looks them up in vain rather than filtering them first), and those tokens
        joined by ``WORD_SEPARATOR``: the string character n-grams are taken from (its
        Chinese characters, in token order) and explanations read (``joined_out``)."""
        words_per_text, joined = [], []
        tokens_of = read_tokens if turns_read else matter_tokens
        for text in texts:
            all_tokens = tokens_of(text)
            words_per_text.append(all_tokens)
            joined.append(WORD_SEPARATOR.join(all_tokens))
        if joined_out is not None:
            joined_out.extend(joined)
        return words_per_text, joined


_PERSONAL_DATA = frozenset(PLACEHOLDERS)
_CALLERS_NUMBERS = frozenset(("〔电话〕", "〔身份证号〕"))  # a bank card or a plate may be the matter itself
_INTRODUCING = frozenset(("电话", "手机", "手机号", "手机号码", "号码", "电话号码", "联系电话", "联系方式", "身份证", "身份证号",
                          "身份证号码", "证件号", "证件号码", "是", "为", ":"))


def matter_tokens(text: str) -> list[str]:
    """``tokens`` of the caller's turns of ``text`` (``dialogue.caller_turns``: an operator's
    script is not the matter) less personal-data placeholders (``〔身份证号〕``, ``〔电话〕``):
    the number a caller gives says who is calling, not what about. Read as a word and as its
    characters' n-grams (身份, 身份证), a masked ID number sent 11 of 67 everyday cases to
    公安局 (docs/BENCHMARKS.md, session 28)."""
    return read_tokens(caller_turns(text))


def read_tokens(read: str) -> list[str]:
    """``matter_tokens`` of a text already reduced to the caller's turns (``read``, as
    ``model._prepare`` makes it for the safety rules too): taken once a text, not twice.
    The words that introduce a caller's own phone or ID number (电话, 手机号是, 身份证号码)
    go with it: they too say who is calling."""
    found = tokens(read)
    if "〔" in read:  # only a masked text holds a placeholder
        kept: list[str] = []
        for token in found:
            if token in _CALLERS_NUMBERS:
                while kept and kept[-1] in _INTRODUCING:
                    kept.pop()
            if token not in _PERSONAL_DATA:
                kept.append(token)
        found = kept
    return found


def _word_chunks(joined: list[str]):
    """``COUNT_CHUNK`` texts' joined tokens at a time, and each text's tokens split from them
    again (no token is empty or holds the separator; a text without tokens is the empty string)."""
    for start in range(0, len(joined), COUNT_CHUNK):
        chunk = joined[start:start + COUNT_CHUNK]
        yield chunk, [text.split(WORD_SEPARATOR) if text else [] for text in chunk]


def _opening(words: list[str], chars: int) -> list[str]:
    """The first of ``words`` until they hold ``chars`` characters."""
    opening, held = [], 0
    for word in words:
        if held >= chars:
            break
        opening.append(word)
        held += len(word)
    return opening


class _Vocabulary:
    """One block's columns: the words and the character n-grams seen in ``min_df``
    training texts, the most frequent first. The SVM solver and the heads' products then
    find the weights of the features most rows hold side by side in cache (a binary SVM on
    100,000 retraining rows: 3.5-4.4 s against 4.5-8.1 s with words and n-grams in
    alphabetical order)."""

    def __init__(self, words: list[str], char_keys: KeyTable, columns: np.ndarray):
        self.words = words
        self.word_index = dict(zip(words, columns[:len(words)].tolist()))
        self.char_keys = char_keys
        self.char_columns = columns[len(words):]  # by position in ``char_keys``

    def __setstate__(self, state):  # a vocabulary saved before columns by frequency: alphabetical
        state.setdefault("char_columns", np.arange(len(state["words"]), len(state["words"]) + len(state["char_keys"].keys)))
        self.__dict__.update(state)

    @classmethod
    def learn(cls, document_frequency: Counter, joined: list[str], min_df: int, char_ngram_max: int) -> "_Vocabulary":
        """From the texts' ``document_frequency`` of words (stop words left out) and their
        tokens joined (``joined``), where the character n-grams are counted."""
        words = sorted(word for word, count in document_frequency.items() if count >= min_df)
        char_keys, char_frequency = _frequent_char_keys(joined, min_df, char_ngram_max)
        frequency = np.concatenate([np.array([document_frequency[word] for word in words], np.int64), char_frequency])
        columns = np.empty(len(frequency), np.int64)
        columns[np.argsort(-frequency, kind="stable")] = np.arange(len(frequency))
        return cls(words, KeyTable(char_keys), columns)

    @property
    def n_features(self) -> int:
        return len(self.words) + len(self.char_keys.keys)

    def names(self) -> list[str]:
        names = [""] * self.n_features
        for word, column in self.word_index.items():
            names[column] = word
        for key, column in zip(self.char_keys.keys.tolist(), self.char_columns.tolist()):
            names[column] = CHAR_MARK + _decode(key)
        return names

    def entries(self, words_per_text: list[list[str]], joined: list[str], char_ngram_max: int,
                opening_tokens: list[int] | None = None, opening_ends: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(text row, column) of each known word of ``words_per_text`` and character n-gram
        of ``joined`` (each text's tokens joined), once per occurrence, and whether each lies
        in its text's opening: its first ``opening_tokens`` words, the n-grams that end
        before ``opening_ends`` (None without them)."""
        word_rows, word_columns, known_in_opening = [], [], []
        lookup = self.word_index.get
        for row, words in enumerate(words_per_text):
            found = list(map(lookup, words))
            columns = [column for column in found if column is not None]
            word_columns.extend(columns)
            word_rows.extend([row] * len(columns))
            if opening_tokens is not None:  # the row's first this many known words
                known_in_opening.append(opening_tokens[row] - found[:opening_tokens[row]].count(None))
        word_rows = np.asarray(word_rows, np.int64)
        char_rows, positions, lasts = self._known_char_ngrams(joined, char_ngram_max)
        rows = np.concatenate([word_rows, char_rows])
        columns = np.concatenate([np.asarray(word_columns, np.int64), self.char_columns[positions]])
        if opening_tokens is None:
            return rows, columns, None
        first_of_row = np.searchsorted(word_rows, np.arange(len(words_per_text)))
        in_row = np.arange(len(word_rows)) - first_of_row[word_rows]  # each word's place among its row's known ones
        return rows, columns, np.concatenate([in_row < np.asarray(known_in_opening, np.int64)[word_rows],
                                              lasts < opening_ends[char_rows]])

    def _known_char_ngrams(self, joined: list[str], char_ngram_max: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(text row, vocabulary position, where its last character stands in ``joined`` run
        together) of every character n-gram of ``joined`` in the vocabulary. A vocabulary
        n-gram was in ``min_df`` training texts, and so were both (n-1)-grams inside it: an
        n-gram is looked up only where both of those are known. On real text that leaves a
        fifth of the trigrams and two thirds of the lookups."""
        rows, positions, lasts, known = [], [], [], None
        for row_of_position, key, valid, last in _ngram_layers(joined, char_ngram_max):
            if known is not None:
                valid = valid & known[:-1] & known[1:]
            found = np.full(len(key), -1, np.int64)
            found[valid] = self.char_keys.lookup(key[valid])
            known = found >= 0
            rows.append(row_of_position[known])
            positions.append(found[known])
            lasts.append(last[known])
        if not rows:
            return (np.zeros(0, np.int64),) * 3
        return np.concatenate(rows), np.concatenate(positions), np.concatenate(lasts)


def _frequent_char_keys(joined: list[str], min_df: int, char_ngram_max: int, chunk: int = COUNT_CHUNK
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted keys of the character n-grams found in at least ``min_df`` texts, and in how many. Counted
    a chunk of texts at a time with one-dimensional ``np.unique`` calls: the pairwise
    ``unique(axis=1)`` it replaces was the slowest step of training on 100k texts."""
    chunk_keys, chunk_counts = [], []
    for start in range(0, len(joined), chunk):
        rows, keys = _char_ngrams(joined[start:start + chunk], char_ngram_max)
        found, key_ids = np.unique(keys, return_inverse=True)
        pairs, _ = _unique_counts(key_ids.astype(np.int64) * chunk + rows)  # one per (key, text)
        chunk_keys.append(found)
        chunk_counts.append(np.bincount(pairs // chunk, minlength=len(found)))
    if not chunk_keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys, key_ids = np.unique(np.concatenate(chunk_keys), return_inverse=True)
    text_counts = np.bincount(key_ids, weights=np.concatenate(chunk_counts), minlength=len(keys)).astype(np.int64)
    frequent = text_counts >= min_df
    return keys[frequent], text_counts[frequent]


def _char_ngrams(joined: list[str], char_ngram_max: int) -> tuple[np.ndarray, np.ndarray]:
    """(text row, integer key) of every character n-gram of ``joined``."""
    rows, keys = [], []
    for row_of_position, key, valid, _ in _ngram_layers(joined, char_ngram_max):
        rows.append(row_of_position[valid])
        keys.append(key[valid])
    return (np.concatenate(rows), np.concatenate(keys)) if rows else (np.zeros(0, np.int64),) * 2


def _ngram_layers(joined: list[str], char_ngram_max: int):
    """For n from 1 to ``char_ngram_max``: per position of the texts' Chinese characters
    run together (everything else dropped, so an n-gram may span a removed separator,
    punctuation or Latin word), its text row, the key of the n-gram starting there,
    whether that n-gram lies in one text, and where its last character stands in
    ``joined`` run together. The characters are picked out of all texts in
    one array step (a regular expression per text cost 20 µs of its ~300)."""
    points = np.frombuffer("".join(joined).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    han = np.zeros(len(points), bool)
    for low, high in _HAN_RANGES:
        han |= (points >= low) & (points <= high)
    row_of_position = np.repeat(np.arange(len(joined)), [len(text) for text in joined])[han]
    place = np.flatnonzero(han)
    points = points[han].astype(np.int64)
    key = np.zeros(len(points), np.int64)
    for n in range(1, char_ngram_max + 1):
        usable = len(points) - n + 1
        if usable <= 0:
            return
        key = (key[:usable] << CODE_POINT_BITS) | points[n - 1:n - 1 + usable]
        yield row_of_position[:usable], key, row_of_position[:usable] == row_of_position[n - 1:], place[n - 1:]


def _csr_counts(rows: np.ndarray, columns: np.ndarray, n_rows: int, n_columns: int) -> Rows:
    """How often each (row, column) pair occurs, as canonical float32 CSR ``Rows`` (sorted
    indices, no duplicates). One sort of combined keys: half the time of scipy's COO to
    CSR conversion, whose input checks dominated for a single text."""
    pairs, counts = _unique_counts(rows * n_columns + columns)
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(pairs // n_columns, minlength=n_rows), out=indptr[1:])
    return _csr(indptr, pairs % n_columns, counts, n_columns)


def _csr(indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray, n_columns: int) -> Rows:
    """The float32 CSR ``Rows`` of canonical (sorted, distinct) ``indices`` and their ``counts``,
    with the index type SciPy would choose."""
    index_type = _index_type(n_columns, len(indices))
    return Rows(counts.astype(np.float32, copy=False), indices.astype(index_type, copy=False),
                indptr.astype(index_type, copy=False), (len(indptr) - 1, n_columns))


class Rows:
    """A CSR matrix's arrays, canonical (each row's indices sorted and distinct), without
    SciPy's matrix around them: what predicting reads (``explain.top_terms`` its arrays,
    ``HeadStack.predict_proba`` its product). SciPy checks every matrix it makes, and one
    text's matrix and product took a tenth of its predict (docs/BENCHMARKS.md, session 23).
    ``matrix()`` makes the SciPy matrix of the same arrays."""

    __slots__ = ("data", "indices", "indptr", "shape")

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape

    @property
    def nnz(self) -> int:
        return len(self.data)

    def matrix(self) -> sp.csr_matrix:
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def __matmul__(self, dense: np.ndarray) -> np.ndarray:
        """The rows times ``dense`` (a row per column), a dense array: by the compiled loop
        (``_products``, SciPy's own loop) for float32 values and a C-ordered float32
        ``dense``, else by SciPy; the same bits either way."""
        if _products is not None and self.data.dtype == dense.dtype == np.float32 and dense.ndim == 2 \
                and dense.flags.c_contiguous and dense.shape[0] == self.shape[1]:
            return _products.product(self.indptr, self.indices, self.data, dense)
        return np.asarray(self.matrix() @ dense)


def _stack_rows(parts: list[Rows]) -> sp.csr_matrix:
    """The rows of canonical ``parts`` one after another, each part let go, and its heap
    pages handed back, once copied (the list is emptied). Concatenated, every part and the
    whole matrix were held at once: featurising 100,000 texts peaked at 1,475 MB, 1,166 so
    (docs/BENCHMARKS.md, session 19). scipy's ``vstack`` took 5 s of 60 on 100,000 texts."""
    offsets = np.cumsum([0] + [part.nnz for part in parts])
    index_type = _index_type(parts[0].shape[1], offsets[-1])
    n_rows, n_columns = sum(part.shape[0] for part in parts), parts[0].shape[1]
    data, indices = np.empty(offsets[-1], parts[0].data.dtype), np.empty(offsets[-1], index_type)
    indptr = np.zeros(n_rows + 1, index_type)
    row = 0
    for offset, stop in zip(offsets[:-1].tolist(), offsets[1:].tolist()):
        part = parts.pop(0)
        data[offset:stop], indices[offset:stop] = part.data, part.indices
        indptr[row + 1:row + 1 + part.shape[0]] = part.indptr[1:]
        indptr[row + 1:row + 1 + part.shape[0]] += offset
        row += part.shape[0]
        del part
        give_back_freed_memory()
    stacked = sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_columns))
    stacked.has_sorted_indices = True
    return stacked


def _index_type(n_columns: int, n_values: int):
    """The narrowest index type scipy takes for a CSR matrix of this many columns and values."""
    return np.int32 if max(n_columns, n_values) < 2**31 else np.int64


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
        characters.append(chr(key & ((1 << CODE_POINT_BITS) - 1)))
        key >>= CODE_POINT_BITS
    return "".join(reversed(characters))


class Featuriser(TransformerMixin, BaseEstimator):
    """Counts -> sublinear TF-IDF (1 + log tf, times the stock ``TfidfTransformer``'s idf),
    each block of ``NgramCounter`` scaled to unit length, the opening's then weighed by
    ``opening_weight``. The body block alone is the unit TF-IDF row that texts are compared
    with (``body``: repeats, hot issues).

    Parameters:
        min_df, opening_chars: as ``NgramCounter``'s.
        opening_weight: the opening block's length against the whole text's (1).
    """

    def __init__(self, min_df: int = 2, opening_chars: int = OPENING_CHARS, opening_weight: float = OPENING_WEIGHT):
        self.min_df = min_df
        self.opening_chars = opening_chars
        self.opening_weight = opening_weight

    def fit(self, texts, y=None):
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts, y=None) -> sp.csr_matrix:
        self.counter_ = NgramCounter(min_df=self.min_df, opening_chars=self.opening_chars)
        counts = self.counter_.fit_transform(texts)
        self.idf_ = TfidfTransformer(sublinear_tf=True).fit(counts).idf_
        return self._weigh(counts)

    def transform(self, texts, words_out: list | None = None) -> sp.csr_matrix:
        """The features of ``texts``; ``words_out``, when given, receives each text's
        tokens joined by ``WORD_SEPARATOR`` (what explanations show)."""
        return self.rows(texts, words_out).matrix()

    def rows(self, texts, words_out: list | None = None, turns_read: bool = False) -> Rows:
        """``transform`` as ``Rows``, what predicting reads. Array arithmetic only:
        scikit-learn's input checks cost more than it when a request carries one text.
        ``turns_read``: ``texts`` are already the caller's turns (``dialogue.caller_turns``)."""
        return self._weigh(self.counter_.counts(texts, words_out, turns_read))

    def wording(self, texts) -> sp.csr_matrix:
        """The unit TF-IDF rows of the whole ``texts``: what texts are compared with."""
        return self.body(self.transform(texts))

    def body(self, features: sp.csr_matrix) -> sp.csr_matrix:
        """The columns of the whole text's block of ``features``: unit rows."""
        return features[:, :self.body_columns] if features.shape[1] > self.body_columns else features

    def body_ends(self, features: sp.csr_matrix) -> np.ndarray:
        """Where each row's body block ends in ``features.indices`` (sorted: it comes first):
        its start plus its values in the body, counted by a running sum instead of rebuilding
        each value's row, which ``_weigh`` has just done."""
        in_body = np.concatenate(([0], np.cumsum(features.indices < self.body_columns)))
        starts, stops = features.indptr[:-1], features.indptr[1:]
        return starts + in_body[stops] - in_body[starts]

    @property
    def body_columns(self) -> int:
        return int(self.counter_.block_starts_[1])

    @property
    def n_features_(self) -> int:
        return self.counter_.n_features_ if hasattr(self, "counter_") else 0

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "idf_")
        return self.counter_.get_feature_names_out()

    def _weigh(self, counts: sp.csr_matrix | Rows) -> sp.csr_matrix | Rows:
        """``counts`` TF-IDF weighted in place, ``COUNT_CHUNK`` rows at a time: on 100,000
        texts each temporary of the whole matrix (a row, a block, a weight per value) was
        47 million values, and together they were retraining's peak of memory. Rows that
        fit one chunk (a request's, a batch chunk's) are weighed whole, without the slices."""
        if counts.shape[0] <= COUNT_CHUNK:  # ``_weigh_rows`` gives the values in the type below
            counts.data = self._weigh_rows(counts.data, counts.indices, np.diff(counts.indptr))
            return counts
        dtype = np.result_type(counts.data, self.idf_)
        data = counts.data if counts.data.dtype == dtype else np.empty(counts.nnz, dtype)  # in place: no second copy
        for start in range(0, counts.shape[0], COUNT_CHUNK):
            indptr = counts.indptr[start:start + COUNT_CHUNK + 1]
            values = slice(indptr[0], indptr[-1])
            data[values] = self._weigh_rows(counts.data[values], counts.indices[values], np.diff(indptr))
        counts.data = data
        return counts

    def _weigh_rows(self, counts: np.ndarray, indices: np.ndarray, lengths_of_rows: np.ndarray) -> np.ndarray:
        """The weighted values of consecutive rows given by their ``counts``, ``indices`` and
        how many values each row has. By the compiled loop (``_ngrams.weigh``) where it was
        built, else (and by definition) in these NumPy steps."""
        starts = self.counter_.block_starts_
        log_counts = np.log(counts) + 1.0
        if _ngrams is not None and len(starts) <= 3 and np.can_cast(log_counts.dtype, self.idf_.dtype):
            # float32 counts times float64 weights are multiplied in float64 by NumPy too
            return _ngrams.weigh(log_counts.astype(self.idf_.dtype, copy=False), indices, lengths_of_rows, self.idf_,
                                 int(starts[1]) if len(starts) == 3 else -1, float(self.opening_weight))
        weights = log_counts * self.idf_[indices]
        rows = np.repeat(np.arange(len(lengths_of_rows)), lengths_of_rows)
        blocks = len(starts) - 1
        cell = rows
        if blocks > 1:  # (row, block) of each value; comparisons, a fifth of searchsorted's time
            block = sum((indices >= start).view(np.int8) for start in starts[1:-1])
            cell = rows * blocks + block
        lengths = np.sqrt(np.bincount(cell, weights=weights ** 2, minlength=len(lengths_of_rows) * blocks))
        weights /= lengths[cell]  # a cell with values has a length above 0
        if blocks > 1:
            weights *= np.array([1.0, self.opening_weight])[block]
        return weights
