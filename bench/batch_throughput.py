"""Throughput and memory of `triage batch` against segmentation alone, side by side.

    python bench/batch_throughput.py [--rows 100000] [--dask] [--memory 100000,1000000] [--callers 25000]

Writes a CSV of 300-character texts (slices of real messages when ../shared/data is
there, else of the seed corpus), then measures on all cores:
- segmentation only (normalise + tokens) in as many processes as there are cores;
- `triage batch` (local engine) on the same file, wall-clock, whole command; then again with
  its memory sampled (the sampling costs CPU, so the throughput is that of the first run);
- with --dask, the same file on a LocalCluster of 2 single-threaded worker processes;
- with --memory, peak memory of the whole process tree (RSS and PSS) at each row count;
- with --callers N, the file has phone and time columns and the runs detect repeats.
Prints one JSON object.
"""
import argparse
import csv
import json
from datetime import datetime, timedelta
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import run_with_peak_memory  # noqa: E402
from speed import texts_of_300_chars  # noqa: E402


def write_input(path: Path, rows: int, texts: list[str], callers: int = 0) -> None:
    """``rows`` rows of id and text; with ``callers``, also a phone column (row n from caller
    n mod ``callers``) and a time column rising through 60 days, inside the repeat window."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"] + (["phone", "time"] if callers else []))
        start = datetime(2024, 1, 1)
        for number in range(rows):
            extra = [f"138{number % callers:08d}", f"{start + timedelta(days=60 * number / rows):%Y-%m-%d %H:%M}"] \
                if callers else []
            writer.writerow([f"C{number}", texts[number % len(texts)]] + extra)


def _segment(texts):
    from triage.normalise import normalise
    from triage.segment import tokens

    for text in texts:
        tokens(normalise(text))
    return len(texts)


def segmentation_rate(texts: list[str], rows: int) -> float:
    from triage.segment import warm_up

    warm_up()
    chunks = [texts[i % len(texts):i % len(texts) + 500] for i in range(0, rows, 500)]
    with multiprocessing.get_context("fork").Pool(os.cpu_count()) as pool:
        started = time.perf_counter()
        done = sum(pool.map(_segment, chunks))
    return done / (time.perf_counter() - started)


def run_batch(arguments: list[str], sample: bool = True) -> tuple[float, tuple[float, float] | None]:
    """Wall seconds and peak (RSS, PSS) MB of the whole process tree of one `triage batch`
    (None when not ``sample``d: a run timed for throughput is not sampled)."""
    seconds, peak, _ = run_with_peak_memory([sys.executable, "-m", "triage", "batch", *arguments, "--quiet"], sample)
    return seconds, peak


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dask", action="store_true")
    parser.add_argument("--memory", help="comma-separated row counts for the memory curve")
    parser.add_argument("--callers", type=int, default=0,
                        help="add phone and time columns from this many callers: repeat detection on")
    options = parser.parse_args()
    texts, source = texts_of_300_chars(3000)
    result = {"benchmark": "batch_throughput", "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}", "texts": f"300 chars from {source}", "rows": options.rows}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        source_file = folder / "in.csv"
        write_input(source_file, options.rows, texts, options.callers)
        result["callers"] = options.callers or None
        result["segmentation_only_rows_per_s"] = round(segmentation_rate(texts, options.rows))
        repeats = ["--caller-col", "phone", "--time-col", "time"] if options.callers else []
        arguments = [str(source_file), "--out", str(folder / "out.csv"), "--id-col", "id", *repeats]
        seconds, _ = run_batch(arguments, sample=False)
        result["batch_rows_per_s"] = round(options.rows / seconds)
        seconds, peak = run_batch(arguments)  # again, for its memory
        result["batch_peak_rss_mb"], result["batch_peak_pss_mb"] = map(round, peak)
        result["batch_rows_per_s_memory_sampled"] = round(options.rows / seconds)
        result["batch_over_segmentation"] = round(result["batch_rows_per_s"] / result["segmentation_only_rows_per_s"], 3)
        if options.dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                seconds, _ = run_batch([str(source_file), "--out", str(folder / "dask.csv"), "--id-col", "id", *repeats,
                                        "--engine", "dask", "--scheduler", cluster.scheduler_address], sample=False)
            result["dask_rows_per_s"] = round(options.rows / seconds)
            result["dask_over_local"] = round(result["dask_rows_per_s"] / result["batch_rows_per_s"], 3)
            result["dask_output_identical"] = (folder / "dask.csv").read_bytes() == (folder / "out.csv").read_bytes()
        if options.memory:
            curve = {}
            for rows in (int(value) for value in options.memory.split(",")):
                write_input(source_file, rows, texts)
                seconds, peak = run_batch([str(source_file), "--out", str(folder / "m.csv"), "--id-col", "id"])
                curve[rows] = {"peak_rss_mb": round(peak[0]), "peak_pss_mb": round(peak[1]),
                               "rows_per_s": round(rows / seconds)}
                (folder / "m.csv").unlink()
            result["memory_curve"] = curve
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
