"""Switching the model searches use: choose, resume, cancel. The one implementation the
CLI (`finder models use`, `finder index`, `finder watch`) and the app call, through
`finder.core.library.Library`; they keep only their threads and progress display.

Choosing a model whose index is complete makes it active at once; otherwise it becomes
the target (finder.core.models.switching) and a run gives every file its vectors while
the current model keeps answering searches. A run on its own (`beside_indexing=False`)
embeds what is missing once; beside live indexing (the watcher, the app's index runs)
it adds vectors to files as the active model indexed them and repeats until the target
has taken over, the switch is abandoned or the caller stops it. Every run is resumable.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finder.core.indexing.indexer import Indexer, IndexerConfig, ProgressCallback
from finder.core.models.embedder import Embedder
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.models.switching import (
    ModelChoice,
    ModelState,
    begin_switch,
    cancel_switch,
    load_state,
    progress,
    save_state,
    take_over_if_complete,
)
from finder.core.store.catalog import Catalog
from finder.core.store.layout import INDEX_DIR
from finder.core.store.model_store import ModelStore
from finder.core.types import (
    ChosenModels,
    IndexReport,
    SwitchChoice,
    SwitchOutcome,
    SwitchRun,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingSwitch:
    """A switch left to finish: its target, and why it cannot go on yet, if it cannot."""

    label: str
    key: str
    spec: ModelSpec | None  # None: it cannot be built (weights or config missing)
    on_hold: str = ""  # why not

    @property
    def description(self) -> str:
        return self.spec.describe() if self.spec is not None else self.label


def active_model(data_dir: Path) -> ModelSpec | None:
    """The model a data dir's searches use (models.json), if one was ever recorded."""
    state = load_state(data_dir)
    return state.active.spec() if state.active is not None else None


