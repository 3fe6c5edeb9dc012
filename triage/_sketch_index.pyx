# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Hot-issue sketches in compiled loops: made from TF-IDF rows (``strongest_terms``, a
batch chunk at a time), and the latest sketches of one category indexed by feature
(``SketchIndex``), for grouping a batch file's rows.

``hot_issues.sketch`` sorts a row's values to keep its 64 strongest (9 µs of a batch row's
150). ``strongest_terms`` selects them instead (a quickselect over keys of value and
position, then an insertion sort of the 64), in the same order (value, then position), and
scales them to unit length in float32 as NumPy does, so the same bits.

``hot_issues.cosines`` reads every term of every candidate (100 sketches of 64 terms, 51 KB)
to find the few a new sketch shares, and in a batch run that reading missed the caches the
workers share: grouping was most of the parent process's work (docs/BENCHMARKS.md, session
25). Here each candidate's terms are linked into a list per feature, so a new sketch reads
only the terms it shares. The cosines are the same bits: each shared term's product (the
same float32 multiplication) sits at its place among the candidate's terms, zeros elsewhere
(a term not shared is 0.0 times a weight, and sketch weights are never negative), summed in
NumPy's order for a row (pairwise: eight running sums over blocks of eight).
"""
import numpy as np

from libc.math cimport sqrtf
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

cdef enum:
    PAIRWISE_BLOCK = 128  # NumPy's PW_BLOCKSIZE
    NONE = -1


cdef float _pairwise_sum(const float *values, Py_ssize_t count) noexcept nogil:
    """NumPy's sum of ``count`` float32 ``values`` in a row (its ``FLOAT_pairwise_sum``)."""
    cdef float total, sums[8]
    cdef Py_ssize_t i, j, half
    if count < 8:
        total = 0.0
        for i in range(count):
            total += values[i]
        return total
    if count <= PAIRWISE_BLOCK:
        for j in range(8):
            sums[j] = values[j]
        i = 8
        while i < count - count % 8:
            for j in range(8):
                sums[j] += values[i + j]
            i += 8
        total = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + ((sums[4] + sums[5]) + (sums[6] + sums[7]))
        while i < count:
            total += values[i]
            i += 1
        return total
    half = count // 2
    half -= half % 8
    return _pairwise_sum(values, half) + _pairwise_sum(values + half, count - half)


