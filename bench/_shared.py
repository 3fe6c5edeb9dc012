"""Where benchmarks find the shared real data; they exit cleanly when it is absent."""
import csv
import sys
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def read_shared(name: str) -> list[dict]:
    path = SHARED_DATA / name
    if not path.is_file():
        print(f"skipped: {path} is absent (the shared data lives beside the clone)", file=sys.stderr)
        sys.exit(0)
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))
