"""Hot issues in a batch file: rows of one category from different callers on the same
matter, grouped as the service groups cases (``triage/hot_issues.py``): each row is
compared with the sketches of the latest ``CANDIDATES`` rows of its category before it in
the file, within ``hot_issue_window_days`` of it when the file has times; the most similar
at or above ``hot_issue_similarity`` puts it in that row's group, named by the group's
first row. Rows of the same caller are repeats, not more voices, and are not compared.

Memory: the sketches of ``CANDIDATES`` rows per category, 8 bytes per row, and the first
row of each group.
"""
from __future__ import annotations

from array import array
from collections import Counter, defaultdict, deque
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..hot_issues import CANDIDATES, SKETCH_TERMS, cosines, unpack



class _Recent:
    """The latest ``CANDIDATES`` rows of one category as arrays, compared all at once."""

    def __init__(self):
        self.indices = np.full((CANDIDATES, SKETCH_TERMS), -1, dtype=np.int32)
        self.values = np.zeros((CANDIDATES, SKETCH_TERMS), dtype=np.float32)
        self.rows = np.zeros(CANDIDATES, dtype=np.int64)          # 0: an empty slot
        self.times = np.full(CANDIDATES, np.nan)                  # seconds; nan: no time
        self.callers = np.zeros(CANDIDATES, dtype=np.int64)       # 0: no caller
        self.firsts: list[dict | None] = [None] * CANDIDATES
        self.slot = 0

    def add(self, row: int, indices, values, moment: float, caller: int, first: dict) -> None:
        slot = self.slot
        self.indices[slot], self.values[slot], self.rows[slot] = indices, values, row
        self.times[slot], self.callers[slot], self.firsts[slot] = moment, caller, first
        self.slot = (slot + 1) % CANDIDATES


def group_rows(rows: Callable[[], Iterable[dict]], n_features: int, settings: Mapping[str, Any]
               ) -> tuple[array, Counter, dict[int, dict]]:
    """``(group of each row, size of each group, first row of each group)``: the group of
    row number ``n`` is ``groups[n - 1]``, the group's first row number, or 0 for none."""
    window = settings["hot_issue_window_days"] * 86400.0
    threshold = settings["hot_issue_similarity"]
    recent: dict[str, _Recent] = defaultdict(_Recent)
    scratch = np.zeros(n_features + 1, dtype=np.float32)  # one for the whole file (hot_issues.cosines)
    groups = array("q")  # 8 bytes a row: flat memory for a file of any length
    sizes: Counter = Counter()
    firsts: dict[int, dict] = {}
    for row in rows():
        groups.append(0)
        if row["status"] != "ok" or not row.get("_sketch") or not row.get("category"):
            continue
        indices, values = unpack(bytes.fromhex(row["_sketch"]))
        moment = datetime.fromisoformat(row["_time"]).timestamp() if row.get("_time") else np.nan
        caller = int(row["_caller"][1][:15], 16) if row.get("_caller") else 0
        known = recent[row["category"]]
        similarity = cosines(indices, values, known.indices, known.values, scratch)
        eligible = (known.rows > 0) & ((known.callers == 0) | (known.callers != caller) | (caller == 0))
        eligible &= np.isnan(known.times) | np.isnan(moment) | (np.abs(known.times - moment) <= window)
        similarity[~eligible] = -1.0
        best = int(np.argmax(similarity))
        if similarity[best] >= threshold:
            matched = int(known.rows[best])
            group = groups[matched - 1] or matched
            if group not in sizes:  # a new group: its first row joins it too
                groups[matched - 1] = group
                sizes[group] = 1
                firsts[group] = known.firsts[best]
            groups[row["row"] - 1] = group
            sizes[group] += 1
        known.add(row["row"], indices, values, moment, caller,
                  {"id": row["id"], "category": row["category"], "text": (row["text"] or "")[:80]})
    return groups, sizes, firsts
