"""What an object derives on first use (caches, lookup tables) is not part of what it saves."""
from __future__ import annotations


class DerivedState:
    """Leaves the attributes named in ``_derived`` out of the pickled state. From a copy:
    Python's default state, and so scikit-learn's for estimators outside its own package, is
    the instance's own ``__dict__``, and popping from it stripped the live object (a model
    that was saved, or sent to Dask, made its stacked heads again on its next predict)."""

    _derived: tuple[str, ...] = ()

    def __getstate__(self):
        state = dict(super().__getstate__())
        for name in self._derived:
            state.pop(name, None)
        return state
