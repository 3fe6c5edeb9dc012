"""Stage 4: one prediction head per label column (category, department, ...).

A head is a linear SVM on the shared TF-IDF features, calibrated by a multinomial
logistic regression fitted on the SVM's out-of-fold decision scores (stacking: stock
parts, probabilities that mean what they say). The same out-of-fold probabilities set
the head's decision-band thresholds and its honest metrics. Only the SVM's weights are
kept (float32), which is also what explanations read.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from .errors import ModelError

BANDS = ("auto", "suggest", "review")
MIN_EXAMPLES_PER_CLASS = 3


class LinearHead(ClassifierMixin, BaseEstimator):
    """Calibrated linear classifier for one label column.

    Parameters:
        C: SVM regularisation (smaller: smoother).
        auto_precision / suggest_precision: a prediction is ``auto`` when its confidence
            is at or above the lowest threshold at which out-of-fold precision reaches
            ``auto_precision``; likewise ``suggest``; below both, ``review``.
        folds: folds for the out-of-fold scores.
        random_state: seed for the folds.
    """

    def __init__(self, C: float = 0.5, auto_precision: float = 0.95,
                 suggest_precision: float = 0.80, folds: int = 3, random_state: int = 0):
        self.C = C
        self.auto_precision = auto_precision
        self.suggest_precision = suggest_precision
        self.folds = folds
        self.random_state = random_state

    def fit(self, features, labels):
        labels = np.asarray(labels, dtype=object)
        counts = Counter(labels)
        if len(counts) < 2:
            raise ModelError(f"a head needs at least 2 labels with {MIN_EXAMPLES_PER_CLASS}+ examples; got {dict(counts)}")
        svm = LinearSVC(C=self.C, random_state=self.random_state)
        folds = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        out_of_fold = _as_2d(cross_val_predict(svm, features, labels, cv=folds, method="decision_function"))
        svm.fit(features, labels)
        self.classes_ = svm.classes_
        self.coef_ = _as_2d_coef(svm.coef_).astype(np.float32)
        self.intercept_ = np.atleast_1d(svm.intercept_).astype(np.float32)
        if len(self.classes_) == 2:
            self.intercept_ = np.array([-self.intercept_[0], self.intercept_[0]], np.float32)
        self.calibrator_ = LogisticRegression(C=1.0, max_iter=1000).fit(out_of_fold, labels)
        calibrated = cross_val_predict(LogisticRegression(C=1.0, max_iter=1000), out_of_fold, labels,
                                       cv=folds, method="predict_proba")
        predicted = self.classes_[calibrated.argmax(axis=1)]
        confidence = calibrated.max(axis=1)
        correct = predicted == labels
        self.thresholds_ = {
            "auto": _threshold_for_precision(confidence, correct, self.auto_precision),
            "suggest": _threshold_for_precision(confidence, correct, self.suggest_precision),
        }
        self.metrics_ = {
            "out_of_fold_accuracy": round(float(accuracy_score(labels, predicted)), 4),
            "out_of_fold_macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
            **band_metrics(confidence >= self.thresholds_["auto"], correct),
            "n": int(len(labels)),
        }
        return self

    def decision_function(self, features) -> np.ndarray:
        return np.asarray(features @ self.coef_.T) + self.intercept_

    def predict_proba(self, features) -> np.ndarray:
        """Calibrated probabilities: the calibrator's own formula (softmax, or the logistic
        function for two classes) applied directly, because scikit-learn's input checks
        cost ten times the arithmetic on one text. Equal to
        ``calibrator_.predict_proba`` (tests/test_model.py)."""
        scores = self.decision_function(features)
        logits = scores @ self.calibrator_.coef_.T + self.calibrator_.intercept_
        if logits.shape[1] == 1:
            positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        logits -= logits.max(axis=1, keepdims=True)
        exponentials = np.exp(logits)
        return exponentials / exponentials.sum(axis=1, keepdims=True)

    def predict(self, features):
        return self.classes_[self.predict_proba(features).argmax(axis=1)]

    def band(self, confidence: float) -> str:
        """``auto``, ``suggest`` or ``review`` for one calibrated confidence."""
        if confidence >= self.thresholds_["auto"]:
            return "auto"
        if confidence >= self.thresholds_["suggest"]:
            return "suggest"
        return "review"


def usable_rows(labels) -> tuple[np.ndarray, dict[str, int]]:
    """Indices of rows whose label is present and common enough to learn, and the
    counts of rows left out (``empty_label``, ``rare_label``), for the training report."""
    present = [index for index, label in enumerate(labels) if label not in (None, "")]
    counts = Counter(labels[index] for index in present)
    kept = [index for index in present if counts[labels[index]] >= MIN_EXAMPLES_PER_CLASS]
    return np.asarray(kept, dtype=np.int64), {
        "empty_label": len(labels) - len(present),
        "rare_label": len(present) - len(kept),
    }


def _as_2d(scores: np.ndarray) -> np.ndarray:
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def _as_2d_coef(coef: np.ndarray) -> np.ndarray:
    return np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef


def _threshold_for_precision(confidence: np.ndarray, correct: np.ndarray, target: float,
                             min_support: int = 20) -> float:
    """Lowest confidence at which predictions at or above it reach ``target`` precision
    out of fold (at least ``min_support`` of them); above 1 when none does."""
    order = np.argsort(-confidence, kind="stable")
    running_precision = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    reaching = np.flatnonzero(running_precision >= target)
    reaching = reaching[reaching + 1 >= min_support]
    if not reaching.size:
        return 1.01
    return round(float(confidence[order][reaching[-1]]), 4)


def band_metrics(automatic: np.ndarray, correct: np.ndarray) -> dict:
    """Share of predictions in the ``auto`` band, and how many of those are right."""
    return {
        "auto_coverage": round(float(automatic.mean()), 4),
        "auto_precision": round(float(correct[automatic].mean()), 4) if automatic.any() else None,
    }
