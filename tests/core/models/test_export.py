"""The one-time export for ONNX Runtime: it embeds like torch, or it is not kept."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from finder.core.models.export import export, export_dir, find_export
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from tests.helpers import TINY_CONFIG

TEXTS = [
    "a red circle",
    "an invoice from the hardware store, 2023",
    "Café Zürich 🙂",
    "x " * 100,
]  # the last one longer than the context: truncated the same way


FINDER_TINY = TINY_CONFIG.parent / "finder-tiny.json"


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
    meta = json.loads((folder / "finder.json").read_text())
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


def test_a_text_tower_without_a_causal_mask_is_exported_whole(tmp_path: Path) -> None:
    config = tmp_path / "tiny-bidirectional.json"
    config.write_text(
        json.dumps(
            {
                "embed_dim": 32,
                "custom_text": True,
                "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 8},
                "text_cfg": {
                    "context_length": 77,
                    "vocab_size": 49408,
                    "width": 64,
                    "heads": 2,
                    "layers": 2,
                    "no_causal_mask": True,
                },
            }
        )
    )
    spec = resolve_model_spec(str(config), "none")
    torch_embedder = ClipEmbedder(spec, precision="fp32")
    folder = export(torch_embedder, tmp_path / "data")
    meta = json.loads((folder / "finder.json").read_text())
    assert meta["text_cut"] is None and meta["cosine_vs_torch"] >= 0.9999
    onnx = OnnxEmbedder(spec, folder)
    texts = np.sum(
        onnx.encode_texts_uncached(TEXTS) * torch_embedder.encode_texts_uncached(TEXTS), axis=1
    )
    assert texts.min() >= 0.9999, texts
