"""Retraining time by corpus size: `triage train` on 10k to 100k (or more) labelled cases.

    python bench/retrain_scale.py [--sizes 10000,30000,100000] [--models DIR]

The labelled cases are seed-corpus rows (all five label columns), each extended with a
30-120 character slice of a real message (../shared/data, else another seed row) so the
vocabulary grows as it does with real data. Each size is trained in a fresh process, as
`triage train --out` does it. Prints one JSON object: per size the seconds, the featurising's
share, how many heads were fitted at once, and the peak memory of the whole process tree
(RSS; PSS counts the heads' shared matrix once); and the fitted growth exponent (time ~
size^k) used to project 1M.
"""
import argparse
import csv
import json
import math
import os
import platform
import random
import re
import sys
import tempfile
from pathlib import Path

from _shared import run_with_peak_memory

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "messages_with_users.csv"
# `triage train`'s progress on stderr: "featurised N texts in S s", "fitting 5 heads, K at a time"
FEATURISED, HEADS_AT_ONCE = re.compile(r"featurised \d+ texts in (\d+) s"), re.compile(r"fitting \d+ heads, (\d+) at a time")


def write_corpus(path: Path, size: int) -> None:
    with (ROOT / "training" / "seed_corpus.csv").open(encoding="utf-8") as handle:
        seed = list(csv.DictReader(handle))
    if SHARED.is_file():
        with SHARED.open(encoding="utf-8") as handle:
            noise = [row["body"] for row in csv.DictReader(handle) if len(row["body"]) > 130]
    else:  # seed texts are short: eight in a row make one long enough to slice
        noise = ["。".join(row["text"] for row in seed[start:start + 8]) for start in range(0, len(seed) - 8, 8)]
    generator = random.Random(size)
    columns = ["text", "category", "subcategory", "department", "urgency", "request_type", "group"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for number in range(size):
            row = dict(seed[number % len(seed)])
            source = generator.choice(noise)
            start = generator.randrange(0, len(source) - 120)
            row["text"] = row["text"] + "。" + source[start:start + generator.randint(30, 120)]
            writer.writerow(row)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,30000,100000")
    parser.add_argument("--models", type=Path, help="keep each size's model here (its metadata holds the "
                        "out-of-fold metrics); default: thrown away with the corpus")
    arguments = parser.parse_args()
    sizes = [int(value) for value in arguments.sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            corpus = Path(folder) / f"corpus-{size}.csv"
            write_corpus(corpus, size)
            seconds, (rss, pss), err = run_with_peak_memory(
                [sys.executable, "-m", "triage", "train", str(corpus), "--out",
                 str((arguments.models or Path(folder)) / f"model-{size}")])
            said = [pattern.search(err) for pattern in (FEATURISED, HEADS_AT_ONCE)]  # None before triage said them
            results[size] = {"seconds": round(seconds, 1), "featurise_seconds": said[0] and int(said[0][1]),
                             "heads_at_once": said[1] and int(said[1][1]), "peak_rss_mb": round(rss),
                             "peak_pss_mb": round(pss)}
            print(json.dumps({"size": size, **results[size]}), file=sys.stderr)
    exponent = None
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        exponent = math.log(results[large]["seconds"] / results[small]["seconds"]) / math.log(large / small)
    projection = (round(results[sizes[-1]]["seconds"] * (1_000_000 / sizes[-1]) ** exponent)
                  if exponent is not None else None)
    print(json.dumps({"benchmark": "retrain_scale", "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                      f"Python {platform.python_version()}", "by_size": results,
                      "growth_exponent": round(exponent, 2) if exponent is not None else None,
                      "projected_1m_seconds": projection}))


if __name__ == "__main__":
    main()
