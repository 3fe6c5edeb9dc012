"""Personal data in complaint text: phone, ID-card, bank-card and plate numbers.

Masking runs on normalised text (full-width digits are already ASCII) and before any
feature is made, so no model ever learns a caller's number and no log, explanation or
stored text carries one. A number read out in a call reaches the text as speech recognition
heard it (一三八一二三四五六七八, 幺 for one, 两 for two), and a number said or typed with
pauses carries a mark between its groups (139，1234，5678): where such a run of seven stands,
or a plate with one (湘A一二三四五), the text is read again with each spoken digit as its
digit, and each run of groups that makes a phone, ID-card or bank-card number whole is masked
(``_said_numbers``), with the plates the patterns find there.
"""
from __future__ import annotations

import bisect
import itertools
import re

from .compiled import optional

_scan = optional("_scan")

_PROVINCES = "[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]"
_ID_DIGITS = r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"  # an ID number's first 17 digits
# Order matters: an 18-digit ID number would also match the bank-card pattern.
_PATTERNS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("id_number", "〔身份证号〕", re.compile(r"(?<![0-9])" + _ID_DIGITS + r"[0-9Xx](?![0-9])")),
    ("phone", "〔电话〕", re.compile(  # 139 1234 5678, or a space after every digit (1 3 9 8 …)
        r"(?<![0-9])(?:\+?86[- ]?)?(?:1[3-9]\d(?:[- ]?\d{4}){2}|1(?: \d){10})(?![0-9])")),
    ("bank_card", "〔银行卡号〕", re.compile(r"(?<![0-9])\d(?:[- ]?\d){15,18}(?![0-9])")),
    ("phone", "〔电话〕", re.compile(r"(?<![0-9])0\d{2,3}[- ]?(?:\d{7,8}|\d{3,4}[- ]\d{4})(?![0-9])")),  # 025 8345 1234
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
# number's X), each for its digit; and the marks a caller's pauses leave between a number's
# groups, as typed or transcribed (139，1234，5678; 139。1234。5678; 139、1234、5678). Where
# either may stand (``_read_out``): a run of seven digits, written or spoken, each pair joined
# by at most one space, hyphen or such mark, a spoken digit or a mark among them; or a plate's
# province and letter.
_SPOKEN_DIGITS = "零〇一二三四五六七八九幺两"
_AS_WRITTEN = str.maketrans(_SPOKEN_DIGITS + "叉", "0012345678912X")
_SPOKEN = re.compile(f"[{_SPOKEN_DIGITS}叉]+")
_PAUSE_MARKS = ",.、。"
_SPOKEN_NUMBER = re.compile(f"[{_SPOKEN_DIGITS}\\d](?:[- {_PAUSE_MARKS}]?[{_SPOKEN_DIGITS}\\d]){{6,}}|{_PROVINCES}[A-HJ-NP-Z]")
_READ_OUT_MARKS = frozenset(_SPOKEN_DIGITS + _PAUSE_MARKS + _PROVINCES.strip("[]"))
# In a text read as written: a run of a number's groups, each joined to the next by one space,
# hyphen or pause mark (an ID number's X ends it), and its groups
_GROUPED = re.compile(f"\\d+(?:[- {_PAUSE_MARKS}]\\d+)*X?")
_GROUP = re.compile(r"\d+X?")
# What a run of groups must make, whole, to be masked: an ID number, a mobile number, a bank
# card (one said in groups is said in fours, starts as the cards issued here do, 3 to 6 or 9,
# and passes the Luhn check: a list of years or of permit numbers, 2018-0051、2018-0052, is
# no card, though a list of four such numbers that passes it, one in ten, is masked as one),
# a fixed line (one said in groups starts with its area code, 0 then not 0)
_ID_NUMBER = re.compile(_ID_DIGITS + "[0-9X]")  # read as written: 叉 is X
_MOBILE = re.compile(r"1[3-9]\d{9}")
_CARD = re.compile(r"\d{16,19}")
_CARD_IN_FOURS = re.compile(r"[3-69]\d{3}(?:\d{4}){3}\d{0,3}")
_FIXED_LINE = re.compile(r"0\d{9,11}")
_AREA_CODE = re.compile(r"0[1-9]\d{1,2}")
_SHORTEST, _LONGEST = 10, 19  # digits (and an ID number's X): a fixed line's fewest, a bank card's most
_PLATE = _PATTERNS[-1][2]

_PLACEHOLDER = {kind: placeholder for kind, placeholder, _ in _PATTERNS}
PLACEHOLDERS = tuple(dict.fromkeys(_PLACEHOLDER.values()))


def mask_personal_data(text: str) -> tuple[str, list[str]]:
    """Replace each personal number with a placeholder such as ``〔电话〕``.

    Returns:
        The masked text and the sorted kinds found (``phone``, ``id_number``, ...).
    """
    kinds: set[str] = set()
    runs = _scan.number_runs(text) if _scan else (_LONG_NUMBER.search(text) is not None) | 2 * _read_out(text)
    text = _masked(text, bool(runs & 1), kinds)
    if runs & 2:  # a number read out or said with pauses, or a plate read out
        read = _SPOKEN.sub(_as_written, text)
        spans = sorted(_said_numbers(read) + [(*match.span(), "plate") for match in _PLATE.finditer(read)])
        if spans:
            text = _spliced(text, spans, kinds)
    return text, sorted(kinds)


