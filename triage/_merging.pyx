# cython: language_level=3, boundscheck=False, wraparound=False
"""Stage 6's loop, compiled: each head's strongest terms of each text, its candidates found
and the overlapping ones merged in one pass (``strongest_terms``). Its definition, which
runs where this module was not built, is ``explain.top_terms``'s NumPy steps and
``explain._merge_overlapping``. For one text the steps' fixed cost (some twenty-five NumPy
calls) was most of explaining it (docs/BENCHMARKS.md, session 22); for lists, handing every
candidate to the merging as Python numbers was (session 34)."""
from cpython.unicode cimport PyUnicode_Contains, PyUnicode_Find
from libc.math cimport rint
from libc.stdint cimport int64_t, uint8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memmove

from ._arrays cimport index_type, value_type


def strongest_terms(const index_type[::1] indptr, const index_type[::1] columns_of, const value_type[::1] data,
                    const float[:, :] weights, const int64_t[:, :] label_rows, const uint8_t[::1] shown,
                    list names, list fragments, list words, Py_ssize_t limit, frozenset unexplaining,
                    str number_token):
    """``explain.top_terms``: per head (``label_rows``' rows) and text (``indptr``'s rows),
    the first ``limit`` terms of the text's strongest ``6 * limit`` shown columns by push
    (value times its label's weight, in the values' type; only positive ones; strongest
    first, then by column) that no stronger kept term overlaps, as
    ``[{"term": .., "weight": ..}]`` with the push rounded as NumPy rounds (``x * 1000``,
    half to even, ``/ 1000``). A character n-gram (``fragments``) stands for the token of
    ``words[text]`` it lies in (``explain._word_around``): dropped when it spans two tokens
    or its token says nothing (a single character, ``number_token``, ``unexplaining``)."""
    cdef Py_ssize_t count = indptr.shape[0] - 1, heads = label_rows.shape[0], per_row = max(6 * limit, 0)
    cdef Py_ssize_t head, text, value, kept, place, at, end
    cdef int64_t label, column
    cdef value_type push
    cdef list found = [[None] * count for _ in range(heads)], listed, kept_terms
    cdef dict known
    cdef str term, joined, kept_term, text_words
    cdef object word
    cdef double *best = <double *>malloc(max(per_row, 1) * sizeof(double))
    cdef int64_t *best_columns = <int64_t *>malloc(max(per_row, 1) * sizeof(int64_t))
    if best == NULL or best_columns == NULL:
        free(best)
        free(best_columns)
        raise MemoryError()
    try:
        for text in range(count):
            known = {}  # each fragment's token in this text, or None: the heads share most fragments
            text_words = words[text]
            for head in range(heads):
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
                listed, kept_terms, joined = [], [], ""
                for place in range(kept):
                    column = best_columns[place]
                    term = names[column]
                    if fragments[column]:
                        word = known.get(column, False)
                        if word is False:  # explain._word_around
                            at = PyUnicode_Find(text_words, term, 0, len(text_words), 1)
                            word = None
                            if at >= 0:
                                end = PyUnicode_Find(text_words, "\0", at, len(text_words), 1)
                                word = text_words[PyUnicode_Find(text_words, "\0", 0, at, -1) + 1:
                                                  end if end >= 0 else len(text_words)]
                                if len(word) <= 1 or word == number_token or word in unexplaining:
                                    word = None
                            known[column] = word
                        if word is None:
                            continue
                        term = word
                    # a stronger overlapping term already speaks for it
                    if PyUnicode_Contains(joined, term):
                        continue
                    for kept_term in kept_terms:
                        if PyUnicode_Contains(term, kept_term):
                            break
                    else:
                        kept_terms.append(term)
                        joined = joined + "\0" + term
                        listed.append({"term": term, "weight": rint(best[place] * 1000.0) / 1000.0})
                        if len(kept_terms) == limit:
                            break
                (<list>found[head])[text] = listed
    finally:
        free(best)
        free(best_columns)
    return found
