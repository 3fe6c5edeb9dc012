"""Where batch chunks are triaged: worker processes on this machine, or a Dask cluster.

Both run ``rows.triage_chunk`` on chunks and hand results back in input order, with a
bounded number of chunks in flight so memory stays flat however long the input is.
"""
from __future__ import annotations

import multiprocessing
import os
from collections import deque
from functools import partial
from typing import Any, Callable, Iterable, Iterator, Mapping

from ..errors import TriageError
from ..model import TriageModel
from ..segment import warm_up
from .rows import triage_chunk

_worker_task: Callable | None = None  # set in each local worker process


class Engine:
    """``map(chunks)`` yields each chunk's ``rows.triage_chunk`` result, in order. Use as a context manager."""

    window: int

    def submit(self, chunk) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def result(self, handle) -> tuple:  # pragma: no cover - interface
        raise NotImplementedError

    def map(self, chunks: Iterable[list]) -> Iterator[tuple]:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(self.submit(chunk))
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

    def __init__(self, model: TriageModel, settings: Mapping[str, Any], secret: str | None, workers: int | None):
        self.task = partial(triage_chunk, model, dict(settings), secret)
        self.workers = workers or os.cpu_count() or 1
        self.window = 2 * self.workers + 1
        self.pool = None
        if self.workers > 1:
            warm_up()  # load the segmenters once, here, for every worker to share; not once per worker
            self.pool = multiprocessing.get_context("fork").Pool(self.workers, initializer=_install,
                                                                 initargs=(self.task,))

    def submit(self, chunk):
        return self.pool.apply_async(_run, (chunk,)) if self.pool else chunk

    def result(self, handle) -> tuple:
        return handle.get() if self.pool else self.task(handle)

    def close(self) -> None:
        if self.pool:
            self.pool.terminate()
            self.pool.join()


def _install(task: Callable) -> None:
    global _worker_task
    _worker_task = task


def _run(chunk) -> tuple:
    return _worker_task(chunk)


class DaskEngine(Engine):
    """Chunks as tasks on an existing Dask cluster; the model is scattered once to every
    worker, not sent with each chunk."""

    def __init__(self, model: TriageModel, settings: Mapping[str, Any], secret: str | None, scheduler: str):
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
        self.model = self.client.scatter(model, broadcast=True)
        self.settings, self.secret = dict(settings), secret

    def submit(self, chunk):
        return self.client.submit(triage_chunk, self.model, self.settings, self.secret, chunk, pure=False)

    def result(self, handle) -> tuple:
        return handle.result()

    def close(self) -> None:
        self.client.close()
