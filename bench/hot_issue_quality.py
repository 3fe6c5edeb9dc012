"""Precision and recall of hot-issue grouping (different callers, same matter) on real
messages, from a hand-labelled stratified sample (bench/hot_issue_labels.csv).

    python bench/hot_issue_quality.py
    python bench/hot_issue_quality.py --draw 0,0.2,60 --seed 6   # unlabelled pairs to read by hand

Candidate pairs are what the service compares: messages of different users in
../shared/data/messages_with_users.csv with the same predicted category, at most
``hot_issue_window_days`` (7) apart, scored by the cosine of their sketches
(triage/hot_issues.py). Pairs are binned by score; each bin's labelled share of
same-matter pairs is scaled to the bin's size, and precision and recall at each threshold
are estimated from those weighted counts, with a 90 % bootstrap interval at the setting's
threshold. 15 labels per bin: read the figures with the bin counts beside them. The sample was drawn with the model of its day; a labelled pair
that the current model no longer compares (it puts the two messages in different
categories) is left out and counted.
"""
import argparse
import json
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np

from _shared import hand_labels, print_unlabelled, read_shared, stratified_estimates, stratified_interval
from triage import load_model, load_settings
from triage.hot_issues import similarities, sketch
from triage.normalise import normalise
from triage.privacy import mask_personal_data

BINS = ((0.0, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (0.6, 1.01))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--draw", help="LOW,HIGH,COUNT: print COUNT unlabelled pairs of that score bin to label")
    parser.add_argument("--seed", type=int, default=6)
    options = parser.parse_args()
    rows = read_shared("messages_with_users.csv")
    model, settings = load_model(), load_settings()
    texts = [mask_personal_data(normalise(row["subject"] + "。" + row["body"]))[0] for row in rows]
    categories = [result["category"]["label"] for result in model.predict(texts)]
    features = model.featuriser_.wording(texts)
    sketches = [sketch(features[index].indices, features[index].data) for index in range(len(rows))]
    times = [datetime.fromisoformat(row["time"]) for row in rows]
    window = timedelta(days=settings["hot_issue_window_days"])
    by_category = defaultdict(list)
    for index, category in enumerate(categories):
        by_category[category].append(index)
    score: dict[tuple[str, str], float] = {}
    for members in by_category.values():
        members.sort(key=lambda index: times[index])
        for position, index in enumerate(members):
            earlier = [other for other in members[:position]
                       if times[index] - times[other] <= window and rows[other]["user"] != rows[index]["user"]]
            found = similarities(sketches[index], [sketches[other] for other in earlier], features.shape[1])
            score.update({(rows[other]["id"], rows[index]["id"]): float(value) for other, value in zip(earlier, found)})
    labels = hand_labels("hot_issue_labels.csv")
    if options.draw:
        low, high, count = options.draw.split(",")
        position = {row["id"]: index for index, row in enumerate(rows)}
        return print_unlabelled(rows, [(position[a], position[b]) for a, b in score], list(score.values()),
                                {(row["id_a"], row["id_b"]) for row in labels}, float(low), float(high), int(count),
                                options.seed)
    labelled = [(score[row["id_a"], row["id_b"]], int(row["same"])) for row in labels if (row["id_a"], row["id_b"]) in score]
    scores = np.array(list(score.values()))
    bins, estimates = stratified_estimates(labelled, scores, BINS)
    estimates[str(settings["hot_issue_similarity"])]["bootstrap_90"] = stratified_interval(
        labelled, scores, BINS, settings["hot_issue_similarity"])
    print(json.dumps({"benchmark": "hot_issue_quality", "model_version": model.version_,
                      "candidate_pairs": len(score),
                      "labelled_pairs_no_longer_compared": len(labels) - len(labelled), "threshold_setting": settings["hot_issue_similarity"],
                      "bins": bins, "at_threshold": estimates}, ensure_ascii=False))


if __name__ == "__main__":
    main()
