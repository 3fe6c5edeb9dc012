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


def top_terms(indices: np.ndarray, values: np.ndarray, weights: np.ndarray,
              terms: tuple[np.ndarray, np.ndarray], limit: int) -> list[dict]:
    """The ``limit`` strongest terms for one label, strongest first.

    Args:
        indices, values: one TF-IDF row's non-zero feature indices and values.
        weights: that label's weight per feature.
        terms: ``display_terms(feature_names)`` of the same features.
    Returns:
        ``[{"term": "油烟扰民", "weight": 0.41}, ...]``; weights are signed pushes,
        positive towards the label, and only positive ones are listed.
    """
    names, shown = terms
    pushes = values * weights[indices]
    pushes[~shown[indices]] = 0.0
    enough = min(6 * limit, len(pushes))  # enough to survive merging of overlaps
    if enough == 0:
        return []
    candidates = np.argpartition(-pushes, enough - 1)[:enough] if len(pushes) > enough else np.arange(len(pushes))
    candidates = candidates[np.argsort(-pushes[candidates])]
    chosen: list[dict] = []
    for position, push in zip(candidates.tolist(), pushes[candidates].tolist()):
        if push <= 0:
            break
        term = names[indices[position]]
        if any(term in kept["term"] or kept["term"] in term for kept in chosen):
            continue  # a stronger overlapping term already speaks for it
        chosen.append({"term": term, "weight": round(push, 3)})
        if len(chosen) == limit:
            break
    return chosen


def summary(head_label: str, label: str, terms: list[dict]) -> str:
    """One short Chinese line for a dispatcher's screen."""
    if not terms:
        return f"{head_label}“{label}”：无明显关键词，请人工核对"
    return f"{head_label}“{label}”：" + "、".join(term["term"] for term in terms)
