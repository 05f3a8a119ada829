"""Run a CLIP model with ONNX Runtime, without torch in the process.

Eager PyTorch spends most of a short text query in per-operator overhead, and importing
torch + open_clip + torchvision costs ~730 MB before any weights. So a model runs from a
model folder (finder.core.models.model_folder) with ONNX Runtime (`OnnxEmbedder`), which
finder already ships for OCR: a ready export downloaded from the hub, a folder of one's
own, or the export finder makes once of a model it loaded with torch. Measured for
ViT-B-32 on 2 quiet cores without native bf16: a text query 13-16 ms against 33-50 ms,
the image tower 15.6-17.4 images/s against 18.4, the app idle in 331 MB against 1,504
MB; embeddings agree with torch to cosine >= 0.9999 (checked at export; the export is
discarded otherwise).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from finder.core.models.embedder import SpecEmbedder, normalise
from finder.core.models.image_prep import preprocess
from finder.core.models.json_tokenizer import JsonTokenizer
from finder.core.models.model_folder import TEXTUAL, VISUAL, FolderModel, read_folder
from finder.core.models.parallel_runs import ROWS_PER_RUN, ParallelRuns, usable_cores
from finder.core.models.providers import (
    CPU,
    Device,
    available_providers,
    choose_providers,
    device_label,
    open_session,
    session_device,
)
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
    """A model folder (finder.core.models.model_folder) run by ONNX Runtime: finder's own
    export (the same vectors and key as torch's), a ready export, or a person's folder.

    owned: the folder is finder's derived copy in the data dir, removed when it does not
    load (the next start exports it again); any other folder is never touched.
    """

    backend = "onnxruntime"

    def __init__(
        self,
        spec: ModelSpec,
        folder: Path,
        *,
        query_cache_size: int = QUERY_CACHE_SIZE,
        owned: bool = False,
    ) -> None:
        self.spec = spec
        self.folder = folder
        self.owned = owned
        self._lock = threading.Lock()
        self._sessions = _Sessions()
        self._runs = ParallelRuns(1)  # how an image batch is run (_open_visual)
        self._model: FolderModel | None = None
        self._tokenizer: ClipTokenizer | JsonTokenizer | None = None
        self._text_input: _Input | None = None
        self._cache = QueryCache(query_cache_size)

    @property
    def precision_in_use(self) -> str:
        return "fp32"

    @property
    def precision_reason(self) -> str:
        providers = choose_providers(available_providers())
        return "ONNX Runtime" + ("" if providers == [CPU] else f" on {device_label(providers)}")

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def device(self) -> Device:
        return session_device(self._sessions.visual, self._sessions.text)

    @property
    def dim(self) -> int:
        self.load()
        assert self._model is not None
        return self._model.dim

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            try:
                model = read_folder(self.folder)
                self._tokenizer = model.tokenizer()
                self._sessions.text = _session(self.folder / TEXTUAL, prepack=True)
                self._text_input = _Input.of(self._sessions.text)
            except Exception as exc:  # noqa: BLE001 - ONNX Runtime has its own error types
                raise self._damaged(exc) from exc
            self._model = model

    def _visual(self) -> Any:
        self.load()
        with self._lock:
            if self._sessions.visual is None:  # loaded when first needed: queries are text
                try:
                    self._sessions.visual = self._open_visual(self.folder / VISUAL)
                except Exception as exc:  # noqa: BLE001 - as in load()
                    raise self._damaged(exc) from exc
            return self._sessions.visual

    def _open_visual(self, path: Path) -> Any:
        """An image tower's session. On the CPU alone: single-threaded, and a batch runs
        in small slices, one per core at a time (parallel_runs.py); elsewhere one run."""
        on_cpu = choose_providers(available_providers()) == [CPU]
        cores = usable_cores() if on_cpu else 1
        session = open_session(path, prepack=False, cpu_threads=1 if on_cpu else None)
        self._runs = ParallelRuns(cores, ROWS_PER_RUN if on_cpu else None)
        return session

    def _damaged(self, exc: Exception) -> ModelUnavailableError:
        """A derived copy that does not load is dropped, so the next start runs the model
        with torch and exports it again; a folder finder did not make is left alone."""
        if not self.owned:
            return ModelUnavailableError(
                f"the model folder {self.folder} could not be loaded: {exc}"
            )
        shutil.rmtree(self.folder, ignore_errors=True)
        return ModelUnavailableError(
            f"the ONNX Runtime copy of {self.description} could not be loaded ({exc}); it "
            "was removed and is made again from the model on the next start"
        )

    def preprocess(self, image: Image.Image) -> np.ndarray:
        self.load()
        assert self._model is not None
        return preprocess(image, self._model.preprocess)

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray:
        if len(batch) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        session = self._visual()
        graph_input = _Input.of(session)
        pixels = np.ascontiguousarray(np.stack([np.asarray(p, dtype=np.float32) for p in batch]))

        def image_slice(rows: np.ndarray) -> np.ndarray:  # (named: profiles find it)
            return _run(session, graph_input, rows)

        return normalise(self._runs.run(image_slice, pixels))

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts. A single text (a query) is answered from a small LRU cache."""
        return self._cache.encode(texts, self.encode_texts_uncached)

    def encode_texts_uncached(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        assert self._tokenizer is not None and self._model is not None
        assert self._text_input is not None
        tokens = self._tokenizer(list(texts))
        cut = self._model.text_cut
        if cut is not None:
            # Only up to the last real token: with a causal mask the padding cannot
            # change the pooled feature (see short_text.encode_text_short).
            if cut.get("pool") == "argmax":
                eot = tokens.argmax(axis=-1)  # the end-of-text token has the highest id
            else:
                eot = (tokens == int(cut["eos_id"])).argmax(axis=-1)
            tokens = tokens[:, : int(eot.max()) + 1]
        return normalise(_run(self._sessions.text, self._text_input, tokens))

    def close(self) -> None:
        with self._lock:
            self._sessions = _Sessions()
            self._model = None
        self._cache.clear()


@dataclass(frozen=True)
class _Input:
    """A graph's one input: its name, element type, and whether its batch is fixed at 1
    (Immich's exports): such a graph is run one row at a time."""

    name: str
    dtype: Any
    one_at_a_time: bool

    @classmethod
    def of(cls, session: Any) -> _Input:
        spec = session.get_inputs()[0]
        dtype = {"tensor(int32)": np.int32, "tensor(int64)": np.int64}.get(spec.type, np.float32)
        return cls(spec.name, dtype, spec.shape[0] == 1)


def _run(session: Any, graph_input: _Input, rows: np.ndarray) -> np.ndarray:
    rows = np.ascontiguousarray(rows.astype(graph_input.dtype, copy=False))
    if not graph_input.one_at_a_time:
        return np.asarray(session.run(None, {graph_input.name: rows})[0])
    return np.concatenate(
        [session.run(None, {graph_input.name: rows[i : i + 1]})[0] for i in range(len(rows))]
    )


def _session(path: Path, *, prepack: bool) -> Any:
    """An ONNX Runtime session on every core, without busy-waiting between operators
    (on a shared 2-core laptop a spinning thread takes the core another one needs).

    Measured for ViT-B-32 on 2 cores: the text tower answers a query in 13 ms on 2
    threads against 17 ms on 1, and still 16 against 21 ms with both cores busy with
    other work. Prepacked weights (a second, GEMM-ready copy) halve a query's time but
    cost the image tower 180 MB for ~6% more images/s: kept for text only."""
    # On the GPU where one is installed and works, else here (models/providers.py).
    return open_session(path, prepack=prepack)
