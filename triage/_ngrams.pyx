# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Stage 3's inner loop, compiled: the known character n-grams of texts, one pass over
their characters with the vocabulary's hash table probed in C.

``features._Vocabulary._known_char_ngrams`` spells out the same result in NumPy array
steps (``features._ngram_layers``), and is used where this module was not built. Those
steps are some thirty NumPy calls: for the one text of a request their fixed cost was
86 µs of the 93 this loop replaces (docs/BENCHMARKS.md, session 22).
"""
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint64_t

cdef uint64_t _GOLDEN = 0x9E3779B97F4A7C15ULL  # keytable._GOLDEN
cdef int _CODE_POINT_BITS = 21  # features._CODE_POINT_BITS


cdef inline bint _han(Py_UCS4 character) noexcept nogil:
    # features._HAN_RANGES
    return 0x3400 <= character <= 0x4DBF or 0x4E00 <= character <= 0x9FFF


cdef inline int64_t _position(int64_t key, const int32_t[::1] slots, const int64_t[::1] slot_keys,
                              int shift, uint64_t mask) noexcept nogil:
    """KeyTable.lookup of one key: its home slot by Fibonacci hashing, then linear probing."""
    cdef uint64_t slot = (<uint64_t>key * _GOLDEN) >> shift
    cdef int32_t index
    while True:
        index = slots[slot]
        if index < 0 or slot_keys[slot] == key:
            return index
        slot = (slot + 1) & mask


def known_char_ngrams(list joined, int char_ngram_max, const int32_t[::1] dense, const int32_t[::1] slots,
                      const int64_t[::1] slot_keys, int shift):
    """(text row, vocabulary position, where its last character stands in ``joined`` run
    together) of every known character n-gram of ``joined``, n from 1 to ``char_ngram_max``
    (at most 3): the n-grams of each text's Chinese characters, everything else skipped. An
    n-gram is looked up only where both (n-1)-grams inside it are known, as
    ``_known_char_ngrams`` does.

    ``dense``, ``slots``, ``slot_keys`` and ``shift`` are the vocabulary's ``KeyTable``
    (``KeyTable.probe_arrays``): every single character's position by code point, and the
    open-addressing table of the longer keys."""
    cdef Py_ssize_t chinese = 0
    cdef str text
    cdef Py_UCS4 character
    for text in joined:  # at most this many n-grams of each length: the arrays are made once, to size
        for character in text:
            chinese += _han(character)
    found_rows, found_positions, found_lasts = (np.empty(chinese * char_ngram_max, np.int64) for _ in range(3))
    cdef int64_t[::1] rows = found_rows, positions = found_positions, lasts = found_lasts
    cdef uint64_t mask = slots.shape[0] - 1
    cdef Py_ssize_t out = 0, place = 0, row = 0
    cdef int64_t code, position, before = 0, before_that = 0  # the text's last two Chinese characters
    cdef bint unigram, bigram, unigram_before, bigram_before  # whether those n-grams are known
    for text in joined:
        unigram_before = bigram_before = False
        for character in text:
            if _han(character):
                code = <int64_t>character
                position = dense[code]
                unigram = position >= 0
                if unigram:
                    rows[out], positions[out], lasts[out] = row, position, place
                    out += 1
                bigram = False
                if char_ngram_max >= 2 and unigram and unigram_before:
                    position = _position((before << _CODE_POINT_BITS) | code, slots, slot_keys, shift, mask)
                    if position >= 0:
                        bigram = True
                        rows[out], positions[out], lasts[out] = row, position, place
                        out += 1
                if char_ngram_max >= 3 and bigram and bigram_before:
                    position = _position((((before_that << _CODE_POINT_BITS) | before) << _CODE_POINT_BITS) | code,
                                         slots, slot_keys, shift, mask)
                    if position >= 0:
                        rows[out], positions[out], lasts[out] = row, position, place
                        out += 1
                before_that, before = before, code
                unigram_before, bigram_before = unigram, bigram
            place += 1
        row += 1
    return found_rows[:out], found_positions[:out], found_lasts[:out]
