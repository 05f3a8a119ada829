"""Which runtime runs a model: ONNX Runtime from a model folder (one named with --model
DIR, the data dir's export of the model, or its downloaded ready export), else torch.

The setting (auto | torch | onnx): "auto" is ONNX when there is a folder, unless the CPU
has native bf16, where torch's bf16 path is the faster one, or the machine has a GPU
that torch can use and the installed ONNX Runtime cannot (no `finder[cuda]`): then the
model stays on torch, on the GPU. Without torch installed, a folder always runs on ONNX
Runtime.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from finder.core.models.cpu import resolve_precision
from finder.core.models.embedder import Embedder
from finder.core.models.export import (
    UnsupportedModelError,
    export,
    find_export,
    marked_unsupported,
    remember_unsupported,
)
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.providers import gpu_only_for_torch, torch_device
from finder.core.models.ready import find_ready
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.torch_runtime import ClipEmbedder, torch_installed
from finder.core.models.weights import Hub

log = logging.getLogger(__name__)

BACKENDS = ("auto", "torch", "onnx")


def resolve_backend(requested: str | None = None) -> str:
    """auto | torch | onnx (None: auto). The front ends pass --backend, else
    FINDER_BACKEND (finder.config)."""
    value = (requested or "auto").strip().lower()
    if value not in BACKENDS:
        raise ModelUnavailableError(
            f"unknown backend {value!r} (--backend or FINDER_BACKEND); choose one of "
            f"{', '.join(BACKENDS)}"
        )
    return value


def open_embedder(
    spec: ModelSpec,
    data_dir: Path,
    *,
    precision: str | None = None,
    backend: str | None = None,
    hub: Hub | None = None,
) -> Embedder:
    """The embedder a process should use for `spec`: ONNX Runtime when the model has a
    folder and the setting allows it, else torch (ClipEmbedder, its weights looked up
    and downloaded through `hub`)."""
    if spec.folder is not None:
        return OnnxEmbedder(spec, spec.folder)
    chosen = resolve_backend(backend)
    folder = find_export(data_dir, spec)
    owned = folder is not None
    if folder is None:
        folder = find_ready(spec, (hub or Hub()).cache_dir)
    if chosen == "onnx" and folder is None:
        log.info("%s has no ONNX export yet: torch until it has one", spec.describe())
    if folder is not None and (
        not torch_installed()
        or (
            chosen != "torch"
            and (chosen == "onnx" or resolve_precision(precision) == "fp32")
            and not _torch_for_the_gpu(chosen)
        )
    ):
        return OnnxEmbedder(spec, folder, owned=owned)
    return ClipEmbedder(spec, precision=precision, hub=hub)


def _torch_for_the_gpu(chosen: str) -> bool:
    """auto, with a GPU only torch can use (providers.gpu_only_for_torch)."""
    return chosen == "auto" and torch_installed() and gpu_only_for_torch() and _torch_has_gpu()


@functools.cache
def _torch_has_gpu() -> bool:
    """Whether the installed torch can use this machine's GPU (a CPU build cannot):
    torch is imported only where a GPU's device files were seen."""
    import torch

    return torch_device(torch) != "cpu"


def should_export(embedder: Embedder, data_dir: Path, backend: str | None = None) -> bool:
    """True when `embedder` is a torch model that auto/onnx would run faster exported."""
    chosen = resolve_backend(backend)
    return (
        isinstance(embedder, ClipEmbedder)
        and chosen != "torch"
        and (chosen == "onnx" or embedder.precision_in_use == "fp32")
        and not _torch_for_the_gpu(chosen)
        and find_export(data_dir, embedder.spec) is None
        and not marked_unsupported(data_dir, embedder.spec)
    )


def optimise(embedder: Embedder, data_dir: Path, backend: str | None = None) -> Embedder:
    """Export a loaded torch model (once) and return its ONNX embedder; `embedder` itself
    when it cannot or need not be exported. Never raises for an export that fails: the
    torch path keeps working and the reason is logged; a model that cannot be exported
    is remembered as such (not tried again), other failures (a full disk) are retried
    on the next start."""
    if isinstance(embedder, OnnxEmbedder) or not isinstance(embedder, ClipEmbedder):
        return embedder
    if not should_export(embedder, data_dir, backend):
        folder = find_export(data_dir, embedder.spec)
        return (
            OnnxEmbedder(embedder.spec, folder, owned=True)
            if folder is not None
            and resolve_backend(backend) != "torch"
            and not _torch_for_the_gpu(resolve_backend(backend))
            else embedder
        )
    try:
        folder = export(embedder, data_dir)
    except UnsupportedModelError as exc:
        log.info("%s stays on torch: %s", embedder.description, exc)
        remember_unsupported(data_dir, embedder.spec, str(exc))
        return embedder
    except Exception as exc:  # noqa: BLE001 - an exporter failure must not stop indexing
        log.warning("ONNX export of %s failed, staying on torch: %s", embedder.description, exc)
        return embedder
    onnx_embedder = OnnxEmbedder(embedder.spec, folder, owned=True)
    onnx_embedder.load()
    return onnx_embedder
