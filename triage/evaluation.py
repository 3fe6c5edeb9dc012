"""Measuring a model on labelled data: per head accuracy, macro/weighted F1, per-class
scores, confusion, and what the ``auto`` band covers and how precise it is."""
from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from .datafiles import LabelledData
from .heads import band_metrics
from .model import RESPONDER, TriageModel


def evaluate(model: TriageModel, data: LabelledData) -> dict:
    """``{"n": N, "heads": {name: {...}}}`` for every head that has both a model head
    and a label column in ``data``; rows without a label are left out of that head."""
    results = model.predict(data.texts)
    report = {"n": len(data.texts), "unreadable": sum(r["status"] != "ok" for r in results), "heads": {}}
    for name, truth in data.labels.items():
        if name not in model.heads_ or name == RESPONDER:  # the responder answers in the department (source responder)
            continue
        pairs = [(label, _predicted(result, name)) for label, result in zip(truth, results) if label is not None]
        if not pairs:
            continue
        expected = [label for label, _ in pairs]
        predicted = [prediction["label"] if prediction else "(unreadable)" for _, prediction in pairs]
        head = _scores(expected, predicted)
        automatic = np.array([bool(prediction) and prediction["band"] == "auto" for _, prediction in pairs])
        head.update(band_metrics(automatic, np.array([e == p for e, p in zip(expected, predicted)])))
        if name == "department":
            tops = [[d["label"] for d in prediction["top"]] if prediction else [] for _, prediction in pairs]
            head["top3_accuracy"] = round(float(np.mean([e in top for e, top in zip(expected, tops)])), 4)
        report["heads"][name] = head
    return report


def _predicted(result: dict, name: str) -> dict | None:
    if result["status"] != "ok":
        return None
    if name == "subcategory":
        category = result["category"]
        return {"label": category["subcategory"], "band": category["subcategory_band"]}
    return result.get(name)


def _scores(expected: list[str], predicted: list[str]) -> dict:
    labels = sorted(set(expected))
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, predicted, labels=labels, zero_division=0)
    confusion: dict[str, dict[str, int]] = {}
    for truth, guess in Counter(zip(expected, predicted)).items():
        confusion.setdefault(truth[0], {})[truth[1]] = guess
    return {
        "accuracy": round(float(accuracy_score(expected, predicted)), 4),
        "macro_f1": round(float(f1_score(expected, predicted, labels=labels, average="macro", zero_division=0)), 4),
        "weighted_f1": round(float(f1_score(expected, predicted, labels=labels, average="weighted", zero_division=0)), 4),
        "per_class": {label: {"precision": round(float(p), 4), "recall": round(float(r), 4),
                              "f1": round(float(f), 4), "support": int(s)}
                      for label, p, r, f, s in zip(labels, precision, recall, f1, support)},
        "confusion": confusion,
    }
