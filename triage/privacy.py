"""Personal data in complaint text: phone, ID-card, bank-card and plate numbers.

Masking runs on normalised text (full-width digits are already ASCII) and before any
feature is made, so no model ever learns a caller's number and no log, explanation or
stored text carries one.
"""
from __future__ import annotations

import re

from .compiled import optional

_scan = optional("_scan")

# Order matters: an 18-digit ID number would also match the bank-card pattern.
_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("id_number", "〔身份证号〕", re.compile(
        r"(?<![0-9])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])")),
    ("phone", "〔电话〕", re.compile(
        r"(?<![0-9])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9])")),
    ("bank_card", "〔银行卡号〕", re.compile(r"(?<![0-9])\d(?:[- ]?\d){15,18}(?![0-9])")),
    ("phone", "〔电话〕", re.compile(r"(?<![0-9])0\d{2,3}[- ]?\d{7,8}(?![0-9])")),
    ("plate", "〔车牌号〕", re.compile(
        r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
        r"[A-HJ-NP-Z][·. ]?[A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]?(?![A-Za-z0-9])")),
)

# Every number pattern above needs seven or more digits in one run (digits joined by at
# most one space or hyphen); a text without such a run skips them: one cheap search
# instead of four scans in most complaints, whose numbers are dates, floors and prices.
# ``_scan.long_number``'s definition.
_LONG_NUMBER = re.compile(r"\d(?:[- ]?\d){6}")
_NUMBER_KINDS = frozenset({"id_number", "phone", "bank_card"})

PLACEHOLDERS = tuple(dict.fromkeys(placeholder for _, placeholder, _ in _PATTERNS))


def mask_personal_data(text: str) -> tuple[str, list[str]]:
    """Replace each personal number with a placeholder such as ``〔电话〕``.

    Returns:
        The masked text and the sorted kinds found (``phone``, ``id_number``, ...).
    """
    kinds = set()
    numbers = _scan.long_number(text) if _scan else _LONG_NUMBER.search(text) is not None
    for kind, placeholder, pattern in _PATTERNS:
        if kind in _NUMBER_KINDS and not numbers:
            continue
        text, count = pattern.subn(placeholder, text)
        if count:
            kinds.add(kind)
    return text, sorted(kinds)
