"""Resumable batch runs: triaged rows go to a part file beside the output (their TF-IDF
rows that repeat judging needs to a features file beside it), and after each chunk a
checkpoint records how many input rows, part-file bytes and features-file bytes are final.

Killed at any point (kill -9 included), ``--resume`` cuts the part file back to the last
checkpoint and skips that many input rows, so every row ends up exactly once and in input
order. The checkpoint also records what the run was (input file, columns, model): resuming
a different run is refused instead of mixing two runs in one output.
"""
from __future__ import annotations

import hashlib
import json
import os
from itertools import islice
from pathlib import Path
from typing import Iterator

import orjson

from ..errors import DataFileError


def fingerprint(input_path: Path, **run) -> dict:
    """What identifies a run: the input file (size, time, first megabyte) and ``run``."""
    stat = input_path.stat()
    with input_path.open("rb") as handle:
        head = hashlib.sha256(handle.read(1 << 20)).hexdigest()
    identity = {"input": str(input_path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                "head_sha256": head, **run}
    return json.loads(json.dumps(identity))  # as the checkpoint file will give it back (tuples as lists)


class PartFile:
    """The JSON-lines part file of a run writing to ``output``, with its features file
    (``rows.triage_chunk``'s packed TF-IDF rows, in row order) and its checkpoint."""

    def __init__(self, output: Path, run: dict, *, resume: bool):
        self.path = output.with_name(output.name + ".part.jsonl")
        self.features_path = output.with_name(output.name + ".features")
        self.checkpoint = output.with_name(output.name + ".checkpoint.json")
        self.run = run
        self.rows_done, size, features_size = 0, 0, 0
        if self.checkpoint.exists():
            if not resume:
                raise DataFileError(f"{self.checkpoint} shows an unfinished run into {output}; add --resume to "
                                    "continue it, or delete that file and the .part.jsonl and .features beside it "
                                    "to start over")
            state = json.loads(self.checkpoint.read_text(encoding="utf-8"))
            if state.get("run") != run:
                changed = sorted(key for key in {**run, **state.get("run", {})}
                                 if run.get(key) != state.get("run", {}).get(key))
                raise DataFileError(f"cannot resume: the unfinished run into {output} differs in "
                                    f"{', '.join(changed)}; delete {self.checkpoint} to start over")
            self.rows_done, size = state["rows_done"], state["part_bytes"]
            features_size = state.get("features_bytes", 0)  # a checkpoint of 0.x: rows without ``_features``
        elif resume and self.path.exists():
            raise DataFileError(f"cannot resume: {self.path} has no checkpoint beside it; delete it to start over")
        self.resumed_from = self.rows_done
        for path, length in ((self.path, size), (self.features_path, features_size)):
            if length and (not path.exists() or path.stat().st_size < length):
                raise DataFileError(f"cannot resume: {path} is missing or shorter than {self.checkpoint} says; "
                                    f"delete {self.checkpoint} to start over")
        # rows written after the last checkpoint are written again
        self.handle, self.features = _opened_at(self.path, size), _opened_at(self.features_path, features_size)

    def append(self, count: int, lines: bytes, features: bytes = b"") -> None:
        """Make ``lines`` (JSON lines of the next ``count`` input rows, in order) and
        ``features`` (their packed TF-IDF rows, ``rows.triage_chunk``) final."""
        for handle, data in ((self.features, features), (self.handle, lines)):
            if data:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        self.rows_done += count
        state = {"run": self.run, "rows_done": self.rows_done, "part_bytes": self.handle.tell(),
                 "features_bytes": self.features.tell()}
        temporary = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.checkpoint)  # atomic: the old checkpoint or the new, never half

    def rows(self):
        """The rows written so far, in input order (the file is read afresh each call)."""
        self.handle.flush()
        with open(self.path, "rb") as handle:
            for line in handle:
                yield orjson.loads(line)

    def blocks(self, size: int) -> Iterator[list[bytes]]:
        """The rows written so far as their JSON lines, not decoded, ``size`` at a time, in
        input order."""
        self.handle.flush()
        with open(self.path, "rb") as handle:
            while lines := list(islice(handle, size)):
                yield lines

    def close(self) -> None:
        self.handle.close()
        self.features.close()

    def remove(self) -> None:
        self.close()
        self.checkpoint.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        self.features_path.unlink(missing_ok=True)


def _opened_at(path: Path, size: int):
    """``path`` opened for writing at ``size``, what comes after cut off (a new file for 0)."""
    handle = open(path, "r+b" if size else "wb")
    handle.truncate(size)
    handle.seek(size)
    return handle
