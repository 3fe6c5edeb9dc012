"""Turning request bodies and query strings into checked values. Every problem raises
``InputError`` naming the field (``items[3].text``) and what would be accepted."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Mapping

from flask import request

from ..errors import InputError
from ..normalise import SURROGATE
from ..sla import as_utc, utc_now

CHANNELS = ("hotline", "web", "letter", "visit")
CALLER_FIELDS = ("phone", "name", "id_number", "address")
_EXTERNAL_ID = re.compile(r"^[\w.:/\-]{1,128}$")
# A surrogate (in a pair, an emoji, or alone) or a NUL, as JSON writes them: where neither is
# in the raw body, no string of it holds a character ``_refuse_unstorable`` refuses.
_ESCAPED_SUSPECTS = re.compile(rb"\\u(?:[dD][89a-fA-F][0-9a-fA-F]{2}|0000)")
# A lone surrogate or a NUL: no store, log or hash takes them (PostgreSQL refuses NUL in text).
_UNSTORABLE = re.compile(f"{SURROGATE.pattern}|\x00")


def json_object(checked_apart: str | None = None) -> dict:
    """The request body as a JSON object (werkzeug answers 413 above ``max_body_bytes``),
    with no lone surrogate or NUL in it, except under ``checked_apart`` (a batch's items,
    each judged on its own by ``submission``)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InputError('the request body is empty; send a JSON object such as {"text": "..."}', field="body")
    try:
        body = json.loads(raw)
    except UnicodeDecodeError:
        raise InputError("the body is not UTF-8 text; send JSON encoded as UTF-8", field="body") from None
    except ValueError as error:
        raise InputError(f"the body is not valid JSON: {error}", field="body") from None
    except RecursionError:
        raise InputError("the body is nested too deeply to be a complaint", field="body") from None
    if not isinstance(body, dict):
        raise InputError(f"the body must be a JSON object, not {_json_type(body)}", field="body")
    if _ESCAPED_SUSPECTS.search(raw):
        _refuse_unstorable({key: value for key, value in body.items() if key != checked_apart}, "")
    return body


def _refuse_unstorable(value: Any, path: str) -> None:
    """Raise for the first string of ``value`` holding a lone surrogate or a NUL. JSON can
    write either (``"\\udce5"``, typically bytes a client could not decode; ``"\\u0000"``), but
    a lone surrogate is no character and no store, log or hash can take it, and PostgreSQL
    refuses NUL in text. A surrogate pair (an emoji) decodes to one character."""
    if isinstance(value, str):
        found = _UNSTORABLE.search(value)
        if found and found.group() == "\x00":
            raise InputError(f"'{path or 'body'}' holds a NUL character (\\u0000) at character {found.start()}; "
                             "send text without control characters", field=path or "body")
        if found:
            raise InputError(f"'{path or 'body'}' holds {found.group()!a} at character {found.start()}, a lone "
                             "surrogate: not a character (bytes that did not decode before the JSON was written); "
                             "send the text as valid UTF-8", field=path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key, path)
            _refuse_unstorable(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_unstorable(item, f"{path}[{index}]")


def submission(body: Mapping[str, Any], max_chars: int, prefix: str = "") -> dict:
    """A complaint to triage: ``text`` plus optional external_id, channel, received_at,
    caller and location."""
    _refuse_unstorable(body, prefix.removesuffix("."))
    text = body.get("text")
    if text is None:
        raise InputError("missing 'text': the complaint to triage", field=prefix + "text")
    if not isinstance(text, str):
        raise InputError(f"'text' must be a string, not {_json_type(text)}", field=prefix + "text")
    if not text.strip():
        raise InputError("'text' is empty", field=prefix + "text")
    if len(text) > max_chars:
        raise InputError(f"'text' has {len(text)} characters; the limit is {max_chars} (setting max_chars)",
                         field=prefix + "text")
    checked: dict[str, Any] = {"text": text}
    external_id = body.get("external_id")
    if external_id is not None:
        if not isinstance(external_id, str) or not _EXTERNAL_ID.match(external_id):
            raise InputError("'external_id' must be 1-128 letters, digits or . _ : / -",
                             field=prefix + "external_id")
        checked["external_id"] = external_id
    checked["channel"] = choice(body, "channel", CHANNELS, prefix) or "hotline"
    if body.get("received_at") is not None:
        checked["received_at"] = timestamp(body["received_at"], prefix + "received_at")
    caller = body.get("caller")
    if caller is not None:
        if not isinstance(caller, dict):
            raise InputError(f"'caller' must be an object with any of {', '.join(CALLER_FIELDS)}",
                             field=prefix + "caller")
        unknown = set(caller) - set(CALLER_FIELDS)
        if unknown:
            raise InputError(f"'caller' has unknown fields {sorted(unknown)}; known: {', '.join(CALLER_FIELDS)}",
                             field=prefix + "caller")
        for name, value in caller.items():
            if value is not None and (not isinstance(value, str) or len(value) > 200):
                raise InputError(f"'caller.{name}' must be a string of at most 200 characters",
                                 field=f"{prefix}caller.{name}")
        checked["caller"] = {name: value for name, value in caller.items() if value is not None}
    location = body.get("location")
    if location is not None:
        if not isinstance(location, (str, dict)) or len(json.dumps(location, ensure_ascii=False)) > 2000:
            raise InputError("'location' must be a string or an object, at most 2,000 characters as JSON",
                             field=prefix + "location")
        checked["location"] = location
    return checked


def timestamp(value: Any, field: str) -> datetime:
    """ISO 8601 to naive UTC; a time without an offset is China Standard Time (UTC+8)."""
    if not isinstance(value, str):
        raise InputError(f"'{field}' must be an ISO 8601 string such as 2026-11-22T09:30:00+08:00", field=field)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(f"'{field}'={value!r} is not an ISO 8601 time such as 2026-11-22T09:30:00+08:00",
                         field=field) from None
    try:
        utc = as_utc(moment)
    except ValueError as error:
        raise InputError(f"'{field}'={value!r} is out of range: {error}", field=field) from None
    if utc > utc_now() + timedelta(hours=1):
        raise InputError(f"'{field}'={value!r} is in the future", field=field)
    return utc


def choice(body: Mapping[str, Any], name: str, options, prefix: str = "") -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or value not in options:
        raise InputError(f"'{name}'={value!r} is not one of: {', '.join(sorted(options))}", field=prefix + name)
    return value


def text_field(body: Mapping[str, Any], name: str, *, required: bool = False, limit: int = 2000) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError(f"missing '{name}'", field=name)
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InputError(f"'{name}' must be a string of at most {limit} characters", field=name)
    return value.strip()


def query_text(name: str) -> str | None:
    """A free-text query parameter (empty: None), refused with a NUL in it."""
    raw = request.args.get(name) or None
    if raw is not None and "\x00" in raw:
        raise InputError(f"query parameter {name} holds a NUL character (%00)", field=name)
    return raw


def query_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"query parameter {name}={raw!r} is not a whole number", field=name) from None
    if not low <= value <= high:
        raise InputError(f"query parameter {name}={value} must be between {low} and {high}", field=name)
    return value


def query_bool(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in {"1", "true", "yes"}:
        return True
    if lowered in {"0", "false", "no"}:
        return False
    raise InputError(f"query parameter {name}={raw!r} must be true or false", field=name)


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
