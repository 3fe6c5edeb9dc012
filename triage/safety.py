"""Stage 5: explicit safety rules for urgency (``resources/safety_rules.toml``).

The learned urgency head only knows phrasings it was trained on. These rules catch
life-safety cases in any wording a reviewer can read and audit; the final urgency is the
more severe of the two. A rule's pattern matches within one sentence; its ``unless``
patterns (look-alikes: 燃气开户, 火灾保险理赔, negations, past events) are checked only in
the clause around the match, so one harmless clause cannot hide a real emergency.

A rule may also name the departments its emergency is handed to (``departments``: a fire to
应急管理局 for the fire brigade, a person about to jump to 公安局); ``model.py`` puts the
first of them before a learned department that is none of them, and lets a rule decide only
where its evidence opens the text.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache, reduce
from importlib import resources
from itertools import repeat
from operator import or_

import numpy as np

from .compiled import optional
from .features import CODE_POINT_BITS
from .keytable import KeyTable
from .taxonomy import URGENCY_LEVELS

_scan = optional("_scan")  # where it was not built, two expressions find the places

_SENTENCE_END = re.compile(r"[。!?;！？；\n]")
_CLAUSE_END = re.compile(r"[，,。!?;！？；\n]")


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    label: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleHit:
    rule_id: str
    level: str
    label: str
    evidence: str
    departments: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"rule": self.rule_id, "level": self.level, "label": self.label, "evidence": self.evidence}


@lru_cache(maxsize=1)
def rules() -> tuple[Rule, ...]:
    """The packaged rules, compiled once."""
    text = resources.files("triage.resources").joinpath("safety_rules.toml").read_text(encoding="utf-8")
    parsed = tomllib.loads(text)
    shared = parsed.get("unless_sets", {})
    loaded = []
    for entry in parsed["rule"]:
        if entry["level"] not in URGENCY_LEVELS:
            raise ValueError(f"rule {entry['id']}: level {entry['level']!r} is not one of {URGENCY_LEVELS}")
        unknown = set(entry.get("unless_sets", ())) - set(shared)
        if unknown:
            raise ValueError(f"rule {entry['id']}: no unless_sets named {sorted(unknown)}; known: {sorted(shared)}")
        departments = entry.get("departments", [])
        if not isinstance(departments, list) or not all(isinstance(name, str) and name for name in departments):
            raise ValueError(f"rule {entry['id']}: departments must be a list of department names")
        unless = [*entry.get("unless", ()), *(shared[name] for name in entry.get("unless_sets", ()))]
        loaded.append(Rule(entry["id"], entry["level"], entry["label"],
                           tuple(re.compile(pattern) for pattern in entry["patterns"]),
                           tuple(re.compile(pattern) for pattern in unless), tuple(departments)))
    return tuple(loaded)


class _Prefilter:
    """Which rules may fire on a text, from words every match of their patterns holds
    (``required_words``). One scan finds the places where such a word may start: the
    first two characters there (``heads``), or the one character of a one-character word
    (``singles``); a dictionary maps each to the patterns, as bits. Most complaints hold
    the required words of only a few of the patterns, so about 4 are searched instead
    of all (3.7 a text on real messages); a pattern without such words is always searched."""

    def __init__(self, loaded: tuple[Rule, ...]):
        self.patterns = [(rule_number, pattern) for rule_number, rule in enumerate(loaded) for pattern in rule.patterns]
        self.always = 0
        self.by_head: dict[str, int] = {}
        heads, singles = set(), set()
        for number, (_, pattern) in enumerate(self.patterns):
            words = required_words(pattern.pattern)
            if words is None:
                self.always |= 1 << number
                continue
            for word in words:
                self.by_head[word[:2]] = self.by_head.get(word[:2], 0) | 1 << number
                (heads if len(word) > 1 else singles).add(word[0])
        self.heads = re.compile("(?=([" + "".join(sorted(map(re.escape, heads))) + "].))") if heads else None
        self.singles = re.compile("[" + "".join(sorted(map(re.escape, singles))) + "]") if singles else None
        # The same places as keys of a table (a character's code point; two characters'
        # packed as the n-gram keys of ``features`` are) to their patterns' bits, for the compiled scan
        self.table = None
        if _scan is not None:
            places = list(self.by_head)
            keys = [ord(place[0]) if len(place) == 1 else ord(place[0]) << CODE_POINT_BITS | ord(place[1])
                    for place in places]
            words = max(1, -(-len(self.patterns) // 64))
            masks = np.array([[self.by_head[place] >> (64 * word) & (2**64 - 1) for word in range(words)]
                              for place in places], np.uint64).reshape(len(places), words)
            self.table = (*KeyTable(np.array(keys, np.int64)).probe_arrays(), masks)

    def bits(self, text: str, compiled: bool = True) -> int:
        """The patterns that may match ``text``, as bits (``1 << number`` in ``patterns``):
        those of the required words that may start at a place of the text (its first two
        characters there, or a one-character word), and those always searched. By the
        compiled scan (``_scan.rule_bits``) where it was built, else (and by definition) by
        the two expressions."""
        if self.table is not None and compiled:
            return _scan.rule_bits(text, *self.table) | self.always
        places = set(self.heads.findall(text)) if self.heads is not None else set()
        if self.singles is not None:
            places.update(self.singles.findall(text))
        return reduce(or_, map(self.by_head.get, places, repeat(0)), self.always)

    def candidates(self, text: str) -> list[tuple[int, re.Pattern[str]]]:
        """(rule number, pattern) of each pattern that may match ``text``, in rule order."""
        bits = self.bits(text)
        found = []
        while bits:
            lowest = bits & -bits
            found.append(self.patterns[lowest.bit_length() - 1])
            bits ^= lowest
        return found


@lru_cache(maxsize=1)
def _prefilter() -> _Prefilter:
    return _Prefilter(rules())


def required_words(pattern: str) -> tuple[str, ...] | None:
    """Words one of which every match of ``pattern`` holds, from one part of the pattern
    that every match passes through: a run of literal characters (泄漏), a group of
    alternatives each starting with a literal (``(燃气|煤气)`` -> 燃气, 煤气) or a class of
    single characters (``(掉|摔|坠)`` is parsed as ``[掉摔坠]``). Of several such parts, the
    one whose shortest word is longest, and of two alike the later: a rule names who or
    where first (有, 墙, 孩子: in most complaints) and the danger after (燃气, 要塌, 被埋), and
    the prefilter is as selective as its commonest word. None when no part qualifies or
    the parser is not the one this reads (it is CPython's internal one): such a pattern is
    always searched, so the answer never depends on it."""
    try:
        from re import _constants as sre, _parser

        parts, run = [], []
        for kind, value in [*_parser.parse(pattern), (None, None)]:
            if kind is sre.LITERAL:
                run.append(chr(value))
                continue
            if run:
                parts.append(("".join(run),))
                run = []
            parts.append(_alternatives(kind, value))
    except Exception:  # another Python's parser: search every time
        return None
    parts = [words for words in parts if words and all(words)]
    return max(reversed(parts), key=lambda words: min(map(len, words))) if parts else None


def _alternatives(kind, value) -> tuple[str, ...] | None:
    """The literal words one of which a part of a parsed pattern starts with (see
    ``required_words``), or None."""
    from re import _constants as sre

    while kind is sre.SUBPATTERN and len(value[3]) == 1:  # a group of one item: that item
        kind, value = value[3][0]
    if kind is sre.SUBPATTERN:  # a group of several: the words its first item starts with
        first = value[3][0]
        return (_literal_head(list(value[3])),) if first[0] is sre.LITERAL else _alternatives(*first)
    if kind is sre.BRANCH:
        return tuple(_literal_head(list(branch)) for branch in value[1])
    if kind is sre.IN and all(item is sre.LITERAL for item, _ in value):
        return tuple(chr(code) for _, code in value)
    return None


def _literal_head(items: list) -> str:
    from re import _constants as sre

    head = []
    for kind, value in items:
        if kind is not sre.LITERAL:
            break
        head.append(chr(value))
    return "".join(head)


def check(text: str) -> list[RuleHit]:
    """Rules that fire on normalised ``text``, most severe first (one hit per rule)."""
    hits = []
    in_text: list[int] = []  # rules with a pattern found somewhere in the text
    for rule_number, pattern in _prefilter().candidates(text):
        if (not in_text or in_text[-1] != rule_number) and pattern.search(text):
            in_text.append(rule_number)
    sentences = _SENTENCE_END.split(text) if in_text else []
    for rule in map(rules().__getitem__, in_text):
        # A pattern found in no part of the text is found in no sentence: the scan above
        # rules out almost every rule before the per-sentence, per-clause work.
        evidence = next((found for sentence in sentences for found in _matches(rule, sentence)), None)
        if evidence is not None:
            hits.append(RuleHit(rule.id, rule.level, rule.label, evidence, rule.departments))
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
