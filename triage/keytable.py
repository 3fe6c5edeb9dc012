"""A read-only hash table from int64 keys to their positions, built and queried with
numpy: open addressing, linear probing, each probe round one vectorised gather.

It replaces ``numpy.searchsorted`` for n-gram lookups, which costs ~20 random memory
reads per key over a 300k-key vocabulary and was the slowest step of featurising.
"""
from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_EMPTY = -1
# Below this many keys still probing, a vectorised round costs more than a Python loop.
_FEW = 16
# Up to this many queries (a few texts), a binary search beats the hash rounds.
_FEW_QUERIES = 4096


class KeyTable:
    """Maps each of ``keys`` (unique int64) to its index in ``keys``."""

    def __init__(self, keys: np.ndarray):
        self.keys = np.ascontiguousarray(keys, dtype=np.int64)
        bits = max(4, int(np.ceil(np.log2(max(1, len(self.keys)) * 2.5))))
        self._mask = (1 << bits) - 1
        self._shift = np.uint64(64 - bits)
        self._slots = np.full(1 << bits, _EMPTY, dtype=np.int32)
        pending = np.arange(len(self.keys))
        slot = self._home(self.keys)
        while pending.size:
            targets = slot[pending]
            free = self._slots[targets] == _EMPTY
            # Several keys may want the same free slot in one round: the first wins.
            won_slots, first = np.unique(targets[free], return_index=True)
            winners = pending[free][first]
            self._slots[won_slots] = winners
            pending = np.setdiff1d(pending, winners, assume_unique=True)
            slot[pending] = (slot[pending] + 1) & self._mask

    def lookup(self, queries: np.ndarray) -> np.ndarray:
        """Index in ``keys`` of each query, or -1 where the query is not a key."""
        queries = np.asarray(queries, dtype=np.int64)
        if len(queries) <= _FEW_QUERIES and self._keys_sorted():
            return self._search(queries)
        result = np.full(len(queries), _EMPTY, dtype=np.int64)
        if not len(self.keys):
            return result
        slot = self._home(queries)
        pending = np.arange(len(queries))
        while pending.size > _FEW:
            index = self._slots[slot[pending]]
            occupied = index != _EMPTY
            hit = occupied.copy()
            hit[occupied] = self.keys[index[occupied]] == queries[pending[occupied]]
            result[pending[hit]] = index[hit]
            pending = pending[occupied & ~hit]
            slot[pending] = (slot[pending] + 1) & self._mask
        for position in pending.tolist():  # the last few keys of long probe chains, one by one
            query, probe = int(queries[position]), int(slot[position])
            while (index := int(self._slots[probe])) != _EMPTY and int(self.keys[index]) != query:
                probe = (probe + 1) & self._mask
            result[position] = index
        return result

    def _search(self, queries: np.ndarray) -> np.ndarray:
        """``lookup`` by binary search in the sorted keys: one C loop, faster than the
        vectorised probe rounds when a request brings one text (about 1,000 keys)."""
        if not len(self.keys):
            return np.full(len(queries), _EMPTY, dtype=np.int64)
        positions = np.searchsorted(self.keys, queries)
        positions[positions == len(self.keys)] = 0
        return np.where(self.keys[positions] == queries, positions, _EMPTY)

    def _keys_sorted(self) -> bool:
        # Derived on first use (tables pickled before this existed lack it); featurisers
        # build their tables from np.unique, so their keys are sorted.
        if "_sorted" not in self.__dict__:
            self._sorted = bool(np.all(self.keys[1:] > self.keys[:-1]))
        return self._sorted

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.view(np.uint64) * _GOLDEN) >> self._shift).astype(np.int64)
