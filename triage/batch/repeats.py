"""Repeat petitions in a batch file: each row is compared with the same caller's earlier
rows (by the time column, else by file order), the same judgement as the service makes
against its case store (``repeat.verdict``), so each row sees only its past.

The rows with a caller are written into bucket files by their caller key (a caller's rows
all in one bucket), ``BUCKET_ROWS`` rows a bucket on average. Bucket by bucket, the parent
finds the callers with more than one row and the judging runs on the engine's workers,
the callers split into jobs of about ``JOB_ROWS`` rows, each job comparing each caller's
rows among themselves (``repeat.crossing``: only the pairs of one caller's rows); the
jobs of one bucket follow those of the last without waiting for them to come back.
A row's TF-IDF row is the one triage made (``rows.triage_chunk``), read from the part
file's features file into its job by the parent; a row without one (triaged by an
earlier version before a resume) is featurised from its text, in one call for the job.
Each bucket's repeat columns go to a file in row order, and the output reads the
buckets' files merged by row.

Memory: two buckets' texts (one being judged, the next being read) and one's verdicts,
and the jobs in flight's TF-IDF rows, however long the file. On disk, in a folder beside
the output: each bucket's rows (their texts: about 40 % of the part file) until it is
judged, its repeat columns until the output is written.
"""
from __future__ import annotations

import heapq
import os
from collections import defaultdict, deque
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
import orjson
import scipy.sparse as sp

from .. import identity
from ..errors import DataFileError
from ..model import TriageModel
from ..repeat import crossing, follow_up, packed_size, unpack_row, verdict, views_of
from .report import REPEATER_ROWS_SHOWN, REPEATERS_SHOWN
from .rows import is_judged

NO_TIME = "时间无法识别，未做重复判断"
JOB_ROWS = 1000  # rows judged per worker task: enough to featurise as one list
# A caller's rows are compared with their earlier rows this many at a time, so that one
# caller with thousands of rows costs memory in proportion to them, not to their square.
BLOCK_ROWS = 512
BUCKET_ROWS = 25_000  # rows judged at a time, on average: what judging holds in memory
MOST_BUCKETS = 512    # files open at once while rows are put in buckets (beyond 12.8M rows, larger buckets)

# row number, id, masked text, time (ISO) or None, identifier kind, packed TF-IDF row (``repeat.pack_row``) or None
Member = tuple[int, str, str, str | None, str, bytes | None]


