# cython: language_level=3, boundscheck=False, wraparound=False
"""Stage 6's loops, compiled: each head's strongest candidate terms of each text
(``strongest_candidates``), then the merging of overlapping ones (``merge_overlapping``).
Their definitions, which run where this module was not built, are ``explain.top_terms``'s
NumPy steps and ``explain._merge_overlapping``; for one text the steps' fixed cost (some
twenty-five NumPy calls) was most of explaining it (docs/BENCHMARKS.md, session 22)."""
from cpython.unicode cimport PyUnicode_Contains, PyUnicode_Find
from libc.math cimport rint
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memmove

from ._arrays cimport index_type, value_type


def merge_overlapping(list starts, list columns, list pushes, list names, list fragments, list words,
                      Py_ssize_t count, Py_ssize_t heads, Py_ssize_t limit, frozenset unexplaining, str number_token):
    """``explain._merge_overlapping``; ``unexplaining`` and ``number_token`` are what
    ``explain.readable`` refuses besides single characters."""
    cdef list found = [], kept, listed
    cdef list words_of = [{} for _ in range(count)]  # per text, each fragment's word
    cdef Py_ssize_t row, position, column, at, end
    cdef str term, joined, kept_term, text
    cdef dict known
    cdef object word
    for row in range(heads * count):
        kept, listed, joined = [], [], ""
        for position in range(<Py_ssize_t>starts[row], <Py_ssize_t>starts[row + 1]):
            column = columns[position]
            term = names[column]
            if fragments[column]:
                known = words_of[row % count]
                word = known.get(column, False)
                if word is False:  # explain._word_around
                    text = words[row % count]
                    at = PyUnicode_Find(text, term, 0, len(text), 1)
                    word = None
                    if at >= 0:
                        end = PyUnicode_Find(text, "\0", at, len(text), 1)
                        word = text[PyUnicode_Find(text, "\0", 0, at, -1) + 1:end if end >= 0 else len(text)]
                        if len(word) <= 1 or word == number_token or word in unexplaining:
                            word = None
                    known[column] = word
                if word is None:
                    continue
                term = word
            if PyUnicode_Contains(joined, term):
                continue
            for kept_term in kept:
                if PyUnicode_Contains(term, kept_term):
                    break
            else:
                kept.append(term)
                joined = joined + "\0" + term
                listed.append({"term": term, "weight": pushes[position]})
                if len(kept) == limit:
                    break
        found.append(listed)
    return found


def strongest_candidates(const index_type[::1] indptr, const index_type[::1] columns_of,
                         const value_type[::1] data,
                         const float[:, :] weights, const int64_t[:, :] label_rows, const uint8_t[::1] shown,
                         Py_ssize_t per_row):
    """``explain.top_terms``'s candidates as its NumPy steps find them (their definition,
    and what runs where this module was not built): per head and text (row ``head * count +
    text``), the first ``per_row`` shown columns of the text by push (its value times its
    label's weight, in the values' type; only positive ones), strongest first, then by
    column. Returns where each row's candidates start (one more than the rows), their
    columns, and their pushes rounded to three decimals as NumPy rounds (``x * 1000``,
    rounded half to even, ``/ 1000``)."""
    cdef Py_ssize_t count = indptr.shape[0] - 1, heads = label_rows.shape[0]
    cdef Py_ssize_t head, text, value, kept, place
    cdef int64_t label, column
    cdef value_type push
    cdef list starts = [0], columns = [], pushes = []
    cdef double *best = <double *>malloc(max(per_row, 1) * sizeof(double))
    cdef int64_t *best_columns = <int64_t *>malloc(max(per_row, 1) * sizeof(int64_t))
    if best == NULL or best_columns == NULL:
        free(best)
        free(best_columns)
        raise MemoryError()
    try:
        for head in range(heads):
            for text in range(count):
                label = label_rows[head, text]
                kept = 0
                for value in range(indptr[text], indptr[text + 1]):
                    column = columns_of[value]
                    if not shown[column]:
                        continue
                    push = data[value] * weights[label, column]
                    if not push > 0:
                        continue
                    # kept in order, strongest first (then by column): insert where it belongs
                    place = kept
                    while place > 0 and (push > best[place - 1] or (push == best[place - 1]
                                                                   and column < best_columns[place - 1])):
                        place -= 1
                    if place >= per_row:
                        continue
                    if kept < per_row:
                        kept += 1
                    memmove(&best[place + 1], &best[place], (kept - 1 - place) * sizeof(double))
                    memmove(&best_columns[place + 1], &best_columns[place], (kept - 1 - place) * sizeof(int64_t))
                    best[place], best_columns[place] = push, column
                for place in range(kept):
                    columns.append(best_columns[place])
                    pushes.append(rint(best[place] * 1000.0) / 1000.0)
                starts.append(len(columns))
    finally:
        free(best)
        free(best_columns)
    return starts, columns, pushes
