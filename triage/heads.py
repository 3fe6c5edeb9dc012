"""Stage 4: one prediction head per label column (category, department, ...).

A head is a linear SVM on the shared TF-IDF features, calibrated by a multinomial
logistic regression fitted on the SVM's out-of-fold decision scores (stacking: stock
parts, probabilities that mean what they say); above ``HOLD_OUT_ABOVE`` rows the SVM is
fitted on two thirds of the rows and calibrated on its scores for the last third (at most
``CALIBRATION_ROWS`` of them). The same out-of-fold probabilities set the head's
decision-band thresholds and its honest metrics. Only the SVM's weights are
kept (float32), which is also what explanations read.
"""
from __future__ import annotations

import os
from collections import Counter
from functools import partial
from typing import Mapping

import numpy as np
from scipy.linalg import block_diag
from scipy.optimize import minimize_scalar
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.svm import LinearSVC

from .errors import ModelError

BANDS = ("auto", "suggest", "review")
MIN_EXAMPLES_PER_CLASS = 3
# Above this many rows a head's SVM is fitted once, on two folds of three, and calibrated on
# the third (the calibration then describes exactly the served SVM) instead of four fits
# (three folds and all rows): at 30,000 rows two thirds are 20,000 for the SVM and a third
# 10,000 for a calibrator of at most a few hundred parameters per label.
HOLD_OUT_ABOVE = 30_000
# At most this many of the held-out rows calibrate a head (a random sample): a calibrator
# of at most a few hundred parameters per label gains nothing from more, and on 333,000
# held-out rows of a 1,000,000-row retraining the logistic calibrator's three folds and
# final fit took 9 minutes, as long as the head's SVM (docs/BENCHMARKS.md, session 19).
CALIBRATION_ROWS = 50_000
# How much higher the out-of-fold macro-F1 of the logistic calibrator (k(k+1) parameters,
# may re-rank labels) must be than one temperature's for it to be chosen. By plain "more
# accurate" the category head of the seed corpus flipped between the two with each new
# situation (accuracy 0.5253 against 0.5294, macro-F1 0.4388 against 0.4445), and the
# logistic choice cost 6 points of accuracy on real text (0.804 -> 0.746). Macro-F1, not
# accuracy: the urgency head's re-ranking finds 特急 and 紧急 (macro-F1 0.36 -> 0.55) for one
# point of accuracy, which a margin on accuracy would have thrown away.
LOGISTIC_MARGIN = 0.01
CALIBRATIONS = ("auto", "temperature", "logistic")
# A nested head's score for a label under another parent than the text's, while it is
# calibrated: nothing a softmax can pick (SVM scores stay within a few units) yet finite, as
# the calibrator's matrix product needs (-inf times a zero weight is not a number).
OUT_OF_PARENT = -1e9
NESTED_OTHERS = 3.0  # rows of other parents per row of its own a NestedSVC's parent SVM reads (see there)
# Bytes an SVM fit holds per value (non-zero feature) of the rows it reads: the float64 copy
# it is handed (8 and a 4-byte column, ``_fitting_matrix``) and liblinear's own (16-byte
# nodes). A nested head holds, beside its rows, one parent's share of them (at most all) in both.
COPY_BYTES_PER_VALUE = 8 + 4
FIT_BYTES_PER_VALUE = COPY_BYTES_PER_VALUE + 16
NESTED_FIT_BYTES_PER_VALUE = COPY_BYTES_PER_VALUE + FIT_BYTES_PER_VALUE


