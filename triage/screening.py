"""Stage 0: decide whether a text can be triaged honestly at all.

A text that is empty, not Chinese, or garbled (mojibake) gets a flag with a reason and no
category: a confident label on unreadable input is worse than none. Texts with too few
Chinese characters are still predicted but flagged ``too_short`` and sent to review.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .compiled import optional

_scan = optional("_scan")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Counted by deleting everything else: three times faster than len(findall(...)); ``_scan.han_count``'s definition.
_NOT_HAN = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff]+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
# Signatures of mojibake: UTF-8 replacement chars seen through GBK, and the runs a
# debugger fills uninitialised GBK memory with (substring tests: a fifth of a regex scan).
_GARBAGE_RUNS = ("锟斤拷", "烫烫烫", "屯屯屯", "\ufffd\ufffd")
# Characters that stand for bytes no codec could read: private-use ones, lone surrogates
# (``normalise.SURROGATE``) and the replacement character a lossy decode leaves.
_UNKNOWN = re.compile(r"[\ue000-\uf8ff\ud800-\udfff\ufffd]")
# Latin-1 letters that UTF-8 lead bytes of CJK characters turn into (å, æ, ç, é, è, ...).
_LATIN1_LEADS = re.compile(r"[\u00e0-\u00ef][\u0080-\u00bf\u2018-\u203a\u0152-\u0178\u02c6-\u02dc]")
_PROBE_BYTES = 120  # ``_reinterpret`` judges a long text's first bytes before decoding them all

UNREADABLE_CODES = frozenset({"empty", "not_chinese", "unreadable"})


@dataclass(frozen=True)
class Flag:
    code: str
    reason: str

    def to_dict(self) -> dict:
        return {"code": self.code, "reason": self.reason}


def screen(raw_text: str, normalised_text: str, *, min_chars: int) -> list[Flag]:
    """Flags for ``raw_text`` (as received) and its normalised form; empty when fine."""
    if not normalised_text:
        return [Flag("empty", "文本为空 (the text is empty or only white space)")]
    garbled = _garbled_reason(raw_text)
    if garbled:
        return [Flag("unreadable", garbled)]
    han = _scan.han_count(normalised_text) if _scan else len(_NOT_HAN.sub("", normalised_text))
    # Letters are never more than characters: a text that is 30 % Chinese characters needs no count.
    letters = len(_NOT_LETTER.sub("", normalised_text)) if han < 0.3 * len(normalised_text) else 0
    if han == 0 or han < 0.3 * letters:
        return [Flag("not_chinese",
                     f"不是中文 (only {han} of {letters} letters are Chinese characters)")]
    if han < min_chars:
        return [Flag("too_short", f"文本过短 ({han} Chinese characters; at least {min_chars} needed to judge)")]
    return []


def _garbled_reason(text: str) -> str | None:
    """Why ``text`` looks like bytes decoded with the wrong codec, or None."""
    garbage, unknown, latin1_pairs = _marks(text)
    if garbage:
        return "乱码 (contains replacement characters or 锟斤拷-style mojibake: the bytes were decoded with the wrong codec)"
    if not text.isascii():
        # UTF-8 bytes that were decoded as GBK/GB18030 re-encode to valid UTF-8; real
        # Chinese text almost never does (GBK trail bytes rarely form UTF-8 sequences).
        # A lossy decode leaves unknown characters behind; judge the pieces between them.
        for piece in _UNKNOWN.split(text) if unknown else [text]:
            repaired = _reinterpret(piece, "gb18030") if len(piece) >= 2 else None
            if repaired is not None:
                return f"乱码 (UTF-8 text decoded as GBK; it probably reads: {repaired[:20]!r})"
        if latin1_pairs >= 2:
            repaired = _reinterpret(text, "cp1252") or _reinterpret(text, "latin-1")
            hint = f"; it probably reads: {repaired[:20]!r}" if repaired else ""
            return f"乱码 (UTF-8 text decoded as Latin-1/Windows-1252{hint})"
    if unknown > max(1, len(text) // 50):
        return "乱码 (too many replacement or private-use characters: the bytes were decoded with the wrong codec)"
    return None


def _marks(text: str, compiled: bool = True) -> tuple[bool, int, int]:
    """Whether ``text`` holds one of ``_GARBAGE_RUNS``, how many ``_UNKNOWN`` characters and
    how many ``_LATIN1_LEADS`` pairs: by one compiled pass (``_scan.garble_marks``) where it
    was built, else (and by definition) by substring tests and the expressions, four scans."""
    if _scan is not None and compiled:
        return _scan.garble_marks(text)
    return (any(run in text for run in _GARBAGE_RUNS), len(_UNKNOWN.findall(text)),
            len(_LATIN1_LEADS.findall(text)))


def _reinterpret(text: str, wrong_codec: str) -> str | None:
    """``text`` re-encoded with the codec it was wrongly decoded with, read as UTF-8.

    None unless the result reads as Chinese: mostly Han characters and few bytes that
    still fail to decode (a lossy first decode leaves a few).
    """
    try:
        raw = text.encode(wrong_codec)
    except UnicodeEncodeError:
        return None
    if len(raw) > 2 * _PROBE_BYTES:
        # Real Chinese fails to decode at most of its bytes. The whole decode fails at least
        # as often as its first bytes do (less one: a character cut at the probe's end), and
        # holds at most len(raw) // 3 Han characters (three bytes each): past a fifth of
        # that many failures, the test below cannot pass. Most texts stop here.
        if 5 * (raw[:_PROBE_BYTES].decode("utf-8", errors="replace").count("\ufffd") - 1) > len(raw) // 3:
            return None
    repaired = raw.decode("utf-8", errors="replace")
    unknown = repaired.count("\ufffd")
    # Han characters are at most the others, so 5 x unknown <= Han needs 6 x unknown <= all.
    if repaired == text or 6 * unknown > len(repaired):
        return None
    han = len(_HAN.findall(repaired))
    return repaired if han >= 2 and unknown * 5 <= han else None
