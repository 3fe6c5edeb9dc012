"""Hot issues in a batch file: rows of one category from different callers on the same
matter, grouped as the service groups cases (``triage/hot_issues.py``): each row is
compared with the sketches of the latest ``CANDIDATES`` rows of its category before it in
the file, within ``hot_issue_window_days`` of it when the file has times; the most similar
at or above ``hot_issue_similarity`` puts it in that row's group, named by the group's
first row. Rows of the same caller are repeats, not more voices, and are not compared.

The runner feeds ``HotGroups`` each chunk's entries (``entry``, made by the workers) as
the chunk arrives, so grouping runs beside the workers instead of after them.

Memory: the sketches of ``CANDIDATES`` rows per category, 8 bytes per row, and the first
row of each group.
"""
from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any, Mapping, NamedTuple

import numpy as np

from ..hot_issues import CANDIDATES, SKETCH_TERMS, cosines, unpack


class Entry(NamedTuple):
    """What grouping needs of one triaged row."""
    row: int
    category: str
    sketch: bytes
    moment: float   # seconds since the epoch; nan: no time
    caller: int     # a number from the caller key; 0: no caller
    first: dict     # id, category and text, shown when the row starts a group


def entry(row: dict) -> Entry | None:
    """The grouping entry of one output row (as the workers make it), or None for a row
    that cannot join a group (an error, unreadable, no category)."""
    if row["status"] != "ok" or not row.get("_sketch") or not row.get("category"):
        return None
    moment = datetime.fromisoformat(row["_time"]).timestamp() if row.get("_time") else np.nan
    caller = int(row["_caller"][1][:15], 16) if row.get("_caller") else 0
    return Entry(row["row"], row["category"], bytes.fromhex(row["_sketch"]), moment, caller,
                 {"id": row["id"], "category": row["category"], "text": (row["text"] or "")[:80]})


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
        self.added = 0
        self.timed = False  # whether any slot has a time

    def add(self, row: int, indices, values, moment: float, caller: int, first: dict) -> None:
        slot = self.slot
        self.indices[slot], self.values[slot], self.rows[slot] = indices, values, row
        self.times[slot], self.callers[slot], self.firsts[slot] = moment, caller, first
        self.slot = (slot + 1) % CANDIDATES
        self.added += 1
        self.timed = self.timed or not np.isnan(moment)

    def eligible(self, moment: float, caller: int, window: float) -> np.ndarray | None:
        """Which slots the row may join: filled, another caller's, within the window;
        None when every slot may (a full buffer, no caller, no times: no array work)."""
        eligible = None if self.added >= CANDIDATES else self.rows > 0
        if caller:
            others = (self.callers == 0) | (self.callers != caller)
            eligible = others if eligible is None else eligible & others
        if self.timed and not np.isnan(moment):
            near = np.isnan(self.times) | (np.abs(self.times - moment) <= window)
            eligible = near if eligible is None else eligible & near
        return eligible


class HotGroups:
    """Hot-issue groups of one file, built from its rows' entries in input order."""

    def __init__(self, n_features: int, settings: Mapping[str, Any]):
        self.window = settings["hot_issue_window_days"] * 86400.0
        self.threshold = settings["hot_issue_similarity"]
        self.recent: dict[str, _Recent] = defaultdict(_Recent)
        self.scratch = np.zeros(n_features + 1, dtype=np.float32)  # one for the whole file (hot_issues.cosines)
        self.groups = array("q")  # the group of row n is groups[n - 1], 0 for none: 8 bytes a row
        self.sizes: Counter = Counter()
        self.firsts: dict[int, dict] = {}

    def add(self, found: Entry) -> None:
        """Group the next row with an entry (rows come in input order)."""
        if len(self.groups) < found.row:
            self.groups.extend([0] * (found.row - len(self.groups)))
        indices, values = unpack(found.sketch)
        known = self.recent[found.category]
        similarity = cosines(indices, values, known.indices, known.values, self.scratch)
        eligible = known.eligible(found.moment, found.caller, self.window)
        if eligible is not None:
            similarity[~eligible] = -1.0
        best = int(np.argmax(similarity))
        if similarity[best] >= self.threshold:
            matched = int(known.rows[best])
            group = self.groups[matched - 1] or matched
            if group not in self.sizes:  # a new group: its first row joins it too
                self.groups[matched - 1] = group
                self.sizes[group] = 1
                self.firsts[group] = known.firsts[best]
            self.groups[found.row - 1] = group
            self.sizes[group] += 1
        known.add(found.row, indices, values, found.moment, found.caller, found.first)

    def columns(self, row: dict) -> dict:
        """The hot-issue columns of one output row: the id of its group's first row, and
        the group's size in the whole file."""
        group = self.groups[row["row"] - 1] if row["row"] <= len(self.groups) else 0
        return {"hot_group": self.firsts[group]["id"], "hot_group_size": self.sizes[group]} if group else {}
