"""Fuzz the running service from its own OpenAPI description with schemathesis, and count
the 5xx answers in the service's JSON request log (every response is logged there).

    pip install schemathesis && python bench/fuzz_api.py [--examples 300]
    python bench/fuzz_api.py --database postgresql://postgres@127.0.0.1/triage_fuzz

Starts gunicorn like bench/service_load.py, on a new SQLite store (or the PostgreSQL
database given, emptied first: give it one of its own), with a token, so the protected
endpoints are reached too. Prints one JSON object.
"""
import argparse
import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import empty_store  # noqa: E402
from service_load import TOKEN, start_server  # noqa: E402
from triage.settings import load_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=300, help="examples per operation")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    runner = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(runner).exists():
        raise SystemExit("schemathesis is not installed: pip install schemathesis")
    folder = Path(tempfile.mkdtemp(prefix="triage-fuzz-"))
    database = arguments.database or f"sqlite:///{folder / 'cases.db'}"
    if arguments.database:
        empty_store(database, load_settings())
    server, _ = start_server(database, 2, arguments.port, folder)
    try:
        run = subprocess.run([runner, "run", f"http://127.0.0.1:{arguments.port}/openapi.json",
                              "--checks", "not_a_server_error", "--max-examples", str(arguments.examples),
                              "--header", f"Authorization: Bearer {TOKEN}"],
                             capture_output=True, text=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    statuses = Counter()
    for line in (folder / "server.log").read_text(encoding="utf-8").split("\n"):  # JSON lines end at \n only
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("message") == "request":
                statuses[entry["status"]] += 1
    summary = [line for line in run.stdout.splitlines() if line.strip()][-3:]
    errors = sum(n for status, n in statuses.items() if status >= 500)
    if errors or run.returncode:
        summary.append(f"server log kept in {folder}")
    else:
        shutil.rmtree(folder)
    print(json.dumps({"database": database.split(":")[0], "examples_per_operation": arguments.examples,
                      "requests": sum(statuses.values()), "server_errors_5xx": errors,
                      "by_status": dict(sorted(statuses.items())), "schemathesis_exit": run.returncode,
                      "schemathesis_summary": summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
