# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Products of CSR rows, compiled, as SciPy computes them: stage 4's rows times a dense
matrix (``product``), and repeat judging's rows times rows (``Crossing``).

``features.Rows @ weights`` (every head's scores of a text: ``HeadStack.predict_proba``)
without a SciPy matrix around the arrays: for the one text of a request, SciPy's checks of
a new matrix and the dispatch of its product cost more than the product (docs/BENCHMARKS.md,
session 23). The loop is SciPy's ``csr_matvecs``: per row, each value times its column's
row of ``dense`` added to the row's result, in value order, in float32; so the same bits.
Where this module was not built, ``Rows.matrix() @ dense`` does the same.
"""
import numpy as np

from libc.stdint cimport int32_t, int64_t

from ._arrays cimport index_type


def product(const index_type[::1] indptr, const index_type[::1] indices, const float[::1] data,
            const float[:, ::1] dense):
    """The rows (``indptr``, ``indices``, ``data``) times ``dense`` (a row per column of
    the rows), a float32 array of a row per row and a column per column of ``dense``."""
    cdef Py_ssize_t n_rows = indptr.shape[0] - 1, width = dense.shape[1], row, value, column
    result = np.zeros((n_rows, width), np.float32)
    if width == 0:
        return result
    cdef float[:, ::1] out = result
    cdef float *sums
    cdef const float *weights
    cdef float factor
    for row in range(n_rows):
        sums = &out[row, 0]
        for value in range(indptr[row], indptr[row + 1]):
            factor = data[value]
            weights = &dense[indices[value], 0]
            for column in range(width):
                sums[column] += factor * weights[column]
    return result


cdef class Crossing:
    """``repeat.cross`` of two views of the same rows (``repeat.views``: unit TF-IDF rows,
    and topic-weighted ones; CSR with int32 indices, float32 or float64 values) as SciPy
    computes each product (``csr_matmat``): row i's values in their stored order, each times
    row j's value in the same column, summed in the view's type. Row j is spread into a
    dense row, so a value of i without a partner adds a product of zero, which changes no
    sum but the sign of a zero; a sum of zero is 0.0, as SciPy drops it. Only the rows asked
    for are compared, where SciPy's product of many callers' rows makes every pair among them."""
    cdef _View wording, topic

    def __init__(self, wording, topic):
        """Raises ValueError where a row holds a column twice (SciPy would add each product
        on its own; a dense row holds their sum) or a column the matrix has not."""
        self.wording, self.topic = _View(wording), _View(topic)

    def __call__(self, const int64_t[::1] left, const int64_t[::1] right):
        """The similarities of rows ``left`` with rows ``right``: an array of a row per left
        row and a column per right one, float32 where both views are (as NumPy's minimum of
        the two products gives it), else float64."""
        result = np.empty((left.shape[0], right.shape[0]), np.float64)
        cdef double[:, ::1] out = result
        cdef Py_ssize_t a, b
        cdef double wording, topic
        for b in range(right.shape[0]):
            self.wording.spread(right[b], True)
            self.topic.spread(right[b], True)
            for a in range(left.shape[0]):
                wording, topic = self.wording.product(left[a]), self.topic.product(left[a])
                out[a, b] = (wording if wording < topic else topic) + 0.0  # np.minimum; + 0.0: no -0.0
            self.wording.spread(right[b], False)
            self.topic.spread(right[b], False)
        return result.astype(np.float32) if self.wording.single and self.topic.single else result  # exact


cdef class _View:
    """One view's rows, their values held as float64 (float32 ones exactly) and multiplied
    and summed in the view's own type, and a dense row to spread one row into."""
    cdef const int32_t[::1] indptr, indices
    cdef const double[::1] data
    cdef double[::1] dense
    cdef bint single

    def __init__(self, matrix):
        _check_once_a_row(matrix.indptr, matrix.indices, matrix.shape[1])
        self.indptr, self.indices = matrix.indptr, matrix.indices
        self.data = matrix.data.astype(np.float64)
        self.single = matrix.dtype == np.float32
        self.dense = np.zeros(matrix.shape[1], np.float64)

    cdef inline void spread(self, int64_t row, bint values) noexcept:
        """Row ``row`` into the dense row (``values``), or its columns back to zero."""
        cdef Py_ssize_t value
        for value in range(self.indptr[row], self.indptr[row + 1]):
            self.dense[self.indices[value]] = self.data[value] if values else 0.0

    cdef inline double product(self, int64_t row) noexcept:
        """Row ``row`` times the dense row, summed in the view's type."""
        cdef Py_ssize_t value
        cdef float single = 0
        cdef double double_ = 0
        if self.single:
            for value in range(self.indptr[row], self.indptr[row + 1]):
                single += <float>self.data[value] * <float>self.dense[self.indices[value]]
            return single
        for value in range(self.indptr[row], self.indptr[row + 1]):
            double_ += self.data[value] * self.dense[self.indices[value]]
        return double_


cdef _check_once_a_row(const int32_t[::1] indptr, const int32_t[::1] indices, Py_ssize_t columns):
    cdef int32_t[::1] seen_in = np.full(columns, -1, np.int32)  # the last row each column was seen in
    cdef Py_ssize_t row, value
    for row in range(indptr.shape[0] - 1):
        for value in range(indptr[row], indptr[row + 1]):
            if not 0 <= indices[value] < columns:
                raise ValueError(f"row {row} holds column {indices[value]} of {columns}")
            if seen_in[indices[value]] == row:
                raise ValueError(f"row {row} holds column {indices[value]} twice")
            seen_in[indices[value]] = row
