"""Models: the catalogue with its figures, what is on disk and indexed here; switch, delete.

The rows are built from plain data by `build_rows` (testable without widgets); the
dialog only shows them and forwards the buttons to the controller and the library.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent, QStandardItem
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from finder.core.library import ModelInUseError, StoredModel
from finder.core.models import catalogue
from finder.core.models.catalogue import CatalogModel
from finder.core.models.weights import Hub, find_weights, plan_download
from finder.ui.controller import Controller
from finder.ui.dialogs.folders import row_table
from finder.ui.workers import start_task

COLUMNS = [
    "Model",
    "Dim",
    "ImageNet",
    "Flickr R@1",
    "COCO R@1",
    "Download",
    "Weights",
    "Index here",
    "State",
]
UNKNOWN = "\u2014"
POLL_MS = 500


@dataclass(frozen=True)
class ModelRow:
    """One line of the table: its cells and what the buttons may do with it."""

    key: str
    cells: list[str]
    entry: CatalogModel | None  # None: indexed here, but not in the catalogue
    on_disk: bool
    active: bool  # answers searches
    target: bool  # being switched to
    index_bytes: int | None  # its index and vectors here, if it has them
    tooltip: str = ""

    def use_refusal(self) -> str | None:
        """Why "Use this model" is disabled for this row, or None."""
        if self.active:
            return "This model already answers searches."
        if self.entry is None:
            return "Not in the catalogue: use `finder models use CONFIG.json` on the command line."
        if not self.on_disk:
            return f"Not on this computer yet: run `finder models download {self.entry.name}`."
        return None

    def download_refusal(self) -> str | None:
        """Why "Download" is disabled for this row, or None."""
        if self.entry is None:
            return "Not in the catalogue: there is nothing to download for it."
        if self.on_disk:
            return "Its weights are already on this computer."
        return None

    def delete_refusal(self) -> str | None:
        """Why "Delete its index" is disabled for this row, or None."""
        if self.active:
            return "This model answers searches; switch to another model first."
        if self.target:
            return "This model is being switched to: cancel the switch first."
        if self.index_bytes is None:
            return "This model has no index here."
        return None


def build_rows(
    catalogue: Sequence[CatalogModel],
    stored: Sequence[StoredModel],
    active_keys: set[str],
    target_key: str | None,
    on_disk: Callable[[CatalogModel], bool],
) -> list[ModelRow]:
    """The catalogue, then models indexed here that it does not list (configs,
    checkpoints) and the active one if neither lists it."""
    by_key = {m.key: m for m in stored}
    rows: list[ModelRow] = []
    for entry in catalogue:
        present = on_disk(entry)
        index = by_key.get(entry.key)
        label = f"{entry.name} {entry.pretrained}" + (" \u2020" if entry.needs_hub else "")
        cells = [
            label,
            str(entry.embed_dim),
            _pct(entry.imagenet),
            _pct(entry.flickr_r1),
            _pct(entry.coco_r1),
            f"~{_size(entry.download_bytes)}",
            "on disk" if present else "not downloaded",
            _index_cell(index),
            _state(entry.key, active_keys, target_key),
        ]
        tip = f"{entry.note}. Languages: {entry.languages}." if entry.note else ""
        if entry.needs_hub:
            tip += " Fetches its tokenizer or text config from the Hugging Face hub once."
        rows.append(
            ModelRow(
                entry.key,
                cells,
                entry,
                present,
                entry.key in active_keys,
                entry.key == target_key,
                index.bytes if index else None,
                tip.strip(),
            )
        )
    known = {r.key for r in rows}
    extra = [k for k in by_key if k not in known]
    extra += sorted(k for k in active_keys if k not in known and k not in by_key)
    for key in extra:
        index = by_key.get(key)
        name, _, tag = key.partition("@")
        cells = [
            f"{name} {tag}".strip(),
            str(index.dim) if index else UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            UNKNOWN,
            _index_cell(index),
            _state(key, active_keys, target_key),
        ]
        rows.append(
            ModelRow(
                key,
                cells,
                None,
                True,
                key in active_keys,
                key == target_key,
                index.bytes if index else None,
                "Not in the catalogue (a model config or a checkpoint).",
            )
        )
    return rows


class ModelsDialog(QDialog):
    compare_requested = Signal()  # "Compare…": two models' results side by side

    def __init__(
        self,
        controller: Controller,
        parent: QWidget | None = None,
        *,
        on_disk: Callable[[CatalogModel], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(1040, 460)
        self.controller = controller
        hub = controller.environment.hub
        self._on_disk = on_disk or (lambda m: find_weights(m.weights, hub.cache_dir) is not None)
        self.rows: list[ModelRow] = []
        self._switching: str | None = None

        self.model, self.table = row_table(COLUMNS, self)

        self.recommendation = QLabel(self)
        self.recommendation.setWordWrap(True)
        self.download_button = QPushButton("Download\u2026", self)
        self.download_button.clicked.connect(self._download_selected)
        self.use_button = QPushButton("Use this model", self)
        self.use_button.clicked.connect(self._use_selected)
        self.delete_button = QPushButton("Delete its index", self)
        self.delete_button.clicked.connect(self._delete_selected)
        self.cancel_button = QPushButton("Cancel switch", self)
        self.cancel_button.clicked.connect(self._cancel_switch)
        compare_button = QPushButton("Compare\u2026", self)
        compare_button.setToolTip(
            "Two models' results for one query, side by side "
            "(Ctrl+Shift+C); needs both indexed here."
        )
        compare_button.clicked.connect(self.compare_requested)
        self.switch_label = QLabel(self)
        self.switch_bar = QProgressBar(self)
        self.switch_bar.setMaximumWidth(240)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        legend = QLabel(
            "\u2020 fetches its tokenizer or text config from the Hugging Face hub once. "
            f"{UNKNOWN} unknown. Figures: zero-shot, text\u2192image recall@1; download sizes "
            f"are estimates. Source: {catalogue.SOURCE}.",
            self,
        )
        legend.setWordWrap(True)
        legend.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = legend.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        legend.setFont(font)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.use_button)
        row.addWidget(self.delete_button)
        row.addWidget(compare_button)
        row.addStretch(1)
        row.addWidget(self.switch_label)
        row.addWidget(self.switch_bar)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.recommendation)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(legend)
        layout.addWidget(buttons)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        controller.switch_finished.connect(self.refresh)
        best, why = catalogue.recommend(catalogue.Machine.this())
        self.recommendation.setText(
            f"<b>Recommended here:</b> {best.name} {best.pretrained} \u2014 {why}."
        )
        self.refresh()

    # -- data -------------------------------------------------------------------------------

    def _active_keys(self) -> set[str]:
        from finder.core.models.switching import load_state

        library = self.controller.library
        state = load_state(library.data_dir)
        keys = {library.embedder.key}
        if state.active is not None:
            keys.add(state.active.key)
        return keys

    def refresh(self) -> None:
        from finder.core.models.switching import load_state

        library = self.controller.library
        selected = self.selected_row()
        state = load_state(library.data_dir)
        self.rows = build_rows(
            catalogue.MODELS,
            library.stored_models(),
            self._active_keys(),
            state.target.key if state.target else None,
            self._on_disk,
        )
        self.model.removeRows(0, self.model.rowCount())
        for index, data in enumerate(self.rows):
            items = [QStandardItem(text) for text in data.cells]
            for item in items[1:6]:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if data.active or data.target:
                for item in items:
                    font = item.font()
                    font.setBold(data.active)
                    font.setItalic(data.target)
                    item.setFont(font)
            items[0].setToolTip(data.tooltip)
            self.model.appendRow(items)
            if selected is not None and data.key == selected.key:
                self.table.selectRow(index)
        self.poll()
        self._update_buttons()

    def selected_row(self) -> ModelRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return self.rows[rows[0].row()]

    # -- switch progress ------------------------------------------------------------------

    def poll(self) -> None:
        progress = self.controller.switch_progress()
        switching = progress[0] if progress else None
        for widget in (self.switch_label, self.switch_bar, self.cancel_button):
            widget.setVisible(progress is not None)
        if progress is not None:
            name, done, total = progress
            self.switch_label.setText(f"Switching to {name}: {done:,} of {total:,} files")
            self.switch_bar.setRange(0, max(total, 1))
            self.switch_bar.setValue(done)
        if switching != self._switching:
            self._switching = switching
            if self.rows:  # a switch began or ended elsewhere: the marks changed
                self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self.timer.stop()
        super().hideEvent(event)

    # -- actions --------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        row = self.selected_row()
        use = row.use_refusal() if row else "Select a model first."
        if use is None and self._switching is not None:
            use = "A switch is running: wait for it, or cancel it first."
        delete = row.delete_refusal() if row else "Select a model first."
        download = row.download_refusal() if row is not None else "Select a model first."
        self.download_button.setEnabled(download is None)
        self.download_button.setToolTip(
            download
            or "Download its weights into the Hugging "
            "Face cache (resumable; the size is shown first)."
        )
        self.use_button.setEnabled(use is None)
        self.use_button.setToolTip(
            use
            or "Switch to this model: its index is built in the "
            "background while searches keep the current one."
        )
        self.delete_button.setEnabled(delete is None)
        self.delete_button.setToolTip(
            delete or "Delete this model's vectors and index here (not the weights)."
        )
        freed = row.index_bytes if row and row.index_bytes is not None else None
        self.delete_button.setText(
            f"Delete its index (frees {_size(freed)})" if freed is not None else "Delete its index"
        )

    def _use_selected(self) -> None:
        from finder.core.models.spec import ModelUnavailableError, resolve_model_spec

        row = self.selected_row()
        if row is None or row.entry is None or row.use_refusal() is not None:
            return
        try:
            spec = resolve_model_spec(row.entry.name, row.entry.pretrained)
        except ModelUnavailableError as exc:
            QMessageBox.warning(self, "Use this model", str(exc))
            return
        self.controller.choose_model(spec)
        self.refresh()

    def _download_selected(self) -> None:
        row = self.selected_row()
        if row is None or row.entry is None or row.download_refusal() is not None:
            return
        DownloadDialog(
            row.entry, self.controller.pool, self, hub=self.controller.environment.hub
        ).exec()
        self.refresh()

    def _delete_selected(self) -> None:
        row = self.selected_row()
        if row is None or row.delete_refusal() is not None:
            return
        answer = QMessageBox.question(
            self,
            "Delete index",
            f"Delete the index of {row.cells[0]} here ({_size(row.index_bytes or 0)})?\n\n"
            "Its vectors are gone; using it again re-embeds every file. The weights and "
            "your files are not touched.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            freed = self.controller.library.delete_model(row.key)
        except (ModelInUseError, RuntimeError, OSError) as exc:
            QMessageBox.warning(self, "Delete index", str(exc))
        else:
            self.controller.status.emit(
                f"Deleted the index of {row.cells[0]}: {_size(freed)} freed"
            )
        self.refresh()

    def _cancel_switch(self) -> None:
        self.controller.cancel_model_switch()
        self.refresh()


def _index_cell(index: StoredModel | None) -> str:
    if index is None:
        return ""
    state = (
        "complete"
        if index.complete
        else (f"{index.files_embedded:,} of {index.files_total:,} files")
    )
    return f"{state}, {_size(index.bytes)}"


def _state(key: str, active_keys: set[str], target_key: str | None) -> str:
    if key in active_keys:
        return "\u25cf active"
    if key == target_key:
        return "\u25b6 switching to"
    return ""


def _pct(value: float | None) -> str:
    return UNKNOWN if value is None else f"{100 * value:.1f}%"


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.0f} KB"
    if n < 1_000_000_000:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e9:.2f} GB"


class _DownloadSignals(QObject):
    progress = Signal(int, int)  # bytes done, bytes in all (emitted from a pool thread)


class DownloadDialog(QDialog):
    """Size first, then the download with a progress bar; Cancel keeps the partial file,
    so a later download resumes where this one stopped."""

    def __init__(
        self,
        entry: CatalogModel,
        pool: QThreadPool | None,
        parent: QWidget | None = None,
        *,
        hub: Hub | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Download {entry.name} {entry.pretrained}")
        self.entry = entry
        self.pool = pool
        self.hub = hub or Hub()
        self.cancel = threading.Event()
        self.result_text = ""
        self.label = QLabel(f"Asking the Hugging Face hub for {entry.name}\u2026", self)
        self.label.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.rejected.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)
        self.resize(460, 130)
        self._signals = _DownloadSignals(self)
        self._signals.progress.connect(self._on_progress)
        QTimer.singleShot(0, self._start)

    def _start(self) -> None:
        start_task(self.pool, self._fetch, self._done, self._failed)

    def _fetch(self) -> str:
        """On a pool thread: locate the files (sizes), then fetch them."""
        plan = plan_download(self.entry.weights, self.hub)
        self._signals.progress.emit(0, plan.total_bytes)
        path = plan.run(
            cancel=self.cancel,
            progress=lambda p: self._signals.progress.emit(p.overall_done, p.overall_total),
        )
        return str(path)

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * done / total) if total else 0)
        self.label.setText(
            f"{self.entry.name} {self.entry.pretrained}: {_size(done)} of {_size(total)}"
        )

    def _done(self, path: object) -> None:
        self.result_text = f"Downloaded to {path}"
        self.accept()

    def _failed(self, message: str) -> None:
        self.result_text = message
        if self.cancel.is_set():
            self.reject()
            return
        # Say why in the dialog itself, and let the person close it.
        self.label.setText(f"The download did not finish: {message}")
        self.bar.setVisible(False)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

    def _cancel(self) -> None:
        self.cancel.set()  # the task stops at its next block and reports DownloadCancelled
        self.label.setText("Stopping\u2026 (what was downloaded is kept for next time)")
        if self.pool is None:
            self.reject()
