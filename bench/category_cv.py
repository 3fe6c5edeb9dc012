"""5-fold cross-validated macro-F1 of the category head, trained exactly as
``triage train`` does with default settings, on ../shared/data/messages_dev.csv.

    python bench/category_cv.py
    python bench/category_cv.py --hold-out-above 0   # as a corpus above 30,000 rows is trained:
                                                     # SVM on two thirds, calibrated on the rest
"""
import argparse
import json
import time

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from _shared import read_shared
from triage import TriageModel, heads

parser = argparse.ArgumentParser()
parser.add_argument("--hold-out-above", type=int, default=heads.HOLD_OUT_ABOVE)
heads.HOLD_OUT_ABOVE = parser.parse_args().hold_out_above
rows = read_shared("messages_dev.csv")
texts = [row["text"] for row in rows]
labels = np.array([row["category"] for row in rows])
predicted = np.empty(len(rows), dtype=object)
started = time.perf_counter()
for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
    model = TriageModel().fit([texts[i] for i in train], {"category": labels[train].tolist()})
    predicted[test] = [r["category"]["label"] if r["status"] == "ok" else "" for r in model.predict([texts[i] for i in test])]
folds = [round(float(f1_score(labels[test], predicted[test], average="macro")), 4)
         for _, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels)]
print(json.dumps({"benchmark": "category_cv", "n": len(rows), "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
                  "accuracy": round(float((labels == predicted).mean()), 4), "folds": folds,
                  "hold_out_above": heads.HOLD_OUT_ABOVE,
                  "seconds": round(time.perf_counter() - started, 1)}, ensure_ascii=False))
