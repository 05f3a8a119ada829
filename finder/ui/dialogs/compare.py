"""Compare models: two models' top results for one query, side by side.

The work (loading the second model takes seconds, then searching) runs on the pool
through finder.core.search.compare; the window only shows what comes back. The active model is
lent, never loaded twice; the other one is released when the window closes.
"""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import QModelIndex, QObject, Qt, QThreadPool, Signal
from PySide6.QtGui import QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from finder.core.search.compare import Candidate, ComparedColumn, Comparison
from finder.core.types import SearchKind, SearchResult
from finder.ui.controller import Controller
from finder.ui.dialogs.preview import PreviewDialog
from finder.ui.drop_zone import NotAnImageError, image_from_file, pil_to_qimage
from finder.ui.views.compare_column import ColumnView
from finder.ui.views.query_bar import QueryBar
from finder.ui.workers import one_line, start_task

RESULTS = 24  # per model: enough to judge, few enough to scan
LETTERS = ("A", "B")
BUILD_HINT = (
    "To build another model's index: <b>Models\u2026</b> \u2192 select a model "
    "\u2192 <b>Use this model</b>. It is built in the background while searches "
    "keep the current model; switch back afterwards if you prefer it."
)


class _Steps(QObject):
    """What the comparison is doing, from the pool thread (no parent: it may outlive the
    window by the time a step is reported)."""

    step = Signal(str)
    column = Signal(int, object)  # request, a ComparedColumn as soon as it is ready


