"""OpenCLIP wrapper: text and images into one normalised embedding space.

torch and open_clip are imported on first use, never at import time, so the CLI's
cheap commands and the GUI window start without paying for them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    import torch
    from PIL import Image

log = logging.getLogger(__name__)

DEFAULT_MODEL = "ViT-B-32"
DEFAULT_PRETRAINED = "laion2b_s34b_b79k"
RANDOM_WEIGHTS = "none"
_CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")

# Numeric precision of the model. fp32 is the reference; bf16 (weights and input in
# bfloat16, outputs back in float32) is several times faster on CPUs with native bf16
# (AVX512-BF16, AMX) and embeds with cosine ~0.9999 against fp32, so its vectors share
# the fp32 model's key. Without native support bf16 is emulated and far slower, so
# "auto" picks it only where the CPU has it.
PRECISION_AUTO = "auto"
PRECISIONS = (PRECISION_AUTO, "fp32", "bf16")
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
# What runs the model: ONNX Runtime after a one-time export (finder.core.models.onnx_runtime),
# or torch; "auto" is ONNX once exported, unless the CPU has native bf16.
BACKENDS = ("auto", "torch", "onnx")
QUERY_CACHE_SIZE = 256  # recent single-text (query) embeddings kept per embedder
# A query is a few tokens: splitting it over threads gains little, and on a busy machine
# (the indexer running beside it) every parallel region waits for a descheduled thread:
# measured at load 5 on 2 cores, 90-170 ms with 1 thread against 800-1200 ms with 2.
QUERY_THREADS = 1


class ModelUnavailableError(Exception):
    """The model cannot be loaded; the message says which, where we looked and what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """Which CLIP to use, resolved to what open_clip needs.

    name: an open_clip model name (built-in, or registered from `config_path`).
    pretrained: a pretrained tag, a checkpoint file path, or None for random weights.
    """

    name: str
    pretrained: str | None
    config_path: Path | None = None

    @property
    def is_random(self) -> bool:
        return self.pretrained is None

    @property
    def checkpoint_file(self) -> Path | None:
        if self.pretrained and _looks_like_path(self.pretrained):
            return Path(self.pretrained)
        return None

    @property
    def key(self) -> str:
        """Identifies the weights, so vectors of different models never mix."""
        if self.pretrained is None:
            return f"{self.name}@random-seed0"
        ckpt = self.checkpoint_file
        if ckpt is not None:
            return f"{self.name}@file-{_file_fingerprint(ckpt)}"
        return f"{self.name}@{self.pretrained}"

    def describe(self) -> str:
        if self.pretrained is None:
            return f"{self.name} (random weights)"
        return f"{self.name} ({self.pretrained})"


