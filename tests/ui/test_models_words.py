"""Words for people: the no-model banner and the Models dialog's default view name no
command lines, benchmark abbreviations or internal model keys (issue #16 item 10)."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.ui.dialogs.model_rows import display_name
from finder.ui.dialogs.models import ModelsDialog

TECHNICAL = ("finder model", "--pretrained", "R@1")
MODEL_KEY = re.compile(r"[\w.-]+@[\w.-]+")  # e.g. ViT-B-32@laion2b_s34b_b79k


def _visible_texts(root: QWidget) -> list[str]:
    texts = [
        w.text()
        for w in root.findChildren(QLabel) + root.findChildren(QAbstractButton)
        if w.isVisibleTo(root)
    ]
    table = getattr(root, "table", None)
    if table is not None:
        model = table.model()
        for column in range(model.columnCount()):
            if table.isColumnHidden(column):
                continue
            texts.append(str(model.headerData(column, Qt.Orientation.Horizontal)))
            texts += [str(model.index(r, column).data()) for r in range(model.rowCount())]
    return texts


def _assert_plain(texts: list[str]) -> None:
    for text in texts:
        for word in TECHNICAL:
            assert word not in text, text
        assert not MODEL_KEY.search(text), text


def test_the_banner_speaks_plainly(make_window) -> None:  # type: ignore[no-untyped-def]
    # The tests' home has an empty weights cache: the default model's weights are missing.
    window, controller = make_window(ClipEmbedder(resolve_model_spec(None, None)))
    controller.library.load_model = lambda: None  # type: ignore[method-assign]
    controller.start()
    assert window.banner.isVisibleTo(window)
    assert "isn't on this computer" in window.banner_text.text()
    _assert_plain(_visible_texts(window.banner))


def test_the_models_dialog_speaks_plainly_and_says_why_use_is_off(
    make_window, tiny_embedder, qtbot
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    dialog = ModelsDialog(controller, window, on_disk=lambda m: False)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    _assert_plain(_visible_texts(dialog))
    # The model in use is named by its display name, not its key.
    assert display_name(tiny_embedder.key) in dialog.recommendation.text()

    dialog.table.selectRow(0)  # a catalogue model that is not downloaded
    assert not dialog.use_button.isEnabled()
    assert dialog.use_button.toolTip()
    assert dialog.use_reason.isVisibleTo(dialog)
    assert "Download it first" in dialog.use_reason.text()
    _assert_plain(_visible_texts(dialog))

    active = next(i for i, r in enumerate(dialog.rows) if r.active)
    dialog.table.selectRow(active)
    assert not dialog.use_button.isEnabled()
    assert "Already in use" in dialog.use_reason.text()

    # Every row fits: no inner scroll for the catalogue.
    rows = sum(dialog.table.rowHeight(r) for r in range(dialog.model.rowCount()))
    assert dialog.table.minimumHeight() >= rows

    # The figures are one click away.
    dialog.figures_box.setChecked(True)
    headers = [
        str(dialog.model.headerData(c, Qt.Orientation.Horizontal))
        for c in range(dialog.model.columnCount())
        if not dialog.table.isColumnHidden(c)
    ]
    assert "Flickr R@1" in headers and "COCO R@1" in headers
    dialog.close()
