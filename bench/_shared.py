"""Where benchmarks find the shared real data; they exit cleanly when it is absent."""
import csv
import sys
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def read_shared(name: str) -> list[dict]:
    path = SHARED_DATA / name
    if not path.is_file():
        print(f"skipped: {path} is absent (the shared data lives beside the clone)", file=sys.stderr)
        sys.exit(0)
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def same_user_messages():
    """Rows of messages_with_users.csv, their features under the default model (as
    triage/repeat.py computes them), every same-user pair of row indices, and a function
    giving the cosine of each pair in a list."""
    from collections import defaultdict
    from itertools import combinations

    import numpy as np

    from triage import load_model
    from triage.features import transform
    from triage.normalise import normalise
    from triage.privacy import mask_personal_data

    rows = read_shared("messages_with_users.csv")
    model = load_model()
    features = transform(model.featuriser_,
                         [mask_personal_data(normalise(row["subject"] + "。" + row["body"]))[0] for row in rows])
    by_user = defaultdict(list)
    for index, row in enumerate(rows):
        by_user[row["user"]].append(index)
    pairs = [pair for indices in by_user.values() if len(indices) > 1 for pair in combinations(indices, 2)]

    def cosines(some_pairs):
        left, right = features[[a for a, _ in some_pairs]], features[[b for _, b in some_pairs]]
        return np.asarray(left.multiply(right).sum(axis=1)).ravel()

    return rows, model, pairs, cosines
