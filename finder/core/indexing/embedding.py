"""Vectors of pictures and texts outside an index run, made exactly as the pipeline makes
them (the same decode, the same preprocessing, the same runtime, in batches), so a
picture embedded here matches the vector the index stored for it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from finder.core.indexing.pipeline import IndexerConfig
from finder.core.ingest.extract import load_image
from finder.core.models.embedder import Embedder, image_batch_of

_BATCHES = IndexerConfig()  # the text batch an index run uses


def embed_texts(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """One unit row per text (the rows of a query's embedding)."""
    size = _BATCHES.text_batch
    parts = [embedder.encode_texts(list(texts[i : i + size])) for i in range(0, len(texts), size)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def embed_pictures(embedder: Embedder, pictures: Sequence[Path | str | Image.Image]) -> np.ndarray:
    """One unit row per picture: a file decoded as the indexer decodes it (upright,
    reduced), or an image already in memory. ExtractError for a file that is no picture.
    In batches of the size an index run gives the model's device."""
    embedder.load()  # the device is known once the model is placed
    size = image_batch_of(embedder)
    rows = []
    for start in range(0, len(pictures), size):
        batch = [
            embedder.preprocess(_decoded(picture)) for picture in pictures[start : start + size]
        ]
        rows.append(embedder.encode_images(batch))
    return np.concatenate(rows) if rows else np.zeros((0, embedder.dim), dtype=np.float32)


def _decoded(picture: Path | str | Image.Image) -> Image.Image:
    image = picture if isinstance(picture, Image.Image) else load_image(picture)
    return image.convert("RGB")