cdef void _select(uint64_t *keys, Py_ssize_t length, Py_ssize_t count) noexcept nogil:
    """Put the ``count`` smallest of ``keys`` (all different) first, in ascending order."""
    cdef Py_ssize_t low = 0, high = length - 1, i, j
    cdef uint64_t pivot, moved
    while high > low and low < count <= high:  # quickselect: keys[:count] are the smallest
        pivot = keys[(low + high) // 2]
        i, j = low, high
        while i <= j:
            while keys[i] < pivot:
                i += 1
            while keys[j] > pivot:
                j -= 1
            if i <= j:
                moved = keys[i]
                keys[i] = keys[j]
                keys[j] = moved
                i += 1
                j -= 1
        if count <= j:
            high = j
        elif count >= i:
            low = i
        else:
            break
    for i in range(1, min(count, length)):  # insertion sort of the few kept
        moved = keys[i]
        j = i - 1
        while j >= 0 and keys[j] > moved:
            keys[j + 1] = keys[j]
            j -= 1
        keys[j + 1] = moved


cdef Py_ssize_t _strongest(const float *values, Py_ssize_t length, Py_ssize_t count, uint64_t *keys) noexcept nogil:
    """Positions of the ``count`` strongest ``values``, strongest first, ties in position
    order (``hot_issues.strongest``), in the low half of ``keys[:count]``; returns how many
    (fewer in a short row). Each key is the value's bits made to sort as the value (the sign
    bit flipped for a positive value, every bit for a negative one), then reversed so that
    a larger value sorts first, then the position."""
    cdef Py_ssize_t position
    cdef uint32_t bits
    for position in range(length):
        bits = 0 if values[position] == 0.0 else (<const uint32_t *> values)[position]  # -0.0 as 0.0
        bits = ~bits if bits & 0x80000000u else bits | 0x80000000u
        keys[position] = (<uint64_t> (~bits) << 32) | <uint64_t> position
    _select(keys, length, count)
    return min(length, count)


cdef Py_ssize_t _longest(const int64_t[::1] starts):
    cdef Py_ssize_t row, longest = 0
    for row in range(starts.shape[0] - 1):
        longest = max(longest, starts[row + 1] - starts[row])
    return longest


def strongest_terms(const int32_t[::1] indices, const float[::1] values, const int64_t[::1] starts,
                    Py_ssize_t count):
    """For each row of ``indices`` and ``values`` (row r from ``starts[r]`` to ``starts[r + 1]``),
    its ``count`` strongest terms as ``hot_issues.sketch`` keeps them before storing the
    weights as float16: ``(indices, weights)``, arrays of ``len(starts) - 1`` rows of
    ``count``, padded with -1 and 0, the weights scaled to unit length."""
    if indices.shape[0] != values.shape[0]:
        raise ValueError(f"{indices.shape[0]} indices but {values.shape[0]} values")
    cdef Py_ssize_t rows = starts.shape[0] - 1, row, place, kept, first, position
    for row in range(rows):
        if not 0 <= starts[row] <= starts[row + 1] <= values.shape[0]:
            raise ValueError(f"row {row} runs from {starts[row]} to {starts[row + 1]}, outside the {values.shape[0]} values")
    found_indices = np.full((rows, count), NONE, np.int32)
    found_weights = np.zeros((rows, count), np.float32)
    cdef int32_t[:, ::1] out_indices = found_indices
    cdef float[:, ::1] out_weights = found_weights
    cdef uint64_t[::1] keys = np.empty(max(count, _longest(starts)), np.uint64)
    cdef float[::1] squares = np.empty(count, np.float32)
    cdef float norm
    for row in range(rows):
        first = starts[row]
        kept = _strongest(&values[first], starts[row + 1] - first, count, &keys[0])
        for place in range(kept):
            position = first + <Py_ssize_t> <uint32_t> keys[place]
            out_indices[row, place] = indices[position]
            out_weights[row, place] = values[position]
            squares[place] = out_weights[row, place] * out_weights[row, place]
        norm = sqrtf(_pairwise_sum(&squares[0], kept))
        if norm == 0.0:
            norm = 1.0
        for place in range(kept):
            out_weights[row, place] = out_weights[row, place] / norm
    return found_indices, found_weights


cdef class SketchIndex:
    """``slots`` sketches of ``width`` terms over ``n_features`` features (index -1: padding),
    each slot empty until ``put``; ``cosines`` as ``hot_issues.cosines`` gives them."""

    cdef Py_ssize_t slots, width, n_features
    cdef int32_t[::1] first         # per feature: its first term among the slots, or NONE
    cdef int32_t[::1] later         # per term (slot * width + place): the next term of its feature
    cdef int32_t[::1] earlier       # per term: the previous one, or NONE when it is the first
    cdef int32_t[::1] feature       # per term: its feature, or NONE (padding, an empty slot)
    cdef float[::1] weight          # per term: its weight
    cdef float[:, ::1] products     # zeros, but while ``cosines`` runs
    cdef int32_t[::1] touched       # the slots ``cosines`` is summing
    cdef char[::1] is_touched

    def __init__(self, Py_ssize_t slots, Py_ssize_t width, Py_ssize_t n_features):
        self.slots, self.width, self.n_features = slots, width, n_features
        self.first = np.full(n_features, NONE, np.int32)
        self.later = np.full(slots * width, NONE, np.int32)
        self.earlier = np.full(slots * width, NONE, np.int32)
        self.feature = np.full(slots * width, NONE, np.int32)
        self.weight = np.zeros(slots * width, np.float32)
        self.products = np.zeros((slots, width), np.float32)
        self.touched = np.zeros(slots, np.int32)
        self.is_touched = np.zeros(slots, np.int8)

    cdef int _check(self, const int32_t[::1] indices, const float[::1] values) except -1:
        cdef Py_ssize_t place
        if indices.shape[0] != self.width or values.shape[0] != self.width:
            raise ValueError(f"a sketch has {self.width} terms, not {indices.shape[0]}")
        for place in range(self.width):
            if indices[place] >= self.n_features or indices[place] < NONE:
                raise ValueError(f"sketch index {indices[place]} is beyond the model's {self.n_features} features")
        return 0

    def put(self, Py_ssize_t slot, const int32_t[::1] indices, const float[::1] values):
        """Make ``slot`` hold the sketch (``indices``, ``values``), replacing its last one."""
        self._check(indices, values)
        if not 0 <= slot < self.slots:
            raise ValueError(f"slot {slot} is not among the {self.slots}")
        cdef Py_ssize_t place, term
        cdef int32_t old, new
        for place in range(self.width):  # unlink the slot's old terms
            term = slot * self.width + place
            old = self.feature[term]
            if old == NONE:
                continue
            if self.earlier[term] == NONE:
                self.first[old] = self.later[term]
            else:
                self.later[self.earlier[term]] = self.later[term]
            if self.later[term] != NONE:
                self.earlier[self.later[term]] = self.earlier[term]
            self.feature[term] = NONE
        for place in range(self.width):  # link the new ones, each first of its feature
            new = indices[place]
            if new == NONE:
                continue
            term = slot * self.width + place
            self.feature[term], self.weight[term] = new, values[place]
            self.earlier[term], self.later[term] = NONE, self.first[new]
            if self.first[new] != NONE:
                self.earlier[self.first[new]] = term
            self.first[new] = term

    def cosines(self, const int32_t[::1] indices, const float[::1] values):
        """The cosine of the sketch (``indices``, ``values``) with each slot's, float32;
        an empty slot's is 0."""
        self._check(indices, values)
        result = np.zeros(self.slots, np.float32)
        cdef float[::1] out = result
        cdef Py_ssize_t place, count = 0, i
        cdef int32_t term, slot
        for place in range(self.width):
            if indices[place] == NONE:
                continue
            term = self.first[indices[place]]
            while term != NONE:
                slot = term // self.width
                self.products[slot, term % self.width] = values[place] * self.weight[term]
                if not self.is_touched[slot]:
                    self.is_touched[slot] = 1
                    self.touched[count] = slot
                    count += 1
                term = self.later[term]
        for i in range(count):
            slot = self.touched[i]
            out[slot] = _pairwise_sum(&self.products[slot, 0], self.width)
            self.products[slot, :] = 0.0
            self.is_touched[slot] = 0
        return result