def judge_rows(rows: Iterable[dict], features: Path, settings: Mapping[str, Any], timed: bool,
               run: Callable[[Callable, Iterable], Iterator], folder: Path,
               total: int) -> tuple[Iterator[tuple[int, dict]], list[tuple[str, int, list[str]]]]:
    """The repeat columns (``verdict_columns``, as JSON) of every triaged row with a caller, as
    ``(row number, columns)`` in row order, read from files in ``folder`` (made here; the
    caller removes it once the iterator is used up); and the report's ``REPEATERS_SHOWN``
    callers with the most repeat rows (``Summary.repeaters``), found bucket by bucket.

    Args:
        rows: the part file's rows, in order (read once).
        features: the part file's features file: the packed TF-IDF rows of the rows with
            ``_features`` (how many values each holds), one after another in row order.
        timed: whether rows carry times (``--time-col``); without, file order is time order
            and the repeat window does not apply.
        run: ``Engine.map``: yields ``function(model, job)`` for each job, in order.
        total: how many rows ``rows`` holds, which sets the number of buckets.
    """
    count = min(MOST_BUCKETS, max(1, -(-total // BUCKET_ROWS)))
    folder.mkdir(exist_ok=True)
    buckets = [open(folder / f"{number}.rows.jsonl", "wb") for number in range(count)]
    try:
        offset = 0  # of the row's packed TF-IDF row in ``features``
        for row in rows:
            values = row.get("_features")
            if is_judged(row):
                kind, key = row["_caller"]
                member = [row["row"], row["id"], row["text"], row["_time"], kind, offset, values, key]
                buckets[int(key[:16], 16) % count].write(orjson.dumps(member) + b"\n")
            offset += packed_size(values or 0)
    finally:
        for handle in buckets:
            handle.close()
    local = {**settings, "repeat_window_days": settings["repeat_window_days"] if timed else None}
    judge = partial(judge_columns, settings=local, timed=timed)
    repeaters: list[tuple[tuple[int, int], str, list[str]]] = []  # ((-repeat rows, first repeat row), caller, ids)
    verdicts: dict[int, dict] = {}
    ended: deque[tuple[int, int, list]] = deque()  # (jobs handed on with its last, bucket, its repeated callers)
    with open(features, "rb") as packed:
        def every_job() -> Iterator[list[list[Member]]]:
            """The jobs of one bucket after another, so the workers judge the next bucket's
            first jobs while the last ones of a bucket come back."""
            handed = 0
            for number in range(count):
                repeated = _repeated(folder / f"{number}.rows.jsonl")
                for job in _with_rows(_jobs(members for _, members in repeated), packed.fileno()):
                    handed += 1
                    yield job
                ended.append((handed, number, repeated))

        def finish(done: int) -> None:  # every bucket whose jobs have all come back
            nonlocal repeaters
            while ended and ended[0][0] <= done:
                _, number, repeated = ended.popleft()
                repeaters = _most_repeats(repeaters, repeated, verdicts)
                rows = sorted(member[0] for _, members in repeated for member in members)
                with open(folder / f"{number}.judged", "wb") as handle:
                    handle.writelines(b"%d\t%b\n" % (row, orjson.dumps(verdicts.pop(row))) for row in rows)

        done = 0
        for found in run(judge, every_job()):
            verdicts.update(found)
            done += 1
            finish(done)
        finish(done)
    columns = heapq.merge(*(_judged(folder / f"{number}.judged") for number in range(count)))
    return columns, [(caller, -order[0], ids) for order, caller, ids in repeaters]


def _repeated(path: Path) -> list[tuple[str, list[list]]]:
    """The callers of a bucket file with more than one row, each with its rows in file
    order (as bucket rows: ``Member`` but for where its TF-IDF row lies); the file goes."""
    groups: dict[str, list[list]] = defaultdict(list)
    with open(path, "rb") as handle:
        for line in handle:
            *member, key = orjson.loads(line)
            groups[key].append(member)
    path.unlink()
    return [(key, members) for key, members in groups.items() if len(members) > 1]


def _most_repeats(best: list, repeated: list[tuple[str, list[list]]], judged: Mapping[int, dict]) -> list:
    """``best`` with the callers of ``repeated`` (key, rows in file order): the
    ``REPEATERS_SHOWN`` with the most repeat rows kept, ties in the order of their first
    repeat row (as a ``Counter`` of rows in file order gives them), each with the ids of its
    first ``REPEATER_ROWS_SHOWN`` repeat rows."""
    found = []
    for key, members in repeated:
        repeats = [member for member in members if judged[member[0]]["is_repeat"]]
        if repeats:
            found.append(((-len(repeats), repeats[0][0]), key, [str(member[1]) for member in repeats[:REPEATER_ROWS_SHOWN]]))
    return heapq.nsmallest(REPEATERS_SHOWN, best + found)


def _judged(path: Path) -> Iterator[tuple[int, bytes]]:
    """A bucket's judged rows: row number and repeat columns as JSON, left for the worker
    that finishes the row's output block to decode."""
    with open(path, "rb") as handle:
        for line in handle:
            row, columns = line.split(b"\t", 1)
            yield int(row), columns


def _with_rows(jobs: Iterable[list[list[list]]], packed: int) -> Iterator[list[list[Member]]]:
    """``jobs`` of bucket rows (a ``Member`` but for the offset and size of its packed
    TF-IDF row in the file ``packed`` instead of the row) as ``Member``s, their rows read
    as each job is handed on."""
    for job in jobs:
        yield [[(*member[:5], None if member[6] is None else _read(packed, member[5], packed_size(member[6])))
                for member in members] for members in job]


def _read(packed: int, offset: int, size: int) -> bytes:
    found = os.pread(packed, size, offset)
    if len(found) != size:
        raise DataFileError(f"the batch's features file ends at {offset + len(found)} bytes, not the {offset + size} "
                            "its part file says; delete the .checkpoint.json beside the output to start over")
    return found


def _jobs(groups: Iterable[list]) -> Iterator[list[list]]:
    """Whole callers' rows in jobs of at least ``JOB_ROWS`` rows (the last may be smaller)."""
    job: list[list] = []
    size = 0
    for members in groups:
        job.append(members)
        size += len(members)
        if size >= JOB_ROWS:
            yield job
            job, size = [], 0
    if job:
        yield job


def judge_columns(model: TriageModel, groups: list[list[Member]], settings: Mapping[str, Any],
                  timed: bool) -> dict[int, dict]:
    """``judge_groups``' verdicts as their repeat columns (``verdict_columns``), made where the
    job runs: the worker sends back the columns, not the verdicts they come from."""
    return {row: verdict_columns(found) for row, found in judge_groups(model, groups, settings, timed).items()}


def judge_groups(model: TriageModel, groups: list[list[Member]], settings: Mapping[str, Any],
                 timed: bool) -> dict[int, dict]:
    """The verdict of every row of ``groups`` (each the rows of one caller) against that
    caller's earlier rows, newest first, within ``settings["repeat_window_days"]`` (None:
    every earlier row). One ``views`` call for the whole job; each caller's similarities
    are ``repeat.cross`` of their rows, as ``repeat.similarities`` of their texts alone."""
    wording, topic = views_of(model, _wording(model, [member for members in groups for member in members]))
    window = settings["repeat_window_days"]
    callers, positions_of = [], []  # each caller's rows in time order, and their rows of the views
    first = 0
    for members in groups:
        order = sorted(range(len(members)), key=lambda index: (members[index][3] or "", members[index][0]))
        callers.append([members[index] for index in order])
        positions_of.append(np.asarray(order) + first)
        first += len(members)
    times_of = [[datetime.fromisoformat(member[3]) if member[3] else None for member in members] for members in callers]
    verdicts = {}
    for caller, start, matrix in _compared(wording, topic, positions_of):
        members, times = callers[caller], times_of[caller]
        for position in range(start, start + len(matrix)):
            number, kind = members[position][0], members[position][4]
            earlier = list(range(position - 1, -1, -1))  # newest first
            if window is not None:
                since = times[position] - timedelta(days=window)
                earlier = [other for other in earlier if times[other] >= since]
            similarity = matrix[position - start, earlier]
            # Only the deciding earlier rows become priors (a caller with thousands of
            # rows must not make millions): the most similar, which decides, and the
            # first at the shown (rounded) score, which repeat_columns names.
            deciding = sorted(_deciding(similarity))
            priors = [{"case_id": members[earlier[index]][1], "status": None, "channel": None,
                       "received_at": times[earlier[index]] if timed else None, "shared": [kind],
                       "link": identity.link([(kind, "")], {members[earlier[index]][4]: 1})}
                      for index in deciding]
            verdicts[number] = verdict(priors, similarity[deciding], settings, True, count=len(earlier) + 1,
                                       phrase=follow_up(members[position][2]))
    return verdicts


def _wording(model: TriageModel, members: list[Member]) -> sp.csr_matrix:
    """The members' unit TF-IDF rows (``Featuriser.wording``): their packed rows, and the
    texts of those without one (or with one that cannot be a row of this model) featurised
    together."""
    columns = model.featuriser_.body_columns
    rows = [unpack_row(member[5]) if member[5] is not None else None for member in members]
    every = np.concatenate([indices for indices, _ in filter(None, rows)] or [np.zeros(0, np.int32)])
    if len(every) and not 0 <= every.min() <= every.max() < columns:  # checked row by row only then
        rows = [row if row is None or not len(row[0]) or 0 <= row[0].min() <= row[0].max() < columns else None
                for row in rows]
    missing = [position for position, row in enumerate(rows) if row is None]
    if len(missing) == len(members):
        return model.featuriser_.wording([member[2] for member in members])
    if missing:
        made = model.featuriser_.wording([members[position][2] for position in missing])
        for number, position in enumerate(missing):
            span = slice(made.indptr[number], made.indptr[number + 1])
            rows[position] = (made.indices[span], made.data[span])
    indptr = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum([len(indices) for indices, _ in rows], out=indptr[1:])
    return sp.csr_matrix((np.concatenate([values for _, values in rows]), np.concatenate([indices for indices, _ in rows]),
                          indptr), shape=(len(rows), columns))


def _compared(wording: sp.csr_matrix, topic: sp.csr_matrix,
              positions_of: list[np.ndarray]) -> Iterator[tuple[int, int, np.ndarray]]:
    """Each caller's rows (``positions_of[caller]``, rows of ``views``) against their own
    past, a block of rows at a time: ``(caller, the block's first row, matrix)``, row r of
    the matrix being the caller's row ``start + r`` and column c their row c."""
    crossed = crossing(wording, topic)
    for caller, positions in enumerate(positions_of):
        for start in range(0, len(positions), BLOCK_ROWS):
            end = min(start + BLOCK_ROWS, len(positions))
            yield caller, start, crossed(positions[start:end], positions[:end])


def _deciding(similarity: np.ndarray) -> set[int]:
    """Positions of the most similar value (the first, if tied) and of the first value at
    the highest score as rounded for output."""
    if not len(similarity):
        return set()
    scores = [round(float(value), 3) for value in similarity]
    return {int(np.argmax(similarity)), scores.index(max(scores))}


def repeat_columns(rows: list[dict], judged: Mapping[int, bytes], settings: Mapping[str, Any]) -> Iterator[dict]:
    """The repeat columns of each output row: ``judged``'s (``verdict_columns`` as JSON) for
    a row judged against its caller's earlier rows, else those of a first case, or of no
    caller."""
    alone = {identified: verdict_columns(verdict([], np.zeros(0), settings, identified)) for identified in (False, True)}
    for row in rows:
        if row["status"] != "ok":
            yield {}
        elif row.get("_time_error"):
            yield {"repeat_reasons": f"{NO_TIME}（{row['_time_error']}）"}
        elif (found := judged.get(row["row"])) is not None:
            yield orjson.loads(found)
        else:
            yield alone[bool(row.get("_caller"))]


def verdict_columns(found: dict) -> dict:
    """The repeat columns of a ``repeat.verdict``."""
    best = max(found["prior_cases"], key=lambda prior: prior["similarity"], default=None)
    return {"is_repeat": found["is_repeat"], "repeat_score": found["score"],
            "repeat_of": best["case_id"] if best and found["is_repeat"] else None,
            "caller_case_count": found["caller_case_count"], "repeat_reasons": "；".join(found["reasons"])}
