"""What an embedder is: text and images into one normalised embedding space.

The runtimes (torch_runtime.ClipEmbedder, onnx_runtime.OnnxEmbedder) implement it; the
indexer, search and the store depend only on this Protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from finder.core.models.providers import CPU_IMAGE_BATCH, Device
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

    @property
    def device(self) -> Device:
        """Where it runs (the CPU unless a runtime says otherwise)."""
        return Device()

    @property
    def image_batch(self) -> int:
        """Images per model batch on its device: larger on a GPU."""
        return self.device.image_batch


def device_of(embedder: Embedder) -> Device:
    """Where an embedder runs; the CPU for one that does not say (a test's wrapper)."""
    device = getattr(embedder, "device", None)
    return device if isinstance(device, Device) else Device()


def image_batch_of(embedder: Embedder) -> int:
    """The image batch an index run gives this embedder (fitted to its device)."""
    batch = getattr(embedder, "image_batch", None)
    return batch if isinstance(batch, int) and batch > 0 else CPU_IMAGE_BATCH


def normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine = dot product), as float32."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit: np.ndarray = (features / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit
