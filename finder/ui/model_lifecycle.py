"""The window's CLIP model: loading it in the background, downloading it when it is
missing, a checkpoint file, choosing another model (a switch beside searches) and the
faster runtime. Thin: the work is the service's (Library, library.switch); this part of
the Controller (`controller.lifecycle`) runs it off the GUI thread and says how it went.
"""

from __future__ import annotations

import enum
import html
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from finder.core.library import Library
from finder.core.model_shelf import can_download
from finder.core.models.embedder import Embedder
from finder.core.models.spec import ModelSpec, ModelUnavailableError, resolve_model_spec
from finder.core.types import SwitchOutcome, SwitchRun
from finder.ui.workers import start_task

if TYPE_CHECKING:
    from finder.ui.controller import Controller

LibraryFactory = Callable[[ModelSpec], Library]


class ModelPhase(enum.Enum):
    """Where the window's model is: the searches it allows depend on it."""

    LOADING = "loading"
    READY = "ready"
    MISSING = "missing"  # its weights are not here: file names and text only


class ModelLifecycle(QObject):
    def __init__(self, controller: Controller, library_factory: LibraryFactory | None) -> None:
        super().__init__(controller)
        self.c = controller
        self.library_factory = library_factory  # reopens the data dir with another model
        self.phase = ModelPhase.LOADING
        self._switch_cancel = threading.Event()
        self._switch_spec: ModelSpec | None = None  # a switch runs in the background

    # -- loading ----------------------------------------------------------------------------

    def load(self) -> None:
        """Load the model in the background; the window is already up. Weights that are
        not on disk are said at once (nothing to load), and the folders are indexed
        without them: names and text now, the model's vectors once it is here."""
        library = self.c.library
        missing = library.model_missing()
        if missing:
            self._on_failed(ModelUnavailableError(missing))
            return
        self.phase = ModelPhase.LOADING
        self.c.status.emit(f"Loading {library.model_description}\u2026")
        # Bound methods, not lambdas: Qt then delivers the result on this object's thread.
        start_task(self.c.pool, library.load_model, self._on_loaded, self._on_failed)

    def _on_loaded(self, _: object) -> None:
        c = self.c
        if c.shut_down:
            return  # the window closed while it loaded: start nothing more
        self.phase = ModelPhase.READY
        c.model_phase_changed.emit(ModelPhase.READY, "")
        c.status.emit(f"Ready \u2014 {c.library.model_description}")
        if c.has_folders():
            c.reindex()
        c.search_again()
        self.continue_switch()
        self._prepare_faster_runtime()

    def _on_failed(self, exc: Exception) -> None:
        c = self.c
        if c.shut_down:
            return
        self.phase = ModelPhase.MISSING
        spec = c.library.model_spec
        name = spec.name if spec is not None else ""
        c.model_phase_changed.emit(ModelPhase.MISSING, _model_missing_text(name))
        c.status.emit("The CLIP model is not available: searching file names and text only")
        c.report_failure("", exc, show=False)
        if c.has_folders():
            c.reindex()  # names, passages and text are searchable without the model
        c.search_again()

    def _prepare_faster_runtime(self) -> None:
        """Export a torch model for ONNX Runtime in the background (once per model):
        faster from then on, and later starts do without torch (less memory)."""
        library = self.c.library
        if self.c.shut_down or not library.wants_faster_runtime():
            return
        start_task(
            self.c.pool,
            library.export_faster_runtime,
            self._on_faster_runtime,
            self._on_faster_runtime_failed,
        )

    def _on_faster_runtime(self, embedder: Embedder) -> None:
        library = self.c.library  # the model may have been switched meanwhile
        if library.adopt_faster_runtime(embedder):
            self.c.log.emit(f"{library.model_description} now runs on ONNX Runtime")

    def _on_faster_runtime_failed(self, exc: Exception) -> None:
        self.c.report_failure("Preparing ONNX Runtime", exc, show=False)

    # -- a missing model ----------------------------------------------------------------------

    def can_download(self) -> bool:
        return can_download(self.c.library.model_spec)

    def download(self) -> None:
        library = self.c.library
        self.c.status.emit(f"Downloading {library.model_description}\u2026 (this can take minutes)")
        start_task(self.c.pool, library.download_model, self._on_downloaded, self._on_failed)

    def _on_downloaded(self, path: object) -> None:
        self.c.log.emit(f"Downloaded the model to {path}")
        self.load()

    def use_checkpoint(self, path: str) -> None:
        """Switch to a local checkpoint (with a config JSON beside it, or the current model)."""
        if self.library_factory is None:
            return
        config = Path(path).with_suffix(".json")
        current = self.c.library.model_spec
        try:
            spec = resolve_model_spec(
                str(config)
                if config.is_file()
                else (current.name if current else self.c.environment.model),
                path,
            )
        except ModelUnavailableError as exc:
            self.c.say(str(exc))
            return
        self._reopen(spec)

    # -- choosing the model: library.switch does the work ------------------------------------

    def choose(self, spec: ModelSpec) -> None:
        """Switch to another model: at once if its index is complete, else its vectors are
        embedded in the background while searches keep the current model, which it
        replaces when done (switch_finished). Resumes on the next start if interrupted."""
        if self.c.library.model_spec is None or self.library_factory is None:
            return
        if self.c.library.switch.choose(spec).immediate:
            self._reopen(spec)
            return
        self._start_switch(spec)

    def continue_switch(self) -> None:
        """A switch an earlier session left unfinished goes on where it stopped."""
        library = self.c.library
        if self._switch_spec is not None or not library.writable or self.library_factory is None:
            return
        pending = library.switch.pending()
        if pending is None:
            return
        if pending.spec is None:
            self.c.say(f"Switching to {pending.label} is on hold: {pending.on_hold}")
            return
        self._start_switch(pending.spec)

    def _start_switch(self, spec: ModelSpec) -> None:
        self._switch_cancel = cancel = threading.Event()
        self._switch_spec = spec
        self.c.status.emit(f"Preparing {spec.describe()} in the background…")
        switch = self.c.library.switch
        # Beside the watcher and index runs: each file keeps the current model's vectors.
        start_task(
            self.c.pool,
            lambda: switch.run(beside_indexing=True, cancel=cancel),
            self._on_switch_done,
            self._on_switch_failed,
        )

    def switch_progress(self) -> tuple[str, int, int] | None:
        """(model, files embedded, files total) of a switch in progress, else None."""
        return self.c.library.switch.progress()

    def cancel_switch(self) -> None:
        self._switch_cancel.set()
        self.c.library.switch.cancel()

    def stop_switch(self) -> None:
        """Shutting down: a switch stops after its batch; it resumes on the next start."""
        self._switch_cancel.set()

    def _on_switch_done(self, run: SwitchRun | None) -> None:
        spec, self._switch_spec = self._switch_spec, None
        if run is not None and run.outcome is SwitchOutcome.ON_HOLD:
            self.c.say(f"Switching to {run.label} is on hold: {run.reason}")
        if spec is not None and run is not None and run.taken_over and not self.c.shut_down:
            self._reopen(spec)
        self.c.switch_finished.emit()

    def _on_switch_failed(self, exc: Exception) -> None:
        self._switch_spec = None
        self.c.report_failure("", exc)
        self.c.switch_finished.emit()

    def _reopen(self, spec: ModelSpec) -> None:
        """The data dir again, with `spec` answering searches (and indexing)."""
        factory = self.library_factory
        assert factory is not None
        c = self.c
        c.replace_library(lambda: factory(spec))
        c.settings.model = str(spec.config_path) if spec.config_path else spec.name
        if spec.folder is not None:
            c.settings.model = str(spec.folder)
        c.settings.pretrained = spec.pretrained or "none"
        self.load()


def _model_missing_text(model_name: str) -> str:
    # Plain words: the banner's buttons are the way out; the technical message (it may
    # name command lines) goes to the failures log (report_failure) only.
    which = f" ({html.escape(model_name)})" if model_name else ""
    return (
        f"<b>The model{which} isn't on this computer yet.</b> Until it is, finder finds files by "
        "their file names and document text. Download it, or load a checkpoint file you "
        "already have."
    )
