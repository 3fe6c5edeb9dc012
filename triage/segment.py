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

import re
import threading
from functools import lru_cache
from . import reference_jieba
from .compiled import optional
from .errors import SettingError
from .taxonomy import resource_lines

_scan = optional("_scan")

_PIECES = re.compile(
    r"(?P<han>[\u3400-\u4dbf\u4e00-\u9fff]+)"
    r"|(?P<placeholder>〔[\u4e00-\u9fff]{2,5}〕)"
    r"|(?P<number>\d+(?:\.\d+)?)"
    r"|(?P<latin>[A-Za-z][A-Za-z'\-]*)"
)
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
# ``_scan.tripled``'s definition.
_TIE_PRONE = re.compile(r"(.)\1\1")


def _tie_prone(text: str) -> bool:
    """Whether ``text`` holds a tie-prone run; by ``_scan.tripled`` where it was built."""
    return _scan.tripled(text) if _scan is not None else _TIE_PRONE.search(text) is not None


# The pieces of one text go to rjieba in one call: runs of Chinese as they are, every
# other piece as one private-use character that comes back as a token of its own, all
# separated by line breaks. A line break is a block boundary for jieba's algorithm, so
# each run is cut exactly as if alone (tests/test_segment.py checks this on real text).
_RUN_BREAK = "\n"
_OTHER_PIECE = "\ue000"


class _Engine:
    """One loaded segmenter; ``cut`` takes a run of Chinese characters, ``tokens`` a whole
    normalised text (``tokens`` below)."""

    def __init__(self, name: str):
        self.name = name
        if name == "rjieba":
            import rjieba

            self._tokenizer = rjieba.Jieba()
            for word, frequency in domain_words():
                self._tokenizer.add_word(word, frequency, None)
            self.cut = self._cut_fast
            self.tokens = self._tokens_fast
        else:
            self._tokenizer = reference_jieba.tokenizer()
            for word, frequency in domain_words():
                self._tokenizer.add_word(word, frequency)
            self.cut = lambda run: self._tokenizer.lcut(run, HMM=True)
            self.tokens = self._tokens_run_by_run

    def _cut_fast(self, run: str) -> list[str]:
        if _tie_prone(run):
            return engine("jieba").cut(run)
        return self._tokenizer.cut(run, True)

    def _tokens_run_by_run(self, text: str) -> list[str]:
        return tokens_run_by_run(self.cut, text)

    def _tokens_fast(self, text: str) -> list[str]:
        """One call into Rust for the whole text instead of one per run (a 300-character
        text has about 30 runs, and each call cost more in Python than the cutting)."""
        joined, others = _pieces(text)
        if _tie_prone(joined):
            return self._tokens_run_by_run(text)
        return _put_back(self._tokenizer.cut(joined, True), others)


def _pieces(text: str, compiled: bool = True) -> tuple[str, list[str]]:
    """The pieces of normalised ``text`` (``_PIECES``) as one string for rjieba, runs of
    Chinese as they are and any other piece as ``_OTHER_PIECE``, joined by ``_RUN_BREAK``;
    and the tokens of those other pieces, in order (``_other_tokens``). By the compiled scan
    (``_scan.pieces``) where it was built, else (and by definition) by the expression."""
    if _scan is not None and compiled:
        return _scan.pieces(text, _RUN_BREAK, _OTHER_PIECE, NUMBER_TOKEN)
    pieces = _PIECES.findall(text)
    return _RUN_BREAK.join([han or _OTHER_PIECE for han, _, _, _ in pieces]), _other_tokens(pieces)


def _put_back(words: list[str], others: list[str], compiled: bool = True) -> list[str]:
    """rjieba's ``words`` of ``_pieces``' string without filler and run breaks, each
    ``_OTHER_PIECE`` replaced by the next of ``others``. Filler is dropped before the
    other pieces are put back: filler phrases are Chinese words, never a number, a Latin
    word or a placeholder. By the compiled loop (``_scan.put_back``) where it was built."""
    skipped = _skipped_words()
    if _scan is not None and compiled:
        return _scan.put_back(words, others, _OTHER_PIECE, skipped)
    others = iter(others)
    return [next(others) if word == _OTHER_PIECE else word for word in words if word not in skipped]


def tokens_run_by_run(cut, text: str) -> list[str]:
    """``tokens`` of normalised ``text`` with ``cut`` (a run of Chinese characters -> its
    words) called on each run: how the reference engine works, and how
    ``bench/segmenters.py`` tries other implementations of jieba on the same input."""
    pieces = _PIECES.findall(text)
    others = iter(_other_tokens(pieces))
    words: list[str] = []
    for han, _, _, _ in pieces:
        if han:
            words += cut(han)
        else:
            words.append(next(others))
    filler = fillers()
    return [word for word in words if word not in filler]


def _other_tokens(pieces: list[tuple[str, str, str, str]]) -> list[str]:
    """The tokens of the pieces (``_PIECES.findall``: han, placeholder, number, Latin; one
    filled) that are not runs of Chinese, in order: a number as one token, a Latin word in
    lower case, a placeholder as it is."""
    return [placeholder or (NUMBER_TOKEN if number else latin.lower())
            for han, placeholder, number, latin in pieces if not han]


@lru_cache(maxsize=1)
def _skipped_words() -> frozenset[str]:
    return fillers() | {_RUN_BREAK}


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
    return engine(engine_name).tokens(text)


def segment(text: str) -> list[str]:
    """Content words of normalised ``text``: ``tokens`` without stop words.

    Single characters are kept on purpose: 差, 漏, 臭, 堵, 吵 carry complaints.
    """
    stop = stopwords()
    return [word for word in tokens(text) if word not in stop]