class CompareDialog(QDialog):
    models_requested = Signal()  # "Models…": how to build another model's index

    def __init__(
        self,
        controller: Controller,
        parent: QWidget | None = None,
        *,
        pool: QThreadPool | None = None,
        k: int = RESULTS,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare models")
        self.setModal(False)
        self.resize(1240, 800)
        self.controller = controller
        self.pool = pool if pool is not None else controller.pool
        self.k = k
        self.candidates: list[Candidate] = []
        self.enough = False  # two models with an index here
        self.query_image: Image.Image | None = None
        self._comparison: Comparison | None = None
        self._comparison_id: tuple[object, ...] | None = None
        self._request = 0
        self.running = False
        self._steps = _Steps()
        self._steps.step.connect(self._on_step)
        self._steps.column.connect(self._on_column)

        # The main window's query bar: text (compared as you type), image chip, kind tabs.
        self.query = QueryBar(self)
        self.query.edit.setPlaceholderText("Describe what you are looking for\u2026")
        self.query.edit.setAccessibleName("Query to compare")
        self.query.text_query.connect(self._on_text)
        self.query.image_cleared.connect(self._on_image_cleared)
        self.query.kind_changed.connect(lambda _: self.run())
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setDefault(True)
        self.compare_button.clicked.connect(self.run)

        self.pickers = [QComboBox(self), QComboBox(self)]
        for picker in self.pickers:
            picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            picker.activated.connect(lambda _: self.run())
        self.swap_button = swap = QToolButton(self)
        swap.setText("\u21c4")
        swap.setToolTip("Swap A and B")
        swap.clicked.connect(self.swap)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(140)
        self.busy.setTextVisible(False)
        self.busy.setVisible(False)
        self.state = QLabel(self)
        self.state.setWordWrap(True)  # a long message must not widen the window

        self.notice = self._notice()
        self.columns = [ColumnView(letter, controller, self) for letter in LETTERS]
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for column in self.columns:
            self._wire(column)
            self.splitter.addWidget(column)

        query = QHBoxLayout()
        query.addWidget(self.query, 1)
        query.addWidget(self.compare_button)
        models = QHBoxLayout()
        for letter, picker in zip(LETTERS, self.pickers, strict=True):
            models.addWidget(QLabel(f"<b>{letter}</b>", self))
            models.addWidget(picker)
            if letter == LETTERS[0]:
                models.addWidget(swap)
        models.addSpacing(12)
        models.addWidget(self.busy)
        models.addWidget(self.state, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(query)
        layout.addLayout(models)
        layout.addWidget(self.notice)
        layout.addWidget(self.splitter, 1)
        layout.addStretch(0)  # takes the room while the columns are hidden
        # From the keyboard too: Esc (even in the query box, which would clear it) and
        # Ctrl+W close the window.
        for keys in (QKeySequence(Qt.Key.Key_Escape), QKeySequence.StandardKey.Close):
            QShortcut(keys, self, self.close)

    # -- building ---------------------------------------------------------------------------

    def _notice(self) -> QFrame:
        """Shown instead of the columns while fewer than two models have an index here."""
        frame = QFrame(self)
        frame.setObjectName("compareNotice")
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        frame.setStyleSheet(
            "#compareNotice { background: palette(alternate-base); border-radius: 6px; }"
        )
        self.notice_text = QLabel(frame)
        self.notice_text.setWordWrap(True)
        self.notice_text.setTextFormat(Qt.TextFormat.RichText)
        button = QPushButton("Models\u2026", frame)
        button.clicked.connect(self.models_requested)
        row = QHBoxLayout(frame)
        row.addWidget(self.notice_text, 1)
        row.addWidget(button)
        frame.setVisible(False)
        return frame

    def _wire(self, column: ColumnView) -> None:
        c = self.controller
        view = column.view
        view.open_requested.connect(c.open_result)
        view.reveal_requested.connect(c.reveal_result)
        view.copy_path_requested.connect(c.copy_path)
        view.similar_requested.connect(self.find_similar)
        view.preview_requested.connect(
            lambda result: PreviewDialog(result, c.thumbnails, self).exec()
        )
        view.selectionModel().currentChanged.connect(
            lambda index, _=None, source=column: self._follow(source, index)
        )

    # -- state ------------------------------------------------------------------------------

    @property
    def kind(self) -> SearchKind:
        return self.query.kind

    def prepare(self) -> None:
        """Take the main window's query and kind, and list the models indexed here."""
        c = self.controller
        self.query.blockSignals(True)  # one run when shown, not one per field
        self.query.set_kind(c.kind)
        self.query.clear_image()
        self.query_image = None
        image = c.query_image
        if isinstance(image, Image.Image):
            self.set_image(image, "image query")
        else:
            self.query.set_text(c.query_text)
        self.query.blockSignals(False)
        self.refresh_models()

    def refresh_models(self) -> None:
        chosen = [self._chosen(i) for i in range(2)]
        self.candidates = self.controller.compare_candidates()
        usable = [c for c in self.candidates if c.spec is not None]
        for picker in self.pickers:
            picker.blockSignals(True)
            picker.clear()
            for candidate in self.candidates:
                picker.addItem(_picker_text(candidate), candidate.key)
                if candidate.spec is None:
                    item = picker.model().item(picker.count() - 1)  # type: ignore[attr-defined]
                    item.setEnabled(False)
                    item.setToolTip(candidate.why_not)
            picker.blockSignals(False)
        # Keep the person's choice; else the active model against the newest other one.
        keys = [c.key for c in usable]
        a = chosen[0].key if chosen[0] and chosen[0].key in keys else (keys[:1] or [""])[0]
        others = [k for k in keys if k != a]
        b = chosen[1].key if chosen[1] and chosen[1].key in others else (others[:1] or [""])[0]
        for picker, key in zip(self.pickers, (a, b), strict=True):
            picker.setCurrentIndex(picker.findData(key))  # -1 (empty): none to offer
        self.enough = len(usable) >= 2
        self.notice.setVisible(not self.enough)
        self.splitter.setVisible(self.enough)
        for widget in (*self.pickers, self.swap_button, self.compare_button):
            widget.setEnabled(self.enough)
        self.state.setText("")
        if not self.enough:
            have = f"only {usable[0].label} has one" if usable else "no model has one yet"
            self.notice_text.setText(
                f"<b>Comparing needs two models with an index here</b>; {have}.<br>{BUILD_HINT}"
            )

    def _chosen(self, i: int) -> Candidate | None:
        key = self.pickers[i].currentData()
        return next((c for c in self.candidates if c.key == key), None)

    def set_image(self, image: Image.Image, label: str) -> None:
        self.query_image = image
        self.query.show_image(
            QPixmap.fromImage(pil_to_qimage(image)).scaled(
                28,
                28,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            ),
            label,
        )

    def _on_image_cleared(self) -> None:
        self.query_image = None
        if not self.query.text():
            self.run()  # its chip was clicked: says what to do; typed text runs by itself

    def _on_text(self, text: str) -> None:
        if text and self.query_image is None:
            self.run()

    def swap(self) -> None:
        a, b = (p.currentIndex() for p in self.pickers)
        self.pickers[0].setCurrentIndex(b)
        self.pickers[1].setCurrentIndex(a)
        self.run()

    def find_similar(self, result: SearchResult) -> None:
        try:
            dropped = image_from_file(result.path)
        except NotAnImageError as exc:
            self.state.setText(str(exc))
            return
        self.set_image(dropped.image, dropped.label)
        self.run()

    # -- comparing ----------------------------------------------------------------------------

    def run(self) -> None:
        """Compare the two chosen models on the query, off the GUI thread."""
        pair = [self._chosen(i) for i in range(2)]
        a, b = pair
        if not self.enough or a is None or b is None or a.spec is None or b.spec is None:
            return  # the notice says what is missing
        if a.key == b.key:
            self.state.setText("Choose two different models.")
            return
        query: str | Image.Image = self.query_image or self.query.text()
        if not query:
            self.state.setText("Type a description to compare the two models' results.")
            return
        comparison = self._comparison_for(a, b)
        self._request += 1
        request, kind, k = self._request, self.kind, self.k
        self.running = True
        self.busy.setVisible(True)
        self.state.setText("Comparing\u2026")
        for column, candidate in zip(self.columns, pair, strict=True):
            column.start(candidate.label)
        step, column_ready = self._steps.step.emit, self._steps.column.emit

        def work() -> tuple[int, list[ComparedColumn]]:
            if request != self._request:
                return request, []  # typed on meanwhile: only the latest query is answered
            return request, comparison.run(
                query, kind, k, on_step=step, on_column=lambda c: column_ready(request, c)
            )

        start_task(self.pool, work, self._on_done, self._on_failed)

    def _comparison_for(self, a: Candidate, b: Candidate) -> Comparison:
        """The open comparison while the pair (either way round) and the model searches
        use (and how it runs) stay; a new one otherwise, the old one released."""
        library = self.controller.library
        identity = (frozenset((a.key, b.key)), id(library), library.runtime())
        if self._comparison is None or self._comparison_id != identity:
            if self._comparison is not None:
                self._comparison.close()
            assert a.spec is not None and b.spec is not None
            self._comparison = self.controller.comparison([a.spec, b.spec])
            self._comparison_id = identity
        return self._comparison

    def _on_step(self, text: str) -> None:
        if self.running:
            self.state.setText(text)

    def _on_column(self, request: int, column: ComparedColumn) -> None:
        """The first model's answer shows at once, while the second one loads."""
        if request != self._request or not self.running:
            return
        for i, view in enumerate(self.columns):
            chosen = self._chosen(i)
            if chosen is not None and chosen.key == column.key:
                view.show_column(column, None, LETTERS[1 - i], BUILD_HINT)

    def _on_done(self, answer: tuple[int, list[ComparedColumn]]) -> None:
        request, found = answer
        if request != self._request or not found:
            return  # a newer question, or the window closed meanwhile
        self._finish("Each model searches its own index by meaning; keywords are left out.")
        by_key = {column.key: column for column in found}
        pair = [by_key.get(c.key) if c else None for c in (self._chosen(0), self._chosen(1))]
        if pair[0] is None or pair[1] is None:
            return  # the pickers changed meanwhile; their own run answers them
        for i, column in enumerate(self.columns):
            column.show_column(pair[i], pair[1 - i], LETTERS[1 - i], BUILD_HINT)

    def _on_failed(self, exc: Exception) -> None:
        self.controller.report_failure("Comparing failed", exc, show=False)  # the Log
        self._finish(f"Comparing failed: {one_line(exc)}")

    def _finish(self, text: str) -> None:
        self.running = False
        self.busy.setVisible(False)
        self.state.setText(text)

    def _follow(self, source: ColumnView, index: QModelIndex) -> None:
        """Selecting a file in one column selects it in the other, if it is there too."""
        if not index.isValid():
            return
        path = source.results.result(index.row()).path
        for column in self.columns:
            if column is source:
                continue
            for row in range(column.results.rowCount()):
                if column.results.result(row).path == path:
                    other = column.results.index(row)
                    if column.view.currentIndex() != other:
                        column.view.setCurrentIndex(other)
                        column.view.scrollTo(other)
                    break
            else:
                column.view.clearSelection()

    # -- closing ----------------------------------------------------------------------------

    def done(self, result: int) -> None:
        """Closing (Esc, the close button, the main window) releases the second model;
        a run in flight finishes on its own, and its answer is ignored."""
        self._request += 1
        self._finish("")
        if self._comparison is not None:
            self._comparison.close()
            self._comparison = self._comparison_id = None
        super().done(result)


def _picker_text(candidate: Candidate) -> str:
    text = candidate.label
    if candidate.active:
        text += " \u2014 active"
    if not candidate.complete and candidate.files_total:
        text += f" \u2014 index {100 * candidate.files_embedded // candidate.files_total}%"
    return text
