"""The subcategory head two ways, side by side: one-vs-rest over every label on every row
(``LinearHead``, sessions 1-3) and siblings against siblings within each category
(``SiblingHead``, what ships now).

    python bench/subcategory_head.py [--sizes 15210,30000]

For each size: the seed corpus (15,210 rows; larger sizes extended as in
retrain_scale.py), one grouped fold of five held out (whole wordings unseen), both heads
fitted on the rest with the same features. Quality: accuracy of the subcategory chosen
among the true category's children (what the model reports once its category head has
spoken). Prints one JSON object.
"""
import argparse
import csv
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from retrain_scale import ROOT, write_corpus
from triage.datafiles import read_labelled
from triage.features import make_featuriser
from triage.heads import LinearHead, SiblingHead
from triage.model import SUBCATEGORY_SEPARATOR, _label_columns
from triage.normalise import normalise
from triage.privacy import mask_personal_data


def conditional_accuracy(head, features, labels: np.ndarray) -> float:
    probabilities = head.predict_proba(features)
    parents = np.array([str(label).split(SUBCATEGORY_SEPARATOR, 1)[0] for label in head.classes_])
    right = 0
    for row, label in enumerate(labels):
        siblings = parents == label.split(SUBCATEGORY_SEPARATOR, 1)[0]
        right += head.classes_[np.flatnonzero(siblings)[probabilities[row, siblings].argmax()]] == label
    return right / len(labels)


def measure(path: Path) -> dict:
    data = read_labelled([path])
    labels = np.asarray(_label_columns(data.labels)["subcategory"], dtype=object)
    texts = [mask_personal_data(normalise(text))[0] for text in data.texts]
    train, test = next(StratifiedGroupKFold(5, shuffle=True, random_state=0).split(texts, labels, data.groups))
    featuriser = make_featuriser(2)
    train_features = featuriser.fit_transform([texts[i] for i in train])
    test_features = featuriser.transform([texts[i] for i in test])
    found = {"rows": len(texts), "classes": len(set(labels))}
    for name, head in (("one_vs_rest_all_rows", LinearHead()), ("siblings_within_category", SiblingHead())):
        started = time.perf_counter()
        head.fit(train_features, labels[train], groups=np.asarray(data.groups, dtype=object)[train])
        found[name] = {"fit_seconds": round(time.perf_counter() - started, 1),
                       "held_out_accuracy_given_category": round(conditional_accuracy(head, test_features, labels[test]), 4)}
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="15210,30000")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in [int(value) for value in parser.parse_args().sizes.split(",")]:
            path = ROOT / "training" / "seed_corpus.csv"
            with path.open(encoding="utf-8") as handle:
                seed_rows = sum(1 for _ in csv.DictReader(handle))
            if size != seed_rows:
                path = Path(folder) / f"corpus-{size}.csv"
                write_corpus(path, size)
            results[size] = measure(path)
    print(json.dumps({"benchmark": "subcategory_head", "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                      f"Python {platform.python_version()}", "by_size": results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
