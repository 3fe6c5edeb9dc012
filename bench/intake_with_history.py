"""What one stored `POST /v1/triage` costs when the case store already holds a history.

    python bench/intake_with_history.py [--history 100000] [--requests 500]
    python bench/intake_with_history.py --database postgresql://postgres@127.0.0.1/triage_bench

The history is bulk-loaded with `CaseStore.import_history` (no ANALYZE afterwards, as after
a real import); then the service built by `create_app` answers `--requests` stored triage
requests in process (Flask's test client, one at a time, 300-character texts). Prints one
JSON object: milliseconds per request (mean, p50, p99) and the mean time of the worker's
hot-issue refresh query. On PostgreSQL the database's public schema is dropped first: use a
database made for it.
"""
import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import empty_store  # noqa: E402
from speed import texts_of_300_chars  # noqa: E402

import service  # noqa: E402
from triage.settings import load_settings  # noqa: E402

TOKEN = "bench-token-0123456789abcdefghij"
NOW = datetime(2026, 11, 30)


def load_history(url: str, size: int) -> float:
    store = empty_store(url, load_settings(environ={}))
    started = time.perf_counter()
    for start in range(0, size, 20_000):
        store.import_history([{"text": f"历史工单{number}：路灯坏了", "status": "resolved",
                               "received_at": NOW - timedelta(minutes=number)}
                              for number in range(start, min(size, start + 20_000))])
    store.engine.dispose()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database or f"sqlite:///{folder}/triage.db"
        import_seconds = load_history(url, options.history)
        app = service.create_app({"database_url": url, "api_tokens": [TOKEN], "QUIET_ACCESS_LOG": True})
        refresh = []

        @event.listens_for(app.extensions["triage"].store.engine, "before_cursor_execute")
        def _started(connection, cursor, statement, parameters, context, many):
            connection.info["started"] = time.perf_counter()

        @event.listens_for(app.extensions["triage"].store.engine, "after_cursor_execute")
        def _finished(connection, cursor, statement, parameters, context, many):
            # The refresh of the worker's recent sketches: the sketch query that names no category.
            if statement.startswith("SELECT cases.id, cases.category, cases.received_at, cases.hot_group") \
                    and "cases.category = " not in statement:
                refresh.append(time.perf_counter() - connection.info["started"])

        client = app.test_client()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        texts, source = texts_of_300_chars()
        for number in range(50):  # warm-up: categories loaded into the worker's cache
            client.post("/v1/triage", json={"text": texts[number], "external_id": f"warm-{number}"}, headers=headers)
        refresh.clear()
        times = []
        for number in range(options.requests):
            started = time.perf_counter()
            answer = client.post("/v1/triage", json={"text": texts[(50 + number) % len(texts)],
                                                     "external_id": f"bench-{number}"}, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            if answer.status_code != 201:
                raise SystemExit(f"request {number}: {answer.status_code} {answer.get_data(as_text=True)[:200]}")
        times.sort()
        print(json.dumps({
            "benchmark": "intake_with_history", "machine": f"{platform.machine()}, Python {platform.python_version()}",
            "database": url.split(":", 1)[0], "history_cases": options.history, "texts": source,
            "import_seconds": round(import_seconds, 1), "requests": options.requests,
            "ms_per_request": {"mean": round(statistics.mean(times), 2), "p50": round(times[len(times) // 2], 2),
                               "p99": round(times[int(len(times) * 0.99)], 2)},
            "refresh_query_ms": round(statistics.mean(refresh) * 1000, 3) if refresh else None,
        }, ensure_ascii=False))


if __name__ == "__main__":
    main()
