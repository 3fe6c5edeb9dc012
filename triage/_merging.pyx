# cython: language_level=3, boundscheck=False, wraparound=False
"""Stage 6's inner loop, compiled: ``explain._merge_overlapping`` (its definition, and what
runs where this module was not built), with C indices and the string tests called
directly: 64 -> 47 µs a text in lists (docs/BENCHMARKS.md, session 22)."""
from cpython.unicode cimport PyUnicode_Contains, PyUnicode_Find


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
