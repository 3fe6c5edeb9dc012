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
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

from ..hot_issues import match

CANDIDATES = 300


def group_rows(rows: Callable[[], Iterable[dict]], n_features: int, settings: Mapping[str, Any]
               ) -> tuple[array, Counter, dict[int, dict]]:
    """``(group of each row, size of each group, first row of each group)``: the group of
    row number ``n`` is ``groups[n - 1]``, the group's first row number, or 0 for none."""
    window = timedelta(days=settings["hot_issue_window_days"])
    recent: dict[str, deque] = defaultdict(lambda: deque(maxlen=CANDIDATES))
    groups = array("q")  # 8 bytes a row: flat memory for a file of any length
    sizes: Counter = Counter()
    firsts: dict[int, dict] = {}
    for row in rows():
        groups.append(0)
        if row["status"] != "ok" or not row.get("_sketch") or not row.get("category"):
            continue
        sketch = bytes.fromhex(row["_sketch"])
        moment = datetime.fromisoformat(row["_time"]) if row.get("_time") else None
        caller = tuple(row["_caller"]) if row.get("_caller") else None
        candidates = [entry for entry in recent[row["category"]]
                      if (caller is None or entry["caller"] != caller)
                      and (moment is None or entry["time"] is None or abs(moment - entry["time"]) <= window)]
        found = match(sketch, candidates, n_features, settings)
        if found is not None:
            matched = found["matched_case"]
            group = groups[matched - 1] or matched
            if group not in sizes:  # a new group: its first row joins it too
                groups[matched - 1] = group
                sizes[group] = 1
                firsts[group] = next(entry["first"] for entry in candidates if entry["case_id"] == group)
            groups[row["row"] - 1] = group
            sizes[group] += 1
        recent[row["category"]].append({"case_id": row["row"], "hot_group": None,  # groups is the truth
                                        "sketch": sketch, "time": moment, "caller": caller,
                                        "first": {"id": row["id"], "category": row["category"],
                                                  "text": (row["text"] or "")[:80]}})
    return groups, sizes, firsts
