"""Two (or more) models' top results for one query, side by side: which suits these files?

Each model searches its own index by meaning only (no keywords: those would be the same
for every model). A model that cannot answer (no index here, weights missing) gives its
column a one-line error instead of failing the comparison. Used by `finder compare` and
the app's Compare window; a `Comparison` keeps its models loaded between queries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from finder.core.ingest.extract import load_image
from finder.core.models import catalogue
from finder.core.models.embedder import Embedder
from finder.core.models.runtime import open_embedder
from finder.core.models.spec import ModelSpec, ModelUnavailableError, resolve_model_spec
from finder.core.models.switching import ModelChoice, load_state
from finder.core.search.search import Search
from finder.core.store.catalog import Catalog
from finder.core.store.layout import CATALOG_FILE, INDEX_DIR
from finder.core.store.model_store import ModelStore
from finder.core.types import SearchKind, SearchResult

Query = str | Image.Image | Path  # text, a picture, or a picture's file
StepCallback = Callable[[str], None]
ColumnCallback = Callable[["ComparedColumn"], None]  # each column as soon as it is ready
# What one model may fail with (weights missing, too little memory, a damaged index)
# without taking the other columns down.
COLUMN_ERRORS = (ModelUnavailableError, OSError, RuntimeError, ValueError, MemoryError)


@dataclass(frozen=True)
class ComparedColumn:
    """One model's answer: its results, or why it has none."""

    key: str
    label: str
    results: list[SearchResult] = field(default_factory=list)
    error: str = ""  # one line; empty when the model answered
    no_index: bool = False  # the error is "no index here": the caller says how to build one
    search_s: float = 0.0  # encoding the query and searching, without loading the model


@dataclass(frozen=True)
class Candidate:
    """A model with vectors here, as a picker lists it."""

    key: str
    label: str
    spec: ModelSpec | None  # None: it cannot be rebuilt from its key (see `why_not`)
    files_embedded: int
    files_total: int
    active: bool
    why_not: str = ""

    @property
    def complete(self) -> bool:
        return self.files_embedded >= self.files_total


def candidates(catalog: Catalog, data_dir: Path, active: ModelSpec | None) -> list[Candidate]:
    """Models with vectors here: the active one first, then the most recently indexed.

    A spec comes from the active model, the models chosen here (models.json) or the
    catalogue; a config or checkpoint chosen before finder remembered choices has none.
    """
    state = load_state(data_dir)
    known = {c.key: c for c in state.known}
    for choice in (state.active, state.target):
        if choice is not None:
            known[choice.key] = choice
    out: list[Candidate] = []
    for key, _, vectors in reversed(catalog.stored_models()):  # newest model id last
        is_active = active is not None and key == active.key
        if vectors == 0 and not is_active:
            continue
        spec, why_not = _spec_for(key, active, known)
        done, total = catalog.model_progress(key)
        out.append(
            Candidate(key, spec.describe() if spec else key, spec, done, total, is_active, why_not)
        )
    out.sort(key=lambda c: not c.active)  # stable: the rest stay newest first
    return out


def _spec_for(
    key: str, active: ModelSpec | None, known: Mapping[str, ModelChoice]
) -> tuple[ModelSpec | None, str]:
    if active is not None and active.key == key:
        return active, ""
    choice = known.get(key)
    try:
        if choice is not None:
            return choice.spec(), ""
        name, _, tag = key.partition("@")
        if catalogue.find(name, tag) is not None:
            return resolve_model_spec(name, tag), ""
    except ModelUnavailableError as exc:
        return None, str(exc)
    return None, (
        "not in the catalogue, and its config or checkpoint is not known here: "
        "compare it with `finder compare` and the config's path"
    )


