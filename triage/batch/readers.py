"""Batch input: rows streamed from CSV, JSONL or Excel .xlsx, one record per data row.

CSV and JSONL files are read through a text decoder whose encoding is detected from the
first megabyte (a byte-order mark, else UTF-8 when at most one line in ten fails to
decode, else charset-normalizer choosing between GB18030 and Big5) and said in the
summary. Bytes that do not decode are kept as lone surrogates (``surrogateescape``, for
every codec: ``_UNDECODABLE``) so one damaged row becomes that row's error entry instead of
stopping a ten-million-row run.
"""
from __future__ import annotations

import codecs
import csv
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator
from zipfile import BadZipFile

from ..datafiles import input_file
from ..errors import DataFileError
from ..normalise import SURROGATE
from ..sla import as_utc

SAMPLE_BYTES = 1 << 20
# an export's date, then its time of day: 2024-03-02 10:15, 2024/3/2 10:15:00, 2024年3月2日
_EXPORT_TIME = re.compile(r"(\d{4})[/.年-](\d{1,2})[/.月-](\d{1,2})日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
FORMATS = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
_ENCODING_NAMES = {"utf_8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "gb18030": "GBK/GB18030", "big5": "Big5",
                   "utf-16": "UTF-16"}
_UNDECODABLE = "triage-surrogateescape"  # the codec error handler below


def _escape_undecodable(error: UnicodeError) -> tuple[str, int]:
    """``surrogateescape`` for any byte: each one that does not decode becomes the lone
    surrogate U+DC00 + byte. The stock handler takes only bytes from 0x80 up, and a UTF-16
    file cut short (an odd last byte) or holding a broken pair leaves lower ones: the run
    stopped with a traceback. Bytes from 0x80 up become what ``surrogateescape`` makes."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "".join(chr(0xDC00 + byte) for byte in error.object[error.start:error.end]), error.end


codecs.register_error(_UNDECODABLE, _escape_undecodable)


@dataclass(frozen=True)
class Columns:
    """Which input columns hold what. ``text`` may name several (subject and body), joined."""
    text: tuple[str, ...] = ("text",)
    id: str | None = None
    caller: str | None = None
    time: str | None = None


@dataclass
class Record:
    """One input row as the batch needs it; ``error`` says why it cannot be triaged."""
    row: int                 # 1-based data row number in the input
    id: str
    text: str | None
    caller: str | None = None
    time: datetime | None = None
    error: str | None = None
    time_error: str | None = None  # still triaged, but not linked to earlier rows


def file_format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise DataFileError(f"{path}: unknown file type {path.suffix!r}; use one of "
                            f"{', '.join(sorted(FORMATS))}") from None


def detect_encoding(path: Path) -> tuple[str, str]:
    """``(codec, readable name)`` of a CSV/JSONL file, from its first megabyte."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", _ENCODING_NAMES["utf-8-sig"]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", _ENCODING_NAMES["utf-16"]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=len(sample) < SAMPLE_BYTES)
        return "utf-8", _ENCODING_NAMES["utf_8"]
    except UnicodeDecodeError:
        if _mostly_utf8(sample):
            return "utf-8", _ENCODING_NAMES["utf_8"]
    import charset_normalizer  # only files that are not UTF-8 need it

    candidates = ["gb18030", "big5"]
    best = charset_normalizer.from_bytes(sample, cp_isolation=candidates).best()
    if best is None:  # a damaged line spoils the whole sample: judge by the lines that decode
        best = charset_normalizer.from_bytes(b"\n".join(line for line in sample.splitlines()
                                                         if any(_decodes(line, codec) for codec in candidates)),
                                             cp_isolation=candidates).best()
    if best is None:
        raise DataFileError(f"{path}: not UTF-8, GBK/GB18030 or Big5 text; convert it to UTF-8")
    return best.encoding, _ENCODING_NAMES.get(best.encoding, best.encoding)


@dataclass
class Source:
    """An opened input: its records in order, the encoding used, and how far reading got."""
    records: Iterator[Record]
    encoding: str
    read_share: Callable[[], float | None]  # share of the input read so far, for progress
    handle: Any = None

    def close(self) -> None:
        self.records.close()
        if self.handle is not None:
            self.handle.close()


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a damaged line or a few: some lines beyond ASCII decode as UTF-8 (GBK and
    Big5 Chinese almost never does) and at most one in ten, or one, does not. Read as
    UTF-8, the damaged lines become those rows' error entries; judged by charset-normalizer,
    a whole file of UTF-8 was read as Big5."""
    lines = sample.splitlines()
    if len(sample) == SAMPLE_BYTES:
        lines = lines[:-1]  # may end inside a character
    wide = [line for line in lines if not line.isascii()]
    damaged = sum(not _decodes(line, "utf-8") for line in wide)
    return damaged < len(wide) and damaged <= max(1, len(wide) // 10)


def _decodes(line: bytes, codec: str) -> bool:
    try:
        line.decode(codec)
        return True
    except UnicodeDecodeError:
        return False


def open_records(path: str | Path, columns: Columns) -> Source:
    """Records of ``path`` in input order.

    Raises:
        DataFileError: missing file, unknown type, or a named column that is not there
            (raised when the first record is taken).
    """
    path = input_file(path, reread=True)  # the encoding is sniffed first; a resumed run reads it again
    kind = file_format(path)
    if kind == "xlsx":
        sheet = _XlsxRows(path)
        rows = iter(sheet)
        return Source(_checked(rows, columns, path), "xlsx", sheet.read_share, sheet)
    codec, name = detect_encoding(path)
    handle = open(path, encoding=codec, errors=_UNDECODABLE, newline="")
    size = max(1, path.stat().st_size)
    rows = _csv_rows(handle, path) if kind == "csv" else _jsonl_rows(handle, path)
    try:
        records = _checked(rows, columns, path)
    except BaseException:
        handle.close()
        raise
    return Source(records, name, lambda: None if handle.closed else min(1.0, handle.buffer.tell() / size), handle)


def _checked(rows, columns: Columns, path: Path) -> Iterator[Record]:
    try:
        return _records(rows, columns, path)
    except BaseException:
        rows.close()
        raise


def _csv_rows(handle, path: Path) -> Iterator[dict | str]:
    """The header's names, then each row as a dict; the last row is an error (a str) when it
    opens a quote that the file never closes: the reader took every line after it into
    one cell, and those rows would be triaged as one text."""
    csv.field_size_limit(sys.maxsize)  # a petition letter can be long; max_chars judges it later
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with handle:
        lines: list[str] = []  # the lines the reader has taken and this loop not yet let go
        reader = csv.reader(_kept(handle, lines), delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise DataFileError(f"{path}: the file is empty; expected a header row")
        names = [name.strip() for name in header]
        yield names
        lines.clear()
        header_lines = reader.line_num  # one, or more where a quoted name holds a line break
        values, consumed = next(reader, None), reader.line_num
        taken = consumed - header_lines  # the lines of ``values``
        while values is not None:
            following = next(reader, None)  # so the last record is known as the last
            if following is None and _unclosed(lines[:taken], delimiter):
                swallowed = (f"，其后 {taken - 1} 行都被读进了这一格", f"; the {taken - 1} lines after it were read "
                             "into one cell") if taken > 1 else ("", "")
                yield (f"引号未闭合：此行打开的引号到文件末尾也没有关上{swallowed[0]} (a quote opened in this row is "
                       f"never closed{swallowed[1]}): close the quote or remove it, then run again")
            elif values:
                yield dict(zip(names, values))
            del lines[:taken]
            values, taken, consumed = following, reader.line_num - consumed, reader.line_num


def _kept(handle, lines: list[str]) -> Iterator[str]:
    for line in handle:
        lines.append(line)
        yield line


def _unclosed(lines: list[str], delimiter: str) -> bool:
    """Whether ``lines`` (one record as read) end inside a quoted cell."""
    try:
        list(csv.reader(lines, delimiter=delimiter, strict=True))
    except csv.Error as error:
        return "unexpected end of data" in str(error)
    return False


HEADER_LINES = 100  # JSONL has no header: the keys of this many first objects stand for it


def _jsonl_rows(handle, path: Path) -> Iterator[dict | str]:
    """The keys found in the first ``HEADER_LINES`` objects (one may lack a key that an
    object without a caller or a time leaves out), then each line as a dict, or a str
    saying why it is not an object."""
    with handle:
        rows = (_jsonl_row(line) for line in handle if line.strip())
        first = list(islice(rows, HEADER_LINES))
        if not first:  # no header either: an empty file
            return
        yield list(dict.fromkeys(key for row in first if isinstance(row, dict) for key in row))
        yield from first
        yield from rows


def _jsonl_row(line: str) -> dict | str:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error.msg})"
    return row if isinstance(row, dict) else f"each line must be a JSON object, got {type(row).__name__}"


class _XlsxRows:
    """Rows of the first sheet, streamed (openpyxl's read-only mode)."""

    def __init__(self, path: Path):
        import openpyxl  # only .xlsx needs it
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (InvalidFileException, BadZipFile, KeyError, OSError) as error:
            raise DataFileError(f"{path}: not a readable .xlsx workbook ({error})") from None
        self.path, self.read = path, 0
        self.total = self.book.active.max_row or 0

    def read_share(self) -> float | None:
        return min(1.0, self.read / self.total) if self.total else None

    def close(self) -> None:
        self.book.close()

    def __iter__(self) -> Iterator[dict | list]:
        try:
            rows = self.book.active.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                raise DataFileError(f"{self.path}: the first sheet is empty; expected a header row")
            names = [str(name).strip() if name is not None else "" for name in header]
            yield names
            for values in rows:
                self.read += 1
                if any(value is not None for value in values):
                    yield {name: ("" if value is None else value) for name, value in zip(names, values)}
        finally:
            self.book.close()


def _records(rows: Iterator, columns: Columns, path: Path) -> Iterator[Record]:
    """Checks the header now (an empty file or a missing column fails before any output
    exists), then yields the records."""
    header = next(rows, None)
    if header is None:
        raise DataFileError(f"{path}: the file is empty; expected a header row or JSON lines")
    if header:  # JSONL rows can differ in keys; only a header-ful format is checked up front
        wanted = [*columns.text, columns.id, columns.caller, columns.time]
        missing = [name for name in wanted if name and name not in header]
        if missing:
            raise DataFileError(f"{path}: no column {', '.join(map(repr, missing))}; columns found: "
                                f"{', '.join(map(_shown, header)) or 'none'}. Name the text column with --text-col")
    return (_record(number, row, columns) for number, row in enumerate(rows, start=1))


def _shown(name: str) -> str:
    """A column name for a message, each byte that did not decode as ``\\xNN``."""
    return SURROGATE.sub(lambda found: f"\\x{ord(found.group()) - 0xDC00:02x}"
                         if 0xDC00 <= ord(found.group()) < 0xDD00 else "\ufffd", name)


# values str() would turn into Python's notation or a word, triaged as if someone wrote them:
# JSONL's objects and arrays, and true or false from JSONL or a spreadsheet's TRUE cell
_NOT_TEXT = {dict: ("JSON 对象", "a JSON object"), list: ("JSON 数组", "a JSON array"), bool: ("布尔值", "true or false")}


def _record(number: int, row: dict | str, columns: Columns) -> Record:
    if isinstance(row, str):  # a JSONL line that is not an object, or a CSV row that is not a row
        return Record(number, str(number), None, error=row)
    for name in (*columns.text, columns.id, columns.caller, columns.time):
        kind = _NOT_TEXT.get(type(row.get(name))) if name else None
        if kind:
            return Record(number, str(number), None,
                          error=f"{name} 列是{kind[0]}，不是文本 (column {name} holds {kind[1]}, not text)")
    identifier = _cell(row.get(columns.id)) if columns.id else str(number)
    pieces = [_cell(row.get(name)) for name in columns.text]
    text = "。".join(piece for piece in pieces if piece)
    record = Record(number, SURROGATE.sub("\ufffd", identifier or str(number)), text,
                    caller=_cell(row.get(columns.caller)) if columns.caller else None)
    damaged = [name for name, value in (("+".join(columns.text), text), (columns.id, identifier),
                                        (columns.caller, record.caller)) if value and SURROGATE.search(value)]
    if damaged:
        record.text, record.caller = None, None
        record.error = f"乱码：{damaged[0]} 列有无法按文件编码解码的字节 (bytes that do not decode in column {damaged[0]})"
    elif not text.strip():
        record.error = f"没有文本 (column {'+'.join(columns.text)} is empty)"
    if columns.time and record.error is None:
        try:
            record.time = parse_time(row.get(columns.time))
        except ValueError as error:
            record.time_error = str(error)
    return record


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # Excel keeps phone numbers as floats
        value = int(value)
    return str(value).strip()


def parse_time(value) -> datetime:
    """A time from an export (``2024-03-02 10:15``, ``2024/3/2 10:15:00``, ISO 8601, an Excel
    date) as naive UTC; a time without an offset is China Standard Time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = _cell(value)
        match = _EXPORT_TIME.fullmatch(text)
        try:
            if match:
                parts = [int(part) if part else 0 for part in match.groups()]
                moment = datetime(*parts)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"时间无法识别 (time {text!r} is not a date such as 2024-03-02 10:15)") from None
    try:
        return as_utc(moment)
    except ValueError as error:
        raise ValueError(f"时间超出范围 (time {_cell(value)!r}: {error})") from None