class NestedSVC(ClassifierMixin, BaseEstimator):
    """Linear SVMs for labels that name their parent (``parent/child``): one one-vs-rest
    SVM per parent, fitted on that parent's rows and a sample of the others (``others``
    of them per row of the parent, as one more label whose weights are thrown away). A
    second level is asked only once its first is chosen, so each label must stand out
    among its siblings, and the sample keeps what tells the parent from the rest from
    deciding among them. The flat SVM reads every row for every label: on 100,000
    retraining rows the subcategory head, the largest fit, took 277 s of the five heads'
    500 fitted one after another.

    The right subcategory given the right category, on the seed corpus (3 grouped folds):
    flat 0.7524; siblings alone 0.6797 (what the siblings share is then learned as what
    tells them apart); with ``others`` 1 / 2 / 3 / every row 0.7509 / 0.7506 / 0.7518 /
    0.7524. On 20,000 retraining rows (seed rows with real text appended; one grouped
    fold): flat 0.6971; ``others`` 1 / 2 / 3 / 5 0.675 / 0.686 / 0.689 / 0.691, fitted in
    5.1 / 7.3 / 8.3 / 13.5 s against 15.7 (docs/BENCHMARKS.md, session 17). Scores of
    labels under another parent than the text's are not comparable; ``LinearHead``
    calibrates among siblings.

    Parameters: ``C`` and ``random_state`` (also of the sample) as for ``LinearSVC``;
    ``separator`` between parent and child in a label.
    """

    def __init__(self, C: float = 0.5, random_state: int = 0, separator: str = "/", others: float = NESTED_OTHERS):
        self.C = C
        self.random_state = random_state
        self.separator = separator
        self.others = others

    def fit(self, features, labels, parents=None):
        """``parents``: each row's parent, when ``labels`` do not name it (scikit-learn's
        ``cross_val_predict`` hands over labels encoded as numbers)."""
        labels = np.asarray(labels, dtype=object)
        row_parents = parents_of(labels, self.separator) if parents is None else np.asarray(parents, dtype=object)
        self.classes_, first, codes = np.unique(labels, return_index=True, return_inverse=True)
        self.parents_ = row_parents[first]
        self.coef_ = np.zeros((len(self.classes_), features.shape[1]))
        self.intercept_ = np.zeros(len(self.classes_))
        sample = np.random.default_rng(self.random_state)
        for parent in np.unique(self.parents_):
            siblings = np.flatnonzero(self.parents_ == parent)
            if len(siblings) < 2:  # an only child: always the answer among its siblings
                continue
            inside, outside = np.flatnonzero(row_parents == parent), np.flatnonzero(row_parents != parent)
            drawn = np.sort(sample.choice(outside, min(len(outside), round(self.others * len(inside))), replace=False))
            # Labels as their positions in classes_, the others as -1: labels of any type, and no clash.
            svm = LinearSVC(C=self.C, random_state=self.random_state).fit(
                features[np.concatenate([inside, drawn])], np.concatenate([codes[inside], np.full(len(drawn), -1)]))
            kept = svm.classes_ >= 0
            self.coef_[siblings] = _as_2d_coef(svm.coef_)[kept]
            self.intercept_[siblings] = _as_2d_intercept(svm.intercept_)[kept]
        return self

    def decision_function(self, features) -> np.ndarray:
        return np.asarray(features @ self.coef_.T) + self.intercept_

    def predict(self, features, parents) -> np.ndarray:
        """The best label among those under each row's entry of ``parents``."""
        scores = _among_siblings(self.decision_function(features), self.parents_, np.asarray(parents, dtype=object))
        return self.classes_[scores.argmax(axis=1)]


def _fitting_matrix(features, rows: np.ndarray | None, columns: int | None, positions: np.ndarray | None = None):
    """``features``' ``rows`` (all if None; ascending), those at ``positions`` among them (all
    if None), and their first ``columns`` columns, as the float64 matrix liblinear reads
    (scikit-learn converts anything else, one copy more). Each step's copy is dropped as the
    next is made, so a fit holds its rows once as float64 (12 bytes a value) and once as
    liblinear's nodes (16): a 1,000,000-row retraining's head worker held the head's whole
    share as well, and its rows once more as float32 (docs/BENCHMARKS.md, session 19)."""
    if positions is not None:
        rows = positions if rows is None else rows[positions]
    part = features if rows is None or len(rows) == features.shape[0] else features[rows]
    if columns is not None and columns < part.shape[1]:
        part = part[:, :columns]
    return part.astype(np.float64, copy=False)


