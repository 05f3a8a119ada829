"""The keyboard and the clipboard in the search box and the grid: Down enters the
results, Up walks the history, Ctrl+V of an image searches with it, and the context
menu shows each entry's shortcut."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from finder.core.types import FileKind, SearchResult
from finder.ui.views.query_bar import QueryBar
from finder.ui.views.results_model import ResultsModel
from finder.ui.views.results_view import ResultsView

_keep: list[QWidget] = []


def _box_and_grid(qtbot, rows: int = 6):  # type: ignore[no-untyped-def]
    window = QWidget()
    bar, view, model = QueryBar(window), ResultsView(window), ResultsModel(fold_weaker=True)
    view.setModel(model)
    bar.enter_results = view.enter_from_search
    layout = QVBoxLayout(window)
    layout.addWidget(bar)
    layout.addWidget(view)
    window.resize(900, 600)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    model.set_results(
        [SearchResult(f"/p/{i}.jpg", FileKind.PHOTO, 0.5, match="weak") for i in range(rows)]
    )
    view.clearSelection()
    view.setCurrentIndex(model.index(-1, 0))  # as after a mouse user clicked elsewhere
    bar.edit.setFocus()
    _keep.append(window)  # qtbot holds widgets weakly; a top-level needs its owner
    return bar, view, model


def test_down_enters_the_results_and_right_then_moves_to_the_second(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar, view, model = _box_and_grid(qtbot)
    bar.history = ["older", "newer"]
    qtbot.keyClick(bar.edit, Qt.Key.Key_Down)
    assert view.window().focusWidget() is view  # offscreen: no active window
    assert view.currentIndex().row() == 0
    assert view.selectionModel().isSelected(model.index(0))  # visible: current and selected
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.currentIndex().row() == 1
    assert bar.text() == ""  # the history was left alone


def test_history_is_on_up_and_on_ctrl_up_down_when_results_are_shown(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar, view, _ = _box_and_grid(qtbot)
    bar.history = ["older", "newer"]
    qtbot.keyClick(bar.edit, Qt.Key.Key_Up)
    assert bar.text() == "newer"
    qtbot.keyClick(bar.edit, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert bar.text() == "older"
    qtbot.keyClick(bar.edit, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert bar.text() == "newer" and bar.window().focusWidget() is bar.edit


def test_down_without_results_walks_the_history(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar, view, model = _box_and_grid(qtbot)
    model.set_results([])
    bar.history = ["older", "newer"]
    qtbot.keyClick(bar.edit, Qt.Key.Key_Up)
    qtbot.keyClick(bar.edit, Qt.Key.Key_Up)
    qtbot.keyClick(bar.edit, Qt.Key.Key_Down)
    assert bar.text() == "newer" and bar.window().focusWidget() is bar.edit


def test_ctrl_v_of_an_image_in_the_search_box_searches_with_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    bar, _, _ = _box_and_grid(qtbot)
    pasted: list[bool] = []
    bar.image_pasted.connect(lambda: pasted.append(True))
    image = QImage(32, 32, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    QApplication.clipboard().setImage(image)
    qtbot.keySequence(bar.edit, QKeySequence.StandardKey.Paste)
    assert pasted == [True] and bar.edit.text() == ""
    # Text is typed, as in any text field.
    QApplication.clipboard().setText("a red circle")
    qtbot.keySequence(bar.edit, QKeySequence.StandardKey.Paste)
    assert pasted == [True] and bar.edit.text() == "a red circle"
    # A box nobody searches pasted images with (the Compare window's) leaves it be.
    other = QueryBar()
    _keep.append(other)
    QApplication.clipboard().setImage(image)
    qtbot.keySequence(other.edit, QKeySequence.StandardKey.Paste)
    assert other.edit.text() == "" and not other.has_image()
    assert bar._takes_pasted_images() and not other._takes_pasted_images()


def test_context_menu_entries_show_their_shortcuts(qtbot) -> None:  # type: ignore[no-untyped-def]
    _, view, model = _box_and_grid(qtbot)
    menu = view.menu_for(model.index(2))
    assert menu is not None and view.currentIndex().row() == 2
    entries = {a.text(): a for a in menu.actions()}
    assert set(entries) == {"Open", "Reveal in folder", "Copy path", "Find similar", "Preview"}
    for action in entries.values():
        assert not action.shortcut().isEmpty(), action.text()
        assert action.isShortcutVisibleInContextMenu(), action.text()
    similar: list[object] = []
    view.similar_requested.connect(similar.append)
    assert entries["Find similar"].shortcut() == QKeySequence("Ctrl+Shift+S")
    entries["Find similar"].trigger()
    assert [r.path for r in similar] == ["/p/2.jpg"]  # type: ignore[attr-defined]
