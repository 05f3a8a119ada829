"""Whether a model's weights are on disk, asked without loading it (no torch, no
open_clip: importing them alone takes seconds). The app says at once that a model is
missing, and an index run reads names and text without it, instead of trying to load it.
"""

from __future__ import annotations

from finder.core.models import catalogue
from finder.core.models.embedder import Embedder
from finder.core.models.ready import find_ready
from finder.core.models.torch_runtime import TORCH_MISSING, ClipEmbedder, torch_installed
from finder.core.models.weights import find_weights, weights_location


def missing_weights(embedder: Embedder) -> str | None:
    """Why `embedder` cannot be loaded (its weights are not on disk: where we looked), or
    None when they are there or only loading can tell (a tag finder's catalogue does not
    list: loading then says). An ONNX export runs from its own files; random weights need
    none."""
    if not isinstance(embedder, ClipEmbedder) or embedder.loaded:
        return None
    spec = embedder.spec
    cache_dir = embedder.hub.cache_dir
    if find_ready(spec, cache_dir) is not None:
        return None
    if not torch_installed():
        if spec.pretrained and spec.checkpoint_file is None:
            return (
                f"{spec.describe()} is not on disk: no ready ONNX model of it in the "
                f"Hugging Face cache {cache_dir or 'default'}"
            )
        return TORCH_MISSING
    if spec.pretrained is None:
        return None
    checkpoint = spec.checkpoint_file
    if checkpoint is not None:
        return None if checkpoint.is_file() else f"checkpoint file {checkpoint} does not exist"
    entry = catalogue.find(spec.name, spec.pretrained)
    if entry is None:
        return None
    if find_weights(entry.weights, cache_dir) is not None:
        return None
    return (
        f"CLIP weights for {spec.describe()} are not on disk (looked in "
        f"{weights_location(entry.weights, cache_dir)})"
    )