def resolve_model_spec(model: str | None = None, pretrained: str | None = None) -> ModelSpec:
    """Turn --model/--pretrained (or FINDER_MODEL/FINDER_PRETRAINED) into a ModelSpec.

    model: an open_clip model name, or a path to an open_clip model-config JSON.
    pretrained: a tag, a checkpoint path, or "none" for random initialisation. When a
    config JSON is given without it, a checkpoint beside the JSON with the same base
    name is used.
    """
    model = model or os.environ.get("FINDER_MODEL") or DEFAULT_MODEL
    pretrained = pretrained or os.environ.get("FINDER_PRETRAINED") or None
    config_path: Path | None = None
    name = model
    if model.endswith(".json") or _looks_like_path(model):
        config_path = Path(model).expanduser().resolve()
        if not config_path.is_file():
            raise ModelUnavailableError(f"model config {config_path} does not exist")
        name = config_path.stem
        if pretrained is None:
            beside = [config_path.with_suffix(s) for s in _CHECKPOINT_SUFFIXES]
            found = [p for p in beside if p.is_file()]
            if not found:
                raise ModelUnavailableError(
                    f"no checkpoint beside {config_path} (looked for "
                    f"{', '.join(p.name for p in beside)}); pass --pretrained PATH"
                )
            pretrained = str(found[0])
    elif pretrained is None:
        pretrained = DEFAULT_PRETRAINED if model == DEFAULT_MODEL else None
        if pretrained is None:
            tags = _pretrained_tags(model)
            if not tags:
                raise ModelUnavailableError(
                    f"open_clip has no pretrained weights for {model}; pass --pretrained"
                )
            pretrained = tags[0]
    if pretrained is not None and pretrained.lower() == RANDOM_WEIGHTS:
        return ModelSpec(name, None, config_path)
    if pretrained is not None and _looks_like_path(pretrained):
        ckpt = Path(pretrained).expanduser().resolve()
        if not ckpt.is_file():
            raise ModelUnavailableError(f"checkpoint file {ckpt} does not exist")
        pretrained = str(ckpt)
    return ModelSpec(name, pretrained, config_path)


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


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU computes bfloat16 natively (Linux: avx512_bf16 or amx_bf16 flag).

    Elsewhere (macOS, Windows, no /proc) we do not guess: False, so "auto" means fp32.
    """
    if cpuinfo is None:
        if not sys.platform.startswith("linux"):
            return False
        try:
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return bool(_NATIVE_BF16_FLAGS & set(line.partition(":")[2].split()))
    return False


def resolve_precision(requested: str | None = None, *, native_bf16: bool | None = None) -> str:
    """The precision, "fp32" or "bf16", for a setting (auto | fp32 | bf16; default
    $FINDER_PRECISION, else auto)."""
    value = (requested or os.environ.get("FINDER_PRECISION") or PRECISION_AUTO).strip().lower()
    if value not in PRECISIONS:
        raise ModelUnavailableError(
            f"unknown precision {value!r} (--precision or FINDER_PRECISION); "
            f"choose one of {', '.join(PRECISIONS)}"
        )
    if value != PRECISION_AUTO:
        return value
    if native_bf16 is None:
        native_bf16 = cpu_has_native_bf16()
    return "bf16" if native_bf16 else "fp32"


class QueryCache:
    """Recent single-text (query) embeddings: typing, paging and tab switches repeat them."""

    def __init__(self, size: int = QUERY_CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(
        self, texts: Sequence[str], encode: Callable[[Sequence[str]], np.ndarray]
    ) -> np.ndarray:
        """`encode(texts)`, answered from the cache when it is one text seen recently."""
        if len(texts) != 1 or self._size <= 0:
            return encode(texts)
        with self._lock:
            cached = self._entries.get(texts[0])
            if cached is not None:
                self._entries.move_to_end(texts[0])
                return cached.copy()
        out = encode(texts)
        with self._lock:
            self._entries[texts[0]] = out.copy()
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return out

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def texts(self) -> list[str]:
        """The cached texts, least recently used first."""
        with self._lock:
            return list(self._entries)


class SpecEmbedder:
    """What every runtime of a ModelSpec says about it (torch, ONNX Runtime)."""

    spec: ModelSpec

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def description(self) -> str:
        return self.spec.describe()


class ClipEmbedder(SpecEmbedder):
    """Lazily loaded open_clip model; encode_* return L2-normalised float32 rows.

    precision: auto | fp32 | bf16 (default $FINDER_PRECISION, else auto: bf16 where
    the CPU has native bf16, fp32 elsewhere). It does not change `key`: bf16 and fp32
    vectors of the same weights are interchangeable.
    """

    backend = "torch"

    def __init__(
        self,
        spec: ModelSpec,
        *,
        threads: int | None = None,
        cache_dir: str | None = None,
        precision: str | None = None,
        query_cache_size: int = QUERY_CACHE_SIZE,
        query_threads: int | None = QUERY_THREADS,
    ) -> None:
        self.spec = spec
        self._threads = threads
        self._cache_dir = cache_dir
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
                    f"{', '.join(_pretrained_tags(spec.name)) or 'none'}"
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
        model.eval()
        self._dtype = torch.bfloat16 if self._precision == "bf16" else torch.float32
        if self._dtype != torch.float32:
            if not cpu_has_native_bf16():
                log.warning(
                    "bf16 on a CPU without native bf16 is emulated and much slower "
                    "than fp32; use --precision auto"
                )
            model = model.to(self._dtype)
        self._short_text = _has_causal_text_tower(model)
        self._tokenizer = open_clip.get_tokenizer(spec.name)
        self._preprocess = preprocess
        self._dim = int(open_clip.get_model_config(spec.name)["embed_dim"])
        self._model = model

    def _fetch_weights(self, tag_cfg: dict[str, Any]) -> str:
        path = cached_weights(tag_cfg, self._cache_dir)
        if path is None:
            raise ModelUnavailableError(
                f"CLIP weights for {self.spec.describe()} are not on disk (looked in "
                f"{weights_location(tag_cfg, self._cache_dir)}). Download them once with "
                f"`finder model download` (needs internet), or pass --pretrained "
                f"/path/to/checkpoint (with --model NAME or a model-config JSON)."
            )
        return path

    def download(self) -> str:
        """Explicitly download the weights of a pretrained tag (progress bars on stderr)."""
        import open_clip
        from open_clip.pretrained import download_pretrained

        spec = self.spec
        if spec.pretrained is None or spec.checkpoint_file is not None:
            raise ModelUnavailableError(f"{spec.describe()} has no weights to download")
        tag_cfg = open_clip.get_pretrained_cfg(spec.name, spec.pretrained)
        if not tag_cfg:
            raise ModelUnavailableError(f"{spec.name} has no pretrained tag {spec.pretrained!r}")
        cached = cached_weights(tag_cfg, self._cache_dir)
        if cached is not None:
            return cached
        source = tag_cfg.get("hf_hub") or tag_cfg.get("url") or ""
        if not _host_resolves(source):
            raise ModelUnavailableError(
                f"cannot download {spec.describe()}: no network connection to {source}"
            )
        try:
            return str(download_pretrained(tag_cfg, cache_dir=self._cache_dir))
        except Exception as exc:  # any hub/network/disk failure ends the download the same way
            raise ModelUnavailableError(
                f"download of {spec.describe()} from {source} failed: {_first_line(exc)}"
            ) from exc

    # -- encoding ---------------------------------------------------------------

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """The model's own resize/crop/normalise; safe to call from worker threads."""
        if self._preprocess is None:
            self.load()
        return self._preprocess(image)  # type: ignore[no-any-return]

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray:
        """Embed preprocessed image tensors (from `preprocess`)."""
        import torch

        self.load()
        if len(batch) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            pixels = torch.stack(list(batch)).to(self._dtype)
            features = self._model.encode_image(pixels)
        return normalise(features.float().numpy())

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

    # The loaded torch objects, for the ONNX export (finder.core.models.onnx_runtime).
    @property
    def torch_model(self) -> Any:
        self.load()
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

        tokens = self._tokenizer(list(texts))
        with torch.inference_mode():
            if short:
                features = _encode_text_short(self._model, tokens)
            else:
                features = self._model.encode_text(tokens)
        return normalise(features.float().numpy())

    def close(self) -> None:
        self._model = None
        self._query_cache.clear()


