"""The models on the shelf: their weights (are they here, download them), what each
one's index takes in a data dir (deleting one), and comparing two.

Downloads and `compare` need no open library: the front ends call these functions
directly (`finder models download`, `finder compare`, the app's Download dialog); the
rest is reached through Library.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from finder.core.models.availability import missing_weights
from finder.core.models.catalogue import CatalogModel
from finder.core.models.embedder import Embedder, device_of
from finder.core.models.export import export_dir, export_to
from finder.core.models.ready import find_ready, plan_ready_download
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.switching import cancel_switch, load_state
from finder.core.models.torch_runtime import TORCH_MISSING, ClipEmbedder, torch_installed
from finder.core.models.weights import (
    DownloadError,
    DownloadPlan,
    DownloadProgress,
    Hub,
    WeightsSource,
    find_weights,
    plan_download,
)
from finder.core.search.compare import ComparedColumn, Query
from finder.core.search.compare import compare as compare_models
from finder.core.store.catalog import Catalog
from finder.core.store.layout import INDEX_DIR
from finder.core.store.model_store import index_dir
from finder.core.types import RuntimeInfo, SearchKind, StoredModel

DownloadCallback = Callable[[DownloadProgress], None]


class ModelInUseError(Exception):
    """The model cannot be deleted: searches use it."""


# -- weights ---------------------------------------------------------------------------------


def _spec(entry: CatalogModel) -> ModelSpec:
    return ModelSpec(entry.name, entry.pretrained)


def weights_on_disk(entry: CatalogModel, hub: Hub | None = None) -> Path | None:
    """Where a catalogue model is in the hub's cache (its ready export, else its torch
    weights), if it is."""
    cache_dir = (hub or Hub()).cache_dir
    return find_ready(_spec(entry), cache_dir) or find_weights(entry.weights, cache_dir)


def plan_weights_download(entry: CatalogModel, hub: Hub | None = None) -> DownloadPlan:
    """What downloading a catalogue model fetches (sized first); `.run()` fetches it:
    its ready ONNX export when one is published, else its torch weights (exported for
    ONNX Runtime once loaded). Raises DownloadError (offline, unknown repo) with the
    reason."""
    return plan_model_download(_spec(entry), entry.weights, hub or Hub())


def plan_model_download(spec: ModelSpec, weights: WeightsSource, hub: Hub) -> DownloadPlan:
    ready = plan_ready_download(spec, hub)
    if ready is not None:
        return ready
    if not torch_installed():
        raise DownloadError(
            f"no ready ONNX model of {spec.describe()} is published, and {TORCH_MISSING}"
        )
    return plan_download(weights, hub)


def export_model(
    spec: ModelSpec,
    folder: Path,
    *,
    hub: Hub | None = None,
    progress: DownloadCallback | None = None,
) -> tuple[Path, float]:
    """Write `spec` (any open_clip model or checkpoint, loaded with torch; a tag's
    weights are downloaded first when missing) into a new model folder, checked against
    torch first; the folder and the cosine it reached. Needs the torch extra
    (ModelUnavailableError says so); UnsupportedModelError says why a model cannot be."""
    if not torch_installed():
        raise ModelUnavailableError(f"exporting {spec.describe()} needs torch: {TORCH_MISSING}")
    # On the CPU: the export traces and checks the model there.
    embedder = ClipEmbedder(spec, precision="fp32", hub=hub, device="cpu")
    try:
        if can_download(spec) and missing_weights(embedder):
            embedder.download(progress=progress)
        written = export_to(embedder, folder)
    finally:
        embedder.close()
    return written, cosine_of(written)


def cosine_of(folder: Path) -> float:
    """The cosine against torch a finder export reached (its finder.json)."""
    meta = json.loads((folder / "finder.json").read_text(encoding="utf-8"))
    return float(meta.get("cosine_vs_torch", 0.0))


def can_download(spec: ModelSpec | None) -> bool:
    """A pretrained tag (not a checkpoint file, not random weights) can be downloaded."""
    return bool(spec and spec.pretrained and spec.checkpoint_file is None)


def runtime_of(embedder: Embedder) -> RuntimeInfo:
    """How a model runs: its arithmetic and runtime, and a line saying so."""
    backend = getattr(embedder, "backend", "")
    if backend == "onnxruntime":  # its arithmetic, and why (int8: the check's figures)
        detail = f"{embedder.precision_in_use} ({embedder.precision_reason})"  # type: ignore[attr-defined]
    elif not isinstance(embedder, ClipEmbedder):
        detail = "fp32"
    elif not torch_installed():
        detail = "none yet (torch is not installed: download the ready model)"
    else:
        detail = f"{embedder.precision_in_use} (torch; {embedder.precision_reason})"
    device = device_of(embedder)
    return RuntimeInfo(
        getattr(embedder, "precision_in_use", "fp32"),
        getattr(embedder, "backend", "torch"),
        detail,
        device.name,
        device.fell_back,
    )


class StandaloneModel:
    """A model outside any data dir (`finder model`): what it is, how it would run,
    loading it, downloading its weights."""

    def __init__(
        self, spec: ModelSpec, *, precision: str | None = None, hub: Hub | None = None
    ) -> None:
        self.spec = spec
        self._embedder = ClipEmbedder(spec, precision=precision, hub=hub)

    @property
    def runtime(self) -> RuntimeInfo:
        return runtime_of(self._embedder)

    def load(self) -> int:
        """Load it (ModelUnavailableError when its weights are missing); its dimension."""
        self._embedder.load()
        return self._embedder.dim

    def download(
        self,
        *,
        progress: DownloadCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> str:
        """It, downloaded unless it is on disk (its ready export when one is published,
        else its weights); their path."""
        return download_model(self._embedder, progress=progress, cancel=cancel)


def download_model(
    embedder: Embedder,
    *,
    progress: DownloadCallback | None = None,
    cancel: threading.Event | None = None,
) -> str:
    """Download a model that is not on disk yet (its ready export when one is published,
    else its weights); their path."""
    if not isinstance(embedder, ClipEmbedder):  # an ONNX export runs from its own files
        raise ModelUnavailableError(f"{embedder.description} has no weights to download")
    if can_download(embedder.spec):
        ready = plan_ready_download(embedder.spec, embedder.hub)
        if ready is not None:
            return str(ready.run(progress, cancel))
    return embedder.download(progress=progress, cancel=cancel)


# -- what each model takes in a data dir -----------------------------------------------------


def stored_models(catalog: Catalog, data_dir: Path) -> list[StoredModel]:
    out = []
    for key, dim, count in catalog.stored_models():
        done, total = catalog.model_progress(key)
        out.append(
            StoredModel(
                key,
                dim,
                count,
                done,
                total,
                tree_bytes(index_dir(data_dir / INDEX_DIR, key))
                + tree_bytes(export_dir(data_dir, key)),
                count * dim * 4,
            )
        )
    return out


def delete_model(catalog: Catalog, data_dir: Path, key: str, serving: str) -> int:
    """Delete a model's vectors, its catalog entry and its index; returns the bytes
    freed (index files, plus the vectors' share of the catalog, which SQLite reuses
    for later writes). The active model and `serving` (the one searches use here) are
    refused; deleting the target of a switch cancels the switch."""
    state = load_state(data_dir)
    active = state.active.key if state.active else None
    if key in (active, serving):
        raise ModelInUseError(
            f"{key} answers searches; switch to another model first (`finder models use NAME`)"
        )
    stored = {m.key: m for m in stored_models(catalog, data_dir)}
    directory = index_dir(data_dir / INDEX_DIR, key)
    if key not in stored and not directory.exists():
        raise ModelInUseError(f"no model {key} in {data_dir}")
    if state.target is not None and state.target.key == key:
        cancel_switch(data_dir)
    freed = stored[key].vector_bytes if key in stored else 0
    catalog.delete_model(key)
    for folder in (directory, export_dir(data_dir, key)):  # index, ONNX export
        freed += tree_bytes(folder)
        shutil.rmtree(folder, ignore_errors=True)
    return freed


def tree_bytes(path: Path) -> int:
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def compare(
    data_dir: Path,
    specs: Sequence[ModelSpec],
    query: Query,
    kind: SearchKind = SearchKind.ALL,
    k: int = 10,
    *,
    precision: str | None = None,
) -> list[ComparedColumn]:
    """Several models' top results for one query (`finder compare`), each model loaded
    for it and released after."""
    return compare_models(data_dir, specs, query, kind, k, precision=precision)
