"""The newest sketched cases of each category, kept in the process (one copy per service
worker) so that finding a new case's hot-issue candidates costs one small query, for the
cases stored since the last request, instead of a scan of the category's recent cases.

``CaseStore.hot_candidates`` owns the SQL; this module only keeps what it read. A
category is loaded from the database the first time it is asked for; after that every
request reads the cases with an id above the highest one seen, from this worker and from
every other, and the ids skipped below it (``holes``: on PostgreSQL a transaction that
took a lower id may commit after a higher one; a rolled-back insert leaves a hole for
good, so holes more than ``HOLE_SPAN`` ids old are given up). Sketches are tied to a
model, so a model change starts over, and so does a worker that finds ``REFRESH_LIMIT``
or more new cases at once: reading the newest of each category is then cheaper than
reading every case stored while it was idle.
"""
from __future__ import annotations

import threading
from bisect import bisect
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

HOLE_SPAN = 1000
REFRESH_LIMIT = 100


@dataclass(frozen=True)
class Sketched:
    case_id: int
    category: str
    received_at: datetime
    hot_group: int | None
    sketch: bytes
    keys: frozenset[str]  # the caller's keyed hashes: a caller's own cases are repeats, not more voices


class _Newest:
    """One category's kept cases, oldest first (by ``received_at``, then id), at most
    ``keep``: adding is a bisection, reading the newest stops as soon as it has enough."""

    def __init__(self, keep: int):
        self.keep = keep
        self.rows: list[Sketched] = []
        self.ages: list[tuple[datetime, int]] = []  # (received_at, case_id) of each row
        self.ids: set[int] = set()

    def add(self, row: Sketched) -> None:
        if row.case_id in self.ids:  # read again (a category loaded after a refresh): the newer copy
            index = next(index for index, kept in enumerate(self.rows) if kept.case_id == row.case_id)
            del self.rows[index], self.ages[index]
        age = (row.received_at, row.case_id)
        index = bisect(self.ages, age)
        self.rows.insert(index, row)
        self.ages.insert(index, age)
        self.ids.add(row.case_id)
        if len(self.rows) > self.keep:  # the oldest goes, be it the one just added
            self.ids.discard(self.rows[0].case_id)
            del self.rows[0], self.ages[0]


class RecentSketches:
    """Per category, the ``keep`` cases with the latest ``received_at`` (ties: the later id).
    Callers hold ``lock`` while they refresh and read."""

    def __init__(self, keep: int):
        self.keep = keep
        self.lock = threading.Lock()
        self.reset(None, 0)

    def reset(self, model_version: str | None, highest_id: int) -> None:
        self.model_version = model_version
        self.highest_id = highest_id
        self.holes: set[int] = set()
        self.by_category: dict[str, _Newest] = {}

    def load(self, category: str, rows: Sequence[Sketched]) -> None:
        """Start keeping ``category`` with its latest cases read from the database."""
        self.by_category[category] = _Newest(self.keep)
        for row in rows:
            self.by_category[category].add(row)

    def refresh(self, rows: Sequence[Sketched]) -> None:
        """Take in the cases stored since the last refresh (of the loaded categories: the
        others are read in full when first asked for)."""
        previous = self.highest_id
        for row in rows:
            self.highest_id = max(self.highest_id, row.case_id)
            self.holes.discard(row.case_id)
            if row.category in self.by_category:
                self.by_category[row.category].add(row)
        oldest = self.highest_id - HOLE_SPAN
        seen = {row.case_id for row in rows}
        self.holes.update(case_id for case_id in range(max(previous, oldest) + 1, self.highest_id)
                          if case_id not in seen)
        self.holes = {case_id for case_id in self.holes if case_id > oldest}

    def candidates(self, category: str, since: datetime, own_keys: frozenset[str], limit: int) -> list[Sketched]:
        """The newest ``limit`` kept cases of ``category`` received since ``since`` from
        other callers, newest first."""
        found: list[Sketched] = []
        newest = self.by_category.get(category)
        for row in reversed(newest.rows if newest else ()):
            if row.received_at < since:
                break  # every row after it is older still
            if own_keys and not own_keys.isdisjoint(row.keys):
                continue
            found.append(row)
            if len(found) == limit:
                break
        return found
