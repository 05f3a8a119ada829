"""`FinderEmbeddings`: LangChain's Embeddings on finder's model and runtime.

The three calls of LangChain's OpenCLIPEmbeddings (`embed_documents`, `embed_query`,
`embed_image`), so a multimodal recipe switches by changing one line; run the way the
indexer runs them (batched, ONNX Runtime once the model is exported, the indexer's
decode and preprocessing), so a picture's vector here is the one finder stored for it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, overload

from langchain_core.embeddings import Embeddings

from finder.core.library import Library
from finder.langchain.opening import DataDir, open_library

PathLike = str | os.PathLike[str]


class FinderEmbeddings(Embeddings):
    """Text and pictures into finder's embedding space: L2-normalised lists of floats.

    `model`: "ViT-B-32", "ViT-B-32@openai", a model-config JSON; None: the model the CLI
    would use (FINDER_MODEL / FINDER_PRETRAINED, else the data dir's active model, else
    the default). `data_dir`: the finder data dir whose ONNX export of the model is used
    (None: FINDER_DATA_DIR, else the user data dir). Nothing is loaded until the first
    call; the data dir is opened read-only.
    """

    def __init__(
        self, model: str | None = None, data_dir: DataDir = None, *, library: Library | None = None
    ) -> None:
        self.model = model
        self.data_dir = data_dir
        self._library = library
        self._owns_library = library is None
        self._opening = threading.Lock()

    @property
    def library(self) -> Library:
        """The finder library whose model runs (opened on first use)."""
        with self._opening:
            if self._library is None:
                self._library = open_library(self.data_dir, self.model)
            return self._library

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        rows: list[list[float]] = self.library.embed_texts(list(texts)).tolist()
        return rows

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    @overload
    def embed_image(self, uris: PathLike) -> list[float]: ...

    @overload
    def embed_image(self, uris: Sequence[PathLike]) -> list[list[float]]: ...

    def embed_image(self, uris: PathLike | Sequence[PathLike]) -> Any:
        """Vectors of image files, one per path, as OpenCLIPEmbeddings.embed_image; one
        path alone (not in a list) gives its vector alone."""
        if isinstance(uris, str | os.PathLike):
            return self.embed_image([uris])[0]
        paths = [os.fspath(uri) for uri in uris]
        rows: list[list[float]] = self.library.embed_pictures(paths).tolist()
        return rows

    def close(self) -> None:
        """Close the library this opened (not one that was passed in)."""
        with self._opening:
            if self._library is not None and self._owns_library:
                self._library.close()
                self._library = None

    def __enter__(self) -> FinderEmbeddings:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
