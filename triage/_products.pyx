# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Stage 4's product, compiled: CSR rows times a dense matrix, as SciPy computes it.

``features.Rows @ weights`` (every head's scores of a text: ``HeadStack.predict_proba``)
without a SciPy matrix around the arrays: for the one text of a request, SciPy's checks of
a new matrix and the dispatch of its product cost more than the product (docs/BENCHMARKS.md,
session 23). The loop is SciPy's ``csr_matvecs``: per row, each value times its column's
row of ``dense`` added to the row's result, in value order, in float32; so the same bits.
Where this module was not built, ``Rows.matrix() @ dense`` does the same.
"""
import numpy as np

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
