"""What an embedder is: text and images into one normalised embedding space.

The runtimes (torch_runtime.ClipEmbedder, onnx_runtime.OnnxEmbedder) implement it; the
indexer, search and the store depend only on this Protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from finder.core.models.spec import ModelSpec

if TYPE_CHECKING:
    from PIL import Image


class Embedder(Protocol):
    """What the indexer and search need from a model (tests substitute a counting wrapper)."""

    @property
    def key(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def description(self) -> str: ...

    def load(self) -> None: ...

    def preprocess(self, image: Image.Image) -> Any: ...

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray: ...

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray: ...


class SpecEmbedder:
    """What every runtime of a ModelSpec says about it (torch, ONNX Runtime)."""

    spec: ModelSpec

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def description(self) -> str:
        return self.spec.describe()


def normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine = dot product), as float32."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit: np.ndarray = (features / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit
