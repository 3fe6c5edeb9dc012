"""jieba against rjieba: identical tokens (with the domain dictionary) and speed, on the
shared data and the seed corpus.

    python bench/segmenters.py
"""
import csv
import json
import time
from pathlib import Path

from _shared import read_shared
from triage.normalise import normalise
from triage.segment import engine, tokens

ROOT = Path(__file__).resolve().parent.parent
texts = [normalise(r["subject"] + " " + r["body"]) for r in read_shared("messages_with_users.csv")]
texts += [normalise(r["subject"] + " " + r["body"]) for r in read_shared("messages_with_replies.csv")]
texts += [normalise(r["text"]) for r in read_shared("messages_dev.csv")]
with (ROOT / "training" / "seed_corpus.csv").open(encoding="utf-8") as handle:
    seed = [normalise(r["text"]) for r in csv.DictReader(handle)]
report = {"benchmark": "segmenters"}
for name, corpus in (("shared", texts), ("seed_corpus", seed)):
    timings, outputs = {}, {}
    for engine_name in ("jieba", "rjieba"):
        engine(engine_name)
        started = time.perf_counter()
        outputs[engine_name] = [tokens(text, engine_name) for text in corpus]
        timings[engine_name] = time.perf_counter() - started
    report[name] = {"texts": len(corpus), "chars": sum(map(len, corpus)),
                    "mismatched_texts": sum(a != b for a, b in zip(outputs["jieba"], outputs["rjieba"])),
                    "jieba_texts_per_s": round(len(corpus) / timings["jieba"]),
                    "rjieba_texts_per_s": round(len(corpus) / timings["rjieba"]),
                    "speedup": round(timings["jieba"] / timings["rjieba"], 2)}
print(json.dumps(report, ensure_ascii=False))
