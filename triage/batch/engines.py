"""Where batch work runs: worker processes on this machine, or a Dask cluster.

An engine holds the model where the work runs (forked into local workers, scattered once
to Dask workers) and ``map(function, chunks)`` yields ``function(model, chunk)`` for each
chunk, in order, with a bounded number of chunks in flight so memory stays flat however
long the input is. The functions are module-level (``rows.triage_chunk``,
``repeats.judge_columns``), their settings bound with ``functools.partial``: a pure
function of the model, the settings and the chunk, so both engines give the same output.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from ..errors import TriageError
from ..memory import keep_array_memory
from ..model import TriageModel
from ..segment import warm_up

_worker_model: TriageModel | None = None  # set in each local worker process


class Engine:
    """``map(function, chunks)`` yields ``function(model, chunk)`` for each chunk, in order.
    Use as a context manager."""

    window: int

    def submit(self, function: Callable, chunk) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def result(self, handle) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def map(self, function: Callable, chunks: Iterable) -> Iterator:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(self.submit(function, chunk))
            if len(pending) >= self.window:
                yield self.result(pending.popleft())
        while pending:
            yield self.result(pending.popleft())

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass


class LocalEngine(Engine):
    """Forked worker processes sharing the parent's loaded model and segmenters
    (copy-on-write), or the calling process itself when ``workers`` is 1."""

    def __init__(self, model: TriageModel, workers: int | None):
        self.model = model
        self.workers = workers or os.cpu_count() or 1
        self.window = 2 * self.workers + 1
        self.pool = None
        if self.workers > 1:
            warm_up()  # load the segmenters once, here, for every worker to share; not once per worker
            model.warm()  # and what predicting derives from the model
            self.pool = multiprocessing.get_context("fork").Pool(self.workers, initializer=_install,
                                                                 initargs=(model,))

    def submit(self, function: Callable, chunk):
        return self.pool.apply_async(_run, (function, chunk)) if self.pool else (function, chunk)

    def result(self, handle):
        if self.pool:
            return handle.get()
        function, chunk = handle
        return function(self.model, chunk)

    def close(self) -> None:
        if self.pool:
            self.pool.terminate()
            self.pool.join()


def _install(model: TriageModel) -> None:
    global _worker_model
    _worker_model = model
    keep_array_memory()


def _run(function: Callable, chunk):
    return function(_worker_model, chunk)


class DaskEngine(Engine):
    """Chunks as tasks on an existing Dask cluster; the model is scattered once to every
    worker, not sent with each chunk."""

    def __init__(self, model: TriageModel, scheduler: str):
        try:
            from distributed import Client
        except ImportError:
            raise TriageError("the dask engine needs the dask extra: pip install 'triage[dask]'") from None
        try:
            self.client = Client(scheduler, timeout="10s")
        except OSError as error:
            raise TriageError(f"cannot reach the Dask scheduler at {scheduler!r} ({error}); start one with "
                              "`dask scheduler` and workers with `dask worker ADDRESS`") from None
        workers = len(self.client.scheduler_info()["workers"]) or 1
        self.window = 2 * workers + 1
        self.client.run(keep_array_memory)  # on each worker, once
        self.model = self.client.scatter(model, broadcast=True)

    def submit(self, function: Callable, chunk):
        return self.client.submit(function, self.model, chunk, pure=False)

    def result(self, handle):
        return handle.result()

    def close(self) -> None:
        self.client.close()
