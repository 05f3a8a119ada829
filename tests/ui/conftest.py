from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool

from finder.config import Settings
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.library import Library
from finder.core.models.torch_runtime import ClipEmbedder
from finder.ui.controller import Controller
from finder.ui.views.main_window import MainWindow
from finder.ui.workers import WorkerThread
from tests.helpers import draw_photo, write_pdf, write_text


@pytest.fixture(autouse=True)
def no_threads_left_behind() -> Iterator[None]:
    """Every test must stop the worker threads it started (napari does the same)."""
    yield
    QThreadPool.globalInstance().waitForDone(10_000)
    running = [t.objectName() for t in list(WorkerThread.started) if t.isRunning()]
    assert not running, f"threads left running: {running}"


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    root = tmp_path / "Pictures"
    for color, shape in [
        ("red", "circle"),
        ("green", "square"),
        ("blue", "circle"),
        ("orange", "square"),
        ("purple", "circle"),
    ]:
        draw_photo(root / f"{color}-{shape}.jpg", color, shape=shape)
    write_text(root / "notes" / "receipt.txt", "receipt from the hardware store: nails, glue")
    write_pdf(root / "notes" / "tax.pdf", ["tax return 2023", "second page"])
    return root


@pytest.fixture
def settings_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def make_window(qtbot, data_dir: Path, settings_dir: Path):  # type: ignore[no-untyped-def]
    """Build the real window over a Library with the given embedder."""
    made: list[Controller] = []

    def build(embedder: ClipEmbedder) -> tuple[MainWindow, Controller]:
        library = Library(data_dir, embedder, writable=True)
        settings = Settings()
        settings.save = lambda directory=None: Settings.save(settings, settings_dir)  # type: ignore[method-assign]
        controller = Controller(
            library,
            settings,
            ThumbnailCache(data_dir / "thumbnails"),
            pool=None,
            opener=opened.append,
        )
        window = MainWindow(controller)
        qtbot.addWidget(window)
        window.show()
        made.append(controller)
        return window, controller

    opened: list[object] = []
    build.opened = opened  # type: ignore[attr-defined]
    yield build
    for controller in made:
        if controller._searcher.thread.isRunning():
            controller.shutdown()
