"""Load on the production setup: gunicorn (preloaded model, 2 sync workers) driven by wrk
from 127.0.0.1 with 8 connections, side by side with a trivial JSON endpoint.

    python bench/service_load.py                                    # SQLite in a temp folder
    python bench/service_load.py --database postgresql://postgres@127.0.0.1/triage_bench
    python bench/service_load.py --soak 600                         # 10-minute soak on /v1/triage
    python bench/service_load.py --callers 1999                     # /v1/triage bodies with phone numbers
    python bench/service_load.py --cold-starts 10                   # only: start to /readyz, 10 times

Needs wrk (Debian: apt-get install wrk). Bodies are 300-character slices of real messages
(../shared/data) when present, else of the seed corpus. Each /v1/triage request carries
a unique external_id; afterwards the script checks that every 201 has its case in the
store, once. Prints one JSON object; docs/BENCHMARKS.md reports it.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from speed import texts_of_300_chars  # noqa: E402

TOKEN = "bench-token-0123456789abcdefghij"
LUA = r"""
local bodies = { %(bodies)s }
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", "%(run)s-" .. threads)
end
function init(args)
  out = io.open("%(folder)s/ids-" .. id .. ".txt", "w")
  out:setvbuf("line")
end
function request()
  counter = counter + 1
  local body = bodies[(counter %% #bodies) + 1]
  if "%(mode)s" == "triage" then
    body = '{"external_id": "bench-' .. id .. '-' .. counter .. '", ' .. body:sub(2)
    if %(callers)d > 0 then
      -- each wrk thread its own callers: "139", the thread's digit, then 7 digits
      local phone = "139" .. string.sub(id, -1) .. string.format("%%07d", counter %% %(callers)d)
      body = '{"caller": {"phone": "' .. phone .. '"}, ' .. body:sub(2)
    end
  end
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer %(token)s"}, body)
end
function response(status, headers, body)
  if status == 201 then out:write(string.match(body, '"external_id":"([^"]+)"') .. "\n") end
  if status >= 300 then out:write("status " .. status .. "\n") end
end
"""


def wrk(url: str, seconds: int, connections: int, script: Path | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    percentiles = {f"p{p}": _ms(value) for p, value in re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE)}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "requests": int(re.search(r"(\d+) requests in", output).group(1)),
            "latency_ms": percentiles, "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else None}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return round(float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 3)


def lua_script(folder: Path, mode: str, path: str, texts: list[str], run: str, callers: int = 0) -> Path:
    """A wrk script for one run: bodies in rotation; on /v1/triage, external ids unique to
    the run (``run``-thread-counter) and every 201's id written to ids-<run>-<thread>.txt,
    and with ``callers`` each body carries one of that many phone numbers in rotation."""
    bodies = ",\n".join("[==[" + json.dumps({"text": text}) + "]==]" for text in texts)
    script = folder / f"{run}.lua"
    script.write_text(LUA % {"bodies": bodies, "folder": folder, "mode": mode, "path": path, "token": TOKEN,
                             "run": run, "callers": callers}, encoding="utf-8")
    return script


def worker_rss_mb(master: int) -> float:
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    total = 0.0
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1)


def start_server(database: str, workers: int, port: int, folder: Path) -> tuple[subprocess.Popen, float]:
    environment = {**os.environ, "TRIAGE_DATABASE_URL": database, "TRIAGE_API_TOKENS": TOKEN,
                   "TRIAGE_WORKERS": str(workers), "TRIAGE_BIND": f"127.0.0.1:{port}",
                   "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    (folder / "metrics").mkdir()
    started = time.perf_counter()
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py",
                               "service:create_app()"], cwd=ROOT, env=environment,
                              stdout=subprocess.DEVNULL, stderr=open(folder / "server.log", "w"))
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as answer:
                if answer.status == 200:
                    return server, round(time.perf_counter() - started, 2)
        except OSError:
            if server.poll() is not None or time.perf_counter() - started > 60:
                raise SystemExit(f"server did not start; see {folder / 'server.log'}")
            time.sleep(0.05)


def cold_starts(database: str | None, workers: int, port: int, runs: int) -> dict:
    """Seconds from starting gunicorn to /readyz answering 200, ``runs`` times, each
    stopped before the next starts (a new SQLite file each, unless ``database``)."""
    seconds = []
    for _ in range(runs):
        folder = Path(tempfile.mkdtemp(prefix="triage-start-"))
        try:
            server, ready = start_server(database or f"sqlite:///{folder / 'cases.db'}", workers, port, folder)
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            seconds.append(ready)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    ordered = sorted(seconds)
    return {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d"), "workers": workers, "cold_start_to_ready_s": seconds,
            "median_s": ordered[len(ordered) // 2], "max_s": ordered[-1]}


def check_cases(database: str, folder: Path) -> dict:
    """Every 201 answered has exactly one case; nothing else was refused."""
    from sqlalchemy import func, select

    from triage.store import open_engine
    from triage.store.schema import cases

    acknowledged, failures = [], 0
    for path in folder.glob("ids-*.txt"):
        for line in path.read_text().splitlines():
            if line.startswith("status"):
                failures += 1
            else:
                acknowledged.append(line)
    engine = open_engine(database)
    with engine.connect() as connection:
        stored = dict(connection.execute(select(cases.c.external_id, func.count())
                                         .where(cases.c.external_id.like("bench-%"))
                                         .group_by(cases.c.external_id)).all())
        escalated = connection.execute(select(func.count()).where(cases.c.external_id.like("bench-%"),
                                                                  cases.c.escalations > 0)).scalar_one()
    engine.dispose()
    return {"acknowledged_201": len(acknowledged), "stored_cases": sum(stored.values()),
            "escalated_as_repeats": escalated,
            "lost": sum(1 for external_id in acknowledged if external_id not in stored),
            "duplicated": sum(count - 1 for count in stored.values()), "error_responses": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a new SQLite file)")
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--callers", type=int, default=0,
                        help="/v1/triage bodies carry one of this many phone numbers in rotation, so repeat "
                             "detection runs as on a hotline (1999: each caller's texts differ; 0: no caller)")
    parser.add_argument("--soak", type=int, default=0, help="instead: this many seconds on /v1/triage, "
                                                             "with worker memory before and after")
    parser.add_argument("--cold-starts", type=int, default=0,
                        help="instead: start the server this many times and time each start to /readyz")
    arguments = parser.parse_args()
    if arguments.cold_starts:
        print(json.dumps(cold_starts(arguments.database, arguments.workers, arguments.port, arguments.cold_starts)))
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="triage-load-"))
    database = arguments.database or f"sqlite:///{folder / 'cases.db'}"
    texts, source = texts_of_300_chars(500)
    server, ready_seconds = start_server(database, arguments.workers, arguments.port, folder)
    base = f"http://127.0.0.1:{arguments.port}"
    report = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d"), "database": database.split("://")[0], "texts": source,
              "workers": arguments.workers, "connections": arguments.connections, "callers": arguments.callers,
              "cold_start_to_ready_s": ready_seconds}
    try:
        triage_script = lua_script(folder, "triage", "/v1/triage", texts, "triage", arguments.callers)
        if arguments.soak:
            wrk(base + "/v1/triage", 10, arguments.connections,
                lua_script(folder, "triage", "/v1/triage", texts, "warmup", arguments.callers))
            before = worker_rss_mb(server.pid)
            report["soak"] = wrk(base + "/v1/triage", arguments.soak, arguments.connections, triage_script)
            after = worker_rss_mb(server.pid)
            report["soak"].update(seconds=arguments.soak, worker_rss_mb_before=before, worker_rss_mb_after=after,
                                  rss_growth=round(after / before - 1, 4))
        else:
            wrk(base + "/healthz", 3, arguments.connections)  # warm up
            report["trivial_json"] = wrk(base + "/healthz", arguments.seconds, arguments.connections)
            predict_script = lua_script(folder, "predict", "/v1/predict", texts, "predict")
            report["predict"] = wrk(base + "/v1/predict", arguments.seconds, arguments.connections, predict_script)
            report["triage"] = wrk(base + "/v1/triage", arguments.seconds, arguments.connections, triage_script)
            report["predict_over_trivial"] = round(report["predict"]["requests_per_second"]
                                                   / report["trivial_json"]["requests_per_second"], 3)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    try:
        report["cases"] = check_cases(database, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the SQLite file, wrk's ids and the metrics: 25-32 MB a run
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
