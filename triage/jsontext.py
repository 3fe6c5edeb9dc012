"""JSON text for the service's answers and the case store's JSON columns: orjson (compact
UTF-8 in insertion order, a tenth of the standard library's time), and the standard library
with the same layout for what orjson cannot encode at all: an integer beyond 64 bits that a
caller sent in a case's ``location``, and a lone surrogate (no UTF-8 holds one; the request
parser refuses them, other writers may not), written as a ``\\u`` escape."""
from __future__ import annotations

import json
from typing import Any, Callable

import orjson


def encode(obj: Any, default: Callable[[Any], Any] | None = None) -> bytes:
    """``obj`` as JSON; ``default`` turns what neither encoder knows into what they do."""
    try:
        return orjson.dumps(obj, default=default)
    except TypeError:  # orjson.JSONEncodeError is one
        written = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=default)
    try:
        return written.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return json.dumps(obj, separators=(",", ":"), default=default).encode("ascii")


def text(obj: Any) -> str:
    """``encode`` as a string: what SQLAlchemy's JSON columns store."""
    return encode(obj).decode("utf-8")