class ModelSwitch:
    """The model switch of one data dir, a part of its Library (`library.switch`).

    `serving` is the model the library searches with; `load` builds a model that is not
    loaded yet (a switch's target); `adopt` makes the library (and its watcher) search
    and index with the target once it took over.
    """

    def __init__(
        self,
        data_dir: Path,
        catalog: Catalog,
        *,
        writable: bool,
        indexer_config: IndexerConfig | None,
        serving: Callable[[], Embedder],
        load: Callable[[ModelSpec], Embedder],
        adopt: Callable[[Embedder], None],
    ) -> None:
        self._data_dir = data_dir
        self._catalog = catalog
        self._writable = writable
        self._indexer_config = indexer_config
        self._serving = serving
        self._load = load
        self._adopt = adopt
        self._specs: dict[str, ModelSpec] = {}  # as chosen: no need to resolve them again
        self._loaded: dict[str, Embedder] = {}  # loaded by `choose`, for the run that follows

    def remember_first(self, spec: ModelSpec) -> None:
        """The first model a data dir is indexed with becomes its active model."""
        if load_state(self._data_dir).active is None:
            try:
                save_state(self._data_dir, ModelState(ModelChoice.of(spec), None))
            except OSError as exc:  # a full or read-only disk: indexing says so itself
                log.warning("cannot record the model in %s: %s", self._data_dir, exc)

    def chosen(self) -> ChosenModels:
        state = load_state(self._data_dir)
        return ChosenModels(
            self._serving().key,
            state.active.key if state.active else None,
            state.target.key if state.target else None,
        )

    def choose(self, new: ModelSpec, *, load_first: bool = False) -> SwitchChoice:
        """Make `new` the model searches use: at once if its index is complete, else
        the target of a switch (which `run` carries out) while the current model keeps
        answering. `load_first`: load it before anything changes, so a model that
        cannot load is refused (ModelUnavailableError)."""
        current = getattr(self._serving(), "spec", None)
        if current is None:
            raise ValueError(f"{self._serving().key} is no model that can be switched from")
        now, chosen = ModelChoice.of(current), ModelChoice.of(new)
        if load_first and not progress(self._catalog, chosen).complete:
            embedder = self._load(new)
            embedder.load()
            self._loaded = {chosen.key: embedder}
        self._specs[chosen.key] = new
        state = begin_switch(self._data_dir, self._catalog, now, chosen)
        done = progress(self._catalog, chosen)
        return SwitchChoice(
            chosen.label, now.label, state.target is None, done.embedded, done.total
        )

    def pending(self) -> PendingSwitch | None:
        """A switch to another model than the serving one left to finish, if any."""
        target = self._target()
        if target is None:
            return None
        try:
            spec = self._spec(target)
        except ModelUnavailableError as exc:
            return PendingSwitch(target.label, target.key, None, on_hold=str(exc))
        return PendingSwitch(target.label, target.key, spec)

    def progress(self) -> tuple[str, int, int] | None:
        """(target, files embedded, files it needs) of a switch in progress, else None."""
        target = load_state(self._data_dir).target
        if target is None:
            return None
        done, total = self._catalog.model_progress(target.key)
        return target.label, done, total

    def cancel(self) -> None:
        """Searches keep the active model; the target keeps what it embedded so far."""
        cancel_switch(self._data_dir)

    def run(
        self,
        *,
        beside_indexing: bool = False,
        adopt: bool = False,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        wake: threading.Event | None = None,
        retry_s: float = 5.0,
    ) -> SwitchRun | None:
        """Embed what the target still lacks; None when no switch is pending.

        Beside indexing, a run that found nothing to embed (the rest is still being
        indexed) waits for `wake` (else `cancel`) or `retry_s` before the next one.
        `adopt`: once the target has taken over, the library searches and indexes with
        it (else the caller reopens the library with it)."""
        target = self._target()
        if target is None:
            return None
        try:
            embedder = self._loaded.pop(target.key, None) or self._load(self._spec(target))
            if beside_indexing:
                return self._until_taken_over(
                    target,
                    embedder,
                    progress,
                    cancel or threading.Event(),
                    wake,
                    retry_s,
                    self._adopt if adopt else None,
                )
            report = self.embed(embedder, progress=progress, cancel=cancel)
        except ModelUnavailableError as exc:
            return self._ended(target, SwitchOutcome.ON_HOLD, reason=str(exc))
        if self._taken_over(target):
            outcome = SwitchOutcome.TAKEN_OVER
        else:
            outcome = SwitchOutcome.CANCELLED if report.cancelled else SwitchOutcome.NOT_COMPLETE
        return self._ended(target, outcome, report.reembedded, report.elapsed_s)

    def embed(
        self,
        embedder: Embedder,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        vectors_only: bool = False,
    ) -> IndexReport:
        """Give every file `embedder`'s vectors (its own index, beside the active one's),
        then let it take over if it is the target of a switch and now complete.

        Unchanged files keep their items and other models' vectors; pictures are decoded
        again, passages come from the catalog. Resumable: a killed run loses at most the
        batch in flight, and the next run embeds only files still missing.
        `vectors_only=True` while a watcher indexes the folders with the active model:
        files new or changed meanwhile get this model's vectors on a later run (see
        Indexer.run).
        """
        if not self._writable:
            raise RuntimeError("embedding needs a writable library")
        store = ModelStore(self._catalog, embedder, self._data_dir / INDEX_DIR, writable=True)
        indexer = Indexer(self._catalog, store, embedder, self._indexer_config)
        report = indexer.run(progress=progress, cancel=cancel, vectors_only=vectors_only)
        if not report.cancelled:
            take_over_if_complete(self._data_dir, self._catalog)
        return report

    def _until_taken_over(
        self,
        target: ModelChoice,
        embedder: Embedder,
        progress: ProgressCallback | None,
        cancel: threading.Event,
        wake: threading.Event | None,
        retry_s: float,
        adopt: Callable[[Embedder], None] | None,
    ) -> SwitchRun:
        # vectors_only: files new or changed meanwhile are the active model's to index;
        # the next run gives them the target's vectors.
        reembedded, elapsed = 0, 0.0
        while not cancel.is_set():
            if wake is not None:
                wake.clear()
            report = self.embed(embedder, progress=progress, cancel=cancel, vectors_only=True)
            reembedded += report.reembedded
            elapsed += report.elapsed_s
            if report.cancelled:
                return self._ended(target, SwitchOutcome.CANCELLED, reembedded, elapsed)
            if self._taken_over(target):
                if adopt is not None:
                    adopt(embedder)
                return self._ended(target, SwitchOutcome.TAKEN_OVER, reembedded, elapsed)
            state = load_state(self._data_dir)
            if state.target is None or state.target.key != target.key:
                return self._ended(target, SwitchOutcome.ABANDONED, reembedded, elapsed)
            if not report.reembedded:  # what is missing is still being indexed
                (wake or cancel).wait(retry_s)
        return self._ended(target, SwitchOutcome.STOPPED, reembedded, elapsed)

    def _target(self) -> ModelChoice | None:
        target = load_state(self._data_dir).target
        return None if target is None or target.key == self._serving().key else target

    def _spec(self, target: ModelChoice) -> ModelSpec:
        spec = self._specs.get(target.key)
        if spec is None:
            spec = self._specs[target.key] = target.spec()
        return spec

    def _taken_over(self, target: ModelChoice) -> bool:
        active = load_state(self._data_dir).active
        return active is not None and active.key == target.key

    def _ended(
        self,
        target: ModelChoice,
        outcome: SwitchOutcome,
        reembedded: int = 0,
        elapsed_s: float = 0.0,
        reason: str = "",
    ) -> SwitchRun:
        done, total = self._catalog.model_progress(target.key)
        return SwitchRun(
            target.label, target.key, outcome, reembedded, elapsed_s, done, total, reason
        )
