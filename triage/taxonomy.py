"""The label sets a centre works with: the two-level category tree, the departments, the
urgency levels and the request types. The service checks dispatchers' corrections
against them; a retrained model may add labels of its own (``allowed``)."""
from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources
from typing import Iterable

URGENCY_LEVELS = ("一般", "紧急", "特急")  # least to most severe
REQUEST_TYPES = ("投诉", "举报", "求助", "咨询", "建议", "表扬")


def resource_lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a file in ``triage/resources``."""
    text = resources.files("triage.resources").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def category_tree() -> dict[str, tuple[str, ...]]:
    """First-level category -> its second-level categories, in file order."""
    tree: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO("\n".join(resource_lines("category_tree.csv")))):
        tree.setdefault(row["category"], []).append(row["subcategory"])
    return {category: tuple(children) for category, children in tree.items()}


@lru_cache(maxsize=1)
def departments() -> tuple[str, ...]:
    return tuple(resource_lines("departments.txt"))


def allowed(head: str, model_labels: dict[str, list[str]]) -> frozenset[str]:
    """Labels a person may give for ``head``: the project's set and the model's own."""
    base: Iterable[str] = {"category": category_tree(), "department": departments(),
                           "urgency": URGENCY_LEVELS, "request_type": REQUEST_TYPES}.get(head, ())
    return frozenset(base) | frozenset(model_labels.get(head, ()))
