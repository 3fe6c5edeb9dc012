"""Stage 2: words. jieba's algorithm and dictionary plus the project's domain words.

Two engines run the same algorithm on the same dictionary: ``rjieba`` (the Rust port,
about 17x faster) and plain ``jieba`` (the reference, and the fallback when rjieba is not
installed). Only runs of Chinese characters go to the engine; digits, Latin words and the
personal-data placeholders are tokenised here with one regular expression, so both
engines see exactly the same input (docs/BENCHMARKS.md measures how often their tokens
agree).

``segment`` is a named module-level function so that anything holding it pickles (a
``jieba.Tokenizer`` holds a lock and does not).
"""
from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from .errors import SettingError
from .taxonomy import resource_lines

# The pieces of a text that are not runs of Chinese: a personal-data placeholder such as
# 〔电话〕, a number, a Latin word. Written to start with one character class, so that the
# regular-expression engine skips to candidates with a fast scan; the lookbehinds then
# tell the three kinds apart, as an alternation of the three would.
_OTHERS = re.compile(
    r"[〔\dA-Za-z]"
    r"(?:(?<=〔)[\u4e00-\u9fff]{2,5}〕"
    r"|(?<=\d)\d*(?:\.\d+)?"
    r"|(?<=[A-Za-z])[A-Za-z'\-]*)"
)
_NOT_HAN_OR_MARK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\ue000]+")
NUMBER_TOKEN = "〔数字〕"


@lru_cache(maxsize=1)
def domain_words() -> tuple[tuple[str, int], ...]:
    """The project's domain dictionary as (word, jieba frequency) pairs."""
    pairs = []
    for line in resource_lines("domain_words.txt"):
        word, frequency = line.split()
        pairs.append((word, int(frequency)))
    return tuple(pairs)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(resource_lines("stopwords.txt"))


@lru_cache(maxsize=1)
def fillers() -> frozenset[str]:
    return frozenset(resource_lines("fillers.txt"))


# A character three times in a row (砰砰砰, 修修修) makes two splits exactly equally
# probable; jieba and rjieba then break the floating-point tie differently. Such runs,
# about 1 in 2,000 texts, go to the reference engine so that tokens stay identical.
_TIE_PRONE = re.compile(r"(.)\1\1")


# A text goes to rjieba in one call: runs of Chinese as they are, every other piece as one
# private-use character that comes back as a token of its own, all separated by line
# breaks. A line break is a block boundary for jieba's algorithm, so each run is cut
# exactly as if alone (tests/test_segment.py checks this on real text).
_RUN_BREAK = "\n"
_OTHER_PIECE = "\ue000"


class _Engine:
    """One loaded segmenter; ``cut`` takes a run of Chinese characters, ``cut_runs`` a
    text laid out by ``_layout`` (runs and other-piece marks between line breaks) with
    the other pieces' tokens in order."""

    def __init__(self, name: str):
        self.name = name
        if name == "rjieba":
            import rjieba

            self._tokenizer = rjieba.Jieba()
            for word, frequency in domain_words():
                self._tokenizer.add_word(word, frequency, None)
            self.cut = self._cut_fast
            self.cut_runs = self._cut_runs_fast
        else:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            self._tokenizer = jieba.Tokenizer()
            self._tokenizer.initialize()
            for word, frequency in domain_words():
                self._tokenizer.add_word(word, frequency)
            self.cut = lambda run: self._tokenizer.lcut(run, HMM=True)
            self.cut_runs = self._cut_runs_one_by_one

    def _cut_fast(self, run: str) -> list[str]:
        if _TIE_PRONE.search(run):
            return engine("jieba").cut(run)
        return self._tokenizer.cut(run, True)

    def _cut_runs_one_by_one(self, laid_out: str, others: list[str]) -> list[str]:
        words: list[str] = []
        pending = iter(others)
        for run in laid_out.split(_RUN_BREAK):
            if run == _OTHER_PIECE:
                words.append(next(pending))
            elif run:
                words += self.cut(run)
        return words

    def _cut_runs_fast(self, laid_out: str, others: list[str]) -> list[str]:
        """One call into Rust for the whole text instead of one per run (a 300-character
        text has about 30 runs, and each call cost more in Python than the cutting)."""
        if _TIE_PRONE.search(laid_out):
            return self._cut_runs_one_by_one(laid_out, others)
        pending = iter(others)
        return [next(pending) if word == _OTHER_PIECE else word
                for word in self._tokenizer.cut(laid_out, True) if word != _RUN_BREAK]


_engines: dict[str, _Engine] = {}
_engines_lock = threading.Lock()
_default_engine_name = "auto"


def engine(name: str | None = None) -> _Engine:
    """The loaded engine called ``name`` (``auto``: rjieba when installed, else jieba)."""
    name = name or _default_engine_name
    if name == "auto":
        try:
            import rjieba  # noqa: F401
            name = "rjieba"
        except ImportError:
            name = "jieba"
    if name not in {"rjieba", "jieba"}:
        raise SettingError(f"segmenter {name!r} is unknown; use auto, rjieba or jieba")
    with _engines_lock:
        if name not in _engines:
            _engines[name] = _Engine(name)
        return _engines[name]


def warm_up() -> None:
    """Load every engine ``segment`` may call, now. rjieba hands tie-prone runs (about 1
    text in 2,000) to the reference jieba, which a CLI run loads only when it meets one
    (0.7 s); a service loads it before serving so that no request waits for it."""
    if engine().name == "rjieba":
        engine("jieba")


def use_engine(name: str) -> None:
    """Make ``name`` the engine that ``segment`` uses in this process."""
    global _default_engine_name
    engine(name)
    _default_engine_name = name


def tokens(text: str, engine_name: str | None = None) -> list[str]:
    """All tokens of normalised ``text`` in order: words, numbers, Latin words,
    placeholders. Punctuation and white space are dropped; hotline filler is dropped."""
    laid_out, others = _layout(text)
    filler = fillers()
    return [word for word in engine(engine_name).cut_runs(laid_out, others) if word not in filler]


def _layout(text: str) -> tuple[str, list[str]]:
    """``text`` as runs of Chinese and one mark per other piece, each between line breaks,
    and the other pieces' tokens in order. Two substitutions and one ``findall``, all in
    C: the per-piece Python loop they replace was half the cost of ``tokens``."""
    text = text.replace(_OTHER_PIECE, " ")  # the mark itself, in the input, is no piece
    others = [piece if piece[0] == "〔" else NUMBER_TOKEN if piece[0].isdecimal() else piece.lower()
              for piece in _OTHERS.findall(text)]
    if others:
        text = _OTHERS.sub(_RUN_BREAK + _OTHER_PIECE + _RUN_BREAK, text)
    return _NOT_HAN_OR_MARK.sub(_RUN_BREAK, text), others


def segment(text: str) -> list[str]:
    """Content words of normalised ``text``: ``tokens`` without stop words.

    Single characters are kept on purpose: 差, 漏, 臭, 堵, 吵 carry complaints.
    """
    stop = stopwords()
    return [word for word in tokens(text) if word not in stop]