class Comparison:
    """Read-only searches of several models over one data dir, kept open between runs.

    `embedders` lends already loaded models by key (the app's active one): they are
    used, never closed. Models it loads itself are released by `close()`. Thread-safe:
    runs go one at a time, and `close()` during a run releases everything as it ends.
    """

    def __init__(
        self,
        data_dir: Path,
        specs: Sequence[ModelSpec],
        *,
        embedders: Mapping[str, Embedder] | None = None,
        precision: str | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.specs = list(specs)
        self._lent = dict(embedders or {})
        self._precision = precision
        self._owned: dict[str, Embedder] = {}
        self._searches: dict[str, Search] = {}
        self._catalog: Catalog | None = None
        self._run_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._running = False
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def run(
        self,
        query: Query,
        kind: SearchKind = SearchKind.ALL,
        k: int = 10,
        *,
        on_step: StepCallback | None = None,
        on_column: ColumnCallback | None = None,
    ) -> list[ComparedColumn]:
        """One column per model, in the order of `specs`, each also handed to `on_column`
        as soon as it is ready (the first need not wait for the second model to load).
        After `close()`: []."""
        with self._run_lock:
            with self._state_lock:
                if self._closed:
                    return []
                self._running = True
            try:
                columns = []
                for spec in self.specs:
                    if self._closed:
                        return []  # the window went away: do not load the next model
                    columns.append(self._column(spec, query, kind, k, on_step))
                    if on_column is not None:
                        on_column(columns[-1])
                return columns
            finally:
                with self._state_lock:
                    self._running = False
                    release = self._closed
                if release:
                    self._release()

    def close(self) -> None:
        with self._state_lock:
            self._closed = True
            if self._running:
                return  # the run in flight releases everything when it ends
        self._release()

    def __enter__(self) -> Comparison:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one model ---------------------------------------------------------------------------

    def _column(
        self, spec: ModelSpec, query: Query, kind: SearchKind, k: int, on_step: StepCallback | None
    ) -> ComparedColumn:
        label = spec.describe()
        catalog = self._open_catalog()
        if catalog.find_model_id(spec.key) is None:
            return ComparedColumn(
                spec.key, label, error=f"{label} has no index here", no_index=True
            )
        embedder = self._embedder(spec)
        try:
            if not getattr(embedder, "loaded", True) and on_step is not None:
                on_step(f"Loading {label}\u2026")
            embedder.load()
        except COLUMN_ERRORS as exc:
            return ComparedColumn(spec.key, label, error=_first_line(exc))
        if on_step is not None:
            on_step(f"Searching with {label}\u2026")
        started = time.monotonic()
        try:
            results = self._search(spec, catalog, embedder).by_vector(
                _encode(embedder, query), kind, k, picture=not isinstance(query, str)
            )
        except COLUMN_ERRORS as exc:
            return ComparedColumn(spec.key, label, error=f"search failed: {_first_line(exc)}")
        return ComparedColumn(spec.key, label, results, search_s=time.monotonic() - started)

    def _search(self, spec: ModelSpec, catalog: Catalog, embedder: Embedder) -> Search:
        search = self._searches.get(spec.key)
        if search is None:  # kept: the index loads once, not on every query
            models = ModelStore(catalog, embedder, self.data_dir / INDEX_DIR, writable=False)
            search = self._searches[spec.key] = Search(catalog, models, embedder)
        return search

    def _open_catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = Catalog(self.data_dir / CATALOG_FILE)
        return self._catalog

    def _embedder(self, spec: ModelSpec) -> Embedder:
        lent = self._lent.get(spec.key)
        if lent is not None:
            return lent
        owned = self._owned.get(spec.key)
        if owned is None:
            # Its model folder (ONNX Runtime) where it has one, as the library runs it.
            owned = self._owned[spec.key] = open_embedder(
                spec, self.data_dir, precision=self._precision
            )
        return owned

    def _release(self) -> None:
        for embedder in self._owned.values():
            close = getattr(embedder, "close", None)  # every runtime has one; the Protocol not
            if close is not None:
                close()
        self._owned.clear()
        self._searches.clear()
        if self._catalog is not None:
            self._catalog.close()
            self._catalog = None


def compare(
    data_dir: Path,
    specs: Sequence[ModelSpec],
    query: Query,
    kind: SearchKind = SearchKind.ALL,
    k: int = 10,
    *,
    embedders: Mapping[str, Embedder] | None = None,
    precision: str | None = None,
) -> list[ComparedColumn]:
    """One comparison; the models it had to load are released before it returns."""
    with Comparison(data_dir, specs, embedders=embedders, precision=precision) as comparison:
        return comparison.run(query, kind, k)


def ranks_by_path(results: Sequence[SearchResult]) -> dict[str, int]:
    """1-based rank of each file in a column, to mark files that both models found."""
    ranks: dict[str, int] = {}
    for rank, result in enumerate(results, 1):
        ranks.setdefault(result.path, rank)
    return ranks


def _encode(embedder: Embedder, query: Query) -> np.ndarray:
    if isinstance(query, str):
        vectors = embedder.encode_texts([query])
    else:
        picture = query if isinstance(query, Image.Image) else load_image(query)
        vectors = embedder.encode_images([embedder.preprocess(picture.convert("RGB"))])
    first: np.ndarray = vectors[0]
    return first


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
