"""Batch output: CSV (UTF-8 with BOM, so Excel shows the Chinese), TSV, JSONL or Excel
.xlsx, written to a temporary name and moved into place only when complete.

The file is made in pieces: ``Layout.encode`` turns a block of rows into its piece (bytes;
for .xlsx, rows of cells) where the rows are finished, on the workers, and ``OutputFile``
writes the pieces in input order.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import DataFileError
from .readers import file_format

EXCEL_ROW_LIMIT = 1_048_575  # a sheet holds 1,048,576 rows, one of them the header


def check_output(path: Path) -> str:
    """The output format of ``path``, refusing early (not once every row is triaged) an
    unknown suffix, a missing or read-only folder, or a folder of that name. The output is
    written beside it and renamed into place (``OutputFile``), so the folder must be writable,
    not the file."""
    kind = file_format(path)
    if not path.parent.is_dir():
        raise DataFileError(f"{path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise DataFileError(f"{path}: is a folder; name a file")
    if not os.access(path.parent, os.W_OK):
        raise DataFileError(f"{path}: the folder {path.parent} cannot be written")
    return kind


def check_writable(path: Path) -> None:
    """Refuse now a file that cannot be written (a folder of that name, a read-only place),
    not once every row is triaged. Nothing is left behind where nothing was."""
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as error:
        raise DataFileError(f"{path}: cannot be written ({error.strerror})") from None
    if not existed:
        path.unlink()


@dataclass(frozen=True)
class Layout:
    """What the output holds: its format (``check_output``), columns and CSV delimiter."""
    kind: str
    columns: tuple[str, ...]
    delimiter: str = ","

    @classmethod
    def of(cls, path: Path, columns: Sequence[str]) -> Layout:
        return cls(check_output(path), tuple(columns), "\t" if path.suffix.lower() == ".tsv" else ",")

    def encode(self, rows: Iterable[dict]) -> bytes | list[list]:
        """The piece of the output holding ``rows``: bytes, or rows of cells for .xlsx."""
        cells = ([row.get(name) for name in self.columns] for row in rows)  # a third of DictWriter's time
        if self.kind == "csv":
            return self._csv(cells)
        if self.kind == "jsonl":
            return "".join(json.dumps(dict(zip(self.columns, values)), ensure_ascii=False) + "\n"
                           for values in cells).encode("utf-8")
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # only .xlsx needs it

        # A sheet cannot hold most control characters (an id column copied from a terminal):
        # openpyxl refused the whole file once every row was done.
        return [[ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value for value in row]
                for row in cells]

    def _csv(self, cells: Iterable[list]) -> bytes:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, delimiter=self.delimiter).writerows(cells)
        return buffer.getvalue().encode("utf-8")


class OutputFile:
    """The output file, written piece by piece (``Layout.encode``) to a temporary name and
    moved into place when the ``with`` block ends without an error (else removed)."""

    def __init__(self, path: Path, layout: Layout, total: int):
        if layout.kind == "xlsx" and total > EXCEL_ROW_LIMIT:
            raise DataFileError(f"{total} rows do not fit in one Excel sheet ({EXCEL_ROW_LIMIT} at most); "
                                "write .csv or .jsonl instead")
        self.path, self.layout = path, layout
        self.temporary = path.with_name(path.name + ".tmp")
        self.book = self.handle = None
        if layout.kind == "xlsx":
            import openpyxl

            self.book = openpyxl.Workbook(write_only=True)
            self.sheet = self.book.create_sheet("triage")
            self.sheet.append(list(layout.columns))
        else:
            self.handle = open(self.temporary, "wb")
            if layout.kind == "csv":
                self.handle.write(codecs.BOM_UTF8 + layout._csv([layout.columns]))

    def write(self, piece: bytes | list[list]) -> None:
        if self.book is None:
            self.handle.write(piece)
            return
        for cells in piece:
            self.sheet.append(cells)

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, error_type, *exc) -> None:
        if self.handle is not None:
            self.handle.close()
        if error_type is not None:
            self.temporary.unlink(missing_ok=True)
            return
        if self.book is not None:
            self.book.save(self.temporary)
        os.replace(self.temporary, self.path)
