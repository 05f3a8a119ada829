"""int8 that proves itself: the check, its record, and what runs after it (quantise.py)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from finder.core.models.export import export
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.quantise import (
    Int8Embedder,
    check_int8,
    compare,
    load_check,
    needs_check,
    visual_file,
    with_proven_precision,
)
from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder

FINDER_TINY = Path(__file__).resolve().parents[2] / "models" / "finder-tiny.json"


def pictures(count: int) -> list[Image.Image]:
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        img = Image.new("RGB", (96, 80), tuple(int(c) for c in rng.integers(0, 255, 3)))
        draw = ImageDraw.Draw(img)
        for _ in range(3):
            x, y = int(rng.integers(0, 70)), int(rng.integers(0, 60))
            colour = tuple(int(c) for c in rng.integers(0, 255, 3))
            draw.ellipse((x, y, x + 25, y + 20), fill=colour)
        out.append(img)
    return out


def test_compare_counts_cosine_and_shared_neighbours() -> None:
    rng = np.random.default_rng(1)
    rows = rng.standard_normal((30, 16)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    probes = rows[:4] + 0.1
    assert compare(rows, rows, probes) == pytest.approx((1.0, 1.0, 1.0))
    noisy = rows + 0.5 * rng.standard_normal(rows.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    mean, low, agreement = compare(rows, noisy, probes)
    assert low <= mean < 0.95 and agreement < 0.9


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelSpec, Path]:
    spec = resolve_model_spec(str(FINDER_TINY), None)
    data_dir = tmp_path_factory.mktemp("data")
    export(ClipEmbedder(spec, precision="fp32"), data_dir)
    return spec, data_dir


def _onnx(spec: ModelSpec, data_dir: Path) -> OnnxEmbedder:
    from finder.core.models.export import find_export

    folder = find_export(data_dir, spec)
    assert folder is not None
    return OnnxEmbedder(spec, folder)


def test_the_check_is_recorded_and_decides_what_runs(exported: tuple[ModelSpec, Path]) -> None:
    spec, data_dir = exported
    fp32 = _onnx(spec, data_dir)
    assert needs_check(data_dir, fp32, None) and not needs_check(data_dir, fp32, "fp32")
    check = check_int8(data_dir, fp32, pictures(16))
    assert check.photos == 16 and 0 < check.mean_cosine <= 1.0001
    assert check.int8 == (check.mean_cosine >= 0.995 and check.agreement >= 0.9)
    assert load_check(data_dir, fp32) == check and not needs_check(data_dir, fp32, None)
    chosen = with_proven_precision(data_dir, fp32, "auto")
    assert isinstance(chosen, Int8Embedder) == check.int8
    if check.int8:
        assert chosen.precision_in_use == "int8" and chosen.key == fp32.key
        vectors = chosen.encode_images([chosen.preprocess(p) for p in pictures(3)])
        assert vectors.shape == (3, fp32.dim)
    # --precision fp32 always runs the reference.
    assert with_proven_precision(data_dir, fp32, "fp32") is fp32


def test_a_changed_model_file_is_checked_again(exported: tuple[ModelSpec, Path]) -> None:
    spec, data_dir = exported
    fp32 = _onnx(spec, data_dir)
    check_int8(data_dir, fp32, pictures(8))
    assert load_check(data_dir, fp32) is not None
    tower = visual_file(fp32.folder)
    stat = tower.stat()
    os.utime(tower, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert load_check(data_dir, fp32) is None and needs_check(data_dir, fp32, None)


def test_too_few_photos_decide_nothing_yet(
    exported: tuple[ModelSpec, Path], tmp_path: Path
) -> None:
    spec, data_dir = exported
    fp32 = _onnx(spec, data_dir)
    check = check_int8(tmp_path, fp32, pictures(3))
    assert not check.int8 and "too few" in check.reason
    assert load_check(tmp_path, fp32) is None  # decided once there are enough


def test_an_int8_tower_that_does_not_load_falls_back_to_fp32(
    exported: tuple[ModelSpec, Path], tmp_path: Path
) -> None:
    spec, data_dir = exported
    fp32 = _onnx(spec, data_dir)
    broken = tmp_path / "visual-int8.onnx"
    broken.write_bytes(b"not a model")
    int8 = Int8Embedder(spec, fp32.folder, broken)
    vectors = int8.encode_images([int8.preprocess(p) for p in pictures(2)])
    assert vectors.shape[0] == 2 and int8.precision_in_use == "fp32"
