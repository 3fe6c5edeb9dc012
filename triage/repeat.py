"""Repeat petitions (重复信访): is a new case the same caller's matter raised again?

The caller's earlier cases come from the store, linked by keyed hashes of phone or ID
number (``identity.py``). Each is compared with the new text by the cosine of the model's
own TF-IDF features; the most similar one at or above ``repeat_similarity`` makes the new
case a repeat. A repeat of a case that is still open is an escalation signal: the earlier
handling has not worked. Nothing is closed or refused for being a repeat.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .features import transform
from .model import TriageModel
from .store import utc_iso


def judge(model: TriageModel, text: str, priors: list[dict], settings: Mapping[str, Any],
          identified: bool) -> dict:
    """The ``repeat`` part of a triage answer for masked ``text``.

    Args:
        priors: the caller's earlier cases (``CaseStore.prior_cases``), newest first.
        identified: whether the submission carried a usable phone or ID number.
    """
    window = settings["repeat_window_days"]
    answer: dict[str, Any] = {"is_repeat": False, "score": 0.0, "reasons": [], "prior_cases": [],
                              "caller_case_count": len(priors) + 1 if identified else None,
                              "window_days": window, "escalate": False}
    if not identified:
        answer["reasons"] = ["未提供可识别的来电号码或身份证号，无法判断是否重复反映"]
        return answer
    if not priors:
        return answer
    features = transform(model.featuriser_, [text] + [prior["text"] for prior in priors])
    similarities = np.asarray((features[1:] @ features[0].T).todense()).ravel()
    answer["prior_cases"] = [
        {"case_id": prior["case_id"], "similarity": round(float(similarity), 3), "status": prior["status"],
         "received_at": utc_iso(prior["received_at"]), "channel": prior["channel"], "shared": prior["shared"]}
        for prior, similarity in zip(priors, similarities)]
    best = int(np.argmax(similarities))
    answer["score"] = round(float(similarities[best]), 3)
    shared = "来电号码" if "phone" in priors[best]["shared"] else "身份证号"
    answer["reasons"].append(f"同一{shared} {window} 天内第 {len(priors) + 1} 次反映")
    if similarities[best] >= settings["repeat_similarity"]:
        prior = priors[best]
        still_open = prior["status"] != "resolved"
        answer["is_repeat"] = True
        answer["escalate"] = still_open
        answer["reasons"].append(f"与 {prior['received_at']:%Y-%m-%d} 工单 #{prior['case_id']} 相似度 "
                                 f"{similarities[best]:.2f}，该件{'尚未办结' if still_open else '已办结'}")
    else:
        answer["reasons"].append(f"与此前工单内容不同（最高相似度 {similarities[best]:.2f}），按新诉求处理")
    return answer
