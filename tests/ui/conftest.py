from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from weakref import WeakKeyDictionary

import pytest
from PySide6.QtCore import QThread, QThreadPool
from PySide6.QtWidgets import QApplication

from finder.config import Settings
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.library import Library
from finder.core.models.torch_runtime import ClipEmbedder
from finder.ui.controller import Controller
from finder.ui.views.main_window import MainWindow
from tests.helpers import draw_photo, write_pdf, write_text

# -- no thread outlives its test ----------------------------------------------------------

REPO = str(Path(__file__).resolve().parents[2])
GRACE_S = 10.0  # what a thread gets to finish once its test is over (a batch in flight)


def _start_site() -> str:
    """Where finder's code or a test started a thread: the innermost frame of the repo's
    own files (not this one, not a library's), as file:line (function)."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(REPO) and name != __file__ and "site-packages" not in name:
            return f"{os.path.relpath(name, REPO)}:{frame.f_lineno} ({frame.f_code.co_name})"
        frame = frame.f_back
    return "outside finder's code"


@pytest.fixture(autouse=True)
def _dangling_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fails any test that leaves a QThread, a Python thread or pool work running
    (napari's `_dangling_qthreads` in its conftest.py): the start methods are patched to
    record where each was started; after the test each gets GRACE_S to finish, then
    the test fails naming the start sites of those still running."""
    qthreads: WeakKeyDictionary[QThread, str] = WeakKeyDictionary()
    threads: WeakKeyDictionary[threading.Thread, str] = WeakKeyDictionary()
    pools: WeakKeyDictionary[QThreadPool, list[str]] = WeakKeyDictionary()
    qthread_start, thread_start = QThread.start, threading.Thread.start
    pool_start = QThreadPool.start

    def start_qthread(
        self: QThread, priority: QThread.Priority = QThread.Priority.InheritPriority
    ) -> None:
        qthreads[self] = _start_site()
        qthread_start(self, priority)

    def start_thread(self: threading.Thread) -> None:
        threads[self] = _start_site()
        thread_start(self)

    def start_runnable(self: QThreadPool, runnable: object, priority: int = 0) -> None:
        pools.setdefault(self, []).append(_start_site())
        pool_start(self, runnable, priority)

    monkeypatch.setattr(QThread, "start", start_qthread)
    monkeypatch.setattr(threading.Thread, "start", start_thread)
    monkeypatch.setattr(QThreadPool, "start", start_runnable)
    yield

    def running() -> list[str]:
        left = [
            f"QThread {t.objectName() or '?'} started at {site}" for t, site in _alive(qthreads)
        ]
        left += [
            f"thread {t.name} started at {site}"
            for t, site in list(threads.items())
            if t.is_alive()
        ]
        left += [
            f"pool work started at {'; '.join(dict.fromkeys(sites))}"
            for pool, sites in list(pools.items())
            if pool.activeThreadCount()
        ]
        return left

    deadline = time.monotonic() + GRACE_S
    while running() and time.monotonic() < deadline:
        QApplication.processEvents()  # a thread may wait for the GUI thread to take a signal
        time.sleep(0.01)
    left = running()
    for thread, _ in _alive(qthreads):  # do not let it crash the next test
        thread.quit()
        thread.wait(2_000)
    assert not left, "threads left running after the test:\n  " + "\n  ".join(left)


def _alive(qthreads: WeakKeyDictionary[QThread, str]) -> list[tuple[QThread, str]]:
    alive = []
    for thread, site in list(qthreads.items()):
        try:
            if thread.isRunning():
                alive.append((thread, site))
        except RuntimeError:  # its C++ object is gone: not running
            continue
    return alive


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
