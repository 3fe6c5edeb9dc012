"""The reference segmenter: plain jieba with its dictionary loaded from a faster cache.

jieba keeps its prefix dictionary (every word of ``dict.txt`` and each of its prefixes,
about 500,000 entries, with their frequencies) in a ``marshal`` file; loading it took
0.7-0.9 s of a fresh process, the largest part of the service's start. Here the same
dictionary is kept as its words joined by line breaks and their frequencies as one
array, and rebuilt with ``dict(zip(...))`` in about 0.17 s (docs/BENCHMARKS.md). The
dictionary is the one ``jieba.Tokenizer.gen_pfdict`` builds from jieba's own file,
so the tokens are jieba's (tests/test_reference_jieba.py compares both dictionaries).

The cache lives in the temporary folder, as jieba's does, named after jieba's version
and its dictionary file, written once by whichever process needs it first (to a
temporary name, then renamed) and rebuilt when it is unreadable.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
from pathlib import Path

import numpy

_MAGIC = b"triage-jieba-prefixes.v1\n"
_WORD_BREAK = "\n"  # never inside a word: each comes from one line of jieba's file
_FREQUENCY = numpy.dtype("<i8")


def tokenizer():
    """A ``jieba.Tokenizer`` on jieba's default dictionary, initialised, without the
    project's domain words (``segment`` adds them)."""
    jieba = _jieba()
    jieba.setLogLevel(logging.WARNING)
    loaded = jieba.Tokenizer()
    loaded.FREQ, loaded.total = prefix_dictionary(loaded)  # what its ``initialize`` sets, and:
    loaded.initialized = True
    return loaded


def prefix_dictionary(blank) -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary and total frequency for ``blank``, a new
    ``jieba.Tokenizer`` on the default dictionary: from the cache, else built and cached."""
    try:
        path = cache_path()
    except OSError:  # jieba's dictionary is not a file of its own (not a pip install): no cache
        return blank.gen_pfdict(blank.get_dict_file())
    try:
        return _read(path.read_bytes())
    except (OSError, ValueError):
        pass
    frequencies, total = blank.gen_pfdict(blank.get_dict_file())
    _write(path, frequencies, total)
    return frequencies, total


def cache_path() -> Path:
    """Where this jieba's dictionary is cached: named after jieba's version and the
    size and time of its dictionary file, so an upgraded jieba never reads an old cache."""
    jieba = _jieba()
    dictionary = os.stat(Path(jieba.__file__).parent / "dict.txt")
    key = f"{jieba.__version__} {dictionary.st_size} {dictionary.st_mtime_ns}"
    return Path(tempfile.gettempdir()) / f"triage-jieba-{hashlib.sha256(key.encode()).hexdigest()[:16]}.cache"


def _jieba():
    """The ``jieba`` module, imported without ``pkg_resources`` where nothing imported it
    yet: jieba imports it only to open its own data files and opens them by path without it
    (``jieba._compat``), and importing it took 0.08 s of 0.10 (and warns with newer setuptools)."""
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # an import of it now raises ImportError
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


def _read(data: bytes) -> tuple[dict[str, int], int]:
    """The dictionary in ``data``: magic, total and count (two int64), the frequencies
    (``count`` int64), then the words in UTF-8 joined by ``_WORD_BREAK``."""
    header = len(_MAGIC) + 2 * _FREQUENCY.itemsize
    if not data.startswith(_MAGIC) or len(data) < header:
        raise ValueError("not a triage jieba cache")
    total, count = numpy.frombuffer(data, _FREQUENCY, 2, len(_MAGIC)).tolist()
    words_at = header + count * _FREQUENCY.itemsize
    frequencies = numpy.frombuffer(data, _FREQUENCY, count, header).tolist()
    words = data[words_at:].decode("utf-8").split(_WORD_BREAK)
    if len(words) != count:
        raise ValueError("truncated triage jieba cache")
    return dict(zip(words, frequencies)), total


def _write(path: Path, frequencies: dict[str, int], total: int) -> None:
    """Cache ``frequencies`` at ``path`` whole or not at all; a folder that cannot be
    written only means the next process builds the dictionary again."""
    data = b"".join([_MAGIC, numpy.array([total, len(frequencies)], _FREQUENCY).tobytes(),
                     numpy.fromiter(frequencies.values(), _FREQUENCY, len(frequencies)).tobytes(),
                     _WORD_BREAK.join(frequencies).encode("utf-8")])
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError as error:
        logging.getLogger(__name__).warning("could not cache jieba's dictionary at %s: %s", path, error)
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
