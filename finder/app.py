"""Composition root of the desktop app: builds the core services and wires them to the UI.

The window is shown before torch or the model load; both load in the background.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QThreadPool, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from finder import __version__, paths
from finder.config import Environment, Settings
from finder.core.library import Library
from finder.core.models.spec import ModelSpec, ModelUnavailableError, resolve_model_spec
from finder.core.store.errors import CatalogError
from finder.core.store.lock import DataDirLockedError
from finder.ui.controller import Controller
from finder.ui.quit_on_signal import QuitOnSignal
from finder.ui.views.main_window import MainWindow

log = logging.getLogger(__name__)

# Package data (pyproject [tool.setuptools.package-data]), so an installed wheel has it.
# Gone within a second of the window closing: what has not stopped by then is left to
# the process's exit (exit_at_once).
QUIT_WITHIN_MS = 700

RESOURCES = Path(__file__).resolve().parent / "ui" / "resources"


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "finder.svg"))


def open_library(
    data_dir: Path, spec: ModelSpec, environment: Environment | None = None
) -> tuple[Library, str]:
    """The writable library, or a search-only one while another finder process indexes."""
    env = environment or Environment()

    def library(writable: bool) -> Library:
        return Library.open(
            data_dir,
            spec,
            writable=writable,
            precision=env.precision,
            backend=env.backend,
            hub=env.hub,
        )

    try:
        return library(writable=True), ""
    except DataDirLockedError as exc:
        notice = f"Search only: {exc}. New files are indexed by that process."
        return library(writable=False), notice


def build(
    settings: Settings,
    data_dir: Path,
    pool: QThreadPool | None = None,
    environment: Environment | None = None,
) -> tuple[MainWindow, Controller, str]:
    env = environment or Environment()
    notice = ""
    try:
        spec = resolve_model_spec(
            settings.model or env.model, settings.pretrained or env.pretrained
        )
    except ModelUnavailableError as exc:
        notice = f"{exc}; using the default model instead"
        spec = resolve_model_spec(env.model, env.pretrained)
    library, locked = open_library(data_dir, spec, env)
    notice = notice or locked
    controller = Controller(
        library,
        settings,
        library.thumbnails,
        pool=pool,
        library_factory=lambda s: open_library(data_dir, s, env)[0],
        environment=env,
    )
    window = MainWindow(controller)
    window.setWindowIcon(app_icon())
    window.restore_geometry(settings.window_geometry)
    window.query_bar.history = list(settings.query_history)
    window.query_bar.set_kind(controller.kind)
    if settings.last_query:
        window.query_bar.set_text(settings.last_query)
        controller.query_text = settings.last_query
    return window, controller, notice


def create_application(argv: list[str] | None = None) -> QApplication:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("finder").setLevel(logging.WARNING)
    app = QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("finder")
    app.setApplicationDisplayName("finder")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("finder")
    app.setWindowIcon(app_icon())
    return app


def launch() -> tuple[MainWindow, Controller] | None:
    """Build the window from the settings and the environment, show it, and start loading
    the model after the first paint. None: the index cannot be opened (said in a dialog)."""
    try:
        window, controller, notice = build(
            Settings.load(),
            paths.data_dir(),
            QThreadPool.globalInstance(),
            Environment.from_environ(os.environ),
        )
    except CatalogError as exc:
        QMessageBox.critical(None, "finder cannot open its index", str(exc))
        return None
    controller.stop_within_ms = QUIT_WITHIN_MS
    window.installEventFilter(_QuitOnClose(window))
    QuitOnSignal(window.close, parent=window)  # SIGTERM, Ctrl+C: closed as Ctrl+Q closes
    window.show()
    if notice:
        controller.status.emit(notice)
    QTimer.singleShot(0, controller.start)  # after the first paint
    return window, controller


class _QuitOnClose(QObject):
    """Quit once the main window has closed, even while another window of the app (a
    dialog) is still shown and Qt would wait for it too."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close and event.isAccepted():
            QTimer.singleShot(0, QApplication.quit)
        return False


def main(argv: list[str] | None = None) -> int:
    app = create_application(argv)
    launched = launch()
    if launched is None:
        return 1
    window, controller = launched
    status = app.exec()
    window.close()  # saves the settings and stops the workers, unless closing did already
    exit_at_once(status)
    return status  # not reached


def exit_at_once(status: int) -> None:
    """End the process now that the window is closed, the settings saved and the
    workers stopped (or, past QUIT_WITHIN_MS, left running: a model load or export, a
    picture's text being read). Python's own exit tears the interpreter and PySide down
    beneath such threads and their signals to deleted objects (`Fatal Python error:
    bool_dealloc ... Garbage-collecting`), and even with none left spends seconds
    finalising Qt, torch and ONNX Runtime. The catalog's transactions are committed or
    rolled back by SQLite; an unfinished model export is cleared up on the next start."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
