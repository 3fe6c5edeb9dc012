"""How the same-matter similarity separates a person's repeated messages from unrelated
ones, on real messages with pseudonymous user ids (../shared/data/messages_with_users.csv).

    python bench/repeat_similarity.py

Not yet the hand-labelled precision/recall issue 5 asks for: same-user pairs are not all
the same matter, and different users may raise one matter. It shows, per threshold, the
share of same-user pairs and of random different-user pairs at or above it (the
same-matter similarity of triage/repeat.py with the default model).
"""
import json
import random

import numpy as np

from _shared import same_user_messages

rows, model, same, _, similarity = same_user_messages()
rng = random.Random(0)
different = []
while len(different) < len(same):
    a, b = rng.randrange(len(rows)), rng.randrange(len(rows))
    if rows[a]["user"] != rows[b]["user"]:
        different.append((a, b))

same_scores, different_scores = similarity(same), similarity(different)
print(json.dumps({
    "benchmark": "repeat_similarity", "model_version": model.version_, "messages": len(rows),
    "same_user_pairs": len(same), "different_user_pairs": len(different),
    "same_user_percentiles": {p: round(float(np.percentile(same_scores, p)), 3) for p in (10, 25, 50, 75, 90)},
    "different_user_percentiles": {p: round(float(np.percentile(different_scores, p)), 3) for p in (50, 90, 99)},
    "share_at_or_above": {str(t): {"same_user": round(float((same_scores >= t).mean()), 3),
                                   "different_users": round(float((different_scores >= t).mean()), 4)}
                          for t in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)},
}, ensure_ascii=False))
