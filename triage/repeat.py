"""Repeat petitions (重复信访): is a new case the same caller's matter raised again?

The caller's earlier cases come from the store, linked by keyed hashes of phone or ID
number (``identity.py``). Each is compared with the new text twice, by the cosine of the
model's own TF-IDF features and by the cosine of the same features weighted by how strongly
each decides a topic (``TriageModel.topic_weights``), and the smaller counts: two calls from
one person share their preamble and address ("喂你好，我是幸福家园3栋的"), so wording
alone makes a burst pipe and a noisy neighbour look alike, while topic words alone miss a
matter told in other words. The most similar earlier case at or above the caller's
threshold makes the new case a repeat. The threshold rises with the caller's case count in the window: on real
messages a person who writes twice is mostly asking again, while one who writes fifty times
raises many matters in one template of phrases, so two of their cases must be closer to be
one matter (``bench/repeat_quality.py``: on hand-labelled pairs this lifts precision and
recall together over one flat threshold). A new case that says the matter was raised before
(再次反映, 至今未解决: ``follow_up``) has the phrase quoted in the reasons, and where a centre
sets ``repeat_follow_up_similarity`` below 1 it needs no more similarity than that.
A repeat of a case that is still open is an
escalation signal: the earlier handling has not worked. Nothing is closed or refused for
being a repeat.
"""
from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from functools import lru_cache, partial
from typing import Any, Callable, Mapping

import numpy as np
import scipy.sparse as sp

from .compiled import optional
from .identity import link
from .model import TriageModel
from .sla import utc_iso
from .taxonomy import resource_lines

_products = optional("_products")  # where it was not built, ``crossing`` is SciPy's product


def judge(model: TriageModel, text: str, row: tuple[np.ndarray, np.ndarray] | None, priors: list[dict],
          settings: Mapping[str, Any], identified: bool, prior_rows: PriorRows) -> dict:
    """The ``repeat`` part of a triage answer for the new case of ``text`` whose TF-IDF row
    (as ``TriageModel.predict_with_features`` gives it; None for an unreadable text, which
    has nothing to compare) is ``row``.

    Args:
        priors: the caller's earlier cases (``CaseStore.prior_cases``), newest first.
        identified: whether the submission carried a usable phone or ID number.
        prior_rows: this process's rows of earlier cases (those the store kept with the
            cases, and those it had to featurise), so that a caller's tenth call does not
            featurise the nine before it again.
    """
    if not identified or not priors:
        return verdict(priors, np.zeros(0), settings, identified)
    if row is None:
        return verdict(priors, np.zeros(len(priors)), settings, True)
    return verdict(priors, against(model, row, prior_rows.rows(model, priors)), settings, True,
                   phrase=follow_up(text))


@lru_cache(maxsize=1)
def _follow_up_pattern() -> re.Pattern:
    # a phrase and what follows it up to a break, at most six characters: "至今没人修", not "至今"
    phrases = "|".join(map(re.escape, resource_lines("follow_up_phrases.txt")))
    return re.compile(rf"(?:{phrases})[^\s,.;:!?，。；：！？、]{{0,6}}")


def follow_up(text: str) -> str | None:
    """Where ``text`` says the matter was raised before or is still unresolved: the first
    phrase of ``resources/follow_up_phrases.txt`` in it (再次, 至今, ...) with the words
    after it, as the dispatcher is shown it ("至今没人修"). None if none."""
    found = _follow_up_pattern().search(text)
    return found.group() if found else None


def against(model: TriageModel, row: tuple[np.ndarray, np.ndarray], others: list[tuple[np.ndarray, np.ndarray]]
            ) -> np.ndarray:
    """Same-matter similarity of one unit TF-IDF ``row`` with each of ``others``, all given
    as (indices, values): the numbers of ``similarities`` (to float rounding), in plain
    array steps, without the cost of building sparse matrices for a handful of rows."""
    weights = model.topic_weights()
    order = np.argsort(row[0])
    indices, values = row[0][order].astype(np.int64), row[1][order].astype(np.float64)
    topic = values * weights[indices]
    topic_length = np.sqrt(np.dot(topic, topic))
    lengths = [len(other_indices) for other_indices, _ in others]
    owner = np.repeat(np.arange(len(others)), lengths)
    other_indices = np.concatenate([other_indices for other_indices, _ in others]).astype(np.int64)
    other_values = np.concatenate([other_values for _, other_values in others]).astype(np.float64)
    other_topic = other_values * weights[other_indices]
    other_lengths = np.sqrt(np.bincount(owner, weights=other_topic ** 2, minlength=len(others)))
    position = np.minimum(np.searchsorted(indices, other_indices), max(len(indices) - 1, 0))
    shared = indices[position] == other_indices if len(indices) else np.zeros(len(other_indices), bool)
    position, holder = position[shared], owner[shared]
    wording = np.bincount(holder, weights=other_values[shared] * values[position], minlength=len(others))
    topic_dot = np.bincount(holder, weights=other_topic[shared] * topic[position], minlength=len(others))
    scale = topic_length * other_lengths
    return np.minimum(wording, np.divide(topic_dot, scale, out=np.zeros(len(others)), where=scale > 0))