def _among_siblings(scores: np.ndarray, class_parents: np.ndarray, row_parents: np.ndarray) -> np.ndarray:
    """``scores`` (a column per label) with every label whose parent is not the row's at ``OUT_OF_PARENT``."""
    return np.where(row_parents[:, None] == class_parents[None, :], scores, OUT_OF_PARENT)


def parents_of(labels: np.ndarray, separator: str) -> np.ndarray:
    """The part of each ``parent/child`` label before ``separator``."""
    return np.array([str(label).split(separator, 1)[0] for label in labels], dtype=object)


class LinearHead(ClassifierMixin, BaseEstimator):
    """Calibrated linear classifier for one label column.

    Parameters:
        C: SVM regularisation (smaller: smoother).
        auto_precision / suggest_precision: a prediction is ``auto`` when its confidence
            is at or above the lowest threshold at which out-of-fold precision reaches
            ``auto_precision``, both over all predictions and, where 20 or more of them
            clear that, over the predictions of its label; ``suggest`` likewise over all
            predictions; below both, ``review``. ``auto`` per label because one head-wide
            threshold is set by the common, easy labels: on the seed corpus the urgency
            head's 0.388 put 96 % of its 特急 guesses in ``auto`` at 64 % precision.
            (``suggest`` per label was tried: on real text it sent good suggestions to
            review, whole labels at 0.85 precision, since generated text is a harsher test.)
        folds: folds for the out-of-fold scores.
        calibration: ``temperature`` (one scale on the SVM scores; labels unchanged),
            ``logistic`` (multinomial regression on them; may re-rank labels) or ``auto``:
            logistic when its out-of-fold macro-F1 is ``LOGISTIC_MARGIN`` higher, else
            temperature.
        random_state: seed for the folds.
        nested_by: for labels that name their parent (``parent/child`` with this
            separator): a ``NestedSVC``, whose scores are calibrated (by temperature), judged
            and thresholded among each text's siblings, as the head is asked once the parent
            is known. Its out-of-fold metrics are then given the parent.
    """

    def __init__(self, C: float = 0.5, auto_precision: float = 0.95,
                 suggest_precision: float = 0.80, folds: int = 3, random_state: int = 0,
                 calibration: str = "auto", nested_by: str | None = None):
        self.C = C
        self.nested_by = nested_by
        self.calibration = calibration
        self.auto_precision = auto_precision
        self.suggest_precision = suggest_precision
        self.folds = folds
        self.random_state = random_state

    def fit(self, features, labels, groups=None, n_jobs: int | None = None,
            rows: np.ndarray | None = None, columns: int | None = None):
        """``groups``: texts of one group are kept in one fold (see TriageModel.fit); used
        only when every label has at least ``folds`` groups, else folds are stratified.
        ``n_jobs``: processes for the fold fits (default: one per fold, up to the cores).
        ``rows`` (ascending, one per label) and ``columns``: fit on those rows and first
        columns of ``features`` (default all). Each SVM fit then copies only the rows it
        reads, once (see ``_fitting_matrix``), not the head's whole share beside them."""
        labels = np.asarray(labels, dtype=object)
        take = partial(_fitting_matrix, features, rows, columns)  # take(positions in labels)
        counts = Counter(labels)
        if len(counts) < 2:
            raise ModelError(f"a head needs at least 2 labels with {MIN_EXAMPLES_PER_CLASS}+ examples; got {dict(counts)}")
        svm = (NestedSVC(C=self.C, random_state=self.random_state, separator=self.nested_by) if self.nested_by
               else LinearSVC(C=self.C, random_state=self.random_state))
        folds = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        if groups is not None and _enough_groups(labels, groups, self.folds):
            folds = list(StratifiedGroupKFold(self.folds, shuffle=True, random_state=self.random_state)
                         .split(labels, labels, groups))
        self.grouped_folds_ = not isinstance(folds, StratifiedKFold)
        held_out = self._held_out_fit(svm, take, labels, folds) if len(labels) > HOLD_OUT_ABOVE else None
        if held_out is not None:  # the served SVM is the one whose held-out scores calibrate it
            svm, scores, scored_labels, trained_rows = held_out
            folds = StratifiedKFold(self.folds, shuffle=True, random_state=self.random_state)
        else:
            # Fold fits in worker processes (liblinear's random state is process-global:
            # threads would make the fits depend on each other's timing; processes keep them exact).
            features = take()
            scores = _as_2d(cross_val_predict(svm, features, labels, cv=folds, method="decision_function",
                                              n_jobs=n_jobs or min(self.folds, os.cpu_count() or 1),
                                              params={"parents": parents_of(labels, self.nested_by)}
                                              if self.nested_by else None))
            scored_labels, trained_rows = labels, len(labels)
            svm.fit(features, labels)
        self.classes_ = svm.classes_
        # Column-major, so that ``features @ coef_.T`` reads it in place: scipy copies a
        # row-major one on every call (1 ms a text for the largest head).
        self.coef_ = np.asfortranarray(_as_2d_coef(svm.coef_), dtype=np.float32)
        self.intercept_ = _as_2d_intercept(svm.intercept_).astype(np.float32)
        candidates = ("temperature", "logistic") if self.calibration == "auto" else (self.calibration,)
        if self.nested_by:  # among siblings; another parent's labels are out of reach, for a regression too
            scores = _among_siblings(scores, parents_of(self.classes_, self.nested_by),
                                     parents_of(scored_labels, self.nested_by))
            candidates = ("temperature",)
        scored = []
        for kind in candidates:
            calibrated = cross_val_predict(_calibrator(kind), scores, scored_labels, cv=folds, method="predict_proba")
            macro_f1 = f1_score(scored_labels, self.classes_[calibrated.argmax(axis=1)], average="macro")
            scored.append((float(macro_f1), kind, calibrated))
        # The label-preserving temperature, unless re-ranking wins clearly out of fold.
        self.calibration_, calibrated = scored[0][1:]
        if len(scored) > 1 and scored[1][0] >= scored[0][0] + LOGISTIC_MARGIN:
            self.calibration_, calibrated = scored[1][1:]
        self.calibrator_ = _calibrator(self.calibration_).fit(scores, scored_labels)
        predicted = self.classes_[calibrated.argmax(axis=1)]
        confidence = calibrated.max(axis=1)
        correct = predicted == scored_labels
        precisions = {"auto": self.auto_precision, "suggest": self.suggest_precision}
        self.thresholds_ = {band: _threshold_for_precision(confidence, correct, target)
                            for band, target in precisions.items()}
        self.auto_thresholds_ = np.array([_label_threshold(confidence[predicted == label], correct[predicted == label],
                                                           self.auto_precision, self.thresholds_["auto"])
                                          for label in self.classes_])
        best = np.searchsorted(self.classes_, predicted)
        self.metrics_ = {
            "out_of_fold_accuracy": round(float(accuracy_score(scored_labels, predicted)), 4),
            "out_of_fold_macro_f1": round(float(f1_score(scored_labels, predicted, average="macro")), 4),
            **band_metrics(np.asarray(self.bands(confidence, best)) == "auto", correct),
            "n": int(len(labels)), "trained_rows": int(trained_rows), "calibration_rows": int(len(scored_labels)),
            "calibration": self.calibration_, "grouped_folds": self.grouped_folds_,
            "given_parent": bool(self.nested_by),
        }
        return self

    def fit_cost(self, labels) -> float:
        """Rows read by the binary SVMs a fit of this head on ``labels`` solves (the time goes
        with it): every row for every label, or for a nested head, its parent's rows and the
        sample of others for each label and the others' label of each parent."""
        labels = np.asarray(labels, dtype=object)
        if not self.nested_by:
            return float(len(labels) * len(np.unique(labels)))
        parents, rows = np.unique(parents_of(labels, self.nested_by), return_counts=True)
        siblings = Counter(parents_of(np.unique(labels), self.nested_by))
        return float(sum((siblings[parent] + 1) * count * (1 + NESTED_OTHERS)
                         for parent, count in zip(parents.tolist(), rows.tolist()) if siblings[parent] > 1))

    def fit_memory(self, rows: int, values: int) -> int:
        """Bytes at most that fitting this head on ``rows`` rows holding ``values`` values
        takes: its SVM's rows (two thirds above ``HOLD_OUT_ABOVE``; below it, the fold fits'
        two thirds beside the float64 copy of every row)."""
        per_value = NESTED_FIT_BYTES_PER_VALUE if self.nested_by else FIT_BYTES_PER_VALUE
        fitted = values * (self.folds - 1) // self.folds
        return fitted * per_value + (0 if rows > HOLD_OUT_ABOVE else values * COPY_BYTES_PER_VALUE)

    def _held_out_fit(self, svm: LinearSVC, take, labels: np.ndarray, folds):
        """An SVM fitted on all folds but the first, its scores and the labels of the first,
        and how many rows it was fitted on; None when that fit missed a label (a rare one
        whose every group fell in the first fold). ``take(positions)``: those rows' features.
        At most ``CALIBRATION_ROWS`` of the first fold are scored, drawn at random."""
        trained, held = folds[0] if isinstance(folds, list) else next(folds.split(labels, labels))
        if len(held) > CALIBRATION_ROWS:
            held = np.sort(np.random.default_rng(self.random_state).choice(held, CALIBRATION_ROWS, replace=False))
        svm = clone(svm).fit(take(trained), labels[trained])
        if len(svm.classes_) != len(np.unique(labels)):
            return None
        return svm, _as_2d(svm.decision_function(take(held))), labels[held], len(trained)

    def widen(self, columns: int) -> "LinearHead":
        """This head for features of ``columns`` columns, its own first: the others weigh nothing."""
        extra = np.zeros((len(self.coef_), columns - self.coef_.shape[1]), np.float32)
        self.coef_ = np.asfortranarray(np.hstack([self.coef_, extra]))
        return self

    def decision_function(self, features) -> np.ndarray:
        return np.asarray(features @ self.coef_.T) + self.intercept_

    def predict_proba(self, features) -> np.ndarray:
        """Calibrated probabilities: the calibrator's own formula (``calibration_map``) applied
        directly, because scikit-learn's input checks cost ten times the arithmetic on one
        text. Equal to ``calibrator_.predict_proba`` (tests/test_model.py)."""
        coef, intercept = self.calibration_map()
        return _softmax(self.decision_function(features) @ coef.T + intercept)

    def calibration_map(self) -> tuple[np.ndarray, np.ndarray]:
        """The calibrator as the softmax of one linear map of the scores, ``(coef,
        intercept)``: a temperature's or a multinomial regression's own; a two-label
        regression's logistic function as the softmax of ``(0, its logit)``."""
        coef, intercept = np.atleast_2d(self.calibrator_.coef_), np.atleast_1d(self.calibrator_.intercept_)
        if len(coef) == 1:
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        return coef, intercept

    def predict(self, features):
        return self.classes_[self.predict_proba(features).argmax(axis=1)]

    def bands(self, confidences: np.ndarray, best: np.ndarray) -> list[str]:
        """``auto``, ``suggest`` or ``review`` for each calibrated confidence of the label
        at that position of ``classes_`` (``best``)."""
        return _bands(confidences, self.auto_thresholds()[best], self.thresholds_["suggest"])

    def auto_thresholds(self) -> np.ndarray:
        """Each label's ``auto`` threshold (position as in ``classes_``); a model saved
        before they were kept per label has its head-wide one for every label."""
        by_label = getattr(self, "auto_thresholds_", None)
        return by_label if by_label is not None else np.full(len(self.classes_), self.thresholds_["auto"])


