"""triage.memory: what glibc does with freed memory, in batch workers and in retraining."""
import os
import subprocess
import sys

import pytest

from triage.memory import available_memory

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
                           reason="glibc's allocator")


_MAPPED_BY_AN_ARRAY = """
import ctypes
import numpy as np
from triage.memory import keep_array_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                     "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2

def mapped_by_an_array():  # bytes glibc mapped afresh for one 2 MB array
    before = libc.mallinfo2().hblkhd
    array = np.ones(2 << 20, np.uint8)
    return libc.mallinfo2().hblkhd - before

print(mapped_by_an_array())
keep_array_memory()
print(mapped_by_an_array())
"""


@glibc
def test_batch_workers_reuse_freed_array_memory_though_dask_set_a_trim_threshold():
    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which freezes glibc's mmap threshold at 128 KB.
    done = subprocess.run([sys.executable, "-c", _MAPPED_BY_AN_ARRAY], capture_output=True, text=True, check=True,
                          env={**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"})
    before, after = map(int, done.stdout.split())
    assert before >= 2 << 20  # mapped afresh, faulted in page by page, unmapped when freed
    assert after == 0         # from the heap, where freed memory waits for the next array


_FREED_ARRAYS = """
import numpy as np
from triage.memory import give_back_freed_memory

def resident():
    return int(open("/proc/self/statm").read().split()[1]) * 4096

np.ones(4 << 20, np.uint8).sum()  # made and freed: glibc now serves blocks this large from its heap
arrays = [np.ones(3 << 20, np.uint8) for _ in range(40)]  # as featurising's chunks make
del arrays[:-1]  # the last one stands at the top of the heap, so glibc cannot trim there by itself
before = resident()
give_back_freed_memory()
print(before - resident())
"""


@glibc
def test_retraining_hands_back_the_memory_featurising_freed():
    done = subprocess.run([sys.executable, "-c", _FREED_ARRAYS], capture_output=True, text=True, check=True)
    assert int(done.stdout) > 100 << 20  # of the 117 MB of arrays freed below the last one; 0 without


def test_available_memory_is_what_the_system_says_or_none():
    available = available_memory()
    if not os.path.exists("/proc/meminfo"):
        assert available is None
    else:
        assert 0 < available <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
