"""How often the safety rules call real messages 特急 or 紧急, rule by rule.

    python bench/safety_real.py
    PYTHONPATH=../other-checkout python bench/safety_real.py   # another version, side by side

Texts: subject and body of every message in ../shared/data/messages_with_users.csv and
messages_with_replies.csv (a city's message board: complaints and requests written at
leisure, where a fire or a blast happening as the message is written is rare). There are
no urgency labels; what fires is counted, and docs/BENCHMARKS.md says what reading a
sample of the hits by hand found. The project's own life-safety and look-alike sets are
measured by ``bench/heldout_sets.py``. Prints one JSON object.
"""
import json
from collections import Counter

from _shared import board_texts
from triage.normalise import normalise
from triage.privacy import mask_personal_data
from triage.safety import check


def main():
    texts = board_texts()
    by_rule, by_level = Counter(), Counter()
    for text in texts:
        hits = check(mask_personal_data(normalise(text))[0])
        if hits:
            by_level[hits[0].level] += 1
            by_rule[hits[0].rule_id] += 1  # the rule that sets the urgency
    print(json.dumps({"benchmark": "safety_real", "texts": len(texts),
                      "texts_by_level": dict(by_level.most_common()),
                      "texts_by_deciding_rule": dict(by_rule.most_common())}, ensure_ascii=False))


if __name__ == "__main__":
    main()
