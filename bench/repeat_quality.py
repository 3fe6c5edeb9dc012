"""Precision and recall of the same-matter decision for same-person pairs, on real
messages, from a hand-labelled stratified sample (bench/repeat_labels.csv).

    python bench/repeat_quality.py

All same-user pairs of ../shared/data/messages_with_users.csv are binned by similarity
(cosine of the default model's features, as triage/repeat.py computes it); each bin's
labelled share of same-matter pairs is scaled to the bin's size, and precision and recall
at each threshold are estimated from those weighted counts. Small sample: read the
figures with their bin counts.
"""
import csv
import json
from pathlib import Path

from _shared import same_user_messages

BINS = ((0.0, 0.2), (0.2, 0.35), (0.35, 0.5), (0.5, 1.01))
rows, model, pairs, cosines = same_user_messages()
position = {row["id"]: index for index, row in enumerate(rows)}
similarities = cosines(pairs)
lines = [line for line in (Path(__file__).with_name("repeat_labels.csv")).read_text(encoding="utf-8").splitlines()
         if line and not line.startswith("#")]
labelled = [(position[row["id_a"]], position[row["id_b"]], int(row["same"])) for row in csv.DictReader(lines)]
labelled_similarity = dict(zip([(a, b) for a, b, _ in labelled], cosines([(a, b) for a, b, _ in labelled])))
bins = []
for low, high in BINS:
    sample = [same for a, b, same in labelled if low <= labelled_similarity[a, b] < high]
    size = int(((similarities >= low) & (similarities < high)).sum())
    share = sum(sample) / len(sample) if sample else 0.0
    bins.append({"bin": f"{low}-{min(high, 1.0)}", "pairs": size, "labelled": len(sample),
                 "labelled_same": sum(sample), "estimated_same": round(size * share)})
total_same = sum(entry["estimated_same"] for entry in bins)
estimates = {}
for threshold_index, (low, _) in enumerate(BINS[1:], start=1):
    kept = bins[threshold_index:]
    flagged = sum(entry["pairs"] for entry in kept)
    right = sum(entry["estimated_same"] for entry in kept)
    estimates[str(low)] = {"precision": round(right / flagged, 3), "recall": round(right / total_same, 3)}
print(json.dumps({"benchmark": "repeat_quality", "model_version": model.version_, "same_user_pairs": len(pairs),
                  "bins": bins, "at_threshold": estimates}, ensure_ascii=False))
