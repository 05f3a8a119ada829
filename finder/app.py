"""Composition root of the desktop app: builds the core services and wires them to the UI.

The window is shown before torch or the model load; both load in the background.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from finder import __version__, paths
from finder.config import Environment, Settings
from finder.core.library import Library
from finder.core.models.spec import ModelSpec, ModelUnavailableError, resolve_model_spec
from finder.core.store.errors import CatalogError
from finder.core.store.lock import DataDirLockedError
from finder.ui.controller import Controller
from finder.ui.views.main_window import MainWindow

log = logging.getLogger(__name__)

# Package data (pyproject [tool.setuptools.package-data]), so an installed wheel has it.
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


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("finder").setLevel(logging.WARNING)
    app = QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("finder")
    app.setApplicationDisplayName("finder")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("finder")
    app.setWindowIcon(app_icon())
    try:
        window, controller, notice = build(
            Settings.load(),
            paths.data_dir(),
            QThreadPool.globalInstance(),
            Environment.from_environ(os.environ),
        )
    except CatalogError as exc:
        QMessageBox.critical(None, "finder cannot open its index", str(exc))
        return 1
    window.show()
    if notice:
        controller.status.emit(notice)
    QTimer.singleShot(0, controller.start)  # after the first paint
    return app.exec()
