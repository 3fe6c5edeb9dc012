"""Saving and loading models: ``model.joblib`` plus ``metadata.json`` in one folder.

The metadata records the schema, library versions, labels, thresholds, training-data
hash, metrics and the SHA-256 of the joblib file. ``load`` checks all of it *before*
``joblib.load`` runs: a truncated file, a wrong checksum or another scikit-learn version
is refused with a clear error, never half-loaded. joblib files run code when loaded: load
only models you built or trust.
"""
from __future__ import annotations

import gc
import hashlib
import json
import platform
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy
import scipy
import sklearn

from .errors import ModelIntegrityError, ModelNotFoundError
from .model import TriageModel, ensure_fitted

SCHEMA = "triage-model.v2"  # v2: features of the whole text and of its opening
MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


def _versions() -> dict[str, str]:
    from . import __version__

    return {"triage": __version__, "scikit-learn": sklearn.__version__, "numpy": numpy.__version__,
            "scipy": scipy.__version__, "joblib": joblib.__version__, "python": platform.python_version()}


def save(model: TriageModel, folder: str | Path, *, metrics: dict | None = None, parent: str | None = None) -> dict:
    """Write ``model`` into ``folder`` (created if needed); returns the metadata written.
    ``parent``: the version it was trained to replace (the registry records lineage)."""
    model = ensure_fitted(model)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / MODEL_FILE
    joblib.dump(model, model_path, compress=3)
    metadata = {
        "schema": SCHEMA,
        "version": model.version_,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "libraries": _versions(),
        "sha256": _sha256(model_path),
        "data_hash": model.data_hash_,
        "parent": parent,
        "parameters": model.get_params(),
        "labels": model.labels_,
        "thresholds": {name: {**head.thresholds_, "auto_by_label": dict(zip(
            head.classes_.astype(str).tolist(), head.auto_thresholds().round(4).tolist()))}
                       for name, head in model.heads_.items()},
        "training": model.training_report_,
        "metrics": {"out_of_fold": {name: head.metrics_ for name, head in model.heads_.items()},
                    **(metrics or {})},
    }
    (folder / METADATA_FILE).write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return metadata


def read_metadata(folder: str | Path) -> dict:
    """The metadata of the model in ``folder``, checked against this installation."""
    folder = Path(folder)
    metadata_path = folder / METADATA_FILE
    if not folder.exists():
        raise ModelNotFoundError(f"no model in {folder}: the folder does not exist. Train one with "
                                 f"`triage train DATA --out {folder}`")
    if not folder.is_dir() or not metadata_path.is_file():
        raise ModelNotFoundError(f"no model in {folder}: {METADATA_FILE} is missing. Train one with "
                                 f"`triage train DATA --out {folder}`")
    try:
        metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelIntegrityError(f"{metadata_path} is not valid JSON ({error}); rebuild the model") from None
    if not isinstance(metadata, dict) or metadata.get("schema") != SCHEMA:
        raise ModelIntegrityError(f"{metadata_path} has schema {metadata.get('schema') if isinstance(metadata, dict) else None!r}; "
                                  f"this triage reads {SCHEMA!r}. Rebuild the model with this version of triage "
                                  "(`triage train DATA --out DIR`; for a registry's champion `triage train DATA --register`, "
                                  "then `triage models promote VERSION --force --reason upgrade`)")
    built_with = metadata.get("libraries", {}).get("scikit-learn")
    if built_with != sklearn.__version__:
        raise ModelIntegrityError(f"model in {folder} was built with scikit-learn {built_with}, this is "
                                  f"{sklearn.__version__}; install scikit-learn=={built_with} or retrain "
                                  "the model (README: Retraining)")
    return metadata


def load(folder: str | Path) -> TriageModel:
    """Load and verify the model in ``folder``.

    Raises:
        ModelNotFoundError: the folder or its files are missing.
        ModelIntegrityError: schema, library version or checksum does not match.
    """
    folder = Path(folder)
    metadata = read_metadata(folder)
    model_path = folder / MODEL_FILE
    if not model_path.is_file():
        raise ModelNotFoundError(f"no {MODEL_FILE} in {folder}")
    actual = _sha256(model_path)
    if actual != metadata.get("sha256"):
        raise ModelIntegrityError(f"{model_path} does not match its recorded SHA-256 (expected "
                                  f"{str(metadata.get('sha256'))[:12]}..., got {actual[:12]}...): the file is "
                                  "truncated or was changed. Restore or rebuild it")
    model = ensure_fitted(joblib.load(model_path))
    _settle()
    return model


def _settle() -> None:
    """Move every object alive now (the modules imported so far, the model just loaded)
    out of the cyclic garbage collector's generations (``gc.freeze``). They live as long
    as the process, and each full collection would otherwise walk their ~100,000 objects
    again (30-60 ms; list predict keeps its results alive, which sets one off every few
    hundred texts). A model holds no reference cycles, so a replaced one is still freed by
    reference counting (tests/test_artifacts.py). Garbage is collected first, so none is
    kept; under gunicorn's preload the forked workers also stop writing the collector's
    bookkeeping into those objects' pages, which then stay shared."""
    gc.collect()
    gc.freeze()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
