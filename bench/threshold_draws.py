"""How much of a head's ``auto`` threshold is the draw of its calibration folds: the head
fitted on the seed corpus as ``triage train`` fits it, once per fold seed, everything else
the same. A change to a model that moves the threshold less than these draws spread has not
shown that it moved it.

    python bench/threshold_draws.py [--head department] [--draws 10] [--pool 3] [--corpus training/seed_corpus.csv]

Per draw: the ``auto`` threshold, and the share of the out-of-fold predictions at or above it
(its coverage) with their precision. ``--pool K``: the threshold set on the out-of-fold
predictions of K draws at once (draws 0..K-1, K..2K-1, ...), as repeated cross-validation would
set it. Prints one JSON object.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from triage import heads
from triage.datafiles import read_labelled
from triage.features import Featuriser
from triage.model import MATTER_HEADS, SUBCATEGORY_SEPARATOR, _label_columns
from triage.normalise import normalise
from triage.privacy import mask_personal_data

ROOT = Path(__file__).resolve().parent.parent


class _Recorded:
    """``heads._threshold_for_precision`` that keeps what each ``auto`` threshold was set on:
    the out-of-fold confidences and whether each prediction was right."""

    def __init__(self, target: float):
        self.target, self.found, self.original = target, [], heads._threshold_for_precision

    def __call__(self, confidence, correct, target, min_support=20):
        if target == self.target and not self.found:  # the head-wide auto threshold, set first
            self.found.append((confidence.copy(), correct.copy()))
        return self.original(confidence, correct, target, min_support)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--head", default="department")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--pool", type=int, default=3)
    parser.add_argument("--corpus", default=str(ROOT / "training" / "seed_corpus.csv"))
    options = parser.parse_args()
    data = read_labelled([options.corpus])  # as `triage train` reads it
    columns = _label_columns(data.labels)
    labels = np.asarray(columns[options.head], dtype=object)
    kept, _ = heads.usable_rows(columns[options.head])
    groups = np.asarray(data.groups, dtype=object)[kept]
    started = time.perf_counter()
    featuriser = Featuriser()
    features = featuriser.fit_transform([mask_personal_data(normalise(text))[0] for text in data.texts])
    read = None if options.head in MATTER_HEADS else featuriser.body_columns  # as TriageModel fits it
    draws = []
    for seed in range(options.draws):
        head = heads.LinearHead(random_state=seed, calibration="temperature",
                                nested_by=SUBCATEGORY_SEPARATOR if options.head == "subcategory" else None)
        recorded = _Recorded(head.auto_precision)
        heads._threshold_for_precision = recorded
        try:
            head.fit(features, labels[kept], groups=groups, rows=kept, columns=read)
        finally:
            heads._threshold_for_precision = recorded.original
        confidence, correct = recorded.found[0]
        threshold = head.thresholds_["auto"]
        automatic = confidence >= threshold
        draws.append({"seed": seed, "threshold": threshold, "coverage": round(float(automatic.mean()), 4),
                      "precision": round(float(correct[automatic].mean()), 4) if automatic.any() else None,
                      "scores": (confidence, correct)})
    pooled = []
    for start in range(0, options.draws - options.pool + 1, options.pool):
        confidence = np.concatenate([draw["scores"][0] for draw in draws[start:start + options.pool]])
        correct = np.concatenate([draw["scores"][1] for draw in draws[start:start + options.pool]])
        threshold = heads._threshold_for_precision(confidence, correct, heads.LinearHead().auto_precision)
        pooled.append({"seeds": f"{start}-{start + options.pool - 1}", "threshold": threshold,
                       "coverage": round(float((confidence >= threshold).mean()), 4)})
    thresholds = [draw["threshold"] for draw in draws]
    print(json.dumps({"benchmark": "threshold_draws", "head": options.head, "rows": int(len(kept)),
                      "draws": [{key: value for key, value in draw.items() if key != "scores"} for draw in draws],
                      "threshold_range": [min(thresholds), max(thresholds)],
                      "coverage_range": [min(draw["coverage"] for draw in draws), max(draw["coverage"] for draw in draws)],
                      "pooled": pooled, "seconds": round(time.perf_counter() - started, 1)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
