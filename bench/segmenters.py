"""jieba against rjieba: identical tokens (with the domain dictionary) and speed, on the
shared data and the seed corpus. Other implementations of jieba's algorithm, when
installed (bench-only; none is a dependency), are measured the same way on the same runs
of Chinese characters:

    pip install jieba-fast-dat jieba-next jieba-fast   # any of them
    python bench/segmenters.py

A candidate could replace rjieba only with zero mismatched texts and more texts/s.
"""
import csv
import importlib
import json
import logging
import time
from pathlib import Path

from _shared import read_shared
from triage.normalise import normalise
from triage.segment import domain_words, engine, tokens, tokens_run_by_run

ROOT = Path(__file__).resolve().parent.parent
# Module names of packages that re-implement jieba's Tokenizer API (lcut with HMM).
CANDIDATES = ("jieba_fast_dat", "jieba_next", "jieba_fast")


def candidate_cut(module_name: str):
    """``run -> words`` of an installed jieba re-implementation loaded with the domain
    dictionary, or None when it is not installed."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    logging.getLogger(module_name).setLevel(logging.WARNING)
    tokenizer = module.Tokenizer()
    tokenizer.initialize()
    for word, frequency in domain_words():
        tokenizer.add_word(word, frequency)
    return lambda run: tokenizer.lcut(run, HMM=True)


texts = [normalise(r["subject"] + " " + r["body"]) for r in read_shared("messages_with_users.csv")]
texts += [normalise(r["subject"] + " " + r["body"]) for r in read_shared("messages_with_replies.csv")]
texts += [normalise(r["text"]) for r in read_shared("messages_dev.csv")]
with (ROOT / "training" / "seed_corpus.csv").open(encoding="utf-8") as handle:
    seed = [normalise(r["text"]) for r in csv.DictReader(handle)]
cuts = {name: cut for name in CANDIDATES if (cut := candidate_cut(name)) is not None}
report = {"benchmark": "segmenters", "candidates_installed": sorted(cuts)}
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
    for candidate, cut in cuts.items():
        started = time.perf_counter()
        found = [tokens_run_by_run(cut, text) for text in corpus]
        seconds = time.perf_counter() - started
        report[name][candidate] = {"mismatched_texts": sum(a != b for a, b in zip(outputs["jieba"], found)),
                                   "texts_per_s": round(len(corpus) / seconds)}
print(json.dumps(report, ensure_ascii=False))
