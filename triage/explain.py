"""Stage 6: why. The words and phrases that pushed a head towards its label.

For a linear head the push of one feature is exact: its TF-IDF value times the weight of
the chosen label. Character n-grams and words that say the same thing are merged so a
dispatcher sees 油烟扰民 once, not 油烟扰民, 油烟, 烟扰 and 扰民.
"""
from __future__ import annotations

import numpy as np

from .features import CHAR_MARK


def display_terms(feature_names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each feature as a dispatcher reads it (character n-grams without their mark), and
    whether it may be shown: a lone character n-gram (车, 运) explains nothing to a person."""
    names = [str(name) for name in feature_names]
    terms = np.asarray([name.removeprefix(CHAR_MARK) for name in names], dtype=object)
    shown = np.asarray([not (name.startswith(CHAR_MARK) and len(name) <= 2) for name in names], dtype=bool)
    return terms, shown


def top_terms(features, labels: np.ndarray, weights: np.ndarray, terms: tuple[np.ndarray, np.ndarray],
              limit: int) -> list[list[dict]]:
    """The ``limit`` strongest terms of each row of ``features`` for that row's label,
    strongest first: every push of the batch is computed in one vectorised step, and only
    the merging of overlapping terms runs per row.

    Args:
        features: TF-IDF rows (CSR, sorted or not).
        labels: each row's label, as a row index of ``weights``.
        weights: weight per label (rows) and feature (columns) of a linear head.
        terms: ``display_terms(feature_names)`` of the same features.
    Returns:
        per row, ``[{"term": "油烟扰民", "weight": 0.41}, ...]``; weights are signed pushes,
        positive towards the label, and only positive ones are listed.
    """
    names, shown = terms
    rows = np.repeat(np.arange(len(labels)), np.diff(features.indptr))
    pushes = features.data * weights[labels[rows], features.indices]
    useful = (pushes > 0) & shown[features.indices]
    rows, columns, pushes = rows[useful], features.indices[useful], pushes[useful]
    order = np.lexsort((-pushes, rows))  # by row, strongest first within a row
    rows, columns, pushes = rows[order], columns[order], pushes[order]
    starts = np.searchsorted(rows, np.arange(len(labels) + 1)).tolist()
    enough = 6 * limit  # enough to survive merging of overlaps
    columns, pushes = columns.tolist(), pushes.tolist()
    found = []
    for row in range(len(labels)):
        start, end = starts[row], min(starts[row + 1], starts[row] + enough)
        kept_terms: list[str] = []
        kept_weights: list[float] = []
        for position in range(start, end):
            term = names[columns[position]]
            # A stronger overlapping term already speaks for it: the new term inside a
            # kept one (one search of them all, joined) or a kept one inside it.
            if term in "\0".join(kept_terms) or any(kept in term for kept in kept_terms):
                continue
            kept_terms.append(term)
            kept_weights.append(round(pushes[position], 3))
            if len(kept_terms) == limit:
                break
        found.append([{"term": term, "weight": weight} for term, weight in zip(kept_terms, kept_weights)])
    return found


def summary(head_label: str, label: str, terms: list[dict]) -> str:
    """One short Chinese line for a dispatcher's screen."""
    if not terms:
        return f"{head_label}“{label}”：无明显关键词，请人工核对"
    return f"{head_label}“{label}”：" + "、".join(term["term"] for term in terms)
