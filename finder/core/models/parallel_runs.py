"""A batch of images on the CPU as one single-threaded model run per core, side by side.

ONNX Runtime splits every operator of a run over its threads and waits for all of them at
the operator's end. While indexing, the decode threads share those cores, so one of the
model's threads is often pushed off its core and the others wait for it at the next of
the graph's ~1,000 operators. One session (one copy of the weights) with a single
intra-op thread, run at once from one thread per core on slices of the batch, waits only
at the batch's end; inside `finder index` the tower's CPU per photo fell from 129 to 104
ms on 2 cores (ViT-B-32 int8, runs of 16).

Each run takes at most ROWS_PER_RUN images: a run's activations then stay in the CPU's
caches (ViT-B-32: 4 images x 50 tokens x 3072 floats of its MLP ~2.5 MB). The model
alone on 2 cores, `bench/tower_runs.py` (ViT-B-32 int8, medians of 2-3 rounds): ONNX
Runtime's usual way (2 threads, one run of 32) 19.4 images/s and 99.8 ms of CPU per
image; two runs of 16 side by side 23.1-24.0 and 82-84 ms; of 8 25.4-25.6 and 75-77 ms;
of 4 22.5-25.7 and 77-88 ms (4 and 8 alike; inside `finder index`, 100 photos, three
interleaved rounds: 18.4 s of CPU with 4, 18.9 with 8, 19.0 with 16).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ROWS_PER_RUN = 4  # on the CPU (a GPU takes the whole batch in one run)


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
    """Splits a batch's rows into slices of at most `rows_per_run` (None: as few as there
    are runs) and computes them with `runs` concurrent calls of one function (a session's
    run: ONNX Runtime sessions may be run from several threads at once)."""

    def __init__(self, runs: int, rows_per_run: int | None = None) -> None:
        self.runs = max(1, runs)
        self.rows_per_run = rows_per_run

    def run(self, function: Callable[[np.ndarray], np.ndarray], rows: np.ndarray) -> np.ndarray:
        """function(rows), computed as slices side by side; the rows' order is kept."""
        slices = self.runs if self.rows_per_run is None else -(-len(rows) // self.rows_per_run)
        slices = max(1, min(slices, len(rows)))
        if slices == 1:
            return function(rows)
        parts = np.array_split(rows, slices)
        if self.runs == 1:
            return np.concatenate([function(part) for part in parts])
        # Threads for this batch only (a batch takes ~1 s, starting them ~0.1 ms): none
        # is left behind between batches or after the model is closed.
        with ThreadPoolExecutor(min(self.runs, slices), "finder-model") as pool:
            return np.concatenate(list(pool.map(function, parts)))