class PriorRows:
    """TF-IDF rows of stored cases by case id, the most recently used ``size`` kept, for
    the model that made them (a reloaded model starts afresh). A case stored with a caller
    carries its row (``features``, ``pack_row``) when the serving model triaged it; other
    earlier cases (imported history, another model's) are featurised from their text. A
    stored case's text never changes, so either way the row is exactly what featurising
    its text again would give."""

    def __init__(self, size: int = 1024):
        self.size = size
        self._version: str | None = None
        self._rows: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def rows(self, model: TriageModel, priors: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each prior's row (``indices``, ``values``): kept, stored with the case, or (the
        rest) featurised together."""
        with self._lock:
            fresh = self._version != model.version_
            missing = [prior for prior in priors if fresh or prior["case_id"] not in self._rows]
            unstored = []
            for prior in missing:
                if prior.get("features") and prior.get("model_version") == model.version_:
                    self._put(model, prior["case_id"], *unpack_row(prior["features"]))
                else:
                    unstored.append(prior)
            if unstored:
                features = model.featuriser_.wording([prior["text"] for prior in unstored])
                for position, prior in enumerate(unstored):
                    span = slice(features.indptr[position], features.indptr[position + 1])
                    self._put(model, prior["case_id"], features.indices[span], features.data[span])
            found = []
            for prior in priors:
                self._rows.move_to_end(prior["case_id"])
                found.append(self._rows[prior["case_id"]])
            self._trim(max(self.size, len(priors)))
            return found

    def _put(self, model: TriageModel, case_id: int, indices: np.ndarray, values: np.ndarray) -> None:
        if self._version != model.version_:
            self._version, self._rows = model.version_, OrderedDict()
        # copies: a view would hold on to the arrays of every row featurised beside it
        self._rows[case_id] = (indices.copy(), values.copy())

    def _trim(self, size: int) -> None:
        while len(self._rows) > size:
            self._rows.popitem(last=False)


_ROW_INDEX, _ROW_VALUE = np.dtype("<i4"), np.dtype("<f4")


def pack_row(indices: np.ndarray, values: np.ndarray) -> bytes:
    """A TF-IDF row as the case store keeps it: its indices (int32) then its values
    (float32, as the model makes them), little-endian: exact, 8 bytes a feature."""
    return indices.astype(_ROW_INDEX).tobytes() + values.astype(_ROW_VALUE).tobytes()


def packed_size(values: int) -> int:
    """The bytes of a ``pack_row`` of ``values`` values."""
    return values * (_ROW_INDEX.itemsize + _ROW_VALUE.itemsize)


def unpack_row(packed: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``pack_row``'s row again, as (indices, values)."""
    count = len(packed) // packed_size(1)
    return (np.frombuffer(packed, dtype=_ROW_INDEX, count=count),
            np.frombuffer(packed, dtype=_ROW_VALUE, offset=count * _ROW_INDEX.itemsize))


def linked(keys: list[tuple[str, str]], priors: list[dict]) -> list[dict]:
    """The ``priors`` (``CaseStore.prior_cases``) that the identity evidence links to the
    caller with ``keys``, each with its ``link`` (``identity.link``)."""
    return [{**prior, "link": found} for prior in priors if (found := link(keys, prior["matches"]))]


def similarities(model: TriageModel, texts: list[str]) -> np.ndarray:
    """Same-matter similarity of every pair of ``texts`` (masked), 0 to 1."""
    every = np.arange(len(texts))
    return cross(*views(model, texts), every, every)


