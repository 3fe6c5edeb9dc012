"""The compiled merging of explanation terms (triage/_merging.pyx) against the Python loop
that defines it (explain._merge_overlapping): a dispatcher must read the same
explanations whichever of the two ran."""
import csv

import pytest

from triage import explain


@pytest.mark.skipif(explain._merging is None, reason="not built: tests/test_compiled.py says so")
@pytest.mark.parametrize("explain_top", [1, 3, 5, 12])
def test_the_compiled_merging_explains_as_the_python_loop(small_model, small_corpus_path, monkeypatch, explain_top):
    """Every head's explanation of every seed-corpus text, in lists and one at a time."""
    with open(small_corpus_path, encoding="utf-8") as file:
        texts = [row["text"] for row in csv.DictReader(file)]
    settings = {"explain_top": explain_top}
    compiled = small_model.predict(texts, settings), [small_model.predict([text], settings)[0] for text in texts[:20]]
    monkeypatch.setattr(explain, "_merging", None)
    python = small_model.predict(texts, settings), [small_model.predict([text], settings)[0] for text in texts[:20]]
    assert compiled == python
    terms = [term for result in compiled[0] if result["status"] == "ok" for term in result["category"]["explanation"]]
    assert len(terms) > len(texts) // 2
    assert max(len(result["department"]["explanation"]) for result in compiled[0] if result["status"] == "ok") <= explain_top
