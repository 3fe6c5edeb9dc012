"""Stage 1: make any incoming text comparable with the training text.

HTML fragments and entities go, full-width letters/digits/punctuation become half-width
(NFKC), traditional script becomes simplified (OpenCC's phrase-level ``t2s`` table), and
runs of white space become one space. Nothing here drops content words; hotline filler is
dropped later, at the token level (``segment.py``), where ``喂`` can be told from ``喂养``.
"""
from __future__ import annotations

import html
import re
import unicodedata

import opencc

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]{0,200}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
_TO_SIMPLIFIED = opencc.OpenCC("t2s")
# The characters NFKC changes in almost every Chinese text (full-width punctuation, letters
# and digits, the ideographic and no-break spaces), each to one ASCII character. Mapping
# them first lets most texts skip NFKC itself after its quick check, with the same result
# (tests/test_normalise.py): 300 characters in 10 us instead of 40. A regular expression
# finds the ~20 of them (``str.translate`` looks up every character, and took 25 us).
_COMMON_COMPATIBILITY = {chr(code): unicodedata.normalize("NFKC", chr(code))
                         for code in (*range(0xFF01, 0xFF5F), 0x3000, 0x00A0)}
_COMMON_COMPATIBLE = re.compile("[\uff01-\uff5e\u3000\u00a0]")
# Most of those are a few punctuation marks (on real messages these eight are 99.8 % of
# them, the comma alone 77 %): ``str.replace``, one scan in C each, changes them without a
# Python call per match, and the expression is left for the rare rest (15 us -> 3 us).
_FREQUENT_COMPATIBLE = tuple((character, _COMMON_COMPATIBILITY[character]) for character in "，？！：）（；\u00a0")
# Lone surrogates: how Python keeps bytes that did not decode (``surrogateescape``: argv,
# stdin, batch files), or what a JSON string escapes ("\udce5"). No character: nothing can
# encode them.
SURROGATE = re.compile("[\ud800-\udfff]")


def normalise(text: str) -> str:
    """Return ``text`` in the canonical form every later stage expects.

    Idempotent: ``normalise(normalise(t)) == normalise(t)``. Never fails on a string: lone
    surrogates (bytes that did not decode, kept by ``surrogateescape``) become U+FFFD, as a
    lossy decoder would have made them, and screening counts them.
    """
    text = _TAG.sub(" ", html.unescape(text))
    for character, form in _FREQUENT_COMPATIBLE:
        text = text.replace(character, form)
    if _COMMON_COMPATIBLE.search(text):
        text = _COMMON_COMPATIBLE.sub(_compatible_form, text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    try:
        text = _TO_SIMPLIFIED.convert(text)
    except UnicodeEncodeError:  # lone surrogates: bytes that did not decode; they read as U+FFFD
        text = _TO_SIMPLIFIED.convert(SURROGATE.sub("\ufffd", text))
    text = _CONTROL.sub("", text)
    return " ".join(text.split())  # runs of white space as one space, none at the ends


def _compatible_form(match: re.Match) -> str:
    return _COMMON_COMPATIBILITY[match.group()]
