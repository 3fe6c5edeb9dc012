"""Precision and recall of the same-matter decision for same-person pairs, on real
messages, from a hand-labelled stratified sample (bench/repeat_labels.csv).

    python bench/repeat_quality.py

All same-user pairs of ../shared/data/messages_with_users.csv are binned by similarity
(cosine of the default model's features, as triage/repeat.py computes it); each bin's
labelled share of same-matter pairs is scaled to the bin's size, and precision and recall
at each threshold are estimated from those weighted counts. Small sample: read the
figures with their bin counts.
"""
import json

from _shared import hand_labels, same_user_messages, stratified_estimates

BINS = ((0.0, 0.2), (0.2, 0.35), (0.35, 0.5), (0.5, 1.01))
rows, model, pairs, cosines = same_user_messages()
position = {row["id"]: index for index, row in enumerate(rows)}
similarities = cosines(pairs)
labelled_pairs = [(position[row["id_a"]], position[row["id_b"]], int(row["same"]))
                  for row in hand_labels("repeat_labels.csv")]
labelled_scores = cosines([(a, b) for a, b, _ in labelled_pairs])
bins, estimates = stratified_estimates([(float(score), same) for score, (_, _, same) in
                                        zip(labelled_scores, labelled_pairs)], similarities, BINS)
print(json.dumps({"benchmark": "repeat_quality", "model_version": model.version_, "same_user_pairs": len(pairs),
                  "bins": bins, "at_threshold": estimates}, ensure_ascii=False))
