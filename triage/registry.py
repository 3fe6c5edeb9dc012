"""Versioned models with gated promotion and rollback.

    models/                   (setting ``registry_dir``)
        default/              the bundled model, champion until something is promoted
        versions/<version>/   every registered model: model.joblib + metadata.json
        registry.json         the champion and the history of promotions and rollbacks

Each registered model's metadata records its parent (the champion it was trained to
replace), its training-data hash and its scores on the frozen test set (setting
``frozen_test_set``), a labelled file never trained on. A challenger is promoted only if it
beats the champion there overall (mean macro-F1 over the heads both can be scored on) and
loses no class by more than ``promotion_margin`` of F1; ``force`` overrides, and the
history says so. A running service serves the champion after ``/v1/admin/reload`` or
SIGHUP (the model slot asks the registry which folder that is).
"""
from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from . import artifacts
from .datafiles import read_labelled
from .errors import ModelError, ModelIntegrityError, ModelNotFoundError
from .evaluation import evaluate
from .model import TriageModel

REGISTRY_FILE = "registry.json"
logger = logging.getLogger("triage.registry")


class Registry:
    def __init__(self, settings: Mapping[str, Any]):
        self.root = Path(settings["registry_dir"])
        self.versions = self.root / "versions"
        self.default = self.root / "default"
        self.settings = settings

    # -- what is there --------------------------------------------------------------
    def state(self) -> dict:
        path = self.root / REGISTRY_FILE
        if not path.is_file():
            return {"champion": None, "history": []}
        return json.loads(path.read_text(encoding="utf-8"))

    def folder(self, version: str) -> Path:
        """The folder of ``version``: a registered one, or the bundled default."""
        folder = self.versions / version
        if folder.is_dir():
            return folder
        if self.default.is_dir() and artifacts.read_metadata(self.default)["version"] == version:
            return self.default
        known = ", ".join(entry["version"] for entry in self.list()) or "none"
        raise ModelNotFoundError(f"no model version {version!r} in {self.root}; known: {known}")

    def champion_folder(self) -> Path:
        champion = self.state()["champion"]
        return self.folder(champion) if champion else self.default

    def list(self) -> list[dict]:
        """Every model, oldest first: version, created_at, parent, frozen-test score, champion;
        one this triage cannot read (saved by an older one) with ``problem`` saying why."""
        folders = ([self.default] if self.default.is_dir() else []) + \
            sorted(self.versions.iterdir() if self.versions.is_dir() else [])
        champion = self.champion_folder()
        entries = []
        for folder in folders:
            try:
                metadata, problem = artifacts.read_metadata(folder), None
            except ModelIntegrityError as error:
                metadata, problem = {"version": folder.name}, str(error)
            frozen = metadata.get("metrics", {}).get("frozen_test")
            entries.append({"version": metadata["version"], "created_at": metadata.get("created_at"),
                            "parent": metadata.get("parent"), "rows": _rows(metadata),
                            "frozen_score": overall(frozen) if frozen else None,
                            "champion": folder == champion, "folder": str(folder), "problem": problem})
        return sorted(entries, key=lambda entry: entry["created_at"] or "")

    # -- changing it ----------------------------------------------------------------
    def register(self, model: TriageModel) -> dict:
        """Save ``model`` as a new version scored on the frozen test set; returns its metadata.
        Its parent is the champion's version, read from the registry: a champion saved by an
        older triage, which this one cannot load, is still the model it replaces."""
        champion = self.state()["champion"]
        parent = champion or (artifacts.read_metadata(self.default)["version"] if self.default.is_dir() else None)
        return artifacts.save(model, self.versions / model.version_, parent=parent,
                              metrics={"frozen_test": self.score(model)})

    def score(self, model: TriageModel) -> dict:
        """The model's report on the frozen test set (``evaluation.evaluate``)."""
        return evaluate(model, read_labelled([self.settings["frozen_test_set"]]))

    def promote(self, version: str, *, force: bool = False, reason: str = "", actor: str = "cli") -> dict:
        """Make ``version`` the champion if it passes the gate (or ``force``).

        Returns the comparison (``compare``) with ``promoted`` set.
        Raises:
            ModelNotFoundError: unknown version.
            ModelError: it is already the champion.
        """
        challenger_folder = self.folder(version)
        champion_folder = self.champion_folder()
        if challenger_folder == champion_folder:
            raise ModelError(f"{version} is already the champion")
        challenger = artifacts.load(challenger_folder)
        try:
            champion = artifacts.load(champion_folder)
        except ModelIntegrityError as error:  # saved by an older triage: nothing to compare with
            comparison = _unmatched(self.score(challenger), error, self.settings["promotion_margin"])
            champion_version = self.state()["champion"] or champion_folder.name
        else:
            comparison = compare(self.score(champion), self.score(challenger), self.settings["promotion_margin"])
            champion_version = champion.version_
        comparison.update(champion=champion_version, challenger=version)
        comparison["promoted"] = comparison["passed"] or force
        if comparison["promoted"]:
            if force and not comparison["passed"]:
                logger.warning("model %s promoted by force over %s: %s (reason: %s)", version, champion_version,
                               "; ".join(comparison["failures"]), reason or "none given")
            self._record("promote", version, champion_version, actor, reason, forced=force and not comparison["passed"],
                         comparison={"champion": comparison["champion_score"],
                                     "challenger": comparison["challenger_score"]})
        return comparison

    def rollback(self, actor: str = "cli", reason: str = "") -> str:
        """Make the champion before the current one the champion again; returns its version.

        Raises:
            ModelError: nothing to roll back to.
        """
        state = self.state()
        if not state["history"]:
            raise ModelError("nothing to roll back: no model has been promoted in this registry")
        previous = state["history"][-1]["previous"]
        try:
            artifacts.read_metadata(self.folder(previous))  # still there, and servable?
        except ModelIntegrityError as error:
            raise ModelError(f"cannot roll back to {previous}: {error}") from None
        self._record("rollback", previous, state["champion"], actor, reason)
        return previous

    def _record(self, action: str, version: str, previous: str, actor: str, reason: str, **extra) -> None:
        state = self.state()
        state["champion"] = version
        state["history"].append({"action": action, "version": version, "previous": previous, "actor": actor,
                                 "reason": reason, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                 **extra})
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / (REGISTRY_FILE + ".tmp")
        temporary.write_text(json.dumps(state, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.root / REGISTRY_FILE)  # a reader sees the old champion or the new


def served_folder(settings: Mapping[str, Any]) -> Path:
    """The model folder to serve: ``model_dir`` when set, else the registry's champion."""
    return Path(settings["model_dir"]) if settings["model_dir"] else Registry(settings).champion_folder()


def overall(report: dict) -> float:
    """One figure per frozen-test report: the mean macro-F1 of its heads."""
    heads = report["heads"]
    return round(sum(head["macro_f1"] for head in heads.values()) / len(heads), 4) if heads else 0.0


def compare(champion: dict, challenger: dict, margin: float) -> dict:
    """Side-by-side scores on the frozen test set and whether the challenger passes."""
    heads = sorted(set(champion["heads"]) & set(challenger["heads"]))
    rows, failures = [], []
    for head in heads:
        before, after = champion["heads"][head]["per_class"], challenger["heads"][head]["per_class"]
        for label in sorted(set(before) | set(after)):
            old = before.get(label, {}).get("f1", 0.0)
            new = after.get(label, {}).get("f1", 0.0)
            rows.append({"head": head, "label": label, "champion_f1": old, "challenger_f1": new,
                         "change": round(new - old, 4),
                         "support": max(before.get(label, {}).get("support", 0), after.get(label, {}).get("support", 0))})
            if new < old - margin:
                failures.append(f"{head} {label}: F1 {old:.3f} -> {new:.3f} (more than {margin} lower)")
    scores = {name: overall({"heads": {head: report["heads"][head] for head in heads}})
              for name, report in (("champion", champion), ("challenger", challenger))}
    if scores["challenger"] <= scores["champion"]:
        failures.insert(0, f"overall {scores['challenger']:.4f} does not beat the champion's {scores['champion']:.4f}")
    return {"heads": heads, "classes": rows, "champion_score": scores["champion"],
            "challenger_score": scores["challenger"], "margin": margin, "failures": failures,
            "passed": not failures}


def _unmatched(challenger: dict, error: ModelIntegrityError, margin: float) -> dict:
    """``compare``'s answer when the champion cannot be read: the challenger's scores alone,
    and a failure saying why, so that only ``force`` (logged, with a reason) promotes it."""
    return {"heads": sorted(challenger["heads"]), "classes": [], "champion_score": None,
            "challenger_score": overall(challenger), "margin": margin,
            "failures": [f"the champion cannot be compared: {error}; nothing can show the challenger is "
                         "better, so promote it with --force --reason"],
            "passed": False}


def _rows(metadata: dict) -> int | None:
    training = metadata.get("training") or {}
    return max((head.get("rows", 0) for head in training.values()), default=None)
