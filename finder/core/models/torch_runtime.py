"""The torch runtime: an open_clip model, loaded lazily, its vectors L2-normalised.

torch and open_clip are imported on first use, never at import time, so the CLI's
cheap commands and the GUI window start without paying for them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from finder.core.models import catalogue
from finder.core.models.cpu import cpu_has_native_bf16, resolve_precision
from finder.core.models.embedder import SpecEmbedder, normalise
from finder.core.models.providers import Device
from finder.core.models.query_cache import QUERY_CACHE_SIZE, QueryCache
from finder.core.models.reparam import reparameterise
from finder.core.models.short_text import encode_text_short, has_causal_text_tower
from finder.core.models.spec import ModelSpec, ModelUnavailableError, pretrained_tags
from finder.core.models.tokenizer import bound_text
from finder.core.models.torch_placement import TorchPlacement
from finder.core.models.weights import (
    DownloadCancelled,
    DownloadError,
    Hub,
    ProgressCallback,
    WeightsSource,
    download,
    find_weights,
    weights_location,
)

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

# A query is a few tokens: splitting it over threads gains little, and on a busy machine
# (the indexer running beside it) every parallel region waits for a descheduled thread:
# measured at load 5 on 2 cores, 90-170 ms with 1 thread against 800-1200 ms with 2.
QUERY_THREADS = 1

TORCH_MISSING = (
    "this install has no torch: install finder[torch] (pip install 'finder[torch]') to load "
    "a .pt/.safetensors checkpoint, run a model on torch or export one; or download a "
    "ready model (`finder models download NAME`), or use a model folder (--model DIR)"
)


def torch_installed() -> bool:
    """torch and open_clip can be imported (the `torch` extra); asked without importing."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "open_clip"))


