"""The bundled default model (trained only on the project's seed corpus) on real text it
never saw: first-level category on ../shared/data/messages_dev.csv (7 of 15 classes), and
what share of the texts each decision band of the category holds, at what precision.

    python bench/default_model_real.py [--model DIR]
"""
import argparse
import json
from collections import Counter

from sklearn.metrics import f1_score

from _shared import read_shared
from triage import load_model

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--model", help="model folder (default: the bundled default model)")
rows = read_shared("messages_dev.csv")
model = load_model(parser.parse_args().model)
results = model.predict([row["text"] for row in rows])
expected = [row["category"] for row in rows]
predicted = [r["category"]["label"] if r["status"] == "ok" else "(unreadable)" for r in results]
confusion = Counter(zip(expected, predicted))
bands = Counter()
right = Counter()
for result, truth, guess in zip(results, expected, predicted):
    band = result["category"]["band"] if result["status"] == "ok" else "review"
    bands[band] += 1
    right[band] += truth == guess
print(json.dumps({
    "benchmark": "default_model_real", "model_version": model.version_, "n": len(rows),
    "accuracy": round(sum(e == p for e, p in zip(expected, predicted)) / len(rows), 4),
    "macro_f1_over_true_classes": round(float(f1_score(expected, predicted, labels=sorted(set(expected)), average="macro")), 4),
    "category_bands": {band: {"share": round(bands[band] / len(rows), 4),
                              "precision": round(right[band] / bands[band], 4) if bands[band] else None}
                       for band in ("auto", "suggest", "review")},
    "confusion": {f"{e}->{p}": n for (e, p), n in sorted(confusion.items(), key=lambda item: -item[1])[:25]},
}, ensure_ascii=False))
