"""How much a model lets through unseen: the decision bands on real messages, and the
department's ``auto`` band there and on the project's held-out department cases, with its
precision where the cases say which departments a centre would accept.

    python bench/decision_bands.py [--model DIR]

A corpus round can move a head's calibration and with it the share of cases routed without a
dispatcher (session 32: a round of emergencies labelled with their departments took the
department's ``auto`` threshold from 0.966 to 0.991 and decisions ``auto`` on real posts from
1,851 to 1,075), which no accuracy figure shows. Texts: the 7,142 real posts of
``bench/urgency_bands.py`` (no department labels: the band is counted, not judged) and
``training/heldout.py``'s department cases in their three framings. Prints one JSON object.
"""
import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from _shared import board_texts, predicted

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "training"))
from heldout import DEPARTMENTS, framed  # noqa: E402

from triage import load_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model folder (default: the bundled default model)")
    model = load_model(parser.parse_args().model)
    posts = board_texts()
    decisions, department_auto = Counter(), 0
    for result in predicted(model, posts):
        decisions[result["decision"]] += 1
        department_auto += bool(result["department"]) and result["department"]["band"] == "auto"
    cases = model.predict(framed([text for text, _ in DEPARTMENTS]))
    accepted = [allowed for _, allowed in DEPARTMENTS for _ in range(len(cases) // len(DEPARTMENTS))]
    routed = [result["department"]["label"] in allowed for result, allowed in zip(cases, accepted)
              if result["department"]["band"] == "auto"]
    print(json.dumps({"benchmark": "decision_bands", "model_version": model.version_,
                      "real_posts": {"n": len(posts), "decisions": dict(sorted(decisions.items())),
                                     "department_auto": department_auto},
                      "heldout_department_cases": {
                          "n": len(cases), "decisions": dict(sorted(Counter(r["decision"] for r in cases).items())),
                          "department_auto": len(routed),
                          "department_auto_precision": round(sum(routed) / max(1, len(routed)), 4)}},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()
