"""The ONNX Runtime path: export, fidelity against torch, choice of runtime, no torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from finder.config import Environment
from finder.core.library import Library
from finder.core.models.export import export, export_dir, find_export
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.runtime import open_embedder, optimise
from finder.core.models.spec import ModelSpec, ModelUnavailableError, resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from tests.helpers import draw_photo

TEXTS = [
    "a red circle",
    "an invoice from the hardware store, 2023",
    "Café Zürich 🙂",
    "x " * 100,
]  # the last one longer than the context: truncated the same way
FINDER_TINY = Path(__file__).resolve().parent.parent / "models" / "finder-tiny.json"


def _pictures() -> list[Image.Image]:
    rng = np.random.default_rng(4)
    return [
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
        for h, w in ((40, 60), (97, 31), (300, 300))
    ]


@pytest.mark.parametrize("which", ["tiny-random", "finder-tiny"])
def test_the_export_embeds_like_torch(which: str, tiny_spec: ModelSpec, tmp_path: Path) -> None:
    spec = tiny_spec if which == "tiny-random" else resolve_model_spec(str(FINDER_TINY))
    torch_embedder = ClipEmbedder(spec, precision="fp32")
    stale = tmp_path / "onnx" / ".export-killed"  # a process quit mid-export
    stale.mkdir(parents=True)
    folder = export(torch_embedder, tmp_path)
    assert not stale.exists()
    assert not torch_embedder.torch_model.training  # left as it was found: eval
    assert folder == export_dir(tmp_path, spec) and find_export(tmp_path, spec) == folder
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["key"] == spec.key and meta["cosine_vs_torch"] >= 0.9999
    onnx = OnnxEmbedder(spec, folder)
    assert onnx.key == torch_embedder.key and onnx.dim == torch_embedder.dim
    texts = np.sum(
        onnx.encode_texts_uncached(TEXTS) * torch_embedder.encode_texts_uncached(TEXTS), axis=1
    )
    assert texts.min() >= 0.9999, texts
    assert onnx.encode_texts([TEXTS[0]]).shape == (1, onnx.dim)  # the query path
    pictures = _pictures()
    # Its own preprocessing (Pillow + numpy) against open_clip's, then each tower.
    ours = onnx.encode_images([onnx.preprocess(p) for p in pictures])
    reference = torch_embedder.encode_images([torch_embedder.preprocess(p) for p in pictures])
    assert np.sum(ours * reference, axis=1).min() >= 0.9999
    assert onnx.encode_images([]).shape == (0, onnx.dim)
    one = onnx.encode_images([onnx.preprocess(pictures[1])])  # another batch size than traced
    assert float(np.sum(one[0] * ours[1])) >= 0.9999


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
    (export_dir(tmp_path, tiny_spec) / "text.onnx").unlink()
    assert find_export(tmp_path, tiny_spec) is None
    assert isinstance(open_embedder(tiny_spec, tmp_path, backend="auto"), ClipEmbedder)


def test_a_model_that_cannot_be_exported_stays_on_torch(tmp_path: Path) -> None:
    # A text tower without a causal mask (open_clip's `no_causal_mask`).
    config = json.loads(
        (Path(__file__).resolve().parent.parent / "models" / "tiny-random.json").read_text()
    )
    config["text_cfg"]["no_causal_mask"] = True
    path = tmp_path / "tiny-bidirectional.json"
    path.write_text(json.dumps(config))
    spec = resolve_model_spec(str(path), "none")
    embedder = ClipEmbedder(spec, precision="fp32")
    assert optimise(embedder, tmp_path / "data") is embedder
    assert (export_dir(tmp_path / "data", spec) / "unsupported").is_file()  # not retried
    assert optimise(embedder, tmp_path / "data") is embedder


def test_a_damaged_export_is_dropped_and_torch_takes_over(
    tiny_spec: ModelSpec, tmp_path: Path
) -> None:
    folder = export(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    (folder / "text.onnx").write_bytes(b"not a model")  # a bad disk block, say
    embedder = open_embedder(tiny_spec, tmp_path)
    assert isinstance(embedder, OnnxEmbedder)
    with pytest.raises(ModelUnavailableError, match="made again"):
        embedder.load()
    assert not folder.exists()
    assert isinstance(open_embedder(tiny_spec, tmp_path), ClipEmbedder)


def test_a_library_switches_runtime_without_reopening(tiny_spec: ModelSpec, tmp_path: Path) -> None:
    draw_photo(tmp_path / "photos" / "red.png", "red")
    library = Library(tmp_path / "data", ClipEmbedder(tiny_spec, precision="fp32"), writable=True)
    try:
        library.add_folder(tmp_path / "photos")
        library.indexer.run()
        before = library.search.image(tmp_path / "photos" / "red.png")
        library.use_runtime(optimise(library.embedder, library.data_dir))
        assert isinstance(library.search.embedder, OnnxEmbedder)
        after = library.search.image(tmp_path / "photos" / "red.png")
        assert [r.path for r in after] == [r.path for r in before]
        assert after[0].score == pytest.approx(before[0].score, abs=1e-4)
        with pytest.raises(ValueError):
            library.use_runtime(
                ClipEmbedder(
                    resolve_model_spec(
                        str(
                            Path(__file__).resolve().parent.parent
                            / "models"
                            / "tiny-random-24.json"
                        ),
                        "none",
                    )
                )
            )
    finally:
        library.close()


def test_an_exported_model_runs_without_torch(tiny_spec: ModelSpec, tmp_path: Path) -> None:
    export(ClipEmbedder(tiny_spec, precision="fp32"), tmp_path)
    script = f"""
import sys
from PIL import Image
from finder.core.models.spec import resolve_model_spec
from finder.core.models.onnx_runtime import OnnxEmbedder
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
