"""Where benchmarks find the shared real data (they exit cleanly when it is absent), and how
they measure a command's memory."""
import csv
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def read_shared(name: str) -> list[dict]:
    path = SHARED_DATA / name
    if not path.is_file():
        print(f"skipped: {path} is absent (the shared data lives beside the clone)", file=sys.stderr)
        sys.exit(0)
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def board_texts() -> list[str]:
    """Subject and body of every message of the two raw files (messages_with_users.csv and
    messages_with_replies.csv, 7,142 texts): the real input several benchmarks run the
    shipped model over."""
    return [row["subject"] + "。" + row["body"]
            for name in ("messages_with_users.csv", "messages_with_replies.csv") for row in read_shared(name)]


def predicted(model, texts: list[str], size: int = 500) -> list[dict]:
    """``model``'s results for ``texts``, predicted ``size`` at a time (as a batch would)."""
    return [result for start in range(0, len(texts), size) for result in model.predict(texts[start:start + size])]


def same_user_messages():
    """Rows of messages_with_users.csv, the default model, every same-user pair of row
    indices, and two functions of a list of pairs: ``cosines``, the cosine of the model's
    TF-IDF features (the similarity by which the hand-labelled samples were drawn), and
    ``similarity``, the same-matter similarity ``triage/repeat.py`` decides with."""
    from collections import defaultdict
    from itertools import combinations

    import numpy as np

    from triage import load_model
    from triage.normalise import normalise
    from triage.privacy import mask_personal_data
    from triage.repeat import pair_similarities, views

    rows = read_shared("messages_with_users.csv")
    model = load_model()
    wording, topic = views(model, [mask_personal_data(normalise(row["subject"] + "。" + row["body"]))[0] for row in rows])
    by_user = defaultdict(list)
    for index, row in enumerate(rows):
        by_user[row["user"]].append(index)
    pairs = [pair for indices in by_user.values() if len(indices) > 1 for pair in combinations(indices, 2)]

    def split(some_pairs):
        return np.array([a for a, _ in some_pairs], dtype=np.int64), np.array([b for _, b in some_pairs], dtype=np.int64)

    def cosines(some_pairs):
        left, right = split(some_pairs)
        return np.asarray(wording[left].multiply(wording[right]).sum(axis=1)).ravel()

    def similarity(some_pairs):
        return pair_similarities(wording, topic, *split(some_pairs))

    return rows, model, pairs, cosines, similarity


