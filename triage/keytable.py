"""A read-only hash table from int64 keys to their positions, built and queried with
numpy: open addressing, linear probing, each probe round one vectorised gather.

It replaces ``numpy.searchsorted`` for n-gram lookups, which costs ~20 random memory
reads per key over a 300k-key vocabulary and was the slowest step of featurising.
"""
from __future__ import annotations

import numpy as np

from .derived import DerivedState

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing multiplier
_EMPTY = -1
# Below this many keys still probing, a vectorised round costs more than a Python loop.
_FEW = 16
# Up to this many queries (a few texts), a binary search beats the hash rounds.
_FEW_QUERIES = 4096
# Keys below this (single characters: a code point of the Basic Multilingual Plane) are
# also held in a plain array indexed by the key: one gather instead of probe rounds.
_DENSE_LIMIT = 1 << 16


class KeyTable(DerivedState):
    """Maps each of ``keys`` (unique int64) to its index in ``keys``."""

    _derived = ("_dense_index", "_slot_key_array")

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
        if len(queries) and 0 <= queries.min() and queries.max() < _DENSE_LIMIT:
            return self._dense()[queries].astype(np.int64)
        if len(queries) <= _FEW_QUERIES and self._keys_sorted():
            return self._search(queries)
        if not len(self.keys):
            return np.full(len(queries), _EMPTY, dtype=np.int64)
        slot = self._home(queries)
        slot_keys = self._slot_keys()
        # Round one on every query at once: most keys sit in their home slot, and a query
        # that meets an empty slot is not a key.
        index = self._slots[slot]
        occupied = index != _EMPTY
        hit = occupied & (slot_keys[slot] == queries)
        result = np.where(hit, index, _EMPTY).astype(np.int64)
        pending = np.flatnonzero(occupied & ~hit)
        slot[pending] = (slot[pending] + 1) & self._mask
        while pending.size > _FEW:
            probe = slot[pending]
            index = self._slots[probe]
            occupied = index != _EMPTY
            hit = occupied & (slot_keys[probe] == queries[pending])
            result[pending[hit]] = index[hit]
            pending = pending[occupied & ~hit]
            slot[pending] = (slot[pending] + 1) & self._mask
        for position in pending.tolist():  # the last few keys of long probe chains, one by one
            query, probe = int(queries[position]), int(slot[position])
            while (index := int(self._slots[probe])) != _EMPTY and int(self.keys[index]) != query:
                probe = (probe + 1) & self._mask
            result[position] = index
        return result

    def probe_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """What the compiled loops read (``_ngrams.count``, ``_scan.rule_bits``): the index
        of each key below ``_DENSE_LIMIT`` by value, the slots, the key in each slot, and
        the shift that takes a key's hash to its home slot."""
        return self._dense(), self._slots, self._slot_keys(), int(self._shift)

    def _search(self, queries: np.ndarray) -> np.ndarray:
        """``lookup`` by binary search in the sorted keys: one C loop, faster than the
        vectorised probe rounds when a request brings one text (about 1,000 keys)."""
        if not len(self.keys):
            return np.full(len(queries), _EMPTY, dtype=np.int64)
        positions = np.searchsorted(self.keys, queries)
        positions[positions == len(self.keys)] = 0
        return np.where(self.keys[positions] == queries, positions, _EMPTY)

    def _dense(self) -> np.ndarray:
        """Per value below ``_DENSE_LIMIT``, its index in ``keys`` or -1. Derived on first
        use and never pickled (256 KB, rebuilt in a millisecond)."""
        if "_dense_index" not in self.__dict__:
            small = np.flatnonzero((self.keys >= 0) & (self.keys < _DENSE_LIMIT))
            dense = np.full(_DENSE_LIMIT, _EMPTY, dtype=np.int32)
            dense[self.keys[small]] = small
            self._dense_index = dense
        return self._dense_index

    def _slot_keys(self) -> np.ndarray:
        """The key held in each slot (0 where empty: ``_slots`` tells those apart), so a
        probe compares without first looking up the key's index. Derived, never pickled."""
        if "_slot_key_array" not in self.__dict__:
            self._slot_key_array = np.where(self._slots != _EMPTY, self.keys[np.maximum(self._slots, 0)], 0) \
                if len(self.keys) else np.zeros(len(self._slots), np.int64)
        return self._slot_key_array

    def _keys_sorted(self) -> bool:
        # Derived on first use (tables pickled before this existed lack it); featurisers
        # build their tables from np.unique, so their keys are sorted.
        if "_sorted" not in self.__dict__:
            self._sorted = bool(np.all(self.keys[1:] > self.keys[:-1]))
        return self._sorted

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.view(np.uint64) * _GOLDEN) >> self._shift).astype(np.int64)
