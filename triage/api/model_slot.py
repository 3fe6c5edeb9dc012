"""The model a running service answers with, swappable while it serves.

``reload`` loads the new model beside the old one and swaps only after it loaded, passed
its checksum and answered a test complaint (``TriageModel.warm``, which also makes what
predicting derives, so forked workers start warm and share it); when loading fails the old
model keeps serving and the error says why. Requests read ``slot.model`` once and use that
object throughout, so a swap never mixes two models in one answer.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .. import safety
from ..artifacts import load, read_metadata
from ..errors import ModelError
from ..model import TriageModel


class ModelSlot:
    """``locate`` names the folder to serve (asked again on every reload, so a promoted
    model is what a reload picks up); a folder given to ``reload`` overrides it once."""

    def __init__(self, locate: Callable[[], Path]):
        self.locate = locate
        self.folder = Path(locate())
        self.model: TriageModel = _load_and_try(self.folder)
        self.metadata: dict = read_metadata(self.folder)
        self.loaded_at = _now()
        self.last_error: str | None = None
        self.after_reload: Callable[[], None] | None = None  # gunicorn tells its master here
        self._lock = threading.Lock()

    def reload(self, folder: str | Path | None = None) -> dict:
        """Load ``folder`` (default: the one ``locate`` names now) and swap it in.

        Returns the new model card.
        Raises:
            ModelError: the model could not be loaded or verified; the old one still serves.
        """
        target = Path(folder) if folder else Path(self.locate())
        with self._lock:
            try:
                model, metadata = _load_and_try(target), read_metadata(target)
            except ModelError as error:
                self.last_error = f"{_now()}: reload of {target} refused: {error.message}"
                raise
            self.model, self.metadata, self.folder = model, metadata, target
            self.loaded_at, self.last_error = _now(), None
        if self.after_reload is not None:
            self.after_reload()
        return self.card()

    def card(self) -> dict:
        metadata = self.metadata
        return {"version": metadata["version"], "folder": str(self.folder), "loaded_at": self.loaded_at,
                "created_at": metadata.get("created_at"), "labels": metadata.get("labels"),
                "thresholds": metadata.get("thresholds"), "metrics": metadata.get("metrics"),
                "training": metadata.get("training"), "libraries": metadata.get("libraries"),
                "safety_rules": [{"id": rule.id, "level": rule.level, "label": rule.label,
                                  "departments": list(rule.departments)} for rule in safety.rules()],
                "last_reload_error": self.last_error}


def _load_and_try(folder: Path) -> TriageModel:
    model = load(folder)
    try:
        answer = model.warm()
    except Exception as error:  # a model that loads but cannot predict must not serve
        raise ModelError(f"the model in {folder} loaded but failed on a test complaint: {error!r}") from None
    if answer["status"] != "ok":
        raise ModelError(f"the model in {folder} could not read a test complaint: {answer['explanation']}")
    return model


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
