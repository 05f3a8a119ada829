"""The main window: layout and forwarding only; decisions live in the controller."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QPixmap,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from finder.core.types import IndexProgress
from finder.ui import desktop
from finder.ui.controller import Controller
from finder.ui.dialogs.compare import CompareDialog
from finder.ui.dialogs.duplicates import show_duplicates
from finder.ui.dialogs.folders import FoldersDialog
from finder.ui.dialogs.models import ModelsDialog
from finder.ui.dialogs.preview import PreviewDialog
from finder.ui.drop_zone import NotAnImageError, accepts, image_from_mime, pil_to_qimage
from finder.ui.model_lifecycle import ModelPhase
from finder.ui.views.filter_bar import FilterBar
from finder.ui.views.overview import LibraryOverview, OverviewPage
from finder.ui.views.pages import MessagePage, ModelBanners, WelcomePage
from finder.ui.views.query_bar import QueryBar
from finder.ui.views.results_view import ResultsView
from finder.ui.views.year_strip import SORT_SHORTCUT, YearStrip

PAGE_WELCOME, PAGE_RESULTS, PAGE_MESSAGE, PAGE_OVERVIEW = range(4)
RECENT_PHOTOS = 24  # on the overview page


class MainWindow(QMainWindow):
    def __init__(self, controller: Controller) -> None:
        super().__init__()
        self.controller = controller
        self.setWindowTitle("finder")
        self.setAcceptDrops(True)
        self.resize(1100, 760)
        self._folders_dialog: FoldersDialog | None = None
        self._models_dialog: ModelsDialog | None = None
        self._compare_dialog: CompareDialog | None = None

        self.query_bar = QueryBar(self)
        folders_button = QPushButton("Folders\u2026", self)
        folders_button.setToolTip("Add or remove watched folders (Ctrl+Shift+F)")
        folders_button.clicked.connect(self.show_folders)
        models_button = QPushButton("Models\u2026", self)
        models_button.setToolTip("Choose the model, see its figures and indexes (Ctrl+Shift+M)")
        models_button.clicked.connect(self.show_models)
        compare_button = QPushButton("Compare\u2026", self)
        compare_button.setToolTip("Two models' results for this query side by side (Ctrl+Shift+C)")
        compare_button.clicked.connect(self.show_compare)
        for button in (folders_button, models_button, compare_button):
            # In a narrow window the buttons give way before the search field does.
            button.setMinimumWidth(24)
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        top = QHBoxLayout()
        top.setContentsMargins(10, 10, 10, 4)
        top.addWidget(self.query_bar, 1)
        top.addWidget(folders_button)
        top.addWidget(models_button)
        top.addWidget(compare_button)

        self.results = ResultsView(self)
        self.results.setModel(controller.results)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._welcome_page())
        self.pages.addWidget(self.results)
        self.pages.addWidget(self._message_page())
        self.overview = OverviewPage(self, self.search_example)
        self.pages.addWidget(self.overview)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        # What narrows the search: chips (hidden when none), then the years and the sort.
        self.filter_bar = FilterBar(controller.filters, self.query_bar.edit, self)
        self.year_strip = YearStrip(controller.filters, self)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.year_strip)
        layout.addWidget(self._model_banner())
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_log()
        self._build_actions()
        self._connect()
        self._show_start_page()

    # -- building --------------------------------------------------------------------------

    def _welcome_page(self) -> QWidget:
        page = WelcomePage(self, self.choose_folder)
        self.welcome_add = page.add_button
        return page

    def _message_page(self) -> QWidget:
        page = MessagePage(self)
        self.message = page.label
        return page

    def _model_banner(self) -> QWidget:
        """Shown while the CLIP weights are missing or random, above whatever else is."""
        area = ModelBanners(self, self.controller.download_model, self.choose_checkpoint)
        self.banner, self.banner_text = area.banner, area.banner_text
        self.download_button, self.checkpoint_button = area.download_button, area.checkpoint_button
        self.random_banner, self.banner_area = area.random_banner, area
        return area

    def _update_banners(self) -> None:
        self.random_banner.setVisible(
            self.controller.model_ready and self.controller.random_weights
        )
        self.banner_area.setVisible(not self.random_banner.isHidden() or not self.banner.isHidden())

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.pause_button = QToolButton(self)
        self.pause_button.setText("Pause")
        self.pause_button.setToolTip("Pause or resume indexing")
        self.pause_button.setVisible(False)
        self.pause_button.clicked.connect(self._toggle_pause)
        self.log_button = QToolButton(self)
        self.log_button.setText("Log")
        self.log_button.setCheckable(True)
        self.log_button.setToolTip("Show errors and activity (Ctrl+Shift+L)")
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.pause_button)
        bar.addPermanentWidget(self.log_button)

    def _build_log(self) -> None:
        self.log_view = QPlainTextEdit(self)
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log")
        self.log_dock.setWidget(self.log_view)
        self.log_dock.setVisible(False)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_button.toggled.connect(self.log_dock.setVisible)
        self.log_dock.visibilityChanged.connect(self.log_button.setChecked)

    def _build_actions(self) -> None:
        def action(text: str, shortcut: QKeySequence | str, slot: object) -> QAction:
            act = QAction(text, self)
            act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        action("Focus search", "Ctrl+L", self.query_bar.focus)
        action("Add folder", "Ctrl+O", self.choose_folder)
        action("Folders", "Ctrl+Shift+F", self.show_folders)
        action("Models", "Ctrl+Shift+M", self.show_models)
        action("Compare models", "Ctrl+Shift+C", self.show_compare)
        action("Duplicates", "Ctrl+Shift+U", lambda: show_duplicates(self.controller, self))
        action("Paste image", QKeySequence.StandardKey.Paste, self.paste_image)
        action("Rescan", "F5", self.controller.reindex)
        action("Log", "Ctrl+Shift+L", lambda: self.log_button.toggle())
        action("Sort", SORT_SHORTCUT, self.controller.filters.cycle_sort)
        action("Quit", QKeySequence.StandardKey.Quit, self.close)

    def _connect(self) -> None:
        c = self.controller
        self.query_bar.text_query.connect(c.search_text)
        self.query_bar.kind_changed.connect(c.set_kind)
        self.query_bar.image_cleared.connect(c.clear_image)
        self.query_bar.image_pasted.connect(self.paste_image)
        self.query_bar.enter_results = self.results.enter_from_search
        QWidget.setTabOrder(self.query_bar.edit, self.results)
        self.results.open_requested.connect(c.open_result)
        self.results.reveal_requested.connect(c.reveal_result)
        self.results.copy_path_requested.connect(c.copy_path)
        self.results.similar_requested.connect(c.find_similar)
        self.results.preview_requested.connect(self.preview)
        self.results.folder_requested.connect(c.filters.set_folder)
        recent = self.overview.recent
        recent.open_requested.connect(c.open_result)
        recent.reveal_requested.connect(c.reveal_result)
        recent.copy_path_requested.connect(c.copy_path)
        recent.similar_requested.connect(c.find_similar)
        recent.preview_requested.connect(self.preview)
        self._recent_thumbnails = c.feed_thumbnails(self.overview.recent_model)
        c.results_changed.connect(self._on_results)
        c.status.connect(self.status_label.setText)
        c.log.connect(self.log_view.appendPlainText)
        c.progress.connect(self._on_progress)
        c.indexing_finished.connect(self._on_indexing_finished)
        c.model_phase_changed.connect(self._on_model_phase)
        c.folders_changed.connect(self._on_folders_changed)
        c.image_query_set.connect(self._on_image_query)
        c.desktop_failed.connect(lambda path, problem: desktop.explain_failure(self, path, problem))

    # -- reactions ---------------------------------------------------------------------------

    def _show_start_page(self) -> None:
        """The first-run page with no folder; the results while a question is asked;
        else what the library holds (never a blank pane)."""
        if not self.controller.has_folders():
            self.pages.setCurrentIndex(PAGE_WELCOME)
        elif self.controller.has_query():
            self.pages.setCurrentIndex(PAGE_RESULTS)
        else:
            self._show_overview()

    def _show_overview(self) -> None:
        library = self.controller.library
        status = library.status(check_index=False)
        self.overview.show_overview(
            LibraryOverview(
                photos=status.photos,
                documents=status.documents,
                folders=len(status.folders),
                errors=status.errors,
                indexing=self.controller.indexing,
                recent=library.recent_files(limit=RECENT_PHOTOS),
            )
        )
        self.pages.setCurrentIndex(PAGE_OVERVIEW)

    def _on_results(self, count: int, message: str) -> None:
        self._update_banners()
        if count == 0 and message and self.controller.has_folders():
            self.message.setText(message)
            self.pages.setCurrentIndex(PAGE_MESSAGE)
        else:
            self._show_start_page()

    def _on_model_phase(self, phase: ModelPhase, message: str) -> None:
        missing = phase is ModelPhase.MISSING
        self.banner.setVisible(missing)
        if missing:
            self.banner_text.setText(message)
            self.download_button.setVisible(self.controller.can_download())
        self._update_banners()
        self._show_start_page()

    def _on_progress(self, p: IndexProgress) -> None:
        busy = p.phase != "done"
        self.progress.setVisible(busy)
        self.pause_button.setVisible(busy and p.phase == "embedding")
        if p.phase == "embedding" and p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        elif busy:
            self.progress.setRange(0, 0)  # busy indicator while scanning or saving

    def _on_indexing_finished(self) -> None:
        self.progress.setVisible(False)
        self.pause_button.setVisible(False)
        self.pause_button.setText("Pause")
        self._show_start_page()

    def _on_folders_changed(self) -> None:
        if self._folders_dialog is not None:
            self._folders_dialog.refresh()
        self._show_start_page()

    def _on_image_query(self, label: str) -> None:
        image = self.controller.query_image
        if image is None:
            return
        thumb = QPixmap.fromImage(pil_to_qimage(image)).scaled(
            28, 28, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        self.query_bar.show_image(thumb, label)

    def _toggle_pause(self) -> None:
        paused = self.controller.toggle_pause()
        self.pause_button.setText("Resume" if paused else "Pause")

    # -- user actions ---------------------------------------------------------------------------

    def search_example(self, query: str) -> None:
        """An example query of the overview page: typed into the box and asked."""
        self.query_bar.set_text(query)
        self.query_bar.submit()
        self.results.setFocus()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self,
            "Add a folder to index",
            str(Path.home()),  # not the working directory
        )
        if folder:
            self.controller.add_folder(folder)

    def choose_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Load an open_clip checkpoint",
            "",
            "Checkpoints (*.pt *.pth *.bin *.safetensors);;All files (*)",
        )
        if path:
            self.controller.use_checkpoint(path)

    def show_folders(self) -> None:
        if self._folders_dialog is None:
            dialog = FoldersDialog(
                self.controller.folder_statuses, self, lambda: self.controller.library
            )
            dialog.add_requested.connect(self.controller.add_folder)
            dialog.remove_requested.connect(self.controller.remove_folder)
            if dialog.exclusions is not None:  # left out: ask again; included: read it
                dialog.exclusions.changed.connect(self.controller.search_again)
                dialog.exclusions.reread_requested.connect(self.controller.add_folder)
            self._folders_dialog = dialog
        self._folders_dialog.refresh()
        self._folders_dialog.show()
        self._folders_dialog.raise_()

    def show_models(self) -> None:
        if self._models_dialog is None:
            self._models_dialog = ModelsDialog(self.controller, self)
            self._models_dialog.compare_requested.connect(self.show_compare)
        self._models_dialog.refresh()
        self._models_dialog.show()
        self._models_dialog.raise_()

    def show_compare(self) -> None:
        """Two models' results side by side, for the current query (a new window takes
        the query again; an open one keeps what the person typed in it)."""
        if self._compare_dialog is None:
            self._compare_dialog = CompareDialog(self.controller, self)
            self._compare_dialog.models_requested.connect(self.show_models)
        dialog = self._compare_dialog
        if not dialog.isVisible():
            dialog.prepare()
            dialog.show()
            dialog.run()
        dialog.raise_()
        dialog.activateWindow()

    def paste_image(self) -> None:
        mime = QApplication.clipboard().mimeData()
        if mime is None:
            return
        try:
            self.controller.search_image(image_from_mime(mime))
        except NotAnImageError as exc:
            self.status_label.setText(str(exc))

    def preview(self, result: object) -> None:
        shown = self.controller.results.results()  # Left/Right walk these
        if result not in shown:  # a tile of the overview's newest photos
            shown = self.overview.recent_model.results()
        PreviewDialog(result, self.controller.thumbnails, self, shown).exec()  # type: ignore[arg-type]

    # -- drag and drop ------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if accepts(event.mimeData()):
            event.acceptProposedAction()
            self.status_label.setText("Drop to search with this image")

    def dropEvent(self, event: QDropEvent) -> None:
        try:
            dropped = image_from_mime(event.mimeData())
        except NotAnImageError as exc:
            self.status_label.setText(str(exc))
            event.ignore()
            return
        event.acceptProposedAction()
        self.controller.search_image(dropped)

    # -- lifecycle ---------------------------------------------------------------------------

    def restore_geometry(self, encoded: str) -> None:
        if encoded:
            self.restoreGeometry(QByteArray.fromBase64(encoded.encode()))

    def saved_geometry(self) -> str:
        return bytes(self.saveGeometry().toBase64().data()).decode()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._models_dialog is not None:
            self._models_dialog.close()  # stops its polling before the library closes
        if self._compare_dialog is not None:
            self._compare_dialog.close()  # releases its second model
        geometry, history = self.saved_geometry(), self.query_bar.history
        # Shutting down waits for background work to stop (an indexing batch, a model
        # export): the window goes at once rather than sit there frozen.
        self.hide()
        self.controller.shutdown(geometry, history)
        super().closeEvent(event)
