"""What the explanations show a dispatcher, on real messages: how many of the listed terms
are whole words of the text, pieces of one word, or pieces across words (a character
n-gram such as 的时 or 面有 that spans two words: a feature the model uses, but nothing a
person can read), and how many are a single character or a function word
(``triage/resources/unexplaining_words.txt``).

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
from pathlib import Path

from _shared import board_texts, predicted
from triage import load_model
from triage.segment import tokens

HEADS = ("category", "department", "request_type", "urgency")
# the project's list of words that say nothing about a matter (read here, not imported, so
# that an older checkout without it is measured against the same list)
FUNCTION_WORDS = frozenset(line.strip() for line in (Path(__file__).resolve().parent.parent / "triage" / "resources" /
                                                     "unexplaining_words.txt").read_text(encoding="utf-8").splitlines()
                           if line.strip() and not line.startswith("#"))


def main():
    texts = board_texts()
    model = load_model()
    started = time.perf_counter()
    results = predicted(model, texts)
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
                kinds["function_word"] += term in FUNCTION_WORDS
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
                                                      "one_character", "function_word")},
                      "predict_seconds": round(seconds, 2)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
