"""Write ``training/frozen_test.csv``: the frozen test set that scores every registered
model and gates promotion (``triage models promote``).

It is built from the held-out sets (``heldout.py``, never trained on), with the labels
those sets pin down: 特急 for every life-safety text, the request type of every
non-complaint, and the department where a case has exactly one right department. Frozen
means the file only changes on purpose, in its own commit: scores of models registered
against different files do not compare. A centre replaces it with a sample of its own
human-confirmed cases (setting ``frozen_test_set``).

    python training/frozen_test.py
"""
import csv
from pathlib import Path

from heldout import DEPARTMENTS, LIFE_SAFETY, NON_COMPLAINTS, framed

OUT = Path(__file__).resolve().parent / "frozen_test.csv"
COLUMNS = ("text", "urgency", "request_type", "department")


def rows():
    for text in framed([text for text, _ in LIFE_SAFETY]):
        yield {"text": text, "urgency": "特急"}
    for request_type, text in NON_COMPLAINTS:
        for framed_text in framed([text]):
            yield {"text": framed_text, "request_type": request_type}
    for text, departments in DEPARTMENTS:
        if len(departments) == 1:
            for framed_text in framed([text]):
                yield {"text": framed_text, "department": next(iter(departments))}


if __name__ == "__main__":
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        count = sum(1 for row in rows() if writer.writerow(row) or True)
    print(f"wrote {count} rows to {OUT}")