class ClipEmbedder(SpecEmbedder):
    """Lazily loaded open_clip model; encode_* return L2-normalised float32 rows.

    precision: auto | fp32 | bf16 (None: auto, bf16 where the CPU has native bf16,
    fp32 elsewhere). It does not change `key`: bf16 and fp32
    vectors of the same weights are interchangeable.
    hub: where weights are looked up and downloaded (default: the Hugging Face hub and
    huggingface_hub's cache).
    device: None puts the model on the GPU torch offers (cuda, then mps; the CPU after a
    failure there, for good: torch_placement.py); "cpu" keeps it on the CPU.
    """

    backend = "torch"

    def __init__(
        self,
        spec: ModelSpec,
        *,
        threads: int | None = None,
        hub: Hub | None = None,
        precision: str | None = None,
        query_cache_size: int = QUERY_CACHE_SIZE,
        query_threads: int | None = QUERY_THREADS,
        device: str | None = None,
    ) -> None:
        self.spec = spec
        self._threads = threads
        self.hub = hub or Hub()
        self._precision = resolve_precision(precision)
        self._lock = threading.Lock()
        self._model: Any = None
        self._preprocess: Any = None
        self._tokenizer: Any = None
        self._dim: int | None = None
        self._dtype: Any = None
        self._short_text: bool = False  # the text tower may encode only the real tokens
        self._query_cache = QueryCache(query_cache_size)
        self._query_threads = query_threads
        self._placement = TorchPlacement(device)

    @property
    def precision_in_use(self) -> str:
        """ "fp32" or "bf16": the numeric path encode_* take (known before loading)."""
        return self._precision

    @property
    def precision_reason(self) -> str:
        """A few words on why, for `finder status` and `finder model info`."""
        native = cpu_has_native_bf16()
        if self._precision == "bf16":
            return "CPU has native bf16" if native else "forced; emulated on this CPU, slow"
        return "reference path" if native else "this CPU has no native bf16"

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def device(self) -> Device:
        """Where the model runs (before loading: where it would go; torch is asked then)."""
        ask = self._placement.current is None and torch_installed()
        return self._placement.describe(_torch() if ask else None)

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.load()
        assert self._dim is not None
        return self._dim

    def load(self) -> None:
        """Load the weights (downloading them if needed and possible). Thread-safe."""
        with self._lock:
            if self._model is None:
                self._load_locked()

    def _load_locked(self) -> None:
        if not torch_installed():
            raise ModelUnavailableError(f"cannot load {self.spec.describe()}: {TORCH_MISSING}")
        import open_clip
        import torch

        if self._threads:
            torch.set_num_threads(self._threads)
        spec = self.spec
        if spec.config_path is not None:
            open_clip.add_model_config(spec.config_path)
        if spec.name not in open_clip.list_models():
            raise ModelUnavailableError(
                f"unknown model {spec.name!r}: not an open_clip model name nor a config JSON"
            )
        options: dict[str, Any] = {}
        checkpoint: str | None = None
        if spec.pretrained is not None and spec.checkpoint_file is None:
            tag_cfg = open_clip.get_pretrained_cfg(spec.name, spec.pretrained)
            if not tag_cfg:
                raise ModelUnavailableError(
                    f"{spec.name} has no pretrained tag {spec.pretrained!r}; known tags: "
                    f"{', '.join(pretrained_tags(spec.name)) or 'none'}"
                )
            checkpoint = self._fetch_weights(tag_cfg)
            # The preprocessing and activation the tag was trained with.
            options = {
                "force_quick_gelu": bool(tag_cfg.get("quick_gelu", False)),
                "image_mean": tag_cfg.get("mean"),
                "image_std": tag_cfg.get("std"),
                "image_interpolation": tag_cfg.get("interpolation"),
                "image_resize_mode": tag_cfg.get("resize_mode"),
            }
        elif spec.checkpoint_file is not None:
            checkpoint = str(spec.checkpoint_file)
        model, preprocess = self._build(checkpoint, options)
        model = self._placement.place(torch, model, lambda: self._build(checkpoint, options)[0])
        self._short_text = has_causal_text_tower(model)
        try:
            self._tokenizer = open_clip.get_tokenizer(spec.name)
        except ImportError as exc:  # SigLIP's, multilingual: Hugging Face tokenizers
            raise ModelUnavailableError(
                f"{spec.describe()} needs the {exc.name or 'transformers'} package for its "
                f"tokenizer: pip install {exc.name or 'transformers'}"
            ) from exc
        self._preprocess = preprocess
        self._dim = int(open_clip.get_model_config(spec.name)["embed_dim"])
        self._model = model

    def _build(self, checkpoint: str | None, options: dict[str, Any]) -> tuple[Any, Any]:
        """The model on the CPU in the precision chosen, and its preprocessing."""
        import open_clip
        import torch

        spec = self.spec
        try:
            if checkpoint is None:
                log.info("%s: random weights, for tests and speed benchmarks", spec.name)
                # Seeded, so every process builds the same random model (tests, benchmarks).
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(0)
                    model, _, preprocess = open_clip.create_model_and_transforms(
                        spec.name, pretrained=None
                    )
            else:
                model, _, preprocess = open_clip.create_model_and_transforms(
                    spec.name, pretrained=checkpoint, **options
                )
        except Exception as exc:  # a damaged or foreign checkpoint fails in library-specific ways
            raise ModelUnavailableError(
                f"cannot load {spec.describe()} from {checkpoint}: {exc}"
            ) from exc
        # MobileCLIP's training branches folded: the same vectors, faster in torch and ONNX.
        model = reparameterise(model.eval())
        self._dtype = torch.bfloat16 if self._precision == "bf16" else torch.float32
        if self._dtype != torch.float32:
            if not cpu_has_native_bf16():
                log.warning(
                    "bf16 on a CPU without native bf16 is emulated and much slower "
                    "than fp32; use --precision auto"
                )
            model = model.to(self._dtype)
        return model, preprocess

    def _to_cpu(self) -> None:
        """The model back on the CPU; built there again when the GPU cannot give it back."""
        try:
            self._model.to("cpu")  # a torch module moves in place
        except Exception as exc:  # noqa: BLE001 - a GPU in a broken state keeps it
            log.warning("the model could not leave the GPU (%s): loading it on the CPU", exc)
            with self._lock:
                self._model = None
                self._load_locked()  # the placement keeps it on the CPU now

    def _fetch_weights(self, tag_cfg: dict[str, Any]) -> str:
        source = WeightsSource.of_tag(tag_cfg)
        path = find_weights(source, self.hub.cache_dir)
        if path is None:
            raise ModelUnavailableError(
                f"CLIP weights for {self.spec.describe()} are not on disk (looked in "
                f"{weights_location(source, self.hub.cache_dir)}). Download them once with "
                f"`finder model download` (needs internet), or pass --pretrained "
                f"/path/to/checkpoint (with --model NAME or a model-config JSON)."
            )
        return str(path)

    def download(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        """Download the weights of a pretrained tag unless they are on disk (weights.download,
        the one download path); with a catalogue model's tokenizer files. Their path."""
        if not torch_installed():
            raise ModelUnavailableError(f"cannot download {self.spec.describe()}: {TORCH_MISSING}")
        import open_clip

        spec = self.spec
        if spec.pretrained is None or spec.checkpoint_file is not None:
            raise ModelUnavailableError(f"{spec.describe()} has no weights to download")
        tag_cfg = open_clip.get_pretrained_cfg(spec.name, spec.pretrained)
        if not tag_cfg:
            raise ModelUnavailableError(f"{spec.name} has no pretrained tag {spec.pretrained!r}")
        source = WeightsSource.of_tag(tag_cfg)
        entry = catalogue.find(spec.name, spec.pretrained)
        if entry is not None:
            source = dataclasses.replace(source, text_repos=entry.text_repos)
        try:
            return str(download(source, self.hub, progress=progress, cancel=cancel))
        except DownloadCancelled:
            raise
        except DownloadError as exc:
            raise ModelUnavailableError(f"cannot download {spec.describe()}: {exc}") from exc

    # -- encoding ---------------------------------------------------------------

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """The model's own resize/crop/normalise; safe to call from worker threads."""
        if self._preprocess is None:
            self.load()
        pixels: torch.Tensor = self._preprocess(image)
        return pixels

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray:
        """Embed preprocessed image tensors (from `preprocess`)."""
        import torch

        self.load()
        if len(batch) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        pixels = torch.stack(list(batch))

        def embed(device: str) -> np.ndarray:
            with torch.inference_mode():
                features = self._model.encode_image(pixels.to(device, self._dtype))
                return np.asarray(features.float().cpu().numpy())

        return normalise(self._placement.run(embed, self._to_cpu))

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts. A single text (a query) is answered from a small LRU cache."""
        return self._query_cache.encode(texts, self.encode_texts_uncached)

    def encode_texts_uncached(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) == 1 and self._query_threads:
            return self._encode_query(texts[0])
        return self._encode_texts(texts, short=self._short_text)

    # The loaded torch objects, for the ONNX export (finder.core.models.export), which
    # traces the model on the CPU: a model on the GPU moves there, and stays.
    @property
    def torch_model(self) -> Any:
        self.load()
        self._placement.settle_on_cpu(self._to_cpu)
        return self._model

    @property
    def torch_tokenizer(self) -> Any:
        self.load()
        return self._tokenizer

    @property
    def encodes_short_text(self) -> bool:
        """The text tower stops at the last real token (an OpenAI-style causal tower)."""
        self.load()
        return self._short_text

    def _encode_query(self, text: str) -> np.ndarray:
        """One text on `query_threads` threads (torch's setting is per calling thread)."""
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(self._query_threads or before)
        try:
            return self._encode_texts([text], short=self._short_text)
        finally:
            torch.set_num_threads(before)

    def _encode_texts(self, texts: Sequence[str], *, short: bool) -> np.ndarray:
        import torch

        # open_clip's BPE is quadratic in a word's length: bound what it is given.
        tokens = self._tokenizer([bound_text(text) for text in texts])

        def embed(device: str) -> np.ndarray:
            with torch.inference_mode():
                on_device = tokens.to(device)
                if short:
                    features = encode_text_short(self._model, on_device)
                else:
                    features = self._model.encode_text(on_device)
                return np.asarray(features.float().cpu().numpy())

        return normalise(self._placement.run(embed, self._to_cpu))

    def close(self) -> None:
        self._model = None
        self._query_cache.clear()


def _torch() -> Any:
    import torch

    return torch
