"""Stage 6: why. The words and phrases that pushed a head towards its label.

For a linear head the push of one feature is exact: its TF-IDF value times the weight of
the chosen label. What a dispatcher reads are words of the text: a character n-gram is
shown as the word of the text it lies in (出所 as 派出所), and one that only spans two
words (的时, 面有: useful to the model, unreadable to a person) is not shown. Terms that say
the same thing are merged so a dispatcher sees 油烟扰民 once, not 油烟扰民, 油烟, 烟扰 and 扰民.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from .compiled import optional
from .features import CHAR_MARK, OPENING_MARK, WORD_SEPARATOR
from .segment import NUMBER_TOKEN
from .taxonomy import resource_lines

_merging = optional("_merging")  # where it was not built, top_terms runs as NumPy and Python


def display_terms(feature_names: np.ndarray) -> tuple[list[str], np.ndarray, list[bool]]:
    """Each feature as a dispatcher reads it (character n-grams without their mark);
    whether it may be shown (``readable``); and whether it is a character n-gram, shown as
    the word it lies in. The terms are lists: one is read per candidate, and a list is
    indexed faster than an array."""
    names = [str(name).removeprefix(OPENING_MARK) for name in feature_names]  # the opening's words are words
    terms = [name.removeprefix(CHAR_MARK) for name in names]
    fragments = [name.startswith(CHAR_MARK) for name in names]
    shown = np.asarray([readable(term) for term in terms], dtype=bool)
    return terms, shown, fragments


def readable(word: str) -> bool:
    """Whether ``word`` tells a dispatcher something: not a single character (到, 车), not
    "some number" (〔数字〕), not a function word (``resources/unexplaining_words.txt``)."""
    return len(word) > 1 and word != NUMBER_TOKEN and word not in _unexplaining_words()


@lru_cache(maxsize=1)
def _unexplaining_words() -> frozenset[str]:
    return frozenset(resource_lines("unexplaining_words.txt"))


def top_terms(features, weights: np.ndarray, label_rows: np.ndarray,
              terms: tuple[list[str], np.ndarray, list[bool]], limit: int,
              words: Sequence[str], compiled: bool = True) -> list[list[list[dict]]]:
    """The ``limit`` strongest terms of each row of ``features`` for that row's label, in
    each head, strongest first: the pushes of every head and row are computed and ordered
    in one vectorised pass (on one text its fixed cost, paid once instead of per head, is
    most of the time), and only the merging of overlapping terms runs per row.

    Args:
        features: TF-IDF rows (CSR, sorted or not).
        weights: the heads' weights, a label per row and a feature per column (one head's,
            or several side by side: ``heads.HeadStack.coef_``).
        label_rows: per head (rows), each row of ``features``' label as a row of ``weights``.
        terms: ``display_terms(feature_names)`` of the same features.
        words: each row's tokens joined by ``WORD_SEPARATOR`` (``features.transform``'s
            ``words_out``); a character n-gram is shown as the token it lies in, or not at all.
        compiled: find and merge the candidates by the compiled loop (``_merging``) where
            it was built; False: by the NumPy steps below and ``_merge_overlapping``,
            their definition.
    Returns:
        per head, per row, ``[{"term": "油烟扰民", "weight": 0.41}, ...]``; weights are
        signed pushes (a character n-gram's own, under its word), positive towards the
        label, and only positive ones are listed.
    """
    names, shown, fragments = terms
    count, heads = features.shape[0], len(label_rows)
    if _merging is not None and compiled and weights.dtype == np.float32 and features.data.dtype in _VALUE_TYPES:
        return _merging.strongest_terms(features.indptr, features.indices, features.data, weights,
                                        np.asarray(label_rows, np.int64), shown.view(np.uint8), names, fragments,
                                        words, limit, _unexplaining_words(), NUMBER_TOKEN)
    visible = shown[features.indices]
    value_rows = np.repeat(np.arange(count), np.diff(features.indptr))[visible]
    value_columns, values = features.indices[visible], features.data[visible]
    every_push = values * weights[label_rows[:, value_rows], value_columns]  # per head, per value
    head, value = np.nonzero(every_push > 0)  # row ``head * count + r``: that head's answer for row r
    rows, columns, pushes = strongest_first(value_rows[value] + head * count, value_columns[value],
                                            every_push[head, value])
    every_row = np.arange(heads * count + 1)
    starts = np.searchsorted(rows, every_row)
    # Only the first few of a row can be listed: enough to survive merging of overlaps.
    first = np.arange(len(rows)) - starts[rows] < 6 * limit
    starts = np.searchsorted(rows[first], every_row).tolist()
    # Rounded at once: for pushes made in float32 (never within a rounding error of a
    # half-thousandth) NumPy's scaled rounding equals round(push, 3), at a tenth of its cost.
    columns, pushes = columns[first].tolist(), np.round(pushes[first].astype(np.float64), 3).tolist()
    found = _merge_overlapping(starts, columns, pushes, names, fragments, words, count, heads, limit)
    return [found[number * count:(number + 1) * count] for number in range(heads)]


def _merge_overlapping(starts: list[int], columns: list[int], pushes: list[float], names: list[str],
                       fragments: list[bool], words: Sequence[str], count: int, heads: int, limit: int
                       ) -> list[list[dict]]:
    """Per row ``head * count + r`` (that head's answer for text r), its first ``limit``
    terms that no stronger one overlaps, from its candidates ``starts[row]`` to
    ``starts[row + 1]`` (``columns`` and rounded ``pushes``, strongest first): a character
    n-gram (``fragments``) stands for the word of its text it lies in, and is dropped when it
    lies across two. Compiled with the search for candidates: ``_merging.strongest_terms``."""
    found = []
    words_of: list[dict[int, str | None]] = [{} for _ in range(count)]  # per text, each fragment's word
    for row in range(heads * count):
        kept: list[str] = []
        joined = ""  # the kept terms, each after a separator no term contains
        listed: list[dict] = []
        for position in range(starts[row], starts[row + 1]):
            column = columns[position]
            term = names[column]
            if fragments[column]:  # the heads of one text share most of their fragments
                known = words_of[row % count]
                word = known.get(column, False)
                if word is False:
                    word = known[column] = _word_around(words[row % count], term)
                if word is None:  # only across two words, or in a word that says nothing
                    continue
                term = word
            # A stronger overlapping term already speaks for it: the new term inside a
            # kept one, or a kept one inside it.
            if term in joined:
                continue
            for word in kept:
                if word in term:
                    break
            else:
                kept.append(term)
                joined += "\0" + term
                listed.append({"term": term, "weight": pushes[position]})
                if len(kept) == limit:
                    break
        found.append(listed)
    return found


def _word_around(text: str, fragment: str) -> str | None:
    """The token of ``text`` (tokens joined by ``WORD_SEPARATOR``, which no term contains)
    that holds ``fragment``, if it is ``readable``; None when the fragment only spans two
    tokens."""
    at = text.find(fragment)
    if at < 0:
        return None
    end = text.find(WORD_SEPARATOR, at)
    word = text[text.rfind(WORD_SEPARATOR, 0, at) + 1:end if end >= 0 else len(text)]
    return word if readable(word) else None


_VALUE_TYPES = (np.dtype(np.float32), np.dtype(np.float64))  # feature values the compiled loop reads
_PUSH_BITS = 31  # a positive float32's bits, sign bit aside, order as the floats do


def strongest_first(rows: np.ndarray, columns: np.ndarray, pushes: np.ndarray, packed: bool = True):
    """``rows``, ``columns``, ``pushes`` (positive float32) ordered by row, then push, strongest
    first, then column: ``np.lexsort((columns, -pushes, rows))``. When row, push bits and
    column fit one int64 this is one sort of those packed keys, a tenth of lexsort's time
    (which was half of explaining); ``packed=False`` asks for lexsort."""
    column_bits = int(columns.max(initial=0)).bit_length()
    push_shift = column_bits
    row_shift = push_shift + _PUSH_BITS
    if not packed or pushes.dtype != np.float32 or row_shift + int(rows.max(initial=0)).bit_length() > 63:
        order = np.lexsort((columns, -pushes, rows))
        return rows[order], columns[order], pushes[order]
    weakness = (np.int64(2**_PUSH_BITS - 1) - pushes.view(np.int32)).astype(np.int64)
    keys = np.sort((rows.astype(np.int64) << row_shift) | (weakness << push_shift) | columns.astype(np.int64), kind="stable")
    weakness = (keys >> push_shift) & (2**_PUSH_BITS - 1)
    return (keys >> row_shift, keys & ((1 << column_bits) - 1),
            (2**_PUSH_BITS - 1 - weakness).astype(np.int32).view(np.float32))


def summary(head_label: str, label: str, terms: list[dict]) -> str:
    """One short Chinese line for a dispatcher's screen."""
    if not terms:
        return f"{head_label}“{label}”：无明显关键词，请人工核对"
    return f"{head_label}“{label}”：" + "、".join(term["term"] for term in terms)
