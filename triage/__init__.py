"""triage: route citizen complaints (12345 hotline, message boards, petitions) to a
category, a responsible department and an urgency, with confidence and explanations.

    >>> from triage import load_model
    >>> model = load_model()                      # the bundled default model
    >>> model.predict(["楼道里有很浓的燃气味"])[0]["urgency"]["label"]
    '特急'
"""
__version__ = "0.1.0"

from .artifacts import load as _load, save
from .errors import (DataFileError, InputError, ModelError, ModelIntegrityError,
                     ModelNotFoundError, SettingError, TriageError)
from .model import HEADS, TriageModel
from .settings import load_settings

__all__ = [
    "HEADS", "TriageModel", "load_model", "save", "load_settings",
    "TriageError", "InputError", "DataFileError", "SettingError",
    "ModelError", "ModelNotFoundError", "ModelIntegrityError",
]


def load_model(folder=None) -> TriageModel:
    """The verified model in ``folder``; by default the one named by ``TRIAGE_MODEL_DIR``,
    else the registry's champion (the bundled default model until one is promoted)."""
    from .registry import served_folder
    from .segment import use_engine

    settings = load_settings()
    use_engine(settings["segmenter"])
    return _load(folder or served_folder(settings))
