# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Scans of a whole text that regular expressions made one character at a time through the
expression engine, a few microseconds each of a 300-character text: the same answers from
one plain loop. Their definitions, which run where this module was not built, are the
expressions beside their callers: ``screening._NOT_HAN``, ``privacy._LONG_NUMBER``,
``segment._TIE_PRONE`` and ``safety._Prefilter``'s ``heads`` and ``singles``
(tests/test_scan.py compares each with its expression)."""
from cpython.unicode cimport Py_UNICODE_ISDECIMAL
from libc.stdint cimport uint8_t

HEAD = 1  # ``places``' table: a character a word of two or more characters starts with
SINGLE = 2  # a word of one character


def han_count(str text):
    """How many characters of ``text`` are Chinese (``screening._NOT_HAN``'s complement)."""
    cdef Py_ssize_t count = 0
    cdef Py_UCS4 character
    for character in text:
        if 0x3400 <= character <= 0x4DBF or 0x4E00 <= character <= 0x9FFF:
            count += 1
    return count


def long_number(str text):
    """Whether ``text`` holds seven digits in a row, each pair joined by at most one space
    or hyphen (``privacy._LONG_NUMBER``; a digit is what ``\\d`` matches, any decimal digit)."""
    cdef Py_ssize_t digits = 0, joins = 0  # the chain ending here: its digits, and joins since its last
    cdef Py_UCS4 character
    for character in text:
        if Py_UNICODE_ISDECIMAL(character):
            digits = digits + 1 if joins <= 1 else 1
            joins = 0
            if digits >= 7:
                return True
        elif digits and (character == u' ' or character == u'-'):
            joins += 1
        else:
            digits = joins = 0
    return False


def tripled(str text):
    """Whether a character other than a line break stands three times in a row
    (``segment._TIE_PRONE``, ``(.)\\1\\1``)."""
    cdef Py_ssize_t run = 0
    cdef Py_UCS4 character, before = 0
    for character in text:
        run = run + 1 if run and character == before else 1
        before = character
        if run >= 3 and character != u'\n':
            return True
    return False


def places(str text, const uint8_t[::1] table):
    """The places where a rule's word may start (``safety._Prefilter.candidates``): each
    character marked ``HEAD`` in ``table`` (by code point) with the character after it,
    unless that is a line break or the text's end, and each character marked ``SINGLE``."""
    cdef set found = set()
    cdef Py_ssize_t length = len(text), at
    cdef Py_ssize_t size = table.shape[0]
    cdef Py_UCS4 character
    cdef uint8_t marks
    for at in range(length):
        character = text[at]
        if character >= size:
            continue
        marks = table[character]
        if marks & HEAD and at + 1 < length and text[at + 1] != u'\n':
            found.add(text[at:at + 2])
        if marks & SINGLE:
            found.add(text[at])
    return found
