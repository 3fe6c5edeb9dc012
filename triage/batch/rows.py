"""One batch chunk triaged into flat output rows: every prediction field a column.

``triage_chunk`` is what an engine runs on a worker (a local process or a Dask worker):
a pure function of the model, the settings and the records, so both engines give the
same rows. It hands back the rows already as JSON lines (orjson: a twelfth of the json
module's time on these rows): encoding is spread over the workers, and bytes travel
between processes faster than dicts. The rows that repeat judging will compare
(``is_judged``) also hand back their TF-IDF rows, packed, so judging need not featurise
their texts a second time.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import orjson

from ..errors import TriageError
from ..hot_issues import sketches
from ..identity import caller_column_key
from ..model import TOP_DEPARTMENTS, TriageModel
from ..repeat import pack_row
from .hot_groups import Entry, entry
from .readers import Record

PREDICTION_COLUMNS = (
    "row", "id", "status", "error", "decision",
    "category", "category_confidence", "category_band", "subcategory", "subcategory_confidence",
    "department", "department_confidence", "department_band", "department_source",
    *(f"department_{rank}{suffix}" for rank in range(2, TOP_DEPARTMENTS + 1) for suffix in ("", "_confidence")),
    "urgency", "urgency_confidence", "urgency_band", "urgency_source", "safety_rules",
    "request_type", "request_type_confidence", "flags", "explanation", "personal_data", "text", "model_version",
)
HOT_COLUMNS = ("hot_group", "hot_group_size")
REPEAT_COLUMNS = ("is_repeat", "repeat_score", "repeat_of", "caller_case_count", "repeat_reasons")
SEPARATOR = "；"


def triage_chunk(model: TriageModel, records: Sequence[Record], settings: Mapping[str, Any],
                 secret: str | None) -> tuple[int, bytes, list[Entry], bytes]:
    """``(rows, JSON lines, hot-issue entries, packed TF-IDF rows)`` of ``triage_records``:
    the lines ready for the part file, the entries for grouping (``hot_groups.entry``), and
    the ``is_judged`` rows' TF-IDF rows (``repeat.pack_row``) one after another, in row order,
    for the part file's features file. An engine calls it as
    ``partial(triage_chunk, settings=..., secret=...)(model, records)``."""
    rows, packed = triage_records(model, settings, secret, records)
    return (len(rows), b"".join(orjson.dumps(row) + b"\n" for row in rows),
            [found for found in map(entry, rows) if found is not None], b"".join(packed))


def is_judged(row: dict) -> bool:
    """Whether repeat judging compares ``row`` with its caller's other rows: triaged, with a
    caller, at a readable time."""
    return row["status"] == "ok" and bool(row.get("_caller")) and row.get("_time_error") is None


def triage_records(model: TriageModel, settings: Mapping[str, Any], secret: str | None,
                   records: Sequence[Record]) -> tuple[list[dict], list[bytes]]:
    """Flat rows for ``records`` in the same order, and the packed TF-IDF rows of the
    ``is_judged`` ones in that order (each such row's ``_features`` says how many values its
    packed row holds). A record with an error, or a text the model refuses (too long),
    becomes an error row; the others are predicted together. ``secret`` keys the caller
    column (None: no caller column)."""
    rows = [None] * len(records)
    made_rows = [None] * len(records)
    good = [index for index, record in enumerate(records) if record.error is None]
    try:
        results, features = model.predict_with_features([records[index].text for index in good], settings)
    except TriageError:  # one bad text (too long) must not fail its neighbours: one at a time
        pairs = [_predict_one(model, records[index].text, settings) for index in good]
        results, features = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
    for index, result, row_features, made in zip(good, results, features, sketches(features)):
        if "error" in result:
            rows[index] = _error_row(records[index], result["error"])
            continue
        rows[index] = flatten(records[index], result)
        made_rows[index] = row_features
        if made is not None:  # for hot issues across the file (hot_groups.py)
            rows[index]["_sketch"] = made.hex()
    packed = []
    for index, record in enumerate(records):
        if rows[index] is None:
            rows[index] = _error_row(record, record.error)
        if secret is not None:
            key = caller_column_key(record.caller or "", secret)
            rows[index]["_caller"] = list(key) if key else None
        rows[index]["_time"] = record.time.isoformat() if record.time else None
        rows[index]["_time_error"] = record.time_error
        if made_rows[index] is not None and is_judged(rows[index]):
            packed.append(pack_row(*made_rows[index]))
            rows[index]["_features"] = len(made_rows[index][0])
    return rows, packed


def _predict_one(model: TriageModel, text: str, settings) -> tuple[dict, tuple | None]:
    try:
        results, features = model.predict_with_features([text], settings)
        return results[0], features[0]
    except TriageError as error:
        return {"error": error.message}, None


def flatten(record: Record, result: dict) -> dict:
    row = {"row": record.row, "id": record.id, "status": result["status"], "error": None,
           "decision": result["decision"], "flags": SEPARATOR.join(flag["code"] for flag in result["flags"]),
           "explanation": SEPARATOR.join(result["explanation"]),
           "personal_data": SEPARATOR.join(result["personal_data"]), "text": result["text"],
           "model_version": result["model_version"]}
    category = result.get("category") or {}
    row.update(category=category.get("label"), category_confidence=category.get("confidence"),
               category_band=category.get("band"), subcategory=category.get("subcategory"),
               subcategory_confidence=category.get("subcategory_confidence"))
    department = result.get("department") or {}
    row.update(department=department.get("label"), department_confidence=department.get("confidence"),
               department_band=department.get("band"), department_source=department.get("source"))
    for rank in range(2, TOP_DEPARTMENTS + 1):
        top = department.get("top") or []
        entry = top[rank - 1] if len(top) >= rank else {}
        row[f"department_{rank}"], row[f"department_{rank}_confidence"] = entry.get("label"), entry.get("confidence")
    urgency = result.get("urgency") or {}
    row.update(urgency=urgency.get("label"), urgency_confidence=urgency.get("confidence"),
               urgency_band=urgency.get("band"), urgency_source=urgency.get("source"),
               safety_rules=SEPARATOR.join(f"{hit['rule']}:{hit['evidence']}" for hit in urgency.get("rules", [])))
    request_type = result.get("request_type") or {}
    row.update(request_type=request_type.get("label"), request_type_confidence=request_type.get("confidence"))
    return row


def _error_row(record: Record, error: str) -> dict:
    row = dict.fromkeys(PREDICTION_COLUMNS)
    row.update(row=record.row, id=record.id, status="error", error=error, decision="review")
    return row
