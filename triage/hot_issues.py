"""Hot issues (多人反映): different callers raising the same matter within a few days.

Each stored case keeps a sketch of its text: its ``SKETCH_TERMS`` strongest TF-IDF
features (indices and weights, 384 bytes). A new case is compared with the sketches of
the ``CANDIDATES`` newest cases of the same category from other callers in the window; the most similar one at or above
``hot_issue_similarity`` puts it in that case's group (the group is named by its first
case). Sketches are tied to the model that made them, so only cases of the serving model
are compared. A group reaching ``hot_issue_urgent_size`` raises a 一般 case to 紧急.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .compiled import optional

_sketch_index = optional("_sketch_index")  # where it was not built, each sketch is made by ``sketch``

SKETCH_TERMS = 64
# How many of the newest cases of a category a new case is compared with, in the service
# and in batch files: each is a row fetched per request, so this bounds the cost.
CANDIDATES = 100
_INDEX, _VALUE = np.dtype("<i4"), np.dtype("<f2")


def sketch(indices: np.ndarray, values: np.ndarray) -> bytes:
    """The sketch of one TF-IDF row given as its non-zero ``indices`` and ``values``."""
    keep = strongest(values, SKETCH_TERMS)
    top_indices = np.full(SKETCH_TERMS, -1, dtype=_INDEX)
    top_values = np.zeros(SKETCH_TERMS, dtype=_VALUE)
    top_indices[:len(keep)] = indices[keep]
    kept = values[keep].astype(np.float32)
    norm = float(np.sqrt((kept ** 2).sum())) or 1.0
    top_values[:len(keep)] = kept / norm
    return top_indices.tobytes() + top_values.tobytes()


def sketches(rows: Sequence[tuple[np.ndarray, np.ndarray] | None]) -> list[bytes | None]:
    """``sketch`` of each of ``rows`` (``(indices, values)``, or None for no sketch), the
    compiled selection (``_sketch_index.strongest_terms``) choosing the terms where it was built:
    the same bytes in a third of the time."""
    present = [row for row in rows if row is not None]
    if (_sketch_index is None or not present
            or any(indices.dtype != np.int32 or values.dtype != np.float32 for indices, values in present)):
        return [None if row is None else sketch(*row) for row in rows]
    starts = np.zeros(len(present) + 1, dtype=np.int64)
    np.cumsum([len(values) for _, values in present], out=starts[1:])
    indices, values = _sketch_index.strongest_terms(np.concatenate([row[0] for row in present]),
                                                    np.concatenate([row[1] for row in present]), starts, SKETCH_TERMS)
    made = iter(np.concatenate([indices.astype(_INDEX).view(np.uint8), values.astype(_VALUE).view(np.uint8)], axis=1))
    return [None if row is None else next(made).tobytes() for row in rows]


def strongest(values: np.ndarray, count: int) -> np.ndarray:
    """Positions of the ``count`` largest ``values``, largest first, ties in position
    order: ``np.argsort(-values, kind="stable")[:count]``, with a partition first so that
    only the few candidates are sorted (half the time on a 300-character text's row)."""
    if len(values) <= count:
        return np.argsort(-values, kind="stable")
    threshold = np.partition(values, len(values) - count)[len(values) - count]  # the count-th largest
    candidates = np.flatnonzero(values >= threshold)
    return candidates[np.argsort(-values[candidates], kind="stable")][:count]


def similarities(new: bytes, others: Sequence[bytes], n_features: int) -> np.ndarray:
    """Cosine of the sketch ``new`` with each of ``others`` (all from one model)."""
    if not others:
        return np.zeros(0)
    indices, values = _split(np.frombuffer(b"".join(others), dtype=np.uint8).reshape(len(others), -1))
    return cosines(*unpack(new), indices, values, np.zeros(n_features + 1, dtype=np.float32))


def cosines(new_indices: np.ndarray, new_values: np.ndarray, indices: np.ndarray, values: np.ndarray,
            scratch: np.ndarray) -> np.ndarray:
    """Cosine of one unpacked sketch with each row of ``indices``/``values`` (sketches
    unpacked side by side). ``scratch``: zeros, one slot per feature plus one for the -1
    padding; it is zero again on return, so a caller comparing many rows keeps one."""
    scratch[new_indices] = new_values  # padding writes 0.0 into the last slot
    found = np.take(scratch, indices)  # np.take: a third of fancy indexing's time here
    found *= values
    scratch[new_indices] = 0.0
    return found.sum(axis=1)


def unpack(sketch_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A sketch's feature indices (-1 for padding; a read-only view) and unit-length weights."""
    return (np.frombuffer(sketch_bytes, dtype=_INDEX, count=SKETCH_TERMS),
            np.frombuffer(sketch_bytes, dtype=_VALUE, offset=SKETCH_TERMS * _INDEX.itemsize).astype(np.float32))


def _split(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cut = SKETCH_TERMS * _INDEX.itemsize
    indices = raw[:, :cut].copy().view(_INDEX)
    values = raw[:, cut:].copy().view(_VALUE).astype(np.float32)
    return indices, values


def match(new: bytes, candidates: Sequence[Mapping[str, Any]], n_features: int,
          settings: Mapping[str, Any]) -> dict | None:
    """The candidate (``case_id``, ``hot_group``, ``sketch``) the new case joins, with the
    similarity, or None when none is similar enough."""
    found = similarities(new, [candidate["sketch"] for candidate in candidates], n_features)
    if not len(found):
        return None
    best = int(np.argmax(found))
    if found[best] < settings["hot_issue_similarity"]:
        return None
    chosen = candidates[best]
    return {"group_id": chosen["hot_group"] or chosen["case_id"], "matched_case": chosen["case_id"],
            "similarity": round(float(found[best]), 3)}


def answer(found: dict | None, size: int, first: Mapping[str, Any] | None, settings: Mapping[str, Any]) -> dict:
    """The ``hot_issue`` part of a triage answer."""
    window = settings["hot_issue_window_days"]
    if found is None:
        return {"is_hot": False, "group_id": None, "size": 1, "window_days": window, "reasons": []}
    return {"is_hot": True, "group_id": found["group_id"], "size": size, "window_days": window,
            "first_case": dict(first) if first else None, "matched_case": found["matched_case"],
            "similarity": found["similarity"],
            "reasons": [f"多人反映：{window} 天内已有 {size} 件同类诉求（与工单 #{found['matched_case']} 相似度 "
                        f"{found['similarity']:.2f}），首件为工单 #{found['group_id']}"]}


def raises_urgency(size: int, urgency: str | None, settings: Mapping[str, Any]) -> bool:
    threshold = settings["hot_issue_urgent_size"]
    return bool(threshold) and size >= threshold and urgency == "一般"
