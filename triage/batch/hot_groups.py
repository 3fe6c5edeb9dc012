"""Hot issues in a batch file: rows of one category from different callers on the same
matter, grouped as the service groups cases (``triage/hot_issues.py``): each row is
compared with the sketches of the latest ``CANDIDATES`` rows of its category before it in
the file, within ``hot_issue_window_days`` of it when the file has times; the most similar
at or above ``hot_issue_similarity`` puts it in that row's group, named by the group's
first row. Rows of the same caller are repeats, not more voices, and are not compared.

The runner feeds ``HotGroups`` each chunk's entries (``entry``, made by the workers) as
the chunk arrives, so grouping runs beside the workers instead of after them.

Memory stays flat however long the file: the sketches of ``CANDIDATES`` rows per
category (with the compiled index, also one number per feature: 224 KB a category for the
shipped model), three numbers per group (first row, size, last row), and the group of every
row in a file beside the output (4 bytes a row), read back in order when the output is
written. A group's name (its first row's id) is held only from its first row to its last
while the output is written.
"""
from __future__ import annotations

from array import array
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

import numpy as np
import orjson

from ..compiled import optional
from ..hot_issues import CANDIDATES, SKETCH_TERMS, cosines, unpack

_sketch_index = optional("_sketch_index")  # where it was not built, every candidate's terms are read

NO_GROUP = -1
SHOWN_TEXT = 80  # characters of a group's first row in the report


class Entry(NamedTuple):
    """What grouping needs of one triaged row."""
    row: int
    category: str
    sketch: bytes
    moment: float   # seconds since the epoch; nan: no time
    caller: int     # a number from the caller key; 0: no caller


_EPOCH = datetime(1970, 1, 1)


def entry(row: dict) -> Entry | None:
    """The grouping entry of one output row (as the workers make it), or None for a row
    that cannot join a group (an error, unreadable, no category)."""
    if row["status"] != "ok" or not row.get("_sketch") or not row.get("category"):
        return None
    # seconds from the epoch of a naive UTC time, by subtraction: ``timestamp()`` would read it
    # as the machine's local time (an hour off across a change to summer time) and refuses the year 1
    moment = (datetime.fromisoformat(row["_time"]) - _EPOCH).total_seconds() if row.get("_time") else np.nan
    caller = int(row["_caller"][1][:15], 16) if row.get("_caller") else 0
    return Entry(row["row"], row["category"], bytes.fromhex(row["_sketch"]), moment, caller)


