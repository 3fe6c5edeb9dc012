"""The core object: ``TriageModel`` learns every head from labelled complaints and turns
texts into routing decisions. The CLI, the HTTP service and batch jobs all call it.

Flow of one text (one module per stage):
    screening -> normalise -> privacy (mask) -> segment -> features -> heads
    -> safety rules (urgency) -> explain -> result dict
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import tempfile
import time
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from joblib import Parallel, delayed, dump, load
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from . import explain, safety
from .derived import DerivedState
from .dialogue import caller_turns
from .errors import InputError, ModelError
from .features import Featuriser
from .heads import BANDS, CALIBRATIONS, MIN_EXAMPLES_PER_CLASS, HeadStack, LinearHead, usable_rows
from .memory import available_memory, give_back_freed_memory
from .normalise import normalise
from .privacy import mask_personal_data
from .screening import UNREADABLE_CODES, screen
from .settings import resolve
from .taxonomy import URGENCY_LEVELS

logger = logging.getLogger("triage.model")  # retraining's progress; `triage train` prints it

HEADS = ("category", "subcategory", "department", "urgency", "request_type", "responder")
HEAD_TITLES = {"category": "类别", "subcategory": "子类", "department": "责任单位",
               "urgency": "紧急程度", "request_type": "诉求类型", "responder": "应急处置单位"}
ROUTING_HEADS = ("category", "department", "urgency")  # these decide the overall band
# Heads that name the matter, which a text's opening names best (features.NgramCounter);
# the others read the whole text alone (urgency: the danger is where it is told).
MATTER_HEADS = ("category", "subcategory", "department", "request_type")
# Who takes over an emergency (the responder head): the unit a 特急 case goes to, learned
# apart from the department head, from the ``responder`` label column or else the department
# of each text labelled 特急 (``_responder_labels``). The department head learns where
# everyday matters go, and sent emergencies by their topic: a gas tank venting beside a
# restaurant to 生态环境局, a stuck roller coaster to 城管, a man crushed under a tractor to
# 交通运输局 (docs/BENCHMARKS.md, session 33). Asked only of a case that is surely 特急
# (``_sure_emergency``), that no safety rule names departments for, and whose department head
# names a unit that takes no emergency over (``_respond``).
RESPONDER = "responder"
# On the project's held-out sets (bench/heldout_sets.py: the first life-safety set, fresh sets
# 1-11 and the everyday ones) three in four emergencies the model calls 特急 reach 0.988, and one
# in ten everyday texts it wrongly calls 特急: there the department head's topic is the better guess.
RESPONDER_FLOOR = 0.98
TOP_DEPARTMENTS = 3
# Retraining's head workers: what one holds beside its fit (Python, scikit-learn, the head),
# and the share of the system's available memory their fits may take together.
HEAD_WORKER_BYTES = 300 << 20
MEMORY_SHARE = 0.8
_FEATURES_FOLDER = "triage-features-"  # then host-PID-random (``_features_folder``)
# A safety rule decides (its urgency in the auto band, its department) only where its evidence
# stands this near the start of the text, where a caller or a subject line states the matter;
# further in, it still raises the urgency, for a dispatcher to confirm. Deep in a long
# message-board post a rule's words were nearly always an aside (a fire given as an example, a
# fight years ago): they made 275 of 7,142 real posts 特急 auto, 241 of them from beyond this
# opening, and rules would have replaced the learned department of 202, 181 from beyond it.
# The project's held-out emergencies state theirs within 43 characters (docs/BENCHMARKS.md,
# session 15).
RULE_OPENING_CHARS = 60
# The urgency head calls a text 一般 unseen (auto) only this sure of it: calling an emergency
# routine is the costliest error it can make, and on emergencies in words no rule knows (the
# fresh held-out sets) it said 一般 at 0.51-0.99, 13 of 21 times below 0.9. On real messages
# this sent 343 of 6,948 一般 answers to a dispatcher with session 15's first model, 531 of
# 6,485 with its last (docs/BENCHMARKS.md).
ROUTINE_AUTO_FLOOR = 0.9
# Part of a model's version: what fitting does beyond its parameters. Raised when the same
# data and parameters give a different model (2: decision bands per label; 3: only the
# auto band per label; 4: logistic calibration only by a clear margin; 5: a block of
# features for the text's opening; 6: subcategories learned among siblings; 7: neither a
# personal-data placeholder nor an operator's labelled turn is read; 8: nor an operator's
# unlabelled script at a transcript's two ends; 9: nor the operator's questions inside it;
# 10: nor the turns of a speaker labelled by number who speaks the operator's formulae;
# 11: nor the words that introduce a caller's phone or ID number; 12: a responder head from
# the departments of the texts labelled 特急).
FITTING_REVISION = 12
SUBCATEGORY_SEPARATOR = "/"
WARM_UP_TEXT = "小区楼道里有很浓的燃气味，请马上派人来看看"


def pinned_calibration(calibration: Mapping[str, str] | None) -> dict[str, str]:
    """``TriageModel``'s ``calibration`` checked: head names from ``HEADS``, kinds from
    ``CALIBRATIONS``; the subcategory head is calibrated among siblings, by temperature.

    Raises:
        ModelError: naming what is wrong.
    """
    pinned = dict(calibration or {})
    for head, kind in pinned.items():
        if head not in HEADS:
            raise ModelError(f"cannot pin the calibration of {head!r}: heads are {', '.join(HEADS)}")
        if kind not in CALIBRATIONS:
            raise ModelError(f"calibration of the {head} head must be one of {', '.join(CALIBRATIONS)}; got {kind!r}")
    if pinned.get("subcategory") == "logistic":
        raise ModelError("the subcategory head is calibrated among each category's subcategories, by temperature "
                         "only; pin it to temperature or leave it out")
    return pinned


class TriageModel(DerivedState, BaseEstimator):
    """Category (two levels), department, urgency and request-type heads on shared features.

    Parameters:
        C: regularisation of every head's linear SVM.
        min_df: features seen in fewer training texts are dropped.
        random_state: seed of the folds used for calibration.
        calibration: a head's calibration pinned by name, e.g. ``{"category":
            "temperature"}`` (``LinearHead``; a head not named is ``auto``: chosen out of
            fold). Out-of-fold scores judge unseen wordings of the training data; where a
            measurement on real cases shows a choice losing there, pin it.
    """

    _derived = ("_terms_cache", "_subcategory_cache", "_topic_cache", "_stack_cache")
    calibration = None  # models saved before heads could be pinned

    def __init__(self, C: float = 0.5, min_df: int = 2, random_state: int = 0,
                 calibration: Mapping[str, str] | None = None):
        self.C = C
        self.min_df = min_df
        self.random_state = random_state
        self.calibration = calibration

    # -- learning ---------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Mapping[str, Sequence[str | None]],
            groups: Sequence[str] | None = None):
        """Learn one head per label column in ``labels`` (names from ``HEADS``).

        ``groups`` (optional, one per text) names texts that are variants of one another,
        such as renderings of one wording in a generated corpus. Calibration then predicts
        each text from folds that never saw its group, so confidences and thresholds come
        from unseen phrasings instead of near-copies.

        Raises:
            ModelError: no known label column, or a column with fewer than two usable labels.
        """
        unknown = set(labels) - set(HEADS)
        if unknown or not labels:
            raise ModelError(f"label columns must be among {', '.join(HEADS)}; got {sorted(labels) or 'none'}")
        calibration = pinned_calibration(self.calibration)
        started = time.perf_counter()
        prepared = [mask_personal_data(normalise(text))[0] for text in texts]
        self.featuriser_ = Featuriser(self.min_df)
        try:
            features = self.featuriser_.fit_transform(prepared)
        except ValueError:
            if self.featuriser_.n_features_:
                raise
            raise ModelError(f"no word or character is shared by {self.min_df} of the training texts "
                             f"({len(prepared)} given), so there is nothing to learn from; give more labelled "
                             "texts (a few dozen per label at least)") from None
        self.feature_names_ = self.featuriser_.get_feature_names_out()
        logger.info("featurised %d texts in %.0f s: %d features, %d values (%d MB)", len(prepared),
                    time.perf_counter() - started, features.shape[1], features.nnz,
                    (features.data.nbytes + features.indices.nbytes) >> 20)
        self.training_report_: dict[str, dict] = {}
        columns = _label_columns(labels)
        jobs = []
        for name in HEADS:
            if name not in columns:
                continue
            rows, skipped = usable_rows(columns[name])
            kept = np.asarray(columns[name], dtype=object)[rows]
            if name == RESPONDER and len(set(kept)) < 2:  # too few emergencies: the department head answers them
                if kept.size:
                    logger.info("no responder head: the texts labelled 特急 name one unit, %s", kept[0])
                continue
            if name == RESPONDER and set(kept) - set(columns.get("department", ())):
                # its answer is shown as the department: a unit the department head does not know is never shown
                logger.warning("responder labels that are no department label are never shown: %s",
                               ", ".join(sorted(set(kept) - set(columns.get("department", ())))))
            if len(set(kept)) < 2:  # said here, with the whole column's counts, before any fitting
                found = Counter(label for label in columns[name] if label not in (None, ""))
                raise ModelError(f"the {name} column cannot train a head: it needs at least 2 labels with "
                                 f"{MIN_EXAMPLES_PER_CLASS}+ examples each; found {dict(found) or 'no labels'}")
            kept_groups = None if groups is None else np.asarray(groups, dtype=object)[rows]
            jobs.append((name, rows, kept, kept_groups))
            self.training_report_[name] = {"rows": int(len(rows)), **skipped}
        del prepared
        with _features_folder() as folder:
            features = _mapped(features, os.path.join(folder, "features"))
            self.heads_: dict[str, LinearHead] = dict(zip([job[0] for job in jobs],
                                                          self._fit_heads(features, jobs, calibration)))
            del features  # the mapped file goes with the folder
        self.data_hash_ = _data_hash(texts, labels, groups)
        # Same data, parameters and fitting, same version: a retrain that changes nothing is no new model.
        parameters = {**self.get_params(), "calibration": sorted(calibration.items())}
        if not calibration:  # as before heads could be pinned: the same model keeps its version
            del parameters["calibration"]
        identity = f"{self.data_hash_}:{sorted(parameters.items())}:{FITTING_REVISION}".encode("utf-8")
        self.version_ = "m-" + hashlib.sha256(identity).hexdigest()[:12]
        return self

    def _fit_heads(self, features, jobs: list[tuple], calibration: dict[str, str]) -> list[LinearHead]:
        """The heads of ``jobs`` (name, rows, labels, groups), fitted side by side in worker
        processes, the largest first: each head's own steps are sequential, so every core
        stays busy, as far as memory allows (``head_workers``). Each fit seeds liblinear
        itself, so the heads are the same as fitted one after another in one process."""
        heads = [LinearHead(C=self.C, random_state=self.random_state, calibration=calibration.get(name, "auto"),
                            nested_by=SUBCATEGORY_SEPARATOR if name == "subcategory" else None) for name, *_ in jobs]
        order = sorted(range(len(jobs)), key=lambda job: -heads[job].fit_cost(jobs[job][2]))
        values_per_row = features.nnz / max(features.shape[0], 1)
        give_back_freed_memory()  # what featurising freed, for the workers
        needs = [heads[job].fit_memory(len(jobs[job][1]), round(len(jobs[job][1]) * values_per_row))
                 for job in range(len(jobs))]
        available = available_memory()
        workers = head_workers(needs, available, os.cpu_count() or 1)
        logger.info("fitting %d heads, %d at a time (the largest needs about %.1f GB, %s available)", len(jobs),
                    workers, max(needs) / 2**30, "unknown" if available is None else f"{available / 2**30:.1f} GB")
        if available is not None and max(needs) + HEAD_WORKER_BYTES > available:
            logger.warning("the largest head may not fit in the memory available: if the system stops this "
                           "retraining, train on fewer rows or on a machine with more memory")
        # The whole matrix goes to the workers as the file it is mapped from (_mapped), each
        # head's rows taken there: slices made here were the parent's peak (4.2 GB at 100k rows).
        started, by_job = time.perf_counter(), {}
        fitting = Parallel(n_jobs=workers, batch_size=1, return_as="generator")(
            delayed(_fit_head)(heads[job], features,
                               features.shape[1] if jobs[job][0] in MATTER_HEADS else self.featuriser_.body_columns,
                               *jobs[job][1:])
            for job in order)
        for job, head in zip(order, fitting):
            by_job[job] = head
            logger.info("%s head fitted (%d of %d, %.0f s)", jobs[job][0], len(by_job), len(jobs),
                        time.perf_counter() - started)
        return [by_job[job] for job in range(len(jobs))]

    # -- predicting -------------------------------------------------------------
    def predict(self, texts: Sequence[str], settings: Mapping[str, Any] | None = None) -> list[dict]:
        """One result dict per text (see README, "What a result holds").

        Raises:
            InputError: a text that is not a string or is longer than ``max_chars``, or
                ``texts`` given as one string (which would be triaged character by character).
        """
        return self.predict_with_features(texts, settings, rows=False)[0]

    def warm(self) -> dict:
        """The result of one everyday complaint (``WARM_UP_TEXT``). Predicting derives some
        things on first use (the heads as one, the terms explanations show): made here, a
        process that forks workers afterwards shares them instead of each worker making its
        own (``triage batch``'s two workers: 46 MB more PSS), and the answer tells whether
        the model can read a complaint at all."""
        return self.predict([WARM_UP_TEXT])[0]

    def predict_with_features(self, texts: Sequence[str], settings: Mapping[str, Any] | None = None,
                              rows: bool = True) -> tuple[list[dict], list[tuple[np.ndarray, np.ndarray] | None]]:
        """``predict``, and each text's unit TF-IDF row (``Featuriser.body``) as ``(indices, values)`` (None for an
        unreadable text), for callers that compare texts (hot issues) without featurising
        them twice; ``rows=False``: None for every text (``predict``, which has no use for
        them: finding where each row's body ends was about 3 % of a one-text predict)."""
        check_is_fitted(self, "heads_")
        if isinstance(texts, str):
            raise InputError("texts is one string; pass a list of texts, e.g. predict([text])", field="texts")
        settings = resolve(settings)
        if len(texts) < 2:  # too small a product for OpenBLAS to start its threads (see _blas)
            return self._predict_with_features(texts, settings, rows)
        with _blas().limit(limits=1, user_api="blas"):
            return self._predict_with_features(texts, settings, rows)

    def _predict_with_features(self, texts: Sequence[str], settings: Mapping[str, Any], with_rows: bool):
        prepared = [_prepare(text, index, settings) for index, text in enumerate(texts)]
        readable = [index for index, item in enumerate(prepared) if item["status"] == "ok"]
        results = [_unreadable_result(item, self.version_) if item["status"] != "ok" else None for item in prepared]
        rows: list = [None] * len(prepared)
        if not readable:
            return results, rows
        words: list[str] = []
        features = self.featuriser_.rows([prepared[index]["read"] for index in readable], words, turns_read=True)
        hits = [safety.check(prepared[index]["read"]) for index in readable]
        stack = self._heads_at_once()
        every = stack.predict_proba(features)
        probabilities = stack.by_head(every)
        heads = self._head_results(features, words, every, probabilities, settings["explain_top"])
        read = [prepared[index]["read"] for index in readable]
        urgencies = [self._urgency(hits[row], heads["urgency"][row] if "urgency" in heads else None, read[row])
                     for row in range(len(readable))]
        if "department" in heads:
            best = np.argsort(-probabilities["department"], axis=1)[:, :TOP_DEPARTMENTS]
            labels = self.heads_["department"].classes_[best].tolist()
            confidences = probabilities["department"][np.arange(len(best))[:, None], best].round(4).tolist()
            for row, (found, top_labels, top_confidences) in enumerate(zip(heads["department"], labels, confidences)):
                found["top"] = [{"label": str(label), "confidence": confidence}
                                for label, confidence in zip(top_labels, top_confidences)]
                found["source"] = "model"
                self._hand_on(found, hits[row], probabilities["department"][row], read[row])
            emergencies = [row for row, urgency in enumerate(urgencies) if _sure_emergency(urgency)
                           and not _rule_departments(hits[row], read[row])] if RESPONDER in self.heads_ else []
            if emergencies:
                self._respond(heads["department"], emergencies, features, words, probabilities, settings["explain_top"])
        if "category" in heads and "subcategory" in self.heads_:
            categories = [found["label"] for found in heads["category"]]
            for found, subcategory in zip(heads["category"], self._subcategories(categories, probabilities["subcategory"])):
                found.update(subcategory)
        if with_rows:
            starts, ends = features.indptr, self.featuriser_.body_ends(features)
            for row, index in enumerate(readable):
                # (indices, values) of the row's body as views: scipy's row slicing costs more than the explaining
                span = slice(starts[row], ends[row])
                rows[index] = (features.indices[span], features.data[span])
        for row, index in enumerate(readable):
            results[index] = self._result(prepared[index], {name: found[row] for name, found in heads.items()},
                                          urgencies[row], settings)
        return results, rows

    def _result(self, item: dict, heads: dict[str, dict], urgency: dict, settings) -> dict:
        """One text's result from its heads' answers (``_head_results``) and its urgency
        (``_urgency``: the head's, or that of the safety rules that fire on it)."""
        result: dict[str, Any] = {"status": "ok"}
        result.update((name, heads[name]) for name in ("category", "department", "request_type") if name in heads)
        result["urgency"] = urgency
        floors = settings["auto_min_confidence"]
        if floors:  # the centre's own, over the model's thresholds
            for name in ("category", "department", "request_type"):
                if name in result:
                    _hold_below(result[name], floors.get(name))
            if "category" in result:
                _hold_below(result["category"], floors.get("subcategory"), "subcategory_band", "subcategory_confidence")
        bands = [result[name]["band"] for name in ROUTING_HEADS if name in result]
        if item["flags"]:  # too_short: predicted, but a person must look
            bands.append("review")
        result["decision"] = max(bands, key=BANDS.index) if bands else "review"
        result["explanation"] = [explain.summary(HEAD_TITLES[name], result[name]["label"], result[name]["explanation"])
                                 for name in ("category", "department", "urgency") if name in result]
        result["explanation"] += [f"安全规则 {hit['rule']}（{hit['label']}）命中：{hit['evidence']}"
                                  for hit in result["urgency"]["rules"]]
        result["flags"] = [flag.to_dict() for flag in item["flags"]]
        result["personal_data"] = item["personal_data"]
        result["text"] = item["masked"] if settings["mask_personal_data"] else item["normalised"]
        result["model_version"] = self.version_
        return result

    def _head_results(self, features, words: list[str], every: np.ndarray, probabilities: Mapping[str, np.ndarray],
                      limit: int) -> dict[str, list[dict]]:
        """Per explained head, each row's label, confidence, band and explaining terms
        (words of the row's text: ``words``, its tokens joined by ``features.WORD_SEPARATOR``),
        from every head's probabilities side by side (``every``: ``HeadStack.predict_proba``)
        and by head (``probabilities``: ``HeadStack.by_head``)."""
        names = [name for name in ("category", "department", "request_type", "urgency") if name in self.heads_]
        stack = self._heads_at_once()
        rows = np.stack([stack.start(name) + probabilities[name].argmax(axis=1) for name in names])
        explanations = explain.top_terms(features, stack.coef_, rows, self._display_terms(), limit, words)
        labels, confidences, bands = stack.answers(every, rows)
        return {name: [{"label": str(label), "confidence": round(confidence, 4), "band": band, "explanation": explanation}
                       for label, confidence, band, explanation in zip(*answers)]
                for name, *answers in zip(names, labels, confidences, bands, explanations)}

    def _subcategories(self, categories: list[str], probabilities: np.ndarray) -> list[dict]:
        """Per row, the best second-level label under its ``categories`` entry; its
        confidence is conditional on that category. All rows at once."""
        head = self.heads_["subcategory"]
        allowed = np.stack([self._subcategories_of(category) for category in categories])
        conditional = np.where(allowed, probabilities, 0.0)
        totals = conditional.sum(axis=1, keepdims=True)
        conditional = conditional / np.where(totals > 0, totals, 1.0)
        best = conditional.argmax(axis=1)
        confidences = conditional[np.arange(len(best)), best]
        names = [str(label).split(SUBCATEGORY_SEPARATOR, 1)[1] for label in head.classes_[best].tolist()]
        return [{"subcategory": name, "subcategory_confidence": round(confidence, 4), "subcategory_band": band}
                if any_allowed else {"subcategory": None, "subcategory_confidence": None, "subcategory_band": "review"}
                for name, confidence, band, any_allowed in zip(names, confidences.tolist(),
                                                                head.bands(confidences, best),
                                                                allowed.any(axis=1).tolist())]

    def _urgency(self, hits: list[safety.RuleHit], learned: dict | None, text: str) -> dict:
        """The urgency head's answer (``learned``), overruled by a more severe safety rule
        that fires on ``text``. A rule whose evidence opens the text (``RULE_OPENING_CHARS``)
        decides: band ``auto``; one further in raises the urgency all the same, for a
        dispatcher to confirm (``suggest``). 一般 is ``auto`` only from ``ROUTINE_AUTO_FLOOR``,
        the model's own 特急 only where a rule confirms it."""
        if learned is not None:
            urgency = {**learned, "source": "model"}
            # Nor is the model's own 特急 applied unseen, however sure: until session 28 its 特急
            # guesses never reached 95 % precision out of fold, so this held by the numbers;
            # corpus round 16 took them there (0.951), and on 7,142 real posts the model alone
            # then made 20 特急 auto, most no emergency (a worn-out refuse cart, an inheritance).
            if urgency["band"] == "auto" and (urgency["label"] == URGENCY_LEVELS[-1] or (
                    urgency["label"] == URGENCY_LEVELS[0] and urgency["confidence"] < ROUTINE_AUTO_FLOOR)):
                urgency["band"] = "suggest"
        else:
            urgency = {"label": "一般", "confidence": None, "band": "suggest", "explanation": [], "source": "rules"}
        at_level = [hit for hit in hits if hit.level == hits[0].level] if hits else []
        decides = bool(_in_opening(at_level, text))
        if hits and safety.more_severe(hits[0].level, urgency["label"]) != urgency["label"]:
            # A rule outranks the model: safety is never left to a learned guess.
            urgency.update(label=hits[0].level, band="auto" if decides else "suggest", source="rule",
                           explanation=[{"term": hit.evidence, "weight": None} for hit in hits])
        elif hits and hits[0].level == urgency["label"] and decides:
            urgency["band"] = "auto"  # the model's guess, confirmed by a reviewable rule
        urgency["rules"] = [hit.to_dict() for hit in hits]
        return urgency

    def _hand_on(self, found: dict, hits: list[safety.RuleHit], probabilities: np.ndarray, text: str) -> None:
        """Where safety rules name who their emergency goes to (a fire: 应急管理局, a person
        about to jump: 公安局), their evidence opens ``text`` (``RULE_OPENING_CHARS``) and the
        learned department (``found``) is none of them, the first of those the model knows
        takes its place, the learned ones behind it in ``top``. Band ``suggest``: the rule
        knows the kind of danger, not the place, and a dispatcher confirms where a life is
        at stake. ``probabilities``: the department head's for this text; the confidence
        shown stays the model's own."""
        named = _rule_departments(hits, text)
        if not named or found["label"] in named:
            return
        columns = self._department_columns()
        handed = next((name for name in named if name in columns), None)
        if handed is None:  # a model trained on other department names
            return
        hit = next(hit for hit in _in_opening(hits, text) if handed in hit.departments)
        _hand_to(found, handed, round(float(probabilities[columns[handed]]), 4), "rule",
                 [{"term": hit.evidence, "weight": None}], rule=hit.rule_id)

    def _respond(self, departments: list[dict], rows: list[int], features, words: list[str],
                 probabilities: Mapping[str, np.ndarray], limit: int) -> None:
        """The department of each emergency of ``rows`` (``_sure_emergency``, no safety rule
        naming departments) from the responder head (``RESPONDER``) where it names another
        unit than the department head: first in ``top``, band ``suggest``, ``"source":
        "responder"``, explained by the responder head's own terms. The confidence shown
        stays the department head's, as for a rule's hand-on."""
        units = self.heads_[RESPONDER].classes_.astype(str).tolist()
        rows = [row for row in rows if departments[row]["label"] not in units]
        if not rows:
            return
        columns = self._department_columns()
        answers = [units[best] for best in probabilities[RESPONDER][rows].argmax(axis=1).tolist()]
        moved = [(row, label) for row, label in zip(rows, answers) if label in columns]
        if not moved:
            return
        stack = self._heads_at_once()
        label_rows = np.array([[stack.start(RESPONDER) + units.index(label) for _, label in moved]])
        chosen = [row for row, _ in moved]
        explanations = explain.top_terms(features.matrix()[chosen], stack.coef_, label_rows, self._display_terms(),
                                         limit, [words[row] for row in chosen])[0]
        for (row, label), explanation in zip(moved, explanations):
            _hand_to(departments[row], label, round(float(probabilities["department"][row, columns[label]]), 4),
                     RESPONDER, explanation)

    def _department_columns(self) -> dict[str, int]:
        """Each department label's column in the department head's probabilities."""
        return {label: column for column, label in enumerate(self.heads_["department"].classes_.tolist())}

    def _heads_at_once(self) -> HeadStack:
        """The heads as one (derived on first use, again if the heads are replaced)."""
        cache = getattr(self, "_stack_cache", None)
        if cache is None or cache[0] is not self.heads_:
            self._stack_cache = cache = (self.heads_, HeadStack(self.heads_))
        return cache[1]

    def _subcategories_of(self, category: str) -> np.ndarray:
        """Which subcategory labels sit under ``category`` (derived once per category)."""
        cache = self.__dict__.setdefault("_subcategory_cache", {})
        if category not in cache:
            classes = self.heads_["subcategory"].classes_.astype(str)
            cache[category] = np.char.startswith(classes, category + SUBCATEGORY_SEPARATOR)
        return cache[category]

    def topic_weights(self) -> np.ndarray:
        """Per feature of the whole text's block, how strongly it decides a topic: its largest absolute weight in the
        category and subcategory heads (what tells categories apart, and siblings; ones
        without either). Template words (喂, 你好, 反映, 住户) weigh little, matter words (油烟,
        停水, 欠薪) much. Derived on first use (``repeat.py`` compares matters with it)."""
        if getattr(self, "_topic_cache", None) is None:
            body = self.featuriser_.body_columns  # texts are compared by their whole text's block
            weights = [np.abs(self.heads_[name].coef_[:, :body]).max(axis=0)
                       for name in ("category", "subcategory") if name in self.heads_]
            self._topic_cache = np.max(weights, axis=0) if weights else np.ones(body, np.float32)
        return self._topic_cache

    def _display_terms(self) -> tuple[list[str], np.ndarray, list[bool]]:
        # Derived from feature_names_ on first use; not part of what a model is.
        if getattr(self, "_terms_cache", None) is None:
            self._terms_cache = explain.display_terms(self.feature_names_)
        return self._terms_cache

    @property
    def labels_(self) -> dict[str, list[str]]:
        return {name: [str(label) for label in head.classes_] for name, head in self.heads_.items()}


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """The BLAS libraries NumPy loaded, to predict a list on one thread. A list's calibration
    products (500 rows by a head's labels) are big enough for OpenBLAS to start its threads,
    which gain nothing on matrices this small and spin on afterwards: in process a list took
    1.65 cores for one core's work, and two batch workers, each with its own spinning
    thread, ran at 4,700 rows/s against 6,200 on one thread each (docs/BENCHMARKS.md,
    session 18). Parallelism comes from processes (batch workers, gunicorn workers). One
    text's products start no threads, and the limit, set and lifted, costs 85 µs a call (a
    twelfth of a single predict), so one text goes without it. Made once: reading the loaded
    libraries takes 0.6 ms."""
    return ThreadpoolController()


def head_workers(needs: Sequence[int], available: int | None, cores: int) -> int:
    """How many heads to fit at once: one per core, as many as the largest ``needs`` (bytes
    per head, ``LinearHead.fit_memory``) fit in ``available`` less a margin for the workers
    themselves, and at least one. Two at once, 1,000,000 retraining rows took more than this
    machine's 24 GB and the system killed a worker (docs/BENCHMARKS.md, session 18)."""
    workers = max(1, min(len(needs), cores))
    if available is None:
        return workers
    largest = sorted(needs, reverse=True)
    while workers > 1 and sum(largest[:workers]) + workers * HEAD_WORKER_BYTES > available * MEMORY_SHARE:
        workers -= 1
    return workers


def _in_opening(hits: list[safety.RuleHit], text: str) -> list[safety.RuleHit]:
    """The ``hits`` whose evidence stands within the first ``RULE_OPENING_CHARS`` of ``text``."""
    return [hit for hit in hits if 0 <= text.find(hit.evidence) < RULE_OPENING_CHARS]


def _rule_departments(hits: list[safety.RuleHit], text: str) -> list[str]:
    """Who the safety rules whose evidence opens ``text`` hand their emergency to, in order."""
    return [name for hit in _in_opening(hits, text) for name in hit.departments]


def _sure_emergency(urgency: dict) -> bool:
    """Whether an urgency answer (``_urgency``) is 特急 surely enough for the responder head to
    place the case: decided (``auto``: by a safety rule whose evidence opens the text), or the
    model's own at ``RESPONDER_FLOOR`` or above. Not a rule's further in: on long real posts
    those are mostly a hazard mentioned in passing (docs/BENCHMARKS.md, session 15)."""
    return urgency["label"] == URGENCY_LEVELS[-1] and (urgency["band"] == "auto" or (
        urgency["source"] == "model" and urgency["confidence"] >= RESPONDER_FLOOR))


def _hand_to(found: dict, label: str, confidence: float, source: str, explanation: list[dict], **extra) -> None:
    """The department answer ``found`` handed to ``label`` by ``source`` (a safety rule, the
    responder head): first in ``top``, the learned ones behind it; band ``suggest``, for a
    dispatcher to confirm where a life is at stake."""
    found["top"] = [{"label": label, "confidence": confidence},
                    *[entry for entry in found["top"] if entry["label"] != label][:TOP_DEPARTMENTS - 1]]
    found.update(label=label, confidence=confidence, band="suggest", source=source, explanation=explanation, **extra)


def _features_folder() -> tempfile.TemporaryDirectory:
    """A temporary folder for the matrix the heads read (``_mapped``), named after this host
    and process. Folders that processes of this host now gone left behind are removed first:
    a retraining killed by the system for want of memory, or by a scheduler, never cleans up,
    and at 1,000,000 rows its matrix is 3.6 GB of the temporary disk."""
    prefix = f"{_FEATURES_FOLDER}{socket.gethostname()}-"
    for folder in Path(tempfile.gettempdir()).glob(prefix + "*-*"):
        owner = folder.name[len(prefix):].split("-", 1)[0]
        if owner.isdigit() and not _running(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{prefix}{os.getpid()}-")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        pass
    return True


def _mapped(features, path: str):
    """``features`` written to ``path`` and read back mapped from it: the head workers and
    this process then share one copy through the page cache, which the system can drop and
    read again. Held in memory here, and once more in the shared memory joblib maps a large
    argument from, the matrix of 1,000,000 retraining rows took 7.5 of this machine's 24 GB
    before a head started, and the heads' workers were killed for want of memory."""
    dump(features, path)
    return load(path, mmap_mode="r")


def _fit_head(head: LinearHead, features, columns: int, rows: np.ndarray, labels: np.ndarray,
              groups: np.ndarray | None) -> LinearHead:
    """``head`` fitted on the ``rows`` (ascending: ``usable_rows``) of ``features``' first
    ``columns`` columns, weighing nothing in the others."""
    return head.fit(features, labels, groups=groups, n_jobs=1, rows=rows, columns=columns).widen(features.shape[1])


def _hold_below(answer: dict, floor: float | None, band: str = "band", confidence: str = "confidence") -> None:
    """An ``auto`` answer whose confidence is under the centre's ``floor`` (setting
    ``auto_min_confidence``) becomes ``suggest``: over the model's threshold, a person looks."""
    if floor is not None and answer[band] == "auto" and answer[confidence] < floor:
        answer[band] = "suggest"


def _prepare(text: Any, index: int, settings: Mapping[str, Any]) -> dict:
    if not isinstance(text, str):
        raise InputError(f"text #{index} is {type(text).__name__}, not a string", field="text")
    if len(text) > settings["max_chars"]:
        raise InputError(f"text #{index} has {len(text)} characters; the limit is {settings['max_chars']} "
                         "(setting max_chars)", field="text")
    normalised = normalise(text)
    masked, kinds = mask_personal_data(normalised)
    flags = screen(text, normalised, min_chars=settings["min_chars"])
    status = "unreadable" if any(flag.code in UNREADABLE_CODES for flag in flags) else "ok"
    # ``read``: what the featuriser and the safety rules see, the caller's turns; ``masked``
    # is what is shown and kept
    return {"status": status, "normalised": normalised, "masked": masked, "read": caller_turns(masked), "flags": flags,
            "personal_data": kinds}


def _unreadable_result(item: dict, version: str) -> dict:
    return {
        "status": "unreadable", "category": None, "department": None, "urgency": None,
        "request_type": None, "decision": "review",
        "explanation": [flag.reason for flag in item["flags"]],
        "flags": [flag.to_dict() for flag in item["flags"]],
        "personal_data": item["personal_data"], "text": item["masked"], "model_version": version,
    }


def _label_columns(labels: Mapping[str, Sequence]) -> dict[str, list]:
    """Stripped label columns. Second-level names repeat under different parents (其他,
    安全生产), so the subcategory head learns ``category/subcategory`` paths."""
    columns = {name: [label.strip() if isinstance(label, str) else label for label in values]
               for name, values in labels.items()}
    responders = _responder_labels(columns)  # None only where the data gives no responder column
    if responders is not None:
        columns[RESPONDER] = responders
    if "subcategory" in columns:
        if "category" not in columns:
            raise ModelError("a subcategory column needs a category column beside it")
        columns["subcategory"] = [f"{category}{SUBCATEGORY_SEPARATOR}{sub}" if category and sub else None
                                  for category, sub in zip(columns["category"], columns["subcategory"])]
    return columns


def _responder_labels(columns: Mapping[str, list]) -> list | None:
    """The responder head's labels: a text's ``responder`` label where the data gives one,
    else, for a text labelled 特急, its department (None for the others); None when the data
    gives no responder and lacks a department or an urgency column."""
    given = columns.get(RESPONDER)
    derived = None
    if "department" in columns and "urgency" in columns:
        derived = [department if urgency == URGENCY_LEVELS[-1] else None
                   for department, urgency in zip(columns["department"], columns["urgency"])]
    if given is None:
        return derived
    return [label or (derived[row] if derived else None) for row, label in enumerate(given)]


def _data_hash(texts: Sequence[str], labels: Mapping[str, Sequence], groups: Sequence[str] | None = None) -> str:
    digest = hashlib.sha256()
    for index, text in enumerate(texts):
        digest.update(text.encode("utf-8"))
        if groups is not None:
            digest.update(b"\x1d" + str(groups[index]).encode("utf-8"))
        for name in sorted(labels):
            digest.update(b"\x1f" + str(labels[name][index] or "").encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def ensure_fitted(model: Any) -> "TriageModel":
    if not isinstance(model, TriageModel) or not hasattr(model, "heads_"):
        raise ModelError(f"expected a trained TriageModel, got {type(model).__name__}")
    return model
