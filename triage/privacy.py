"""Personal data in complaint text: phone, ID-card, bank-card and plate numbers.

Masking runs on normalised text (full-width digits are already ASCII) and before any
feature is made, so no model ever learns a caller's number and no log, explanation or
stored text carries one. A number read out in a call reaches the text as speech recognition
heard it (一三八一二三四五六七八, 幺 for one, 两 for two): where such a run of seven stands,
or a plate with one (湘A一二三四五), the text is read again with each spoken digit as its
digit and what the same patterns find there is masked too.
"""
from __future__ import annotations

import re

from .compiled import optional

_scan = optional("_scan")

_PROVINCES = "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
# Order matters: an 18-digit ID number would also match the bank-card pattern.
_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("id_number", "〔身份证号〕", re.compile(
        r"(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])")),
    ("phone", "〔电话〕", re.compile(
        r"(?<![0-9])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9])")),
    ("bank_card", "〔银行卡号〕", re.compile(r"(?<![0-9])\d(?:[- ]?\d){15,18}(?![0-9])")),
    ("phone", "〔电话〕", re.compile(r"(?<![0-9])0\d{2,3}[- ]?\d{7,8}(?![0-9])")),
    ("plate", "〔车牌号〕", re.compile(
        _PROVINCES + r"[A-HJ-NP-Z][·. ]?[A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]?(?![A-Za-z0-9])")),
)

# Every number pattern above needs seven or more digits in one run (digits joined by at
# most one space or hyphen); a text without such a run skips them: one cheap search
# instead of four scans in most complaints, whose numbers are dates, floors and prices.
# ``_scan.number_runs``' first bit's definition.
_LONG_NUMBER = re.compile(r"\d(?:[- ]?\d){6}")
_NUMBER_KINDS = frozenset({"id_number", "phone", "bank_card"})
# Digits as speech recognition writes a number read out (幺 for one, 两 for two; 叉 for an ID
# number's X), each for its digit, and the comma it puts where the caller paused beside a
# spoken digit (一三八，一二三四，五六七八) as a space (between written digits a comma stays:
# 1,2,3,…,16 may be a list); where one may stand (``_read_out``): a run of seven digits,
# written or spoken, joined by a space, hyphen or comma, or a plate's province and letter.
_SPOKEN_DIGITS = "零〇一二三四五六七八九幺两"
_AS_WRITTEN = str.maketrans(_SPOKEN_DIGITS + "叉", "0012345678912X")
_PAUSE = re.compile(f"(?<=[{_SPOKEN_DIGITS}\\d]),(?=[{_SPOKEN_DIGITS}])|(?<=[{_SPOKEN_DIGITS}]),(?=\\d)")
_SPOKEN_NUMBER = re.compile(f"[{_SPOKEN_DIGITS}\\d](?:[-, ]?[{_SPOKEN_DIGITS}\\d]){{6,}}|{_PROVINCES}[A-HJ-NP-Z]")
_READ_OUT_MARKS = frozenset(_SPOKEN_DIGITS + _PROVINCES.strip("[]"))

PLACEHOLDERS = tuple(dict.fromkeys(placeholder for _, placeholder, _ in _PATTERNS))


def mask_personal_data(text: str) -> tuple[str, list[str]]:
    """Replace each personal number with a placeholder such as ``〔电话〕``.

    Returns:
        The masked text and the sorted kinds found (``phone``, ``id_number``, ...).
    """
    kinds: set[str] = set()
    runs = _scan.number_runs(text) if _scan else (_LONG_NUMBER.search(text) is not None) | 2 * _read_out(text)
    text = _masked(text, text, bool(runs & 1), kinds)
    if runs & 2:  # a number read out: what the patterns find in it as written goes too
        text = _masked(text, _PAUSE.sub(" ", text).translate(_AS_WRITTEN), True, kinds)
    return text, sorted(kinds)


def _read_out(text: str) -> bool:
    """Whether ``text`` may hold a number read out: seven digits in a row, written or
    spoken, a spoken one among them (each pair joined by at most one space, hyphen or
    comma), or a plate's province and letter. ``_scan.number_runs``'s second bit; its definition."""
    return any(not _READ_OUT_MARKS.isdisjoint(match[0]) for match in _SPOKEN_NUMBER.finditer(text))


def _masked(text: str, read: str, numbers: bool, kinds: set[str]) -> str:
    """``text`` with each match of ``_PATTERNS`` in ``read`` (``text`` itself, or ``text``
    with its spoken digits as digits: the same length, so a span of one is a span of the
    other) replaced by its placeholder; each kind found added to ``kinds``. ``numbers``:
    whether a run of seven digits stands, without which only plates are looked for."""
    for kind, placeholder, pattern in _PATTERNS:
        if kind in _NUMBER_KINDS and not numbers:
            continue
        if read is text:
            text, count = pattern.subn(placeholder, text)
            read = text
        else:
            spans = [match.span() for match in pattern.finditer(read)]
            count = len(spans)
            if spans:
                text, read = _spliced(text, spans, placeholder), _spliced(read, spans, placeholder)
        if count:
            kinds.add(kind)
    return text


def _spliced(text: str, spans: list[tuple[int, int]], placeholder: str) -> str:
    """``text`` with each of ``spans`` (in order, apart) replaced by ``placeholder``."""
    pieces, position = [], 0
    for start, end in spans:
        pieces += [text[position:start], placeholder]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
