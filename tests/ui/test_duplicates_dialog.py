"""The Duplicates window: groups found off the GUI thread, copies side by side with the
suggested keeper marked, Reveal and Copy path, no delete; an empty state."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QThreadPool, QUrl
from PySide6.QtWidgets import QApplication, QPushButton

from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.library import Library
from finder.ui.dialogs.duplicates import EMPTY_TEXT, DuplicatesDialog, FileCard
from tests.core.search.test_duplicates import make_copies
from tests.helpers import draw_photo


@dataclass
class Host:
    library: Library
    thumbnails: ThumbnailCache
    pool: QThreadPool | None = None
    opened: list[QUrl] = field(default_factory=list)
    failures: list[BaseException] = field(default_factory=list)

    def opener(self, url: QUrl) -> object:
        self.opened.append(url)
        return True

    def report_failure(self, what: str, exc: BaseException, *, show: bool = True) -> None:
        self.failures.append(exc)


def _host(library: Library, data_dir: Path) -> Host:
    return Host(library, ThumbnailCache(data_dir / "thumbnails"))


def test_groups_side_by_side_with_the_keeper_first(
    qtbot, library: Library, data_dir: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    files = make_copies(tmp_path / "Pictures")
    library.add_folder(tmp_path / "Pictures")
    library.index()
    host = _host(library, data_dir)
    dialog = DuplicatesDialog(host)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.refresh()  # the pool is None here: at once
    assert not host.failures
    assert dialog.group_list.count() == 1
    assert "+3 copies" in dialog.group_list.item(0).text()
    assert "1 group of duplicates (4 files)" in dialog.summary.text()
    cards = dialog.cards()
    assert len(cards) == 4
    assert cards[0].file.keep and "Suggested to keep" in cards[0].badge.text()
    assert not any(c.file.keep for c in cards[1:])
    shown = {c.file.path for c in cards}
    assert shown == {str(files[n].resolve()) for n in ("original", "small", "q40", "same")}
    assert all(c.picture.pixmap() is not None and not c.picture.pixmap().isNull() for c in cards)
    assert "640 \u00d7 480" in cards[0].details.text()
    # Copy path and Reveal, and nothing that deletes
    cards[1].copy_button.click()
    assert QApplication.clipboard().text() == cards[1].file.path
    buttons = {b.text() for b in dialog.findChildren(QPushButton)}
    assert not any("delete" in t.lower() or "remove" in t.lower() for t in buttons)
    for path in files.values():
        assert path.exists()


def test_reveal_uses_the_desktop(qtbot, library: Library, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_copies(tmp_path / "Pictures")
    library.add_folder(tmp_path / "Pictures")
    library.index()
    host = _host(library, data_dir)
    dialog = DuplicatesDialog(host)
    qtbot.addWidget(dialog)
    dialog.refresh()
    card: FileCard = dialog.cards()[2]
    card.reveal_button.click()  # no D-Bus file manager in tests: the folder is opened
    assert host.opened and Path(host.opened[0].toLocalFile()) == Path(card.file.path).parent


def test_no_duplicates_says_so(qtbot, library: Library, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for colour in ("red", "blue"):
        draw_photo(tmp_path / "p" / f"{colour}.png", colour)
    library.add_folder(tmp_path / "p")
    library.index()
    dialog = DuplicatesDialog(_host(library, data_dir))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.refresh()
    assert dialog.pages.currentWidget() is dialog.empty
    assert dialog.empty.text() == EMPTY_TEXT and dialog.group_list.count() == 0


def test_found_on_the_pool(qtbot, library: Library, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_copies(tmp_path / "Pictures")
    library.add_folder(tmp_path / "Pictures")
    library.index()
    pool = QThreadPool()
    host = Host(library, ThumbnailCache(data_dir / "thumbnails"), pool)
    dialog = DuplicatesDialog(host)
    qtbot.addWidget(dialog)
    dialog.refresh()
    assert dialog.loading
    qtbot.waitUntil(lambda: dialog.group_list.count() == 1, timeout=20_000)
    qtbot.waitUntil(
        lambda: all(
            c.picture.pixmap() is not None and not c.picture.pixmap().isNull()
            for c in dialog.cards()
        ),
        timeout=20_000,
    )
    pool.waitForDone()


def test_the_window_opens_it_with_its_shortcut(  # type: ignore[no-untyped-def]
    make_window, tiny_embedder, qtbot, tmp_path: Path
) -> None:
    from PySide6.QtGui import QAction

    make_copies(tmp_path / "Pictures")
    window, controller = make_window(tiny_embedder)
    controller.start()
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        controller.add_folder(str(tmp_path / "Pictures"))
    action = next(a for a in window.findChildren(QAction) if a.text() == "Duplicates")
    assert action.shortcut().toString() == "Ctrl+Shift+U"
    action.trigger()
    dialog = window.findChild(DuplicatesDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.group_list.count() == 1
    dialog.close()


def test_a_result_with_copies_says_so_on_its_tile(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QImage

    from finder.core.types import FileKind, SearchResult
    from finder.ui.views.results_model import ResultsModel, thumbnail_key
    from finder.ui.views.results_view import ResultsView
    from finder.ui.views.thumbnail_delegate import copies_text

    model = ResultsModel()
    view = ResultsView()
    view.setModel(model)
    view.resize(900, 600)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    results = [
        SearchResult("/p/a.jpg", FileKind.PHOTO, 0.5, match="strong", copies=("/q/a.jpg",)),
        SearchResult("/p/b.jpg", FileKind.PHOTO, 0.5, match="strong"),
    ]
    model.set_results(results)
    grey = QImage(120, 90, QImage.Format.Format_RGB32)
    grey.fill(0x808080)
    for result in results:
        model.set_thumbnail(thumbnail_key(result), grey)
    view.clearSelection()
    view.setCurrentIndex(model.index(0, 0).siblingAtRow(-1))
    qtbot.wait(50)
    shot = view.viewport().grab().toImage()

    def corner(row: int) -> QImage:
        rect = view.visualRect(model.index(row))
        return shot.copy(rect.adjusted(20, 100, -20, -60))

    assert corner(0) != corner(1)  # the badge
    assert copies_text(1) == "+1 copy" and copies_text(3) == "+3 copies"


def test_the_context_menu_lists_the_copies_to_reveal(qtbot) -> None:  # type: ignore[no-untyped-def]
    from finder.core.types import FileKind, SearchResult
    from finder.ui.views.results_model import ResultsModel
    from finder.ui.views.results_view import ResultsView

    model = ResultsModel()
    view = ResultsView()
    view.setModel(model)
    qtbot.addWidget(view)
    result = SearchResult(
        "/p/a.jpg", FileKind.PHOTO, 0.5, match="strong", copies=("/q/a.jpg", "/r/a.png")
    )
    model.set_results([result])
    menu = view.menu_for(model.index(0, 0))
    assert menu is not None
    sub = next(a.menu() for a in menu.actions() if a.text() == "Copies elsewhere (2)")
    revealed: list[SearchResult] = []
    view.reveal_requested.connect(revealed.append)
    sub.actions()[1].trigger()
    assert [r.path for r in revealed] == ["/r/a.png"]
    model.set_results([SearchResult("/p/b.jpg", FileKind.PHOTO, 0.5, match="strong")])
    plain = view.menu_for(model.index(0, 0))
    assert plain is not None and not any("Copies" in a.text() for a in plain.actions())
