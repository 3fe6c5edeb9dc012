"""Stage 5: explicit safety rules for urgency (``resources/safety_rules.toml``).

The learned urgency head only knows phrasings it was trained on. These rules catch
life-safety cases in any wording a reviewer can read and audit; the final urgency is the
more severe of the two. A rule's pattern matches within one sentence; its ``unless``
patterns (look-alikes: 燃气开户, 火灾保险理赔, negations, past events) are checked only in
the clause around the match, so one harmless clause cannot hide a real emergency.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from .taxonomy import URGENCY_LEVELS

_SENTENCE_END = re.compile(r"[。!?;！？；\n]")
_CLAUSE_END = re.compile(r"[，,。!?;！？；\n]")


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    level: str
    label: str
    evidence: str

    def to_dict(self) -> dict:
        return {"rule": self.rule_id, "level": self.level, "label": self.label, "evidence": self.evidence}


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The packaged rules, compiled once."""
    text = resources.files("triage.resources").joinpath("safety_rules.toml").read_text(encoding="utf-8")
    loaded = []
    for entry in tomllib.loads(text)["rule"]:
        if entry["level"] not in URGENCY_LEVELS:
            raise ValueError(f"rule {entry['id']}: level {entry['level']!r} is not one of {URGENCY_LEVELS}")
        loaded.append(Rule(entry["id"], entry["level"], entry["label"],
                           tuple(re.compile(pattern) for pattern in entry["patterns"]),
                           tuple(re.compile(pattern) for pattern in entry.get("unless", ()))))
    return tuple(loaded)


def check(text: str) -> list[RuleHit]:
    """Rules that fire on normalised ``text``, most severe first (one hit per rule)."""
    hits = []
    sentences = _SENTENCE_END.split(text)
    for rule in rules():
        # A pattern found in no part of the text is found in no sentence: one scan each
        # rules out almost every rule before the per-sentence, per-clause work.
        if not any(pattern.search(text) for pattern in rule.patterns):
            continue
        evidence = next((found for sentence in sentences for found in _matches(rule, sentence)), None)
        if evidence is not None:
            hits.append(RuleHit(rule.id, rule.level, rule.label, evidence))
    return sorted(hits, key=lambda hit: -URGENCY_LEVELS.index(hit.level))


def _matches(rule: Rule, sentence: str):
    for pattern in rule.patterns:
        for match in pattern.finditer(sentence):
            clause = _clause_around(sentence, match.start(), match.end())
            if not any(exception.search(clause) for exception in rule.unless):
                yield match.group()


def _clause_around(sentence: str, start: int, end: int) -> str:
    before = [m.end() for m in _CLAUSE_END.finditer(sentence, 0, start)]
    after = _CLAUSE_END.search(sentence, end)
    return sentence[before[-1] if before else 0: after.start() if after else len(sentence)]


def more_severe(first: str, second: str) -> str:
    return max(first, second, key=URGENCY_LEVELS.index)