def _calibrator(kind: str):
    return TemperatureCalibrator() if kind == "temperature" else LogisticRegression(C=1.0, max_iter=1000)


class TemperatureCalibrator(ClassifierMixin, BaseEstimator):
    """``softmax(scale * scores)`` with one scale fitted by log-loss: confidences that mean
    what they say while the chosen label stays the SVM's own (a multinomial logistic
    calibrator can re-rank labels, which on real text cost the category head 5 points)."""

    def fit(self, scores, labels):
        self.classes_ = np.unique(np.asarray(labels, dtype=object))
        index = np.searchsorted(self.classes_, np.asarray(labels, dtype=object))
        rows = np.arange(len(index))

        def log_loss(log_scale: float) -> float:
            return -float(np.mean(np.log(_softmax(np.exp(log_scale) * scores)[rows, index] + 1e-12)))

        scale = float(np.exp(minimize_scalar(log_loss, bounds=(-6.0, 6.0), method="bounded").x))
        self.coef_ = scale * np.eye(len(self.classes_))
        self.intercept_ = np.zeros(len(self.classes_))
        return self

    def predict_proba(self, scores) -> np.ndarray:
        return _softmax(np.asarray(scores) @ self.coef_.T + self.intercept_)

    def predict(self, scores) -> np.ndarray:
        return self.classes_[np.asarray(scores).argmax(axis=1)]


