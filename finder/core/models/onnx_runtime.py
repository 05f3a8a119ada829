"""Run a CLIP model with ONNX Runtime, without torch in the process.

Eager PyTorch spends most of a short text query in per-operator overhead, and importing
torch + open_clip + torchvision costs ~730 MB before any weights. So once a model has
been loaded with torch, its two towers are exported (finder.core.models.export, once per
model, a few seconds) and later starts run them with ONNX Runtime (`OnnxEmbedder`),
which finder already ships for OCR. Measured for ViT-B-32 on 2 quiet cores without
native bf16: a text query 13-16 ms against 33-50 ms, the image tower 15.6-17.4 images/s
against 18.4, the app idle in 331 MB against 1,504 MB; embeddings agree with torch to
cosine >= 0.9999 (checked at export; the export is discarded otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from finder.core.models.embedder import SpecEmbedder, normalise
from finder.core.models.image_prep import PreprocessConfig, preprocess
from finder.core.models.query_cache import QUERY_CACHE_SIZE, QueryCache
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.tokenizer import ClipTokenizer

if TYPE_CHECKING:
    from PIL import Image


@dataclass
class _Sessions:
    text: Any = None
    visual: Any = None


class OnnxEmbedder(SpecEmbedder):
    """An exported model run by ONNX Runtime; the same vectors (and key) as torch's."""

    backend = "onnxruntime"

    def __init__(
        self, spec: ModelSpec, folder: Path, *, query_cache_size: int = QUERY_CACHE_SIZE
    ) -> None:
        self.spec = spec
        self.folder = folder
        self._lock = threading.Lock()
        self._sessions = _Sessions()
        self._meta: dict[str, Any] | None = None
        self._tokenizer: ClipTokenizer | None = None
        self._prep: PreprocessConfig | None = None
        self._token_embedding: np.ndarray | None = None
        self._positional: np.ndarray | None = None
        self._cache = QueryCache(query_cache_size)

    @property
    def precision_in_use(self) -> str:
        return "fp32"

    @property
    def precision_reason(self) -> str:
        return "ONNX Runtime"

    @property
    def loaded(self) -> bool:
        return self._meta is not None

    @property
    def dim(self) -> int:
        self.load()
        assert self._meta is not None
        return int(self._meta["dim"])

    def load(self) -> None:
        with self._lock:
            if self._meta is not None:
                return
            try:
                meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
                self._prep = PreprocessConfig.from_json(meta["preprocess"])
                self._tokenizer = ClipTokenizer(
                    context_length=int(meta["tokenizer"]["context_length"])
                )
                # Memory-mapped: only the rows of the words in use are read (the table
                # is 100 MB for ViT-B-32).
                self._token_embedding = np.load(self.folder / "token_embedding.npy", mmap_mode="r")
                self._positional = np.load(self.folder / "positional_embedding.npy")
                self._sessions.text = _session(self.folder / "text.onnx", prepack=True)
            except Exception as exc:  # noqa: BLE001 - ONNX Runtime has its own error types
                raise self._damaged(exc) from exc
            self._meta = meta

    def _visual(self) -> Any:
        self.load()
        with self._lock:
            if self._sessions.visual is None:  # loaded when first needed: queries are text
                try:
                    self._sessions.visual = _session(self.folder / "visual.onnx", prepack=False)
                except Exception as exc:  # noqa: BLE001 - as in load()
                    raise self._damaged(exc) from exc
            return self._sessions.visual

    def _damaged(self, exc: Exception) -> ModelUnavailableError:
        """An export that does not load is our own derived copy: drop it, so the next
        start runs the model with torch and exports it again."""
        shutil.rmtree(self.folder, ignore_errors=True)
        return ModelUnavailableError(
            f"the ONNX Runtime copy of {self.description} could not be loaded ({exc}); it "
            "was removed and is made again from the model on the next start"
        )

    def preprocess(self, image: Image.Image) -> np.ndarray:
        self.load()
        assert self._prep is not None
        return preprocess(image, self._prep)

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray:
        if len(batch) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        pixels = np.ascontiguousarray(np.stack([np.asarray(p, dtype=np.float32) for p in batch]))
        return normalise(self._visual().run(None, {"pixels": pixels})[0])

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts. A single text (a query) is answered from a small LRU cache."""
        return self._cache.encode(texts, self.encode_texts_uncached)

    def encode_texts_uncached(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        assert self._tokenizer is not None and self._token_embedding is not None
        assert self._positional is not None and self._meta is not None
        tokens = self._tokenizer(list(texts))
        if self._meta["tokenizer"]["pool"] == "argmax":
            eot = tokens.argmax(axis=-1)  # the end-of-text token has the highest id
        else:
            eot = (tokens == self._meta["tokenizer"]["eos_id"]).argmax(axis=-1)
        # Only up to the last real token: with a causal mask the padding cannot change
        # the pooled feature (see torch_runtime._encode_text_short).
        length = int(eot.max()) + 1
        x = self._token_embedding[tokens[:, :length]] + self._positional[:length]
        mask = np.triu(np.full((length, length), -np.inf, dtype=np.float32), 1)
        features = self._sessions.text.run(
            None, {"x": x.astype(np.float32), "mask": mask, "eot": eot.astype(np.int64)}
        )[0]
        return normalise(features)

    def close(self) -> None:
        with self._lock:
            self._sessions = _Sessions()
            self._meta = None
        self._cache.clear()


def _session(path: Path, *, prepack: bool) -> Any:
    """An ONNX Runtime session on every core, without busy-waiting between operators
    (on a shared 2-core laptop a spinning thread takes the core another one needs).

    Measured for ViT-B-32 on 2 cores: the text tower answers a query in 13 ms on 2
    threads against 17 ms on 1, and still 16 against 21 ms with both cores busy with
    other work. Prepacked weights (a second, GEMM-ready copy) halve a query's time but
    cost the image tower 180 MB for ~6% more images/s: kept for text only."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if not prepack:
        options.add_session_config_entry("session.disable_prepacking", "1")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
