"""Fuzz the running service from its own OpenAPI description with schemathesis, and count
the 5xx answers in the service's JSON request log (every response is logged there).

    pip install schemathesis && python bench/fuzz_api.py [--examples 300]

Starts gunicorn like bench/service_load.py, on a new SQLite store, with a token, so the
protected endpoints are reached too. Prints one JSON object.
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
from service_load import TOKEN, start_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=300, help="examples per operation")
    parser.add_argument("--port", type=int, default=8766)
    arguments = parser.parse_args()
    runner = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    if not Path(runner).exists():
        raise SystemExit("schemathesis is not installed: pip install schemathesis")
    folder = Path(tempfile.mkdtemp(prefix="triage-fuzz-"))
    server, _ = start_server(f"sqlite:///{folder / 'cases.db'}", 2, arguments.port, folder)
    try:
        run = subprocess.run([runner, "run", f"http://127.0.0.1:{arguments.port}/openapi.json",
                              "--checks", "not_a_server_error", "--max-examples", str(arguments.examples),
                              "--header", f"Authorization: Bearer {TOKEN}"],
                             capture_output=True, text=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    statuses = Counter()
    for line in (folder / "server.log").read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("message") == "request":
                statuses[entry["status"]] += 1
    summary = [line for line in run.stdout.splitlines() if line.strip()][-3:]
    print(json.dumps({"examples_per_operation": arguments.examples, "requests": sum(statuses.values()),
                      "server_errors_5xx": sum(n for status, n in statuses.items() if status >= 500),
                      "by_status": dict(sorted(statuses.items())), "schemathesis_exit": run.returncode,
                      "schemathesis_summary": summary}, ensure_ascii=False))


if __name__ == "__main__":
    main()
