"""Retraining time by corpus size: `triage train` on 10k to 100k (or more) labelled cases.

    python bench/retrain_scale.py [--sizes 10000,30000,100000]

The labelled cases are seed-corpus rows (all five label columns), each extended with a
30-120 character slice of a real message (../shared/data, else another seed row) so the
vocabulary grows as it does with real data. Each size is trained in a fresh process, as
`triage train --out` does it; prints one JSON object with seconds and peak memory per size
and the fitted growth exponent (time ~ size^k) used to project 1M.
"""
import argparse
import csv
import json
import math
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "messages_with_users.csv"


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
    sizes = [int(value) for value in parser.parse_args().sizes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            corpus = Path(folder) / f"corpus-{size}.csv"
            write_corpus(corpus, size)
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            done = subprocess.run([sys.executable, "-m", "triage", "train", str(corpus), "--out",
                                   str(Path(folder) / f"model-{size}")], capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(done.stderr)
            seconds = time.perf_counter() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            results[size] = {"seconds": round(seconds, 1), "peak_rss_mb": round(max(peak, before) / 1024)}
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