def cross(wording: sp.csr_matrix, topic: sp.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``similarities`` of rows ``left`` of ``views`` (one row per text, whatever else
    ``views`` was given: each row depends on its own text only) with rows ``right``. Each
    value is summed over the features of its left row in the same order whichever rows
    stand beside it, so a block of rows gets exactly the numbers of the whole matrix."""
    return np.minimum((wording[left] @ wording[right].T).toarray(), (topic[left] @ topic[right].T).toarray())


def crossing(wording: sp.csr_matrix, topic: sp.csr_matrix) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``cross`` of ``views``' two matrices as a function of (``left``, ``right``), int64
    arrays: compiled (``_products.Crossing``, the same numbers, only the pairs asked for)
    where it was built and the views are as a model makes them; else ``cross`` itself."""
    if _products is not None and all(matrix.dtype in (np.float32, np.float64) and
                                     matrix.indptr.dtype == matrix.indices.dtype == np.int32 for matrix in (wording, topic)):
        try:
            return _products.Crossing(wording, topic)
        except ValueError:  # a column twice in a row (SciPy's products make none)
            pass
    return partial(cross, wording, topic)


def pair_similarities(wording: sp.csr_matrix, topic: sp.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``similarities`` of rows ``left[i]`` and ``right[i]`` of ``views`` of many texts."""
    def cosines(rows):
        return np.asarray(rows[left].multiply(rows[right]).sum(axis=1)).ravel()
    return np.minimum(cosines(wording), cosines(topic))


def views(model: TriageModel, texts: list[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Each text's unit TF-IDF row, and the same row weighted by the model's topic weights
    and scaled to unit length again (a row with no topic weight stays zero)."""
    return views_of(model, model.featuriser_.wording(texts))


def views_of(model: TriageModel, wording: sp.csr_matrix) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``views`` of texts whose unit TF-IDF rows are ``wording`` (``Featuriser.wording``)."""
    topic = (wording @ sp.diags(model.topic_weights())).tocsr()
    lengths = np.sqrt(np.asarray(topic.multiply(topic).sum(axis=1)).ravel())
    return wording, sp.diags(1.0 / np.where(lengths > 0, lengths, 1.0)) @ topic


def same_matter_threshold(settings: Mapping[str, Any], case_count: int, follows_up: bool = False) -> float:
    """The similarity from which an earlier case is the same matter, for a caller whose new
    case is their ``case_count``-th in the window: ``repeat_similarity`` for the second,
    ``repeat_similarity_step`` higher each time the count doubles, never above 0.95; when
    the new case says it follows up an earlier one, ``repeat_follow_up_similarity`` at most."""
    doublings = math.log2(max(case_count, 2) / 2)
    threshold = min(settings["repeat_similarity"] + settings["repeat_similarity_step"] * doublings, 0.95)
    return min(threshold, settings["repeat_follow_up_similarity"]) if follows_up else threshold


def verdict(priors: list[dict], similarity: np.ndarray, settings: Mapping[str, Any], identified: bool,
            count: int | None = None, phrase: str | None = None) -> dict:
    """Decide from each prior's ``similarity`` to the new case.

    Each prior: ``case_id``, ``status`` (None when unknown, as in a batch file),
    ``received_at`` (datetime or None), ``channel``, ``shared`` (the identifiers in common)
    and ``link`` (``identity.link``: how surely it is the same person, and why).
    ``count``: the caller's case count with this one, when ``priors`` are only the
    deciding few of the caller's earlier cases (a batch file's); else ``len(priors) + 1``.
    ``phrase``: the new text's follow-up phrase (``follow_up``), which may lower the threshold.
    """
    window = settings["repeat_window_days"]
    count = count or len(priors) + 1
    answer: dict[str, Any] = {"is_repeat": False, "score": 0.0, "likely_same_person": False, "reasons": [], "prior_cases": [],
                              "caller_case_count": count if identified else None,
                              "window_days": window, "escalate": False}
    if not identified:
        answer["reasons"] = ["未提供可识别的来电号码或身份证号，无法判断是否重复反映"]
        return answer
    if not priors:
        return answer
    answer["prior_cases"] = [
        {"case_id": prior["case_id"], "similarity": round(float(value), 3), "status": prior["status"],
         "received_at": utc_iso(prior["received_at"]) if prior["received_at"] else None,
         "channel": prior["channel"], "shared": prior["shared"], "identity": prior["link"]["score"]}
        for prior, value in zip(priors, similarity)]
    best = int(np.argmax(similarity))
    answer["score"] = round(float(similarity[best]), 3)
    answer["likely_same_person"] = priors[best]["link"]["score"] < 1.0
    span = f" {window} 天内" if window else ""  # no window when a batch file has no times
    answer["reasons"].append(f"{priors[best]['link']['basis']}，{span.strip()}第 {count} 次反映"
                             if answer["likely_same_person"] else
                             f"{priors[best]['link']['basis']}{span}第 {count} 次反映")
    threshold = same_matter_threshold(settings, count, bool(phrase))
    if phrase:  # evidence for the dispatcher, whether or not it lowered the threshold
        lowered = threshold < same_matter_threshold(settings, count)
        answer["reasons"].append(f"来件称“{phrase}”" + (f"，按再次反映比对（门槛降至 {threshold:.2f}）" if lowered else ""))
    if similarity[best] >= threshold:
        prior = priors[best]
        when = f"{prior['received_at']:%Y-%m-%d} " if prior["received_at"] else ""
        if prior["status"] is None:
            state = "办理状态未知"
        else:
            answer["escalate"] = prior["status"] != "resolved"
            state = "尚未办结" if answer["escalate"] else "已办结"
        answer["is_repeat"] = True
        answer["reasons"].append(f"与 {when}工单 #{prior['case_id']} 相似度 {similarity[best]:.2f}，该件{state}")
    else:
        answer["reasons"].append(f"与此前工单内容不同（最高相似度 {similarity[best]:.2f}，"
                                 f"低于第 {count} 次反映的门槛 {threshold:.2f}），按新诉求处理")
    return answer

