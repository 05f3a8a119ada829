"""A batch split over side-by-side runs: the same rows, in order, whatever the split."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from finder.core.models.export import export
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.parallel_runs import ParallelRuns, usable_cores
from finder.core.models.spec import ModelSpec
from finder.core.models.torch_runtime import ClipEmbedder


def test_slices_run_side_by_side_and_come_back_in_order() -> None:
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def double(rows: np.ndarray) -> np.ndarray:
        with lock:
            seen.append((threading.current_thread().name, len(rows)))
        return rows * 2

    runs = ParallelRuns(3)
    rows = np.arange(10, dtype=np.float32).reshape(10, 1)
    out = runs.run(double, rows)
    assert out.ravel().tolist() == [2.0 * i for i in range(10)]
    assert sorted(n for _, n in seen) == [3, 3, 4]
    assert all(name.startswith("finder-model") for name, _ in seen)


@pytest.mark.parametrize("runs, rows", [(1, 8), (4, 1)])
def test_one_run_when_there_is_nothing_to_split(runs: int, rows: int) -> None:
    calls: list[int] = []

    def record(part: np.ndarray) -> np.ndarray:
        calls.append(len(part))
        return part

    ParallelRuns(runs).run(record, np.zeros((rows, 2), dtype=np.float32))
    assert calls == [rows]


def test_usable_cores_is_at_least_one() -> None:
    assert usable_cores() >= 1


def test_a_split_batch_embeds_as_one_run_does(tiny_spec: ModelSpec, tmp_path: Path) -> None:
    folder = export(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    embedder = OnnxEmbedder(tiny_spec, folder)
    colours = ["red", "green", "blue", "white", "black", "yellow", "purple"]
    batch = [embedder.preprocess(Image.new("RGB", (60, 40), c)) for c in colours]
    whole = np.concatenate([embedder.encode_images([row]) for row in batch])
    embedder._runs = ParallelRuns(3)  # as on a 3-core machine
    split = embedder.encode_images(batch)
    embedder.close()
    np.testing.assert_allclose(split, whole, atol=1e-5)


def test_slices_are_kept_small_for_the_caches() -> None:
    sizes: list[int] = []
    lock = threading.Lock()

    def record(part: np.ndarray) -> np.ndarray:
        with lock:
            sizes.append(len(part))
        return part + 1

    rows = np.arange(20, dtype=np.float32).reshape(20, 1)
    for runs in (2, 1):
        sizes.clear()
        out = ParallelRuns(runs, rows_per_run=8).run(record, rows)
        assert out.ravel().tolist() == [i + 1.0 for i in range(20)]
        assert sorted(sizes) == [6, 7, 7]
