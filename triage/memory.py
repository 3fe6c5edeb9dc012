"""This process's memory: glibc's allocator settings, handing freed memory back, and how
much the system can still give.

Batch workers and retraining make and free large arrays by the thousand; what glibc does
with freed memory decides whether they run from reused pages or fresh ones (batch), and
whether memory freed by one stage is there for the next (retraining). Every function is a
no-op, or answers ``None``, where the C library is not glibc or the system does not say.
"""
from __future__ import annotations

import ctypes
from functools import lru_cache

# glibc's mallopt parameters, and the values a batch worker runs with (see keep_array_memory).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES = 32 << 20   # glibc's own ceiling for the threshold it adapts by itself
_TRIM_THRESHOLD_BYTES = 64 << 20   # twice it, as glibc sets it when it adapts


@lru_cache(maxsize=1)
def _glibc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def keep_array_memory() -> None:
    """Let this process's freed array memory be reused instead of handed back to the system.

    A batch chunk's arrays (n-gram keys, TF-IDF values: a few MB each) are made and freed by
    the thousand. glibc serves blocks above its mmap threshold with fresh pages, and raises
    that threshold as such blocks are freed, unless a trim or mmap threshold was set, as Dask's
    nanny sets one (``MALLOC_TRIM_THRESHOLD_=65536``, ``distributed.nanny.pre-spawn-environ``)
    to give memory back: then every large array is mapped, faulted in page by page and
    unmapped again: a 500-row chunk took a fifth longer in process (2,580 rows/s against
    3,150), and the Dask engine ran at 2,314 rows/s on two workers, 2,514-2,563 with this
    (docs/BENCHMARKS.md, session 18). Fixed at glibc's own adaptive ceiling, a worker holds at
    most ``_TRIM_THRESHOLD_BYTES`` of freed memory above what it uses."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)


def give_back_freed_memory() -> None:
    """Hand the heap's free pages back to the system. Featurising a retraining corpus makes
    and frees arrays of a few MB by the thousand, which glibc serves from its heap once its
    mmap threshold has risen past them; it keeps what they freed below the heap's top for
    this process, while other processes (the head workers) need it: 490 of the 902 MB the
    parent held after featurising 100,000 rows (docs/BENCHMARKS.md, session 19)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def available_memory() -> int | None:
    """Bytes the system can give without swapping (``MemAvailable``: free memory and the page
    cache it can drop), or None where /proc/meminfo does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