class _Recent:
    """The latest ``CANDIDATES`` rows of one category, compared all at once: their sketches
    indexed by feature (``_sketch_index``) where it was built, else as arrays."""

    def __init__(self, n_features: int, scratch: np.ndarray | None):
        if _sketch_index is not None:
            self.index = _sketch_index.SketchIndex(CANDIDATES, SKETCH_TERMS, n_features)
        else:
            self.index, self.scratch = None, scratch
            self.indices = np.full((CANDIDATES, SKETCH_TERMS), -1, dtype=np.int32)
            self.values = np.zeros((CANDIDATES, SKETCH_TERMS), dtype=np.float32)
        self.rows = np.zeros(CANDIDATES, dtype=np.int64)          # 0: an empty slot
        self.times = np.full(CANDIDATES, np.nan)                  # seconds; nan: no time
        self.callers = np.zeros(CANDIDATES, dtype=np.int64)       # 0: no caller
        self.groups = [NO_GROUP] * CANDIDATES                     # the group of the row in each slot
        self.slot = 0
        self.added = 0
        self.timed = False  # whether any slot has a time

    def add(self, row: int, indices, values, moment: float, caller: int, group: int) -> None:
        slot = self.slot
        if self.index is not None:
            self.index.put(slot, indices, values)
        else:
            self.indices[slot], self.values[slot] = indices, values
        self.rows[slot] = row
        self.times[slot], self.callers[slot], self.groups[slot] = moment, caller, group
        self.slot = (slot + 1) % CANDIDATES
        self.added += 1
        self.timed = self.timed or not np.isnan(moment)

    def cosines(self, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """The cosine of an unpacked sketch with each slot's (0 for an empty slot)."""
        if self.index is not None:
            return self.index.cosines(indices, values)
        return cosines(indices, values, self.indices, self.values, self.scratch)

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
    """Hot-issue groups of one file, built from its rows' entries in input order. Groups
    are numbered in the order they form; ``path`` receives the group of each row."""

    def __init__(self, n_features: int, settings: Mapping[str, Any], path: Path):
        self.window = settings["hot_issue_window_days"] * 86400.0
        self.threshold = settings["hot_issue_similarity"]
        # hot_issues.cosines's zeros, one for the whole file, where the index was not built
        scratch = np.zeros(n_features + 1, dtype=np.float32) if _sketch_index is None else None
        self.recent: dict[str, _Recent] = defaultdict(lambda: _Recent(n_features, scratch))
        self.first_rows, self.sizes, self.last_rows = array("q"), array("q"), array("q")  # per group
        self.path = path
        self.file = open(path, "wb")
        self.rows_done = 0

    def add(self, count: int, entries: list[Entry]) -> None:
        """Group the next ``count`` rows of the file, of which ``entries`` may join a group."""
        groups = array("i", [NO_GROUP]) * count
        for found in entries:
            groups[found.row - self.rows_done - 1] = self._group(found)
        groups.tofile(self.file)
        self.rows_done += count

    def _group(self, found: Entry) -> int:
        indices, values = unpack(found.sketch)
        known = self.recent[found.category]
        similarity = known.cosines(indices, values)
        eligible = known.eligible(found.moment, found.caller, self.window)
        if eligible is not None:
            similarity[~eligible] = -1.0
        best = int(np.argmax(similarity))
        group = NO_GROUP
        if similarity[best] >= self.threshold:
            group = known.groups[best]
            if group == NO_GROUP:  # a new group: the row matched is its first
                group = known.groups[best] = len(self.sizes)
                self.first_rows.append(int(known.rows[best]))
                self.sizes.append(1)
                self.last_rows.append(0)
            self.sizes[group] += 1
            self.last_rows[group] = found.row
        known.add(found.row, indices, values, found.moment, found.caller, group)
        return group

    def biggest(self, count: int) -> list[int]:
        """The ``count`` largest groups, in the order they formed among equals."""
        sizes = np.frombuffer(self.sizes, dtype=np.int64) if self.sizes else np.zeros(0, np.int64)
        return np.argsort(-sizes, kind="stable")[:count].tolist()

    def label(self, blocks: Iterable[list[bytes]], shown: list[int]) -> Iterator[tuple[list[bytes], dict]]:
        """Each block of the file's part-file lines (in order, one a row), with the
        hot-issue columns of its rows that joined a group: ``{index in the block: (the id
        of the group's first row, the group's size in the whole file)}``. Only a group's
        first row is decoded here: it names the group. Fills ``self.shown`` with the first
        rows of the groups in ``shown`` (id, category, text), for the report."""
        self.file.close()
        first_rows = np.frombuffer(self.first_rows, dtype=np.int64) if self.first_rows else np.zeros(0, np.int64)
        by_first_row = np.argsort(first_rows, kind="stable")  # groups in the order their first rows come
        firsts = first_rows[by_first_row]
        names: dict[int, str] = {}  # group -> its first row's id, from its first row to its last
        wanted, self.shown = set(shown), {}
        done = taken = 0  # rows before the block; groups named so far
        with open(self.path, "rb") as stored:
            for lines in blocks:
                groups = np.fromfile(stored, dtype=np.int32, count=len(lines))
                if len(groups) != len(lines):
                    raise ValueError(f"{self.path} holds the groups of {done + len(groups)} rows, not more")
                upto = int(np.searchsorted(firsts, done + len(lines), side="right"))
                for group in by_first_row[taken:upto].tolist():  # groups whose first row is in the block
                    index = int(first_rows[group]) - done - 1
                    row = orjson.loads(lines[index])
                    names[group], groups[index] = row["id"], group
                    if group in wanted:
                        self.shown[group] = {"id": row["id"], "category": row["category"],
                                             "text": (row["text"] or "")[:SHOWN_TEXT]}
                taken = upto
                columns = {}
                for index in np.flatnonzero(groups != NO_GROUP).tolist():
                    group = int(groups[index])
                    columns[index] = (names[group], self.sizes[group])
                    if done + index + 1 == self.last_rows[group]:
                        del names[group]
                yield lines, columns
                done += len(lines)

    def remove(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)