def _as_written(said: re.Match) -> str:
    """Spoken digits ``said`` as written (一三八 as 138, 叉 as X): one ``str.translate`` of the
    whole text cost more than the rest of the masking of a text read again."""
    return said[0].translate(_AS_WRITTEN)


def _read_out(text: str) -> bool:
    """Whether ``text`` may hold a number read out or said with pauses: seven digits in a
    row, written or spoken, each pair joined by at most one space, hyphen or pause mark, a
    spoken digit or a pause mark among them; or a plate's province and letter.
    ``_scan.number_runs``'s second bit; its definition."""
    return any(not _READ_OUT_MARKS.isdisjoint(match[0]) for match in _SPOKEN_NUMBER.finditer(text))


def _said_numbers(read: str) -> list[tuple[int, int, str]]:
    """The spans and kinds of the numbers in ``read`` (a text with its spoken digits as
    digits) said in groups: in each run of groups, the longest runs of whole groups, from the
    first on, that make an ID, mobile, bank-card or fixed-line number (``_said_number``):
    1,2,3,…,16, 15 11 90294 11 (a table's cells) and 115、123、204、206、208、210 (bus routes)
    are not one number."""
    spans = []
    for run in _GROUPED.finditer(read):
        if run.end() - run.start() < _SHORTEST:  # fewer digits than any number has
            continue
        groups = [group.span() for group in _GROUP.finditer(read, *run.span())]
        first = 0
        while first < len(groups):
            if groups[first][1] - groups[first][0] < 3:  # too short to be a number or its first group
                first += 1
                continue
            said = _said_number([read[start:end] for start, end in groups[first:first + _LONGEST]])
            if said:
                count, kind = said
                spans.append((groups[first][0], groups[first + count - 1][1], kind))
                first += count
            else:
                first += 1
    return spans


def _said_number(groups: list[str]) -> tuple[int, str] | None:
    """How many of ``groups`` (a number's groups of digits as said, from the first on) make a
    personal number whole, the most that do, and its kind (``_number_kind``); None if none do.
    A number said in several groups is said in groups of three digits or more, not all of three."""
    lengths = list(itertools.accumulate(map(len, groups)))
    # how many groups from the first are of three digits or more
    whole = next((count for count, group in enumerate(groups) if len(group) < 3), len(groups))
    for count in range(min(bisect.bisect_right(lengths, _LONGEST), max(whole, 1)), 0, -1):  # the longest first
        if lengths[count - 1] < _SHORTEST:
            break
        if count > 1 and all(len(group) == 3 for group in groups[:count]):
            continue
        kind = _number_kind(groups[:count])
        if kind:
            return count, kind
    return None


def _number_kind(groups: list[str]) -> str | None:
    """Which personal number ``groups`` (a number's groups of digits, as said) make whole, if any."""
    number = "".join(groups)
    if _ID_NUMBER.fullmatch(number):
        return "id_number"
    if _MOBILE.fullmatch(number):
        return "phone"
    if len(groups) == 1:
        return "bank_card" if _CARD.fullmatch(number) else "phone" if _FIXED_LINE.fullmatch(number) else None
    if (_CARD_IN_FOURS.fullmatch(number) and all(len(group) == 4 for group in groups[:-1]) and len(groups[-1]) <= 4
            and _luhn(number)):
        return "bank_card"
    if _FIXED_LINE.fullmatch(number) and _AREA_CODE.fullmatch(groups[0]):
        return "phone"
    return None


def _luhn(number: str) -> bool:
    """Whether ``number`` passes the Luhn check (its last digit checks the others)."""
    total = 0
    for position, digit in enumerate(map(int, reversed(number))):
        total += digit if position % 2 == 0 else digit * 2 - 9 * (digit > 4)
    return total % 10 == 0


def _masked(text: str, numbers: bool, kinds: set[str]) -> str:
    """``text`` with each match of ``_PATTERNS`` replaced by its placeholder; each kind found
    added to ``kinds``. ``numbers``: whether a run of seven digits stands, without which only
    plates are looked for."""
    for kind, placeholder, pattern in _PATTERNS:
        if kind in _NUMBER_KINDS and not numbers:
            continue
        text, count = pattern.subn(placeholder, text)
        if count:
            kinds.add(kind)
    return text


def _spliced(text: str, spans: list[tuple[int, int, str]], kinds: set[str]) -> str:
    """``text`` with each of ``spans`` (start, end, kind; in order) replaced by its kind's
    placeholder, a span that overlaps the one before it left out; each kind added to ``kinds``."""
    pieces, position = [], 0
    for start, end, kind in spans:
        if start >= position:
            pieces += [text[position:start], _PLACEHOLDER[kind]]
            position = end
            kinds.add(kind)
    pieces.append(text[position:])
    return "".join(pieces)
