"""What every request handler needs, built once by ``create_app`` and kept in
``app.extensions["triage"]``."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app

from ..repeat import PriorRows
from ..store import CaseStore
from .metrics import Metrics
from .model_slot import ModelSlot

ACCESS_LEVELS = ("open", "predict", "health", "metrics", "api", "admin")


@dataclass
class Context:
    settings: dict[str, Any]
    slot: ModelSlot
    store: CaseStore
    metrics: Metrics
    logger: logging.Logger
    tokens: tuple[str, ...]
    admin_tokens: tuple[str, ...]
    caller_secret: str
    prior_rows: PriorRows = field(default_factory=PriorRows)  # this worker's, for repeat.judge


def context() -> Context:
    return current_app.extensions["triage"]


def access(level: str) -> Callable:
    """Mark a view with who may call it: open, predict/health/metrics (open unless the
    matching ``open_*`` setting is off), api (a bearer token) or admin (an admin token)."""
    assert level in ACCESS_LEVELS, level

    def mark(view):
        view.access = level
        return view
    return mark
