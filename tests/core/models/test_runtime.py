"""Which runtime runs a model: the setting, the export, a model that cannot be exported,
and a library switching runtime."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from finder.config import Environment
from finder.core.library import Library
from finder.core.models.export import export_dir, find_export
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.runtime import open_embedder, optimise
from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from tests.helpers import TINY24_CONFIG, TINY_CONFIG, draw_photo


def test_the_runtime_is_chosen_by_setting_and_export(
    tiny_spec: ModelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(open_embedder(tiny_spec, tmp_path), ClipEmbedder)  # nothing exported
    faster = optimise(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    assert isinstance(faster, OnnxEmbedder)
    assert isinstance(open_embedder(tiny_spec, tmp_path), OnnxEmbedder)
    assert isinstance(open_embedder(tiny_spec, tmp_path, backend="torch"), ClipEmbedder)
    # Where bf16 is native, torch's bf16 path is the faster one.
    assert isinstance(open_embedder(tiny_spec, tmp_path, precision="bf16"), ClipEmbedder)
    monkeypatch.setenv("FINDER_BACKEND", "torch")
    backend = Environment.from_environ(os.environ).backend  # as the front ends read it
    assert isinstance(open_embedder(tiny_spec, tmp_path, backend=backend), ClipEmbedder)
    # A half-written export (killed mid-way) is not used.
    (export_dir(tmp_path, tiny_spec) / "textual" / "model.onnx").unlink()
    assert find_export(tmp_path, tiny_spec) is None
    assert isinstance(open_embedder(tiny_spec, tmp_path, backend="auto"), ClipEmbedder)


def test_a_model_that_cannot_be_exported_stays_on_torch(tmp_path: Path) -> None:
    # A text tower of custom attention blocks (open_clip's `block_type: custom`).
    config = json.loads(TINY_CONFIG.read_text())
    config["text_cfg"]["block_type"] = "custom"
    path = tmp_path / "tiny-custom-blocks.json"
    path.write_text(json.dumps(config))
    spec = resolve_model_spec(str(path), "none")
    embedder = ClipEmbedder(spec, precision="fp32")
    assert optimise(embedder, tmp_path / "data") is embedder
    assert (export_dir(tmp_path / "data", spec) / "unsupported").is_file()  # not retried
    assert optimise(embedder, tmp_path / "data") is embedder


def test_a_library_switches_runtime_without_reopening(tiny_spec: ModelSpec, tmp_path: Path) -> None:
    draw_photo(tmp_path / "photos" / "red.png", "red")
    library = Library(tmp_path / "data", ClipEmbedder(tiny_spec, precision="fp32"), writable=True)
    try:
        library.add_folder(tmp_path / "photos")
        library._indexer.run()
        before = library._search.image(tmp_path / "photos" / "red.png")
        library.use_runtime(optimise(library.embedder, library.data_dir))
        assert isinstance(library._search.embedder, OnnxEmbedder)
        after = library._search.image(tmp_path / "photos" / "red.png")
        assert [r.path for r in after] == [r.path for r in before]
        assert after[0].score == pytest.approx(before[0].score, abs=1e-4)
        with pytest.raises(ValueError):
            library.use_runtime(ClipEmbedder(resolve_model_spec(str(TINY24_CONFIG), "none")))
    finally:
        library.close()


def test_a_gpu_only_torch_can_use_keeps_the_model_on_torch(
    tiny_spec: ModelSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finder.core.models import runtime

    optimise(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)  # an export exists
    monkeypatch.setattr(runtime, "gpu_only_for_torch", lambda: True)
    monkeypatch.setattr(runtime, "_torch_has_gpu", lambda: True)
    assert isinstance(open_embedder(tiny_spec, tmp_path), ClipEmbedder)
    assert isinstance(optimise(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path), ClipEmbedder)
    assert isinstance(open_embedder(tiny_spec, tmp_path, backend="onnx"), OnnxEmbedder)
    # A torch built for the CPU alone: ONNX Runtime (int8 where proven) is the faster.
    monkeypatch.setattr(runtime, "_torch_has_gpu", lambda: False)
    assert isinstance(open_embedder(tiny_spec, tmp_path), OnnxEmbedder)
