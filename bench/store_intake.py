"""The case store's share of a stored triage, without the model: ``CaseStore.create`` and
``hot_candidates`` alone, in milliseconds per call.

    python bench/store_intake.py                                         # SQLite in a temp folder
    python bench/store_intake.py --database postgresql://postgres@127.0.0.1/triage_store
    PYTHONPATH=../other-checkout python bench/store_intake.py ...        # another version, side by side

Five blocks of ``--cases`` intakes, each case with a hot-issue sketch and (unless
``--no-callers``) one of 50 callers' keys; then five blocks of a hot-issue read followed by
an intake, as the service does per request (that block's time minus the intake's is the
read's). The table grows through the run, as a new centre's does. Prints one JSON object
with the median block of each. A PostgreSQL database is emptied first (its public schema
dropped): give the benchmark one of its own, made once with
`createdb -h 127.0.0.1 -U postgres triage_store`.
"""
import argparse
import hashlib
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _shared import empty_store
from triage.settings import load_settings
from triage.store import utc_now

CATEGORIES = ["城乡建设", "环境保护", "交通运输"]
BLOCKS = 5


def result(number: int) -> dict:
    """An engine result of the size a real one has (explanations, top departments)."""
    return {"status": "ok", "text": f"小区路灯坏了一个月没人修，第{number}次反映。" * 10, "decision": "suggest",
            "model_version": "m-bench",
            "category": {"label": CATEGORIES[number % 3], "subcategory": "城市建设和市政管理", "confidence": 0.5,
                         "explanation": [{"term": "路灯", "weight": 0.3}] * 5},
            "department": {"label": "城市管理和综合执法局", "top": [{"label": "住房和城乡建设局", "confidence": 0.3}] * 3},
            "urgency": {"label": "一般", "rules": []}, "request_type": {"label": "投诉"},
            "explanation": ["类别“城乡建设”：路灯"] * 4}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--cases", type=int, default=1000, help="intakes per block")
    parser.add_argument("--no-callers", action="store_true", help="cases carry no caller keys")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = empty_store(options.database or f"sqlite:///{Path(folder) / 'store.db'}", load_settings())
        hot = {"sketch": b"x" * 384, "sketch_model": "m-bench", "group_id": None}

        def intake(number: int, label: str) -> None:
            keys = [] if options.no_callers else [("phone", hashlib.sha256(str(number % 50).encode()).hexdigest())]
            store.create({"text": f"{label}{number}", "external_id": f"{label}{number}"}, result(number), keys=keys,
                         hot=hot)

        creates, reads = [], []
        for block in range(BLOCKS):
            started = time.perf_counter()
            for number in range(block * options.cases, (block + 1) * options.cases):
                intake(number, "c")
            creates.append((time.perf_counter() - started) / options.cases * 1000)
        for block in range(BLOCKS):
            started = time.perf_counter()
            for number in range(block * options.cases, (block + 1) * options.cases):
                store.hot_candidates(CATEGORIES[number % 3], utc_now() - timedelta(days=7), [], "m-bench")
                intake(number, "h")
            reads.append((time.perf_counter() - started) / options.cases * 1000 - statistics.median(creates))
        store.engine.dispose()
    print(json.dumps({"benchmark": "store_intake", "database": store.engine.dialect.name,
                      "cases_at_end": 2 * BLOCKS * options.cases, "callers": not options.no_callers,
                      "create_ms": round(statistics.median(creates), 3),
                      "create_ms_per_block": [round(value, 3) for value in creates],
                      "hot_candidates_ms": round(statistics.median(reads), 3)}))


if __name__ == "__main__":
    main()
