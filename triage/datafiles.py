"""Reading labelled complaint files: CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or JSONL,
with a ``text`` column and any of the label columns. The encoding is detected and said.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataFileError
from .model import HEADS


@dataclass
class LabelledData:
    texts: list[str] = field(default_factory=list)
    labels: dict[str, list[str | None]] = field(default_factory=dict)
    skipped_empty_text: int = 0
    encodings: dict[str, str] = field(default_factory=dict)
    groups: list[str] | None = None  # the optional ``group`` column (see TriageModel.fit)

    def __len__(self) -> int:
        return len(self.texts)


def read_labelled(paths: list[str | Path]) -> LabelledData:
    """Rows of every file in ``paths``; label columns are those present in all files.

    Raises:
        DataFileError: a missing or unreadable file, no ``text`` column, no label column,
            or no rows with text at all.
    """
    data = LabelledData()
    tables = [_read_rows(Path(path), data) for path in paths]
    common = set(HEADS)
    for path, (columns, _) in zip(paths, tables):
        if not columns:
            raise DataFileError(f"{path}: the file is empty; expected a 'text' column and label columns "
                                "(a CSV header row, or JSON lines with those keys)")
        if "text" not in columns:
            raise DataFileError(f"{path}: no 'text' column; columns found: {', '.join(columns) or 'none'}")
        common &= set(columns)
    if not common:
        raise DataFileError(f"no label column shared by all of {', '.join(map(str, paths))}; expected any of "
                            f"{', '.join(HEADS)}")
    data.labels = {name: [] for name in HEADS if name in common}
    if all("group" in columns for columns, _ in tables):
        data.groups = []
    for _, rows in tables:
        for row in rows:
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                data.skipped_empty_text += 1
                continue
            data.texts.append(text)
            if data.groups is not None:
                data.groups.append(str(row.get("group") or ""))
            for name in data.labels:
                value = row.get(name)
                data.labels[name].append(str(value).strip() if value not in (None, "") else None)
    if not data.texts:
        raise DataFileError(f"no rows with text in {', '.join(map(str, paths))}")
    return data


def read_text_lines(path: str | Path, whole: bool = False) -> list[str]:
    """Non-empty lines of a plain text file (UTF-8 or GBK), one text each; ``whole``: the
    file is one text (a call's transcript, exported over several lines)."""
    path = Path(path)
    text, _ = _read_text(path)
    lines = ([text] if text.strip() else []) if whole else [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DataFileError(f"{path}: the file has no text")
    return lines


def _read_rows(path: Path, data: LabelledData) -> tuple[list[str], list[dict]]:
    text, data.encodings[str(path)] = _read_text(path)
    if path.suffix.lower() in {".jsonl", ".ndjson"}:
        return _jsonl_rows(text, path)
    if path.suffix.lower() not in {".csv", ".tsv", ".txt"}:
        raise DataFileError(f"{path}: unknown file type {path.suffix!r}; use .csv or .jsonl")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    try:
        rows = list(reader)
    except csv.Error as error:
        raise DataFileError(f"{path}: not valid CSV ({error})") from None
    return [name.strip() for name in reader.fieldnames or []], [
        {(key or "").strip(): value for key, value in row.items()} for row in rows]


def input_file(path: str | Path, *, reread: bool = False) -> Path:
    """``path`` when it names something to read, else a ``DataFileError`` saying what it
    is. A pipe (``--file <(zcat cases.gz)``) or a device reads once, which is enough for
    what is read whole; ``reread``: the caller reads it more than once, so it must be a file."""
    path = Path(path)
    if path.is_dir():
        raise DataFileError(f"{path}: is a folder; name a file in it")
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if reread and not path.is_file():
        raise DataFileError(f"{path}: is a pipe or a device, which can be read only once; "
                            "this command reads its input more than once: save it to a file first")
    return path


def _read_text(path: Path) -> tuple[str, str]:
    """The text of the file at ``path`` and the name of the encoding it was read with."""
    input_file(path)
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        candidates = (("utf-8-sig", "UTF-8 with BOM"),)
    else:
        candidates = (("utf-8", "UTF-8"), ("gb18030", "GBK/GB18030"))
    for codec, name in candidates:
        try:
            return raw.decode(codec), name
        except UnicodeDecodeError:
            continue
    raise DataFileError(f"{path}: neither UTF-8 nor GBK text; convert it to UTF-8")


def _jsonl_rows(text: str, path: Path) -> tuple[list[str], list[dict]]:
    rows, columns = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFileError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise DataFileError(f"{path}:{number}: each line must be a JSON object, got {type(row).__name__}")
        rows.append(row)
        columns.update(dict.fromkeys(row))
    return list(columns), rows
