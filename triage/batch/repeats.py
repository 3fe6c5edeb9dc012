"""Repeat petitions in a batch file: each row is compared with the same caller's earlier
rows (by the time column, else by file order), the same judgement as the service makes
against its case store (``repeat.verdict``), so each row sees only its past.

Memory: 16 bytes per row with a caller, plus the texts of callers who appear more than
once (the only rows that can be repeats).
"""
from __future__ import annotations

from array import array
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from .. import identity
from ..model import TriageModel
from ..repeat import similarities, verdict

NO_TIME = "时间无法识别，未做重复判断"


def judge_rows(model: TriageModel, rows: Callable[[], Iterable[dict]], settings: Mapping[str, Any], timed: bool) -> dict[int, dict]:
    """The ``repeat`` verdict of every triaged row with a caller, by row number.

    Args:
        rows: a callable giving the part file's rows afresh (it is read twice).
        timed: whether rows carry times (``--time-col``); without, file order is time order
            and the repeat window does not apply.
    """
    keys, numbers = array("Q"), array("Q")
    for row in rows():
        if row["status"] == "ok" and row.get("_caller") and row.get("_time_error") is None:
            keys.append(int(row["_caller"][1][:16], 16))
            numbers.append(row["row"])
    keys_np, numbers_np = np.frombuffer(keys, dtype=np.uint64), np.frombuffer(numbers, dtype=np.uint64)
    order = np.argsort(keys_np, kind="stable")
    unique, starts, counts = np.unique(keys_np[order], return_index=True, return_counts=True)
    repeated = set(numbers_np[order[np.repeat(counts > 1, counts)]].tolist())
    details: dict[int, tuple] = {}
    groups: dict[str, list[int]] = defaultdict(list)
    for row in rows():
        if row["row"] in repeated:
            details[row["row"]] = (row["id"], row["text"], row["_time"], row["_caller"][0])
            groups[row["_caller"][1]].append(row["row"])
    window = settings["repeat_window_days"] if timed else None
    local = {**settings, "repeat_window_days": window}
    verdicts = {}
    for members in groups.values():
        members.sort(key=lambda number: (details[number][2] or "", number))
        matrix = similarities(model, [details[number][1] for number in members])
        for position, number in enumerate(members):
            earlier = list(range(position - 1, -1, -1))  # newest first
            if window is not None:
                since = datetime.fromisoformat(details[number][2]) - timedelta(days=window)
                earlier = [other for other in earlier if datetime.fromisoformat(details[members[other]][2]) >= since]
            priors = [{"case_id": details[members[other]][0], "status": None, "channel": None,
                       "received_at": datetime.fromisoformat(details[members[other]][2]) if timed else None,
                       "shared": [details[number][3]], "link": identity.link([(details[number][3], "")], {details[members[other]][3]: 1})}
                      for other in earlier]
            verdicts[number] = verdict(priors, matrix[position, earlier], local, True)
    return verdicts


def repeat_columns(row: dict, verdicts: Mapping[int, dict], settings: Mapping[str, Any], timed: bool) -> dict:
    """The repeat columns of one output row."""
    if row["status"] != "ok":
        return {}
    if row.get("_time_error"):
        return {"repeat_reasons": f"{NO_TIME}（{row['_time_error']}）"}
    found = verdicts.get(row["row"])
    if found is None:
        if not row.get("_caller"):
            found = verdict([], np.zeros(0), settings, False)
        else:
            found = verdict([], np.zeros(0), settings, True)
    best = max(found["prior_cases"], key=lambda prior: prior["similarity"], default=None)
    return {"is_repeat": found["is_repeat"], "repeat_score": found["score"],
            "repeat_of": best["case_id"] if best and found["is_repeat"] else None,
            "caller_case_count": found["caller_case_count"], "repeat_reasons": "；".join(found["reasons"])}

