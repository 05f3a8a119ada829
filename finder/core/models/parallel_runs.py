"""A batch of images on the CPU as one single-threaded model run per core, side by side.

ONNX Runtime splits every operator of a run over its threads and waits for all of them at
the operator's end. While indexing, the decode threads share those cores, so one of the
model's threads is often pushed off its core and the others wait for it at the next of
the graph's ~1,000 operators. One session (one copy of the weights) with a single
intra-op thread, run at once from one thread per core on slices of the batch, waits only
at the batch's end. Measured for ViT-B-32 int8 on 2 cores: 22.3 images/s against 19.1
with the model alone, and 104 against 129 ms of CPU per photo inside `finder index`
(/tmp/work/conc.py, bench/peers.py; see ARCHITECTURE.md, "Indexing speed").
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS says, else all)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        try:
            return max(1, len(affinity(0)))
        except OSError:
            pass
    return max(1, os.cpu_count() or 1)


class ParallelRuns:
    """Splits a batch's rows over `runs` concurrent calls of one function (a session's
    run: ONNX Runtime sessions may be run from several threads at once)."""

    def __init__(self, runs: int) -> None:
        self.runs = max(1, runs)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def run(self, function: Callable[[np.ndarray], np.ndarray], rows: np.ndarray) -> np.ndarray:
        """function(rows), computed as slices side by side; the rows' order is kept."""
        if self.runs == 1 or len(rows) < 2:
            return function(rows)
        parts = np.array_split(rows, min(self.runs, len(rows)))
        return np.concatenate(list(self._executor().map(function, parts)))

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.runs, "finder-model")
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)
