"""Models: the catalogue with its figures, what is on disk and indexed here; switch, delete.

The rows are built from plain data (model_rows.py); the dialog only shows them and
forwards the buttons to the controller.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent, QStandardItem
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from finder.core.model_shelf import ModelInUseError, weights_on_disk
from finder.core.models import catalogue
from finder.core.models.catalogue import CatalogModel
from finder.core.models.recommendation import Machine, recommend
from finder.core.models.spec import ModelUnavailableError, resolve_model_spec
from finder.ui.controller import Controller
from finder.ui.dialogs.download import DownloadDialog
from finder.ui.dialogs.folders import row_table
from finder.ui.dialogs.model_rows import (
    COLUMNS,
    FIGURES,
    HEADER_TIPS,
    HEADERS,
    UNKNOWN,
    ModelRow,
    build_rows,
    display_name,
    size,
)

__all__ = ["COLUMNS", "HEADERS", "UNKNOWN", "DownloadDialog", "ModelsDialog", "build_rows"]

POLL_MS = 500


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
        self._on_disk = on_disk or (lambda m: weights_on_disk(m, hub) is not None)
        self.rows: list[ModelRow] = []
        self._switching: str | None = None

        self.model, self.table = row_table(COLUMNS, self)
        for column, key in enumerate(COLUMNS):
            self.model.setHeaderData(column, Qt.Orientation.Horizontal, HEADERS.get(key, key))
            tip = HEADER_TIPS.get(key)
            if tip:
                self.model.setHeaderData(
                    column, Qt.Orientation.Horizontal, tip, Qt.ItemDataRole.ToolTipRole
                )
        # The benchmark figures are one click away, not in the way.
        self.figures_box = QCheckBox("Show figures", self)
        self.figures_box.setToolTip(
            "Show the published benchmark figures: ImageNet accuracy, Flickr30k and "
            "MSCOCO recall, vector size, and where they come from."
        )
        self.figures_box.toggled.connect(self._show_figures)

        self.recommendation = QLabel(self)
        self.recommendation.setWordWrap(True)
        self.download_button = QPushButton("Download\u2026", self)
        self.download_button.clicked.connect(self._download_selected)
        self.use_button = QPushButton("Use this model", self)
        self.use_button.clicked.connect(self._use_selected)
        self.folder_button = QPushButton("Load model folder\u2026", self)
        self.folder_button.setToolTip(
            "A model folder of your own (written by `finder models export`, or a ready "
            "ONNX export): it runs on ONNX Runtime; its index is built like any switch."
        )
        self.folder_button.clicked.connect(self._load_folder)
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
        self.use_reason = QLabel(self)  # why "Use this model" is disabled, in plain words
        self.switch_label = QLabel(self)
        self.switch_bar = QProgressBar(self)
        self.switch_bar.setMaximumWidth(240)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.legend = legend = QLabel(
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
        row.addWidget(self.folder_button)
        row.addWidget(self.delete_button)
        row.addWidget(compare_button)
        row.addWidget(self.figures_box)
        row.addStretch(1)
        row.addWidget(self.switch_label)
        row.addWidget(self.switch_bar)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.recommendation)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(self.use_reason)
        layout.addWidget(legend)
        layout.addWidget(buttons)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        controller.switch_finished.connect(self.refresh)
        self._best, self._why = recommend(
            Machine.this(),
            speeds=catalogue.measured_speeds(controller.library.data_dir),
        )
        self._show_figures(False)
        self.refresh()

    def _show_figures(self, shown: bool) -> None:
        for column, key in enumerate(COLUMNS):
            if key in FIGURES:
                self.table.setColumnHidden(column, not shown)
        self.legend.setVisible(shown)

    # -- data -------------------------------------------------------------------------------

    def refresh(self) -> None:
        selected = self.selected_row()
        chosen = self.controller.chosen_models()
        self.rows = build_rows(
            catalogue.MODELS,
            self.controller.stored_models(),
            {key for key in (chosen.serving, chosen.active) if key},
            chosen.target,
            self._on_disk,
            catalogue.measured_speeds(self.controller.library.data_dir),
        )
        in_use = chosen.serving or chosen.active
        self.recommendation.setText(
            (f"<b>In use:</b> {display_name(in_use)}. " if in_use else "")
            + f"<b>Recommended here:</b> {self._best.name} {self._best.pretrained}"
            f" \u2014 {self._why}."
        )
        self.model.removeRows(0, self.model.rowCount())
        for index, data in enumerate(self.rows):
            items = [QStandardItem(text) for text in data.cells]
            for item in items[COLUMNS.index("Dim") :] + [items[COLUMNS.index("Size")]]:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if data.active or data.target:
                for item in items:
                    font = item.font()
                    font.setBold(data.active)
                    font.setItalic(data.target)
                    item.setFont(font)
            for item in items:
                item.setToolTip(data.tooltip)
            self.model.appendRow(items)
            if selected is not None and data.key == selected.key:
                self.table.selectRow(index)
        self._fit_table_to_rows()
        self.poll()
        self._update_buttons()

    def _fit_table_to_rows(self) -> None:
        """Tall enough for every row: the catalogue's few models need no inner scroll."""
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(self.model.rowCount()))
        header = self.table.horizontalHeader().sizeHint().height()
        frame = 2 * self.table.frameWidth()
        self.table.setMinimumHeight(rows + header + frame + 4)

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
            self.switch_label.setText(
                f"Switching to {display_name(name)}: {done:,} of {total:,} files"
            )
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
        short = row.use_refusal_short() if row else "Select a model first."
        if use is None and self._switching is not None:
            use = short = "A switch is running: wait for it, or cancel it first."
        delete = row.delete_refusal() if row else "Select a model first."
        download = row.download_refusal() if row is not None else "Select a model first."
        self.download_button.setEnabled(download is None)
        self.download_button.setToolTip(
            download
            or "Download its weights into the Hugging "
            "Face cache (resumable; the size is shown first)."
        )
        self.use_button.setEnabled(use is None)
        self.use_reason.setText(f"Use this model: {short}" if short else "")
        self.use_reason.setVisible(bool(short))
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
            f"Delete its index (frees {size(freed)})" if freed is not None else "Delete its index"
        )

    def _use_selected(self) -> None:
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

    def _load_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Load a model folder", str(Path.home()))
        if not folder:
            return
        try:
            spec = resolve_model_spec(folder)
        except ModelUnavailableError as exc:
            QMessageBox.warning(self, "Load model folder", str(exc))
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
            f"Delete the index of {row.cells[0]} here ({size(row.index_bytes or 0)})?\n\n"
            "Its vectors are gone; using it again re-embeds every file. The weights and "
            "your files are not touched.",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            freed = self.controller.delete_model(row.key)
        except (ModelInUseError, RuntimeError, OSError) as exc:
            QMessageBox.warning(self, "Delete index", str(exc))
        else:
            self.controller.status.emit(f"Deleted the index of {row.cells[0]}: {size(freed)} freed")
        self.refresh()

    def _cancel_switch(self) -> None:
        self.controller.cancel_model_switch()
        self.refresh()