class HeadStack:
    """Heads on the same features answered as one, as ``TriageModel`` predicts: their SVM
    weights side by side (``coef_``, a label per row, column-major like a head's), so that
    one sparse product scores every head, and their calibrations (``LinearHead.calibration_map``)
    as one block-diagonal map, so that one product and one softmax by blocks of columns
    calibrate them. Head by head that was five products, calibrations and softmaxes: 150 µs
    of a one-text request against 45 µs so (docs/BENCHMARKS.md, session 20). Derived from
    the heads, never saved; it holds a copy of their weights (23 MB for the default model),
    so that a head's own stay column-major for its own products."""

    def __init__(self, heads: Mapping[str, "LinearHead"]):
        self.names = list(heads)
        self.starts = np.cumsum([0, *(len(head.classes_) for head in heads.values())])
        self._blocks = _blocks(self.starts[:-1], self.starts[-1])  # each label's head, for the softmax by heads
        self.coef_ = np.asfortranarray(np.vstack([head.coef_ for head in heads.values()]))
        self.intercept_ = np.concatenate([head.intercept_ for head in heads.values()])
        calibrations = [head.calibration_map() for head in heads.values()]
        self._calibration = np.ascontiguousarray(block_diag(*(coef for coef, _ in calibrations)).T)
        self._calibration_intercept = np.concatenate([intercept for _, intercept in calibrations])
        self.classes_ = np.concatenate([head.classes_.astype(object) for head in heads.values()])
        self._auto = np.concatenate([head.auto_thresholds() for head in heads.values()])
        self._suggest = np.concatenate([np.full(len(head.classes_), head.thresholds_["suggest"])
                                        for head in heads.values()])

    def start(self, name: str) -> int:
        """The first row of head ``name``'s labels in ``coef_``."""
        return int(self.starts[self.names.index(name)])

    def predict_proba(self, features) -> np.ndarray:
        """Every head's ``predict_proba`` of ``features`` side by side, a column per row of ``coef_``."""
        scores = np.asarray(features @ self.coef_.T) + self.intercept_
        return _softmax(scores @ self._calibration + self._calibration_intercept, self.starts[:-1], self._blocks)

    def by_head(self, probabilities: np.ndarray) -> dict[str, np.ndarray]:
        """Each head's columns of ``probabilities`` (``predict_proba``), by name: views."""
        return {name: probabilities[:, start:stop]
                for name, start, stop in zip(self.names, self.starts[:-1].tolist(), self.starts[1:].tolist())}

    def answers(self, probabilities: np.ndarray, rows: np.ndarray) -> tuple[list, list, list]:
        """The labels at ``rows`` (per head, each text's label as a row of ``coef_``), their
        confidences in ``probabilities`` and their bands (``LinearHead.bands``): each a list
        per head of one per text, found for every head at once."""
        confidences = probabilities[np.arange(len(probabilities)), rows]
        return (self.classes_[rows].tolist(), confidences.tolist(),
                _bands(confidences, self._auto[rows], self._suggest[rows]))


