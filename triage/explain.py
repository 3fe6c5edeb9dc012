"""Stage 6: why. The words and phrases that pushed a head towards its label.

For a linear head the push of one feature is exact: its TF-IDF value times the weight of
the chosen label. Character n-grams and words that say the same thing are merged so a
dispatcher sees 油烟扰民 once, not 油烟扰民, 油烟, 烟扰 and 扰民.
"""
from __future__ import annotations

import numpy as np

from .features import CHAR_MARK


def top_terms(row, weights: np.ndarray, feature_names: np.ndarray, limit: int) -> list[dict]:
    """The ``limit`` strongest terms for one label, strongest first.

    Args:
        row: one TF-IDF row (sparse, 1 x n_features).
        weights: that label's weight per feature.
        feature_names: names aligned with ``weights``.
    Returns:
        ``[{"term": "油烟扰民", "weight": 0.41}, ...]``; weights are signed pushes,
        positive towards the label, and only positive ones are listed.
    """
    indices = row.indices
    pushes = row.data * weights[indices]
    candidates = min(len(pushes), 6 * limit)  # enough to survive merging of overlaps
    strongest = np.argpartition(-pushes, candidates - 1)[:candidates] if candidates else pushes[:0].astype(int)
    order = strongest[np.argsort(-pushes[strongest])]
    chosen: list[dict] = []
    for position in order:
        push = float(pushes[position])
        if push <= 0 or len(chosen) >= limit:
            break
        name = str(feature_names[indices[position]])
        if name.startswith(CHAR_MARK) and len(name) <= 2:
            continue  # a lone character n-gram (车, 运) explains nothing to a person
        term = name.removeprefix(CHAR_MARK)
        if any(term in kept["term"] or kept["term"] in term for kept in chosen):
            continue  # a stronger overlapping term already speaks for it
        chosen.append({"term": term, "weight": round(push, 3)})
    return chosen


def summary(head_label: str, label: str, terms: list[dict]) -> str:
    """One short Chinese line for a dispatcher's screen."""
    if not terms:
        return f"{head_label}“{label}”：无明显关键词，请人工核对"
    return f"{head_label}“{label}”：" + "、".join(term["term"] for term in terms)
