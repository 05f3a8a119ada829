"""Open and Reveal where the desktop has nothing to open a file with: the window says so
and offers the path to copy (issue #16 item 6), instead of a line on stderr only."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication, QMessageBox

from finder.core.types import FileKind, SearchResult
from finder.ui import desktop


def no_handler(url: QUrl) -> bool:
    return False  # what QDesktopServices.openUrl answers without a launcher


def test_open_without_a_handler_says_so(tmp_path: Path) -> None:
    file = tmp_path / "notes.xyz"
    file.write_text("hello")
    outcome = desktop.open_file(str(file), no_handler)
    assert not outcome
    assert outcome.problem == "No application is set to open .xyz files here"


def test_open_with_a_handler_and_a_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "a.txt"
    file.write_text("x")
    opened: list[QUrl] = []
    assert desktop.open_file(str(file), lambda url: opened.append(url) or True)
    assert opened == [QUrl.fromLocalFile(str(file))]
    gone = desktop.open_file(str(tmp_path / "gone.txt"), no_handler)
    assert not gone and "no longer there" in gone.problem


def test_reveal_without_a_file_manager_says_so(tmp_path: Path) -> None:
    file = tmp_path / "a.txt"
    file.write_text("x")
    outcome = desktop.reveal(str(file), no_handler)  # no D-Bus file manager in tests
    assert not outcome and "file manager" in outcome.problem


def test_the_window_offers_copy_path(make_window, tiny_embedder, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    controller.opener = no_handler
    file = tmp_path / "report.xyz"
    file.write_text("x")
    result = SearchResult(path=str(file), kind=FileKind.DOCUMENT, score=1.0)
    with qtbot.waitSignal(controller.desktop_failed):
        controller.open_result(result)
    assert "No application is set to open .xyz files here" in window.status_label.text()
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert len(boxes) == 1
    copy = next(b for b in boxes[0].buttons() if b.text() == "Copy path")
    copy.click()
    assert QApplication.clipboard().text() == str(file)
