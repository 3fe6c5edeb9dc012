# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Scans of a whole text that regular expressions made one character at a time through the
expression engine, a few microseconds each of a 300-character text: the same answers from
one plain loop. Their definitions, which run where this module was not built, are the
expressions beside their callers: ``screening._NOT_HAN``, ``screening._marks``, ``privacy._LONG_NUMBER`` and
``privacy._read_out``, ``segment._TIE_PRONE``, ``segment._pieces`` and ``segment._put_back``
(the ``_PIECES`` expression and a list comprehension), ``safety._Prefilter.bits`` (its
``heads`` and ``singles``) and ``dialogue.asked_clauses`` (tests/test_scan.py compares each
with its definition)."""
from cpython.unicode cimport Py_UNICODE_ISDECIMAL, Py_UNICODE_ISSPACE
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport calloc, free

from ._arrays cimport CODE_POINT_BITS, is_han, table_position


cdef inline bint _spoken(Py_UCS4 character):
    """A digit as speech recognition writes one read out (``privacy._SPOKEN_DIGITS``)."""
    return character in u"零〇一二三四五六七八九幺两"


cdef inline bint _pause(Py_UCS4 character):
    """A mark a caller's pause leaves between a number's groups (``privacy._PAUSE_MARKS``)."""
    return character == u',' or character == u'.' or character == u'、' or character == u'。'


cdef inline bint _province(Py_UCS4 character):
    """The first character of a plate (``privacy._PROVINCES``)."""
    return character in u"京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


def han_count(str text):
    """How many characters of ``text`` are Chinese (``screening._NOT_HAN``'s complement)."""
    cdef Py_ssize_t count = 0
    cdef Py_UCS4 character
    for character in text:
        if is_han(character):
            count += 1
    return count


cdef inline bint _unknown(Py_UCS4 character) noexcept:
    """A character that stands for bytes no codec could read (``screening._UNKNOWN``)."""
    return 0xE000 <= character <= 0xF8FF or 0xD800 <= character <= 0xDFFF or character == 0xFFFD


cdef inline bint _latin1_trail(Py_UCS4 character) noexcept:
    """What follows a Latin-1 lead in mojibake (the second class of ``screening._LATIN1_LEADS``)."""
    return (0x80 <= character <= 0xBF or 0x2018 <= character <= 0x203A or 0x152 <= character <= 0x178
            or 0x2C6 <= character <= 0x2DC)


def garble_marks(str text):
    """What ``screening._garbled_reason`` reads of ``text`` before decoding anything, in one
    pass: whether it holds a run of ``screening._GARBAGE_RUNS``, how many characters stand
    for undecodable bytes (``screening._UNKNOWN``) and how many Latin-1 leads with a trail
    (``screening._LATIN1_LEADS``, counted as its ``findall`` does: no two overlap)."""
    cdef Py_ssize_t length = len(text), position = 0, unknown = 0, pairs = 0
    cdef Py_UCS4 character, following
    cdef bint garbage = False
    while position < length:
        character = text[position]
        following = text[position + 1] if position + 1 < length else 0
        if _unknown(character):
            unknown += 1
            garbage = garbage or (character == 0xFFFD and following == 0xFFFD)
        elif position + 2 < length and (
                (character == u"锟" and following == u"斤" and text[position + 2] == u"拷")
                or ((character == u"烫" or character == u"屯") and following == character
                    and text[position + 2] == character)):
            garbage = True
        elif 0xE0 <= character <= 0xEF and _latin1_trail(following):
            pairs += 1
            position += 2
            continue
        position += 1
    return garbage, unknown, pairs


def number_runs(str text):
    """What runs of digits ``text`` holds, as bits: 1, seven digits in a row, each pair joined
    by at most one space or hyphen (``privacy._LONG_NUMBER``; a digit is what ``\\d``
    matches, any decimal digit); 2, such a run of digits written or spoken (``_spoken``, as
    speech recognition writes a number read out), a pause mark (``_pause``) joining them too,
    with a spoken digit or a pause mark among them, or a plate's province and letter
    (``privacy._read_out``)."""
    cdef Py_ssize_t digits = 0, joins = 0  # the chain of written digits ending here: its digits, and joins since its last
    cdef Py_ssize_t said = 0, said_joins = 0  # the same of written and spoken ones
    cdef bint marked = False  # a spoken digit, or a pause mark between two digits, in that chain
    cdef bint paused = False  # the join since its last digit is a pause mark
    cdef bint decimal
    cdef int found = 0
    cdef Py_UCS4 character, before = 0
    for character in text:
        if character < 0x80:
            decimal = u'0' <= character <= u'9'
        else:  # no Chinese character is a decimal digit: most characters skip the table
            decimal = not is_han(character) and Py_UNICODE_ISDECIMAL(character)
        if decimal:
            digits = digits + 1 if joins <= 1 else 1
            joins = 0
            if digits >= 7:
                found |= 1
        elif digits and (character == u' ' or character == u'-'):
            joins += 1
        else:
            digits = joins = 0
        if decimal or _spoken(character):
            if said_joins > 1:
                said, marked = 0, False
            said += 1
            marked = marked or not decimal or (said_joins == 1 and paused)
            said_joins = 0
            if said >= 7 and marked:
                found |= 2
        elif said and (character == u' ' or character == u'-' or _pause(character)):
            said_joins += 1
            paused = _pause(character)
        elif said:
            said = said_joins = 0
            marked = False
        if u'A' <= character <= u'Z' and character != u'I' and character != u'O' and _province(before):
            found |= 2
        if found == 3:
            break
        before = character
    return found


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


def rule_bits(str text, const int32_t[::1] dense, const int32_t[::1] slots, const int64_t[::1] slot_keys, int shift,
              const uint64_t[:, ::1] masks):
    """The safety patterns that may match ``text`` (``safety._Prefilter.bits``), as the
    bits of ``masks``' rows (64 patterns a column) ORed into one number: the row of each
    of the text's characters, and of each two characters in a row (the second no line
    break), found in a ``KeyTable`` of those places (its ``probe_arrays``: ``dense``,
    ``slots``, ``slot_keys``, ``shift``), whose keys are a character's code point and two
    characters' code points as ``(first << CODE_POINT_BITS) | second``."""
    cdef Py_ssize_t length = len(text), at, word, words = masks.shape[1]
    cdef Py_ssize_t dense_size = dense.shape[0]
    cdef Py_UCS4 character, after
    cdef int64_t position
    cdef uint64_t *bits = <uint64_t *>calloc(max(words, 1), sizeof(uint64_t))
    if bits == NULL:
        raise MemoryError()
    for at in range(length):
        character = text[at]
        position = dense[character] if character < dense_size else table_position(<int64_t>character, slots, slot_keys, shift)
        if position >= 0:
            for word in range(words):
                bits[word] |= masks[position, word]
        if at + 1 < length:
            after = text[at + 1]
            if after != u'\n':
                position = table_position((<int64_t>character << CODE_POINT_BITS) | <int64_t>after, slots, slot_keys,
                                          shift)
                if position >= 0:
                    for word in range(words):
                        bits[word] |= masks[position, word]
    found = 0
    for word in range(words):
        found |= int(bits[word]) << (64 * word)
    free(bits)
    return found


cdef inline bint _latin(Py_UCS4 character) noexcept:
    return u'A' <= character <= u'Z' or u'a' <= character <= u'z'


def pieces(str text, str run_break, str other_piece, str number_token):
    """``segment._pieces``: the pieces of ``text`` that ``segment._PIECES`` finds, as the one
    string rjieba cuts (runs of Chinese as they are, any other piece as ``other_piece``,
    joined by ``run_break``) and the tokens of the other pieces in order (a placeholder as
    it is, a number as ``number_token``, a Latin word in lower case)."""
    cdef list runs = [], others = []
    cdef Py_ssize_t length = len(text), at = 0, end
    cdef Py_UCS4 character
    while at < length:
        character = text[at]
        end = at + 1
        if is_han(character):  # (?P<han>[\u3400-\u4dbf\u4e00-\u9fff]+)
            while end < length and is_han(text[end]):
                end += 1
            runs.append(text[at:end])
        elif character == u'〔':  # (?P<placeholder>〔[\u4e00-\u9fff]{2,5}〕)
            while end < length and end - at <= 5 and 0x4E00 <= <Py_UCS4>text[end] <= 0x9FFF:
                end += 1
            if end - at < 3 or end >= length or text[end] != u'〕':
                at += 1
                continue
            end += 1
            runs.append(other_piece)
            others.append(text[at:end])
        elif Py_UNICODE_ISDECIMAL(character):  # (?P<number>\d+(?:\.\d+)?)
            while end < length and Py_UNICODE_ISDECIMAL(text[end]):
                end += 1
            if end + 1 < length and text[end] == u'.' and Py_UNICODE_ISDECIMAL(text[end + 1]):
                end += 2
                while end < length and Py_UNICODE_ISDECIMAL(text[end]):
                    end += 1
            runs.append(other_piece)
            others.append(number_token)
        elif _latin(character):  # (?P<latin>[A-Za-z][A-Za-z'\-]*)
            while end < length and (_latin(text[end]) or text[end] == u"'" or text[end] == u'-'):
                end += 1
            runs.append(other_piece)
            others.append(text[at:end].lower())
        else:
            at += 1
            continue
        at = end
    return run_break.join(runs), others


def put_back(list words, list others, str other_piece, frozenset skipped):
    """``segment._put_back``: ``words`` without the ``skipped`` ones, each ``other_piece``
    replaced by the next of ``others``."""
    cdef list found = []
    cdef Py_ssize_t next_other = 0
    cdef str word
    for word in words:
        if word in skipped:
            continue
        if word == other_piece:
            found.append(others[next_other])
            next_other += 1
        else:
            found.append(word)
    return found


cdef inline bint _clause_mark(Py_UCS4 character) noexcept:
    if character < 128:
        return character == u',' or character == u'!' or character == u'?' or character == u';' \
            or Py_UNICODE_ISSPACE(character)
    return character == u'，' or character == u'。' or character == u'！' or character == u'？' \
        or character == u'；' or character == u'、' or (character <= 0x3000 and Py_UNICODE_ISSPACE(character))


def asked_clauses(str text, Py_ssize_t longest):
    """``dialogue.asked_clauses``: the (start, end) of each clause of ``text`` (a run of
    characters between the marks ``dialogue._CLAUSE`` splits at) of at most ``longest``
    characters that a question mark follows or that holds 稍等, 留一下, 提供一下, 留一个 or 留下."""
    cdef Py_ssize_t at = 0, start = -1
    cdef Py_UCS4 character, one = 0, two = 0, three = 0  # the clause's last characters before this one
    cdef bint held = False
    cdef list found = []
    for character in text:
        if 0x4E00 <= character <= 0x9FFF or not _clause_mark(character):  # most characters: no mark
            if start < 0:
                start = at
            if character == u'等':
                held = held or one == u'稍'
            elif character == u'下':
                held = held or one == u'留' or (one == u'一' and (two == u'留' or (two == u'供' and three == u'提')))
            elif character == u'个':
                held = held or (one == u'一' and two == u'留')
            three, two, one = two, one, character
        else:
            if start >= 0 and at - start <= longest and (held or character == u'?' or character == u'？'):
                found.append((start, at))
            start, held, one, two, three = -1, False, 0, 0, 0
        at += 1
    if start >= 0 and held and at - start <= longest:
        found.append((start, at))
    return found
