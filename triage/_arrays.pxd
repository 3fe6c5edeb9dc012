# The array element types the compiled loops (_ngrams.pyx, _merging.pyx) are specialised for.
from libc.stdint cimport int32_t, int64_t

ctypedef fused value_type:  # feature values and weights: float32 as the shipped model holds them, float64 as learned
    float
    double

ctypedef fused index_type:  # a CSR matrix's indices and indptr (scipy's int32, or int64 for the largest)
    int32_t
    int64_t

ctypedef fused length_type:  # values per row, of the indptr's type, which need not be the indices'
    int32_t
    int64_t
