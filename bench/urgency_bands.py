"""Which urgency the default model gives real messages, from which source and in which
decision band: how many 特急 and 紧急 a dispatcher would see applied without a look.

    python bench/urgency_bands.py
    PYTHONPATH=../other-checkout python bench/urgency_bands.py   # another version, side by side

Texts: subject and body of every message in ../shared/data/messages_with_users.csv and
messages_with_replies.csv (the texts of ``bench/safety_real.py``). They carry no urgency
labels: the figures count what the model does, not whether it is right; the project's
labelled held-out sets are ``bench/heldout_sets.py``. Sources: ``rule`` (a safety rule
raised the model's urgency), ``model+rule`` (a rule names the model's own label), ``model``
(no rule agrees). Also how often a safety rule handed the case to its own department instead
of the learned one (``department.source`` ``rule``), by rule. Prints one JSON object.
"""
import json
from collections import Counter

from _shared import board_texts, predicted
from triage import load_model


def main():
    texts = board_texts()
    model = load_model()
    found, handed = Counter(), Counter()
    for result in predicted(model, texts):
        if result["status"] == "ok":
            urgency = result["urgency"]
            source = urgency["source"]
            if source == "model" and any(hit["level"] == urgency["label"] for hit in urgency["rules"]):
                source = "model+rule"  # the model's label, which a safety rule also names
            found[f"{urgency['label']} {source} {urgency['band']}"] += 1
            if result["department"] and result["department"].get("source") == "rule":
                handed[f"{result['department']['rule']} -> {result['department']['label']}"] += 1
    print(json.dumps({"benchmark": "urgency_bands", "model_version": model.version_, "texts": len(texts),
                      "label_source_band": dict(sorted(found.items())),
                      "department_by_rule": {"texts": sum(handed.values()), **dict(handed.most_common())}},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
