# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Stage 3's counting, compiled: each text's known words and character n-grams, with their
opening's, counted into a CSR matrix in one pass over its tokens and characters.

``features.NgramCounter._count_by_array_steps`` spells out the same matrix in NumPy array
steps (``_Vocabulary.entries``, ``_ngram_layers``, ``_csr_counts``), and is used where this
module was not built. Those steps are some eighty NumPy calls: for the one text of a
request their fixed cost was most of featurising it (docs/BENCHMARKS.md, session 22).
"""
import numpy as np

from libc.math cimport sqrt
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport calloc, free, realloc
from libc.string cimport memset

from ._arrays cimport CODE_POINT_BITS, index_type, is_han, length_type, table_position, value_type



cdef extern from *:
    int __builtin_ctzll(unsigned long long) nogil


# Per column, how often the current row holds it and (a bit) whether it does: kept between
# calls, each row clearing what it set (zeroing 110,000 columns per call cost more than
# counting one text). Only this module touches them, and it runs no Python code while it
# does (a dict lookup of a str runs none), so no other thread can come between.
cdef int32_t *_seen = NULL
cdef uint64_t *_present = NULL
cdef Py_ssize_t _held = 0  # how many columns they cover


cdef int _hold(Py_ssize_t n_columns) except -1:
    global _seen, _present, _held
    if n_columns <= _held:
        return 0
    free(_seen)
    free(_present)
    _seen = <int32_t *>calloc(n_columns, sizeof(int32_t))
    _present = <uint64_t *>calloc(n_columns // 64 + 1, sizeof(uint64_t))
    _held = n_columns if _seen != NULL and _present != NULL else 0
    if not _held:
        raise MemoryError()
    return 0


cdef struct _Buffer:  # a growing array of int64
    int64_t *values
    Py_ssize_t size, capacity


cdef int _push(_Buffer *buffer, int64_t value) except -1:
    cdef int64_t *grown
    if buffer.size == buffer.capacity:
        buffer.capacity = max(1024, 2 * buffer.capacity)
        grown = <int64_t *>realloc(buffer.values, buffer.capacity * sizeof(int64_t))
        if grown == NULL:
            raise MemoryError()
        buffer.values = grown
    buffer.values[buffer.size] = value
    buffer.size += 1
    return 0


cdef inline int _column(_Buffer *row, int64_t column, bint opening, const int64_t[::1] opening_columns,
                        int64_t opening_start) except -1:
    """A known feature of the row's text: its column, and its opening twin's where it lies
    in the opening and the opening block knows it."""
    _push(row, column)
    if opening and opening_columns[column] >= 0:
        _push(row, opening_columns[column] + opening_start)
    return 0


def count(list words_per_text, list joined, dict word_index, const int64_t[::1] char_columns, int char_ngram_max,
          const int32_t[::1] dense, const int32_t[::1] slots, const int64_t[::1] slot_keys, int shift,
          opening_tokens, opening_lengths, const int64_t[::1] opening_columns, int64_t opening_start,
          int64_t n_columns):
    """(indptr, indices, counts) of the canonical CSR count matrix of ``NgramCounter._count``:
    per text, its tokens found in ``word_index`` and the character n-grams of its Chinese
    characters (everything else skipped; n from 1 to ``char_ngram_max``, at most 3) found
    in the character table, an n-gram looked up only where both (n-1)-grams inside it are
    known; with an opening block, each of those among the first ``opening_tokens[row]``
    tokens or ending inside the first ``opening_lengths[row]`` characters of ``joined[row]``
    counts in ``opening_columns`` (by column, -1 for none) from ``opening_start`` as well.

    ``dense``, ``slots``, ``slot_keys`` and ``shift`` are the character table's
    (``KeyTable.probe_arrays``): every single character's position by code point, and the
    open-addressing table of the longer keys; ``char_columns`` the column of each position."""
    cdef Py_ssize_t n_rows = len(joined), row, place, token, first, value, word_count
    cdef _Buffer entries = _Buffer(NULL, 0, 0), indices = _Buffer(NULL, 0, 0), counts = _Buffer(NULL, 0, 0)
    cdef uint64_t bits
    cdef bint with_opening = opening_tokens is not None
    cdef Py_ssize_t opening_words = 0, opening_length = 0
    cdef str text
    cdef list words
    cdef object column
    cdef Py_UCS4 character
    cdef int64_t code, position, before = 0, before_that = 0, smallest, largest
    cdef bint unigram, bigram, unigram_before, bigram_before  # whether those n-grams are known
    indptr = np.zeros(n_rows + 1, np.int64)
    cdef int64_t[::1] row_starts = indptr
    _hold(n_columns)
    try:
        for row in range(n_rows):
            entries.size = 0
            if with_opening:
                opening_words, opening_length = opening_tokens[row], opening_lengths[row]
            words = words_per_text[row]
            word_count = len(words)
            for token in range(word_count):
                column = word_index.get(words[token])
                if column is not None:
                    _column(&entries, <int64_t>column, with_opening and token < opening_words, opening_columns,
                            opening_start)
            text = joined[row]
            unigram_before = bigram_before = False
            place = 0
            for character in text:
                if is_han(character):
                    code = <int64_t>character
                    position = dense[code]
                    unigram = position >= 0
                    if unigram:
                        _column(&entries, char_columns[position], with_opening and place < opening_length,
                                opening_columns, opening_start)
                    bigram = False
                    if char_ngram_max >= 2 and unigram and unigram_before:
                        position = table_position((before << CODE_POINT_BITS) | code, slots, slot_keys, shift)
                        if position >= 0:
                            bigram = True
                            _column(&entries, char_columns[position], with_opening and place < opening_length,
                                    opening_columns, opening_start)
                    if char_ngram_max >= 3 and bigram and bigram_before:
                        position = table_position(
                            (((before_that << CODE_POINT_BITS) | before) << CODE_POINT_BITS) | code, slots, slot_keys,
                            shift)
                        if position >= 0:
                            _column(&entries, char_columns[position], with_opening and place < opening_length,
                                    opening_columns, opening_start)
                    before_that, before = before, code
                    unigram_before, bigram_before = unigram, bigram
                place += 1
            # The row's distinct columns in order: marked in a bitmap, read back word by word
            # between the smallest and the largest (a sort of the row's few hundred
            # columns without comparing them), each mark and count cleared for the next row.
            if entries.size:
                smallest = largest = entries.values[0]
                for value in range(entries.size):
                    position = entries.values[value]
                    _seen[position] += 1
                    _present[position >> 6] |= (<uint64_t>1) << (position & 63)
                    smallest = min(smallest, position)
                    largest = max(largest, position)
                for first in range(smallest >> 6, (largest >> 6) + 1):
                    bits = _present[first]
                    while bits:
                        position = (first << 6) + __builtin_ctzll(bits)
                        bits &= bits - 1
                        _push(&indices, position)
                        _push(&counts, _seen[position])
                        _seen[position] = 0
                    _present[first] = 0
            row_starts[row + 1] = indices.size
        return (indptr, np.asarray(<int64_t[:indices.size]>indices.values).copy() if indices.size else np.zeros(0, np.int64),
                np.asarray(<int64_t[:counts.size]>counts.values).astype(np.float32) if counts.size else np.zeros(0, np.float32))
    except BaseException:  # a row left half counted: clear every mark
        memset(_seen, 0, _held * sizeof(int32_t))
        memset(_present, 0, (_held // 64 + 1) * sizeof(uint64_t))
        raise
    finally:
        free(entries.values)
        free(indices.values)
        free(counts.values)


def weigh(const value_type[::1] log_counts, const index_type[::1] columns,
          const length_type[::1] lengths_of_rows, const value_type[::1] idf, int64_t opening_start,
          double opening_weight):
    """``features.Featuriser._weigh_rows`` of consecutive rows (its definition, and what runs
    where this module was not built), given ``log_counts`` = ``np.log(counts) + 1.0``: each
    value times its column's ``idf``, scaled to unit length within its row's block (columns
    from ``opening_start`` on are the opening's; -1: one block), the opening's then times
    ``opening_weight``; ``columns``: each value's column. The NumPy steps' floating-point
    operations in their order and precision (products and squares in the values' type,
    float32 or float64, lengths summed and the scalings done in float64, then rounded to
    the values' type), so the same values to the last bit."""
    weights_array = np.empty(len(log_counts), np.float32 if value_type is float else np.float64)
    cdef value_type[::1] weights = weights_array
    cdef double lengths[2]
    cdef value_type weight
    cdef Py_ssize_t row, value, first = 0, last
    cdef int block
    for row in range(len(lengths_of_rows)):
        last = first + lengths_of_rows[row]
        lengths[0] = lengths[1] = 0.0
        for value in range(first, last):
            weight = log_counts[value] * idf[columns[value]]
            weights[value] = weight
            weight = weight * weight
            lengths[opening_start >= 0 and columns[value] >= opening_start] += <double>weight
        lengths[0], lengths[1] = sqrt(lengths[0]), sqrt(lengths[1])
        for value in range(first, last):
            block = opening_start >= 0 and columns[value] >= opening_start
            weights[value] = <value_type>(<double>weights[value] / lengths[block])
            if opening_start >= 0:
                weights[value] = <value_type>(<double>weights[value] * (opening_weight if block else 1.0))
        first = last
    return weights_array