def hand_labels(name: str) -> list[dict]:
    """Rows (id_a, id_b, same) of a hand-label file beside this one; # lines are comments."""
    lines = [line for line in (Path(__file__).with_name(name)).read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    return list(csv.DictReader(lines))


def print_unlabelled(rows: list[dict], pairs: list[tuple[int, int]], scores, labelled: set, low: float, high: float,
                     count: int, seed: int) -> None:
    """Print ``count`` of ``pairs`` (row indices) not in ``labelled`` (id pairs, either order)
    whose score is in [low, high), drawn at random with ``seed``: their ids, score and texts,
    for a reader to label by hand."""
    from triage.normalise import normalise

    members = [index for index, (a, b) in enumerate(pairs) if low <= scores[index] < high
               and (rows[a]["id"], rows[b]["id"]) not in labelled and (rows[b]["id"], rows[a]["id"]) not in labelled]
    for index in np.random.default_rng(seed).choice(members, min(count, len(members)), replace=False).tolist():
        a, b = pairs[index]
        print(f"{rows[a]['id']},{rows[b]['id']}\tscore {scores[index]:.3f}")
        for row in (rows[a], rows[b]):
            print(f"  [{row['time']}] {normalise(row['subject'] + '。' + row['body'])[:300]}")


def stratified_estimates(labelled: list[tuple[float, int]], scores, bins) -> tuple[list[dict], dict]:
    """Precision and recall at each bin's lower edge, from a sample labelled per score bin.

    Args:
        labelled: ``(score, same)`` of each hand-labelled pair.
        scores: the scores of every pair (numpy array).
        bins: ``((low, high), ...)`` covering the scores.
    Returns:
        ``(bins, at_threshold)``: each bin's size, labelled and estimated same-matter
        pairs (its labelled share scaled to its size), and the estimated precision and
        recall when every pair at or above a threshold is called the same matter.
    """
    rows = []
    for low, high in bins:
        sample = [same for score, same in labelled if low <= score < high]
        size = int(((scores >= low) & (scores < high)).sum())
        share = sum(sample) / len(sample) if sample else 0.0
        rows.append({"bin": f"{low}-{min(high, 1.0)}", "pairs": size, "labelled": len(sample),
                     "labelled_same": sum(sample), "estimated_same": round(size * share)})
    total_same = sum(entry["estimated_same"] for entry in rows)
    estimates = {}
    for first, (low, _) in enumerate(bins[1:], start=1):
        kept = rows[first:]
        flagged, right = sum(entry["pairs"] for entry in kept), sum(entry["estimated_same"] for entry in kept)
        estimates[str(low)] = {"precision": round(right / flagged, 3), "recall": round(right / total_same, 3)}
    return rows, estimates


def stratified_interval(labelled: list[tuple[float, int]], scores, bins, threshold: float,
                        draws: int = 2000) -> dict:
    """A 90 % bootstrap interval of ``stratified_estimates``' precision and recall at
    ``threshold`` (a bin's lower edge): each bin's labels drawn again with replacement, the
    bins' sizes kept. Where a bin of many pairs rests on one or two labelled same-matter
    pairs, the interval shows how much the estimate hangs on them."""
    rng = np.random.default_rng(0)
    by_bin = [[(score, same) for score, same in labelled if low <= score < high] for low, high in bins]
    found = []
    for _ in range(draws):
        drawn = [pair for members in by_bin if members
                 for pair in (members[index] for index in rng.integers(0, len(members), len(members)))]
        figures = stratified_estimates(drawn, scores, bins)[1][str(threshold)]
        found.append((figures["precision"], figures["recall"]))
    low, high = np.percentile(np.array(found), [5, 95], axis=0)
    return {"precision": [round(float(low[0]), 3), round(float(high[0]), 3)],
            "recall": [round(float(low[1]), 3), round(float(high[1]), 3)]}


def empty_store(url: str, settings):
    """A migrated ``CaseStore`` on ``url`` holding no cases. On PostgreSQL the database's
    public schema is dropped first: give a benchmark a database of its own."""
    from sqlalchemy import text

    from triage.store import CaseStore, migrate, open_engine

    engine = open_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    return CaseStore(engine, settings)


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """Resident and proportional memory (RSS, PSS) of ``pid`` and all its descendants. RSS
    counts a page shared by the forked workers once per process; PSS splits it between them."""
    totals, stack = {"Rss": 0, "Pss": 0}, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                field = line.split(":", 1)[0]
                if field in totals:
                    totals[field] += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        stack.extend(int(child) for child in children)
    return totals["Rss"] / 1024, totals["Pss"] / 1024


def run_with_peak_memory(command: list[str], sample: bool = True) -> tuple[float, tuple[float, float] | None, str]:
    """Wall seconds, peak (RSS, PSS) MB of the whole process tree (sampled every 0.2 s) and
    stderr of ``command`` (its stdout is dropped); exits with its stderr if it fails.

    With ``sample`` False the peak is None: reading a tree's ``smaps_rollup`` walks its page
    tables (13 ms of CPU a sample for a batch run's three processes, and their memory
    locks meanwhile), so a run timed for throughput on two cores is run without it."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = (0.0, 0.0) if sample else None
    sampler_done = threading.Event()

    def sample_memory():
        nonlocal peak
        while not sampler_done.is_set():
            peak = tuple(map(max, peak, tree_memory_mb(process.pid)))
            time.sleep(0.2)
    sampler = threading.Thread(target=sample_memory)
    if sample:
        sampler.start()
    _, err = process.communicate()
    sampler_done.set()
    if sample:
        sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(command[1:4])} failed: {err}")
    return time.perf_counter() - started, peak, err
