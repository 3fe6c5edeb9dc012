"""Where list-mode predict spends its time: each stage of the flow on the same texts, in
microseconds per text, best of five passes (this machine's noise only ever adds).

    python bench/stages.py
    PYTHONPATH=../other-checkout python bench/stages.py   # another version, side by side

Texts are the 300-character slices of ``speed.py``. Prints one JSON object.
"""
import json
import time

from speed import texts_of_300_chars
from triage import load_model
from triage.normalise import normalise
from triage.privacy import mask_personal_data
from triage.safety import check
from triage.screening import screen
from triage.segment import tokens, warm_up

PASSES = 5
CHUNK = 500


def best_microseconds(work, count: int) -> float:
    best = float("inf")
    for _ in range(PASSES):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return round(best / count * 1e6, 1)


def main():
    warm_up()
    model = load_model()
    texts, source = texts_of_300_chars(2000)
    normalised = [normalise(text) for text in texts]
    masked = [mask_personal_data(text)[0] for text in normalised]
    chunks = [texts[start:start + CHUNK] for start in range(0, len(texts), CHUNK)]
    masked_chunks = [masked[start:start + CHUNK] for start in range(0, len(masked), CHUNK)]
    model.predict(texts[:50])
    stages = {
        "normalise": lambda: [normalise(text) for text in texts],
        "mask_personal_data": lambda: [mask_personal_data(text) for text in normalised],
        "screen": lambda: [screen(text, text, min_chars=6) for text in normalised],
        "tokens": lambda: [tokens(text) for text in masked],
        "features_with_tokens": lambda: [model.featuriser_.transform(chunk) for chunk in masked_chunks],
        "safety_rules": lambda: [check(text) for text in masked],
        "predict": lambda: [model.predict(chunk) for chunk in chunks],
    }
    result = {name: best_microseconds(work, len(texts)) for name, work in stages.items()}
    print(json.dumps({"benchmark": "stages", "texts": f"{len(texts)} x 300 chars from {source}",
                      "microseconds_per_text": result}, ensure_ascii=False))


if __name__ == "__main__":
    main()