def _has_causal_text_tower(model: Any) -> bool:
    """An OpenAI-style open_clip CLIP whose text tower can stop at the last real token.

    With a causal mask, a position's output depends only on the positions before it,
    so the padding after the end-of-text token cannot change the pooled feature. Only
    open_clip's own CLIP.encode_text with argmax/eos pooling qualifies; anything else
    (CustomTextCLIP, Hugging Face towers, no mask, first/last pooling) keeps the full path.
    """
    from open_clip.model import CLIP

    return (
        isinstance(model, CLIP)
        and type(model).encode_text is CLIP.encode_text
        and getattr(model, "attn_mask", None) is not None
        and getattr(model, "text_pool_type", None) in ("argmax", "eos")
    )


def _encode_text_short(model: Any, text: torch.Tensor) -> torch.Tensor:
    """open_clip's CLIP.encode_text, run over the positions up to the batch's last EOT.

    Same steps (token + positional embedding, causal transformer, ln_final, pooling at
    the EOT, projection) with the sequence, positional embedding and mask cut to the
    longest real sequence: the same embedding for a fraction of the work.
    """
    import torch
    from torch import nn

    if model.text_pool_type == "argmax":
        # The EOT token has the highest id in each sequence (open_clip's rule).
        eot = text.argmax(dim=-1)
    else:
        eot = (text == model.text_eos_id).int().argmax(dim=-1)
    length = int(eot.max()) + 1
    cast_dtype = model.transformer.get_cast_dtype()
    x = model.token_embedding(text[:, :length]).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = x[torch.arange(x.shape[0], device=x.device), eot]
    if model.text_projection is not None:
        if isinstance(model.text_projection, nn.Linear):
            x = model.text_projection(x)
        else:
            x = x @ model.text_projection
    return x  # type: ignore[no-any-return]


def normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine = dot product), as float32."""
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-12)).astype(np.float32)


def _pretrained_tags(name: str) -> list[str]:
    import open_clip

    return list(open_clip.list_pretrained_tags_by_model(name))


def _looks_like_path(value: str) -> bool:
    return os.sep in value or "/" in value or Path(value).suffix in (*_CHECKPOINT_SUFFIXES, ".json")


def _file_fingerprint(path: Path) -> str:
    """Size plus a hash of the first and last MiB: cheap, and changes when the weights do."""
    try:
        size = path.stat().st_size
        digest = hashlib.sha256(str(size).encode())
        with open(path, "rb") as f:
            digest.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(-(1 << 20), os.SEEK_END)
                digest.update(f.read(1 << 20))
    except OSError as exc:
        raise ModelUnavailableError(f"cannot read checkpoint {path}: {exc}") from exc
    return f"{path.stem}-{digest.hexdigest()[:12]}"


def cached_weights(tag_cfg: dict[str, Any], cache_dir: str | None = None) -> str | None:
    """The weights file of a pretrained tag if it is already on disk; never touches the network."""
    hub = tag_cfg.get("hf_hub") or ""
    if hub:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError
        from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

        # open_clip's convention: "org/repo/file.bin", or "org/repo/" for the default file.
        repo_id, filename = os.path.split(hub)
        names = [filename] if filename else [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
        if filename.endswith((".bin", ".pth")):
            names.insert(0, filename[:-4] + ".safetensors")
        for name in names:
            try:
                return str(
                    hf_hub_download(repo_id, name, cache_dir=cache_dir, local_files_only=True)
                )
            except (LocalEntryNotFoundError, FileNotFoundError, OSError):
                continue
        return None
    url = tag_cfg.get("url") or ""
    if url:
        target = Path(cache_dir or os.path.expanduser("~/.cache/clip")) / os.path.basename(url)
        return str(target) if target.is_file() else None
    return tag_cfg.get("file") or None


def weights_location(tag_cfg: dict[str, Any], cache_dir: str | None = None) -> str:
    hub = tag_cfg.get("hf_hub") or ""
    if hub:
        from huggingface_hub import constants

        return f"the Hugging Face cache {cache_dir or constants.HF_HUB_CACHE} for {hub.rstrip('/')}"
    return str(Path(cache_dir or os.path.expanduser("~/.cache/clip")))


def _host_resolves(source: str) -> bool:
    """A quick DNS check, so an offline download fails at once instead of after retries."""
    import socket
    from urllib.parse import urlparse

    host = urlparse(source).hostname if "://" in source else "huggingface.co"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.getaddrinfo(host or "huggingface.co", 443)
    except OSError:
        return False
    return True


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