def _bands(confidences: np.ndarray, auto, suggest) -> list:
    """``auto`` where a confidence reaches its ``auto`` threshold, else ``suggest`` where it
    reaches its ``suggest`` one, else ``review``: a list (of lists, for rows of confidences)."""
    levels = np.where(confidences >= auto, 0, np.where(confidences >= suggest, 1, 2)).tolist()
    return [[BANDS[level] for level in row] for row in levels] if confidences.ndim > 1 else \
        [BANDS[level] for level in levels]


def _softmax(logits: np.ndarray, starts: np.ndarray | None = None, block: np.ndarray | None = None) -> np.ndarray:
    """The softmax of each row of ``logits``, or of each block of its columns, the blocks
    beginning at ``starts`` (``block``: each column's, ``_blocks(starts, columns)``, when
    the caller keeps it)."""
    if starts is None:
        logits = logits - logits.max(axis=1, keepdims=True)
        exponentials = np.exp(logits)
        return exponentials / exponentials.sum(axis=1, keepdims=True)
    if block is None:
        block = _blocks(starts, logits.shape[1])
    exponentials = np.exp(logits - np.maximum.reduceat(logits, starts, axis=1)[:, block])
    exponentials /= np.add.reduceat(exponentials, starts, axis=1)[:, block]
    return exponentials


