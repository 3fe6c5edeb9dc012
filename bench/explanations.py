"""What the explanations show a dispatcher, on real messages: how many of the listed terms
are whole words of the text, pieces of one word, or pieces across words (a character
n-gram such as 的时 or 面有 that spans two words: a feature the model uses, but nothing a
person can read), and how many are a single character.

    python bench/explanations.py
    PYTHONPATH=../other-checkout python bench/explanations.py   # another version, side by side

Texts: subject and body of every message in ../shared/data/messages_with_users.csv and
messages_with_replies.csv, predicted by the default model. Words are the text's tokens as
the engine segments it (``segment.tokens`` of the result's text). Only terms with a weight
count (the learned heads'; a safety rule's evidence has none). Prints one JSON object.
"""
import json
import time
from collections import Counter

from _shared import read_shared
from triage import load_model
from triage.segment import tokens

HEADS = ("category", "department", "request_type", "urgency")


def main():
    texts = [row["subject"] + "。" + row["body"]
             for name in ("messages_with_users.csv", "messages_with_replies.csv") for row in read_shared(name)]
    model = load_model()
    started = time.perf_counter()
    results = [result for start in range(0, len(texts), 500) for result in model.predict(texts[start:start + 500])]
    seconds = time.perf_counter() - started
    kinds, explained, listed = Counter(), 0, 0
    for result in results:
        if result["status"] != "ok":
            continue
        words = tokens(result["text"])
        vocabulary = set(words)
        for head in HEADS:
            terms = [term["term"] for term in result[head]["explanation"] if term["weight"] is not None]
            if not terms:
                continue
            explained += 1
            listed += len(terms)
            for term in terms:
                kinds["one_character"] += len(term) == 1
                if term in vocabulary:
                    kinds["whole_word"] += 1
                elif any(term in word for word in words):
                    kinds["inside_one_word"] += 1
                else:
                    kinds["across_words"] += 1
    print(json.dumps({"benchmark": "explanations", "texts": len(texts), "explanations": explained,
                      "terms_per_explanation": round(listed / explained, 2),
                      "share_of_terms": {kind: round(kinds[kind] / listed, 4)
                                         for kind in ("whole_word", "inside_one_word", "across_words",
                                                      "one_character")},
                      "predict_seconds": round(seconds, 2)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
