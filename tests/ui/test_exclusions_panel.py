"""Leaving parts of a watched folder out, in the Folders dialog, with the keyboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from finder.core.ingest.exclusions import Exclusion, ExclusionError, normalise
from finder.core.types import FolderStatus
from finder.ui.dialogs.exclusions import EVERY_FOLDER
from finder.ui.dialogs.folders import FoldersDialog

PHOTOS, WORK = "/home/me/Photos", "/home/me/Work"


class FakeLibrary:
    """The three calls the panel makes, over a list."""

    def __init__(self) -> None:
        self.kept = [Exclusion("build"), Exclusion("tmp", WORK)]

    def exclusions(self) -> list[Exclusion]:
        return list(self.kept)

    def add_exclusion(self, pattern: str, folder: str | None = None) -> Exclusion:
        if folder not in (None, PHOTOS, WORK):
            raise ExclusionError(f"{folder} is not a watched folder")
        added = Exclusion(normalise(pattern, folder), folder)
        if added not in self.kept:
            self.kept.append(added)
        return added

    def remove_exclusion(self, pattern: str, folder: str | None = None) -> bool:
        if Exclusion(pattern, folder) not in self.kept:
            return False
        self.kept.remove(Exclusion(pattern, folder))
        return True


def _status(path: str) -> FolderStatus:
    return FolderStatus(path=path, photos=1, documents=0, errors=0, present=True)


def _dialog(qtbot, library: FakeLibrary) -> FoldersDialog:  # type: ignore[no-untyped-def]
    dialog = FoldersDialog(lambda: [_status(PHOTOS), _status(WORK)], None, lambda: library)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _listed(dialog: FoldersDialog) -> list[str]:
    assert dialog.exclusions is not None
    patterns = dialog.exclusions.patterns
    return [patterns.item(i).text() for i in range(patterns.count())]


def test_the_selected_folders_exclusions_by_keyboard(qtbot) -> None:  # type: ignore[no-untyped-def]
    library = FakeLibrary()
    dialog = _dialog(qtbot, library)
    panel = dialog.exclusions
    assert panel is not None
    assert not panel.pattern.isEnabled()  # no folder selected yet
    assert _listed(dialog) == []

    dialog.table.selectRow(0)  # Photos
    assert panel.folder == PHOTOS
    assert _listed(dialog) == ["build" + EVERY_FOLDER]  # not Work's "tmp"
    changed: list[bool] = []
    panel.changed.connect(lambda: changed.append(True))

    panel.pattern.setFocus()
    qtbot.keyClicks(panel.pattern, "private/")
    qtbot.keyClick(panel.pattern, Qt.Key.Key_Return)
    assert Exclusion("private", PHOTOS) in library.kept
    assert _listed(dialog) == ["build" + EVERY_FOLDER, "private"]
    assert panel.pattern.text() == "" and "hidden from searches now" in panel.message.text()
    assert changed == [True]

    rereads: list[str] = []
    panel.reread_requested.connect(rereads.append)
    panel.patterns.setFocus()
    panel.patterns.setCurrentRow(1)
    assert panel.remove_button.isEnabled()
    qtbot.keyClick(panel.patterns, Qt.Key.Key_Delete)
    assert Exclusion("private", PHOTOS) not in library.kept
    assert _listed(dialog) == ["build" + EVERY_FOLDER]
    assert rereads == [PHOTOS] and changed == [True, True]

    dialog.table.selectRow(1)  # Work
    assert _listed(dialog) == ["build" + EVERY_FOLDER, "tmp"]


def test_a_pattern_that_cannot_be_says_why(qtbot) -> None:  # type: ignore[no-untyped-def]
    library = FakeLibrary()
    dialog = _dialog(qtbot, library)
    panel = dialog.exclusions
    assert panel is not None
    dialog.table.selectRow(0)
    qtbot.keyClicks(panel.pattern, "/elsewhere/x")
    qtbot.keyClick(panel.pattern, Qt.Key.Key_Return)
    assert "not inside" in panel.message.text()
    assert panel.pattern.text() == "/elsewhere/x"  # kept, to correct
    assert library.kept == FakeLibrary().kept


def test_without_a_library_there_is_no_panel(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = FoldersDialog(lambda: [])
    qtbot.addWidget(dialog)
    assert dialog.exclusions is None


def test_the_window_leaves_a_folder_out_through_its_library(  # type: ignore[no-untyped-def]
    make_window, tiny_embedder, tmp_path: Path
) -> None:
    window, controller = make_window(tiny_embedder)
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    controller.library.add_folder(pictures)
    window.show_folders()
    dialog = window._folders_dialog
    assert dialog is not None and dialog.exclusions is not None
    dialog.table.selectRow(0)
    dialog.exclusions.pattern.setText("private")
    dialog.exclusions.add()
    assert controller.library.exclusions() == [Exclusion("private", str(pictures.resolve()))]
    dialog.close()
