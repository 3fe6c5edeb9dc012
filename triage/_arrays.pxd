# What the compiled loops share: the array element types they are specialised for, which
# characters are Chinese, how code points pack into one key, and the lookup of one key in a
# ``keytable.KeyTable``'s probe arrays.
from libc.stdint cimport int32_t, int64_t, uint64_t

cdef enum:
    CODE_POINT_BITS = 21  # features.CODE_POINT_BITS: a key of n characters is their code points, this many bits each


cdef inline bint is_han(Py_UCS4 character) noexcept nogil:
    """A Chinese character (``features._HAN_RANGES``, the expressions' ``[\u3400-\u4dbf\u4e00-\u9fff]``)."""
    return 0x3400 <= character <= 0x4DBF or 0x4E00 <= character <= 0x9FFF

ctypedef fused value_type:  # feature values and weights: float32 as the shipped model holds them, float64 as learned
    float
    double

ctypedef fused index_type:  # a CSR matrix's indices and indptr (scipy's int32, or int64 for the largest)
    int32_t
    int64_t

ctypedef fused length_type:  # values per row, of the indptr's type, which need not be the indices'
    int32_t
    int64_t


cdef inline int64_t table_position(int64_t key, const int32_t[::1] slots, const int64_t[::1] slot_keys,
                                   int shift) noexcept nogil:
    """KeyTable.lookup of one key (its index in the table's keys, or -1): its home slot by
    Fibonacci hashing (keytable._GOLDEN), then linear probing."""
    cdef uint64_t mask = slots.shape[0] - 1
    cdef uint64_t slot = (<uint64_t>key * 0x9E3779B97F4A7C15ULL) >> shift
    cdef int32_t index
    while True:
        index = slots[slot]
        if index < 0 or slot_keys[slot] == key:
            return index
        slot = (slot + 1) & mask
