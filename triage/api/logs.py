"""Structured logs: one JSON object per line, each carrying the request id. A filter on
the logger masks personal numbers in every message and field before any handler sees the
record, so a phone or ID number that reaches a log call by mistake never reaches a log."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import g, has_request_context, request

from ..privacy import mask_personal_data

LOGGER_NAME = "triage.service"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
_STANDARD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# Characters that JSON leaves raw but some readers take for the end of a line (Python's
# splitlines, JavaScript before ES2019): escaped, so that every log entry is one line to all.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage()}
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD_FIELDS})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str).translate(_LINE_BREAKS)


class MaskPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = mask_personal_data(record.getMessage())[0], None
        for key, value in vars(record).items():
            if key not in _STANDARD_FIELDS and isinstance(value, str):
                setattr(record, key, mask_personal_data(value)[0])
        return True


def configure(level: str = "INFO") -> logging.Logger:
    """The service logger, writing JSON lines to stderr (once, however many apps are made)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.propagate = False
        logger.addFilter(MaskPersonalData())
    logger.setLevel(level)
    return logger


def assign_request_id() -> str:
    """The caller's X-Request-ID when it is a sane token, else a new one."""
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    return g.request_id
