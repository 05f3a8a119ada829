"""The ONNX Runtime embedder: a damaged export gives way to torch; no torch in the process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from finder.core.models.embedder import image_batch_of
from finder.core.models.export import export
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.providers import CPU_IMAGE_BATCH
from finder.core.models.runtime import open_embedder
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.torch_runtime import ClipEmbedder


def test_a_damaged_export_is_dropped_and_torch_takes_over(
    tiny_spec: ModelSpec, tmp_path: Path
) -> None:
    folder = export(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    (folder / "textual" / "model.onnx").write_bytes(b"not a model")  # a bad disk block, say
    embedder = open_embedder(tiny_spec, tmp_path)
    assert isinstance(embedder, OnnxEmbedder)
    with pytest.raises(ModelUnavailableError, match="made again"):
        embedder.load()
    assert not folder.exists()
    assert isinstance(open_embedder(tiny_spec, tmp_path), ClipEmbedder)


def test_an_exported_model_runs_without_torch(tiny_spec: ModelSpec, tmp_path: Path) -> None:
    export(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    script = f"""
import sys
from PIL import Image
from finder.core.models.spec import resolve_model_spec
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.providers import CPU_IMAGE_BATCH
from finder.core.models.runtime import open_embedder
embedder = open_embedder(resolve_model_spec({str(tiny_spec.config_path)!r}, "none"),
                         __import__("pathlib").Path({str(tmp_path)!r}))
assert isinstance(embedder, OnnxEmbedder), embedder
embedder.encode_texts(["a query"])
embedder.encode_images([embedder.preprocess(Image.new("RGB", (50, 40), "red"))])
heavy = sorted(m for m in ("torch", "torchvision", "open_clip") if m in sys.modules)
print(",".join(heavy) or "none")
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.strip()
    assert out == "none"


def test_an_onnx_model_names_its_device_and_batch(tiny_spec: ModelSpec, tmp_path: Path) -> None:
    folder = export(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    embedder = OnnxEmbedder(tiny_spec, folder)
    embedder.load()
    assert embedder.device.name == "the CPU" and not embedder.device.gpu
    assert image_batch_of(embedder) == CPU_IMAGE_BATCH