def _blocks(starts: np.ndarray, columns: int) -> np.ndarray:
    """Each of ``columns`` columns' block, the blocks beginning at ``starts``."""
    return np.repeat(np.arange(len(starts)), np.diff(np.append(starts, columns)))


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


def _enough_groups(labels: np.ndarray, groups, folds: int) -> bool:
    """Every label spread over at least ``folds`` groups, so every fold trains on it."""
    groups_per_label: dict = {}
    for label, group in zip(labels, groups):
        groups_per_label.setdefault(label, set()).add(group)
    return all(len(found) >= folds for found in groups_per_label.values())


def _as_2d(scores: np.ndarray) -> np.ndarray:
    return np.column_stack([-scores, scores]) if scores.ndim == 1 else scores


def _as_2d_coef(coef: np.ndarray) -> np.ndarray:
    return np.vstack([-coef[0], coef[0]]) if coef.shape[0] == 1 else coef


def _as_2d_intercept(intercept) -> np.ndarray:
    intercept = np.atleast_1d(intercept)
    return np.array([-intercept[0], intercept[0]]) if len(intercept) == 1 else intercept


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


def _label_threshold(confidence: np.ndarray, correct: np.ndarray, target: float, head_wide: float,
                     min_support: int = 20) -> float:
    """The threshold for one label's predictions: the head-wide one, raised to where this
    label's own precision reaches ``target`` when at least ``min_support`` of its
    predictions clear the head-wide one (enough to judge the label alone; with fewer, as
    for every category of the seed corpus at 0.9996, the head-wide one stands)."""
    if int((confidence >= head_wide).sum()) < min_support:
        return head_wide
    return max(head_wide, _threshold_for_precision(confidence, correct, target, min_support))


def band_metrics(automatic: np.ndarray, correct: np.ndarray) -> dict:
    """Share of predictions in the ``auto`` band, and how many of those are right."""
    return {
        "auto_coverage": round(float(automatic.mean()), 4),
        "auto_precision": round(float(correct[automatic].mean()), 4) if automatic.any() else None,
    }
