"""The Compare window closes from the keyboard: Esc (even from its query box) and Ctrl+W
(issue #16 item 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from finder.ui.dialogs.compare import CompareDialog


def _opened(window, qtbot) -> CompareDialog:  # type: ignore[no-untyped-def]
    window.show_compare()
    dialog = window._compare_dialog
    assert dialog is not None
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)  # shortcuts need it
    return dialog


@pytest.mark.parametrize("keys", ["Esc", "Ctrl+W"])
def test_keys_close_the_compare_window(
    keys: str, make_window, tiny_embedder, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window, _ = make_window(tiny_embedder)
    dialog = _opened(window, qtbot)
    dialog.query.edit.setFocus()
    dialog.query.edit.setText("red")
    if keys == "Esc":
        qtbot.keyClick(dialog.query.edit, Qt.Key.Key_Escape)
    else:
        qtbot.keySequence(dialog.query.edit, QKeySequence(QKeySequence.StandardKey.Close))
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=2_000)
