"""The add-folder dialog starts in the home folder, not the process's working directory
(issue #16 item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from finder.ui.dialogs.folders import FoldersDialog


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Where each folder dialog opened (Qt's static dialog replaced by a recorder)."""
    starts: list[str] = []

    def fake(parent: object, caption: str = "", directory: str = "", *args: object) -> str:
        starts.append(directory)
        return ""

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(fake))
    return starts


def test_the_window_asks_from_home(make_window, tiny_embedder, asked: list[str]) -> None:  # type: ignore[no-untyped-def]
    window, _ = make_window(tiny_embedder)
    window.choose_folder()
    assert asked == [str(Path.home())]


def test_the_folders_dialog_asks_from_home(qtbot, asked: list[str]) -> None:  # type: ignore[no-untyped-def]
    dialog = FoldersDialog(lambda: [])
    qtbot.addWidget(dialog)
    dialog._choose_folder()
    assert asked == [str(Path.home())]
