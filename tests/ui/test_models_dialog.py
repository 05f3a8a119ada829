"""The Models dialog: the catalogue, the active model, what the buttons allow."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PySide6.QtGui import QKeySequence

from finder.config import hub_from_environ
from finder.core.models import catalogue
from finder.core.types import StoredModel
from finder.ui.dialogs.models import COLUMNS, UNKNOWN, ModelsDialog, build_rows
from tests.core.models.test_weights import hub  # noqa: F401, F811 - the fake hub fixture

SCREENSHOT_DIR = (
    Path(os.environ["FINDER_SCREENSHOT_DIR"]) if os.environ.get("FINDER_SCREENSHOT_DIR") else None
)


def _open(window, qtbot) -> ModelsDialog:  # type: ignore[no-untyped-def]
    shortcut = QKeySequence("Ctrl+Shift+M")
    [action] = [a for a in window.actions() if a.shortcut() == shortcut]
    action.trigger()
    dialog = window._models_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible, timeout=5_000)
    return dialog


def test_the_dialog_lists_the_catalogue_and_marks_the_active_model(
    make_window, tiny_embedder, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    dialog = _open(window, qtbot)
    assert dialog.timer.isActive()
    labels = [dialog.model.item(r, 0).text() for r in range(dialog.model.rowCount())]
    for entry in catalogue.MODELS:
        assert any(label.startswith(f"{entry.name} {entry.pretrained}") for label in labels)
    # The tiny test model is not in the catalogue, but it answers searches: listed, active.
    active = [r for r in dialog.rows if r.active]
    assert [r.key for r in active] == [tiny_embedder.key]
    row = dialog.rows.index(active[0])
    assert "active" in dialog.model.item(row, COLUMNS.index("State")).text()

    dialog.table.selectRow(row)
    assert not dialog.delete_button.isEnabled()
    assert not dialog.use_button.isEnabled()
    assert not dialog.cancel_button.isVisible()  # no switch running

    dialog.resize(1040, 460)
    shot = (SCREENSHOT_DIR or tmp_path) / "models-dialog.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(shot))
    dialog.close()
    assert not dialog.timer.isActive()


def test_use_is_disabled_for_a_model_not_on_disk(make_window, tiny_embedder, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    window._models_dialog = ModelsDialog(controller, window, on_disk=lambda m: False)
    dialog = _open(window, qtbot)
    dialog.table.selectRow(0)
    assert not dialog.use_button.isEnabled()
    assert f"finder models download {catalogue.MODELS[0].name}" in dialog.use_button.toolTip()
    dialog.close()


def test_rows_format_unknown_figures_and_index_state() -> None:
    mobile = dataclasses.replace(
        catalogue.get("MobileCLIP-S1"), imagenet=None, flickr_r1=None, coco_r1=None
    )  # figures not published
    b32 = catalogue.MODELS[0]
    stored = [StoredModel(b32.key, 512, 10, 3, 7, 1_500_000, 20_480)]
    rows = build_rows(
        [b32, mobile], stored, {"tiny@random-seed0"}, b32.key, on_disk=lambda m: m is b32
    )
    by_key = {r.key: r for r in rows}
    cells = dict(zip(COLUMNS, by_key[mobile.key].cells, strict=True))
    assert cells["ImageNet"] == cells["Flickr R@1"] == cells["COCO R@1"] == UNKNOWN
    assert cells["Weights"] == "not downloaded" and cells["Index here"] == ""
    assert by_key[mobile.key].delete_refusal() is not None  # nothing to delete

    row = by_key[b32.key]
    cells = dict(zip(COLUMNS, row.cells, strict=True))
    assert cells["ImageNet"] == "66.6%"
    assert cells["Index here"] == "3 of 7 files, 2 MB"
    assert "switching" in cells["State"] and row.target and not row.active
    assert row.use_refusal() is None
    assert "cancel the switch" in (row.delete_refusal() or "")

    tiny = by_key["tiny@random-seed0"]  # active, not in the catalogue
    assert tiny.active and tiny.cells[2] == UNKNOWN
    assert tiny.use_refusal() is not None and tiny.delete_refusal() is not None


def test_a_running_switch_shows_its_progress_and_can_be_cancelled(
    make_window, tiny_embedder, photo_folder, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from finder.core.models.spec import resolve_model_spec
    from finder.core.models.switching import ModelChoice, ModelState, load_state, save_state

    window, controller = make_window(tiny_embedder)
    controller.start()
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        controller.add_folder(str(photo_folder))
    b16 = catalogue.get("ViT-B-16")
    data_dir = controller.library.data_dir
    save_state(
        data_dir,
        ModelState(
            ModelChoice.of(tiny_embedder.spec),
            ModelChoice.of(resolve_model_spec(b16.name, b16.pretrained)),
        ),
    )
    chosen: list[object] = []
    controller.choose_model = chosen.append  # type: ignore[method-assign]
    window._models_dialog = ModelsDialog(controller, window, on_disk=lambda m: m is b16)
    dialog = _open(window, qtbot)

    assert dialog.cancel_button.isVisible()
    assert "0 of 7 files" in dialog.switch_label.text()
    by_key = {r.key: r for r in dialog.rows}
    assert by_key[b16.key].target
    assert by_key[tiny_embedder.key].cells[COLUMNS.index("Index here")].startswith("complete")
    if SCREENSHOT_DIR is not None:
        dialog.table.selectRow(dialog.rows.index(by_key[b16.key]))
        assert dialog.grab().save(str(SCREENSHOT_DIR / "models-dialog-switching.png"))

    # While it runs, no second switch, and the target's index cannot be deleted.
    dialog.table.selectRow(dialog.rows.index(by_key[b16.key]))
    assert not dialog.use_button.isEnabled() and not dialog.delete_button.isEnabled()

    dialog.cancel_button.click()
    assert load_state(data_dir).target is None
    assert not dialog.cancel_button.isVisible()
    assert not any(r.target for r in dialog.rows)

    # Use builds the catalogue entry's spec, as `finder models use` does.
    assert dialog.selected_row() is not None and dialog.selected_row().key == b16.key
    assert dialog.use_button.isEnabled()
    dialog.use_button.click()
    assert [s.key for s in chosen] == [b16.key]  # type: ignore[attr-defined]
    dialog.close()


def test_download_dialog_fetches_from_the_hub_with_progress(qtbot, hub) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    # `hub`: the fake Hugging Face hub on 127.0.0.1 from tests/core/models/test_weights.py.
    from dataclasses import replace

    from finder.core.models import catalogue
    from finder.ui.dialogs.models import DownloadDialog
    from tests.core.models.test_weights import DATA, REPO

    entry = replace(catalogue.MODELS[0], hf_hub=REPO, hub_tokenizer=None, hub_text_config=None)
    dialog = DownloadDialog(entry, None, hub=hub_from_environ(os.environ))
    qtbot.addWidget(dialog)
    seen: list[tuple[int, int]] = []
    dialog._signals.progress.connect(lambda done, total: seen.append((done, total)))
    dialog.show()
    qtbot.waitUntil(lambda: dialog.result_text != "", timeout=30_000)
    assert dialog.result_text.startswith("Downloaded to"), dialog.result_text
    path = Path(dialog.result_text.removeprefix("Downloaded to "))
    assert path.read_bytes() == DATA
    assert seen[0] == (0, len(DATA)) and seen[-1] == (len(DATA), len(DATA))


def test_download_dialog_says_why_it_failed(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from finder.core.models import catalogue
    from finder.ui.dialogs.models import DownloadDialog

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    dialog = DownloadDialog(catalogue.MODELS[0], None, hub=hub_from_environ(os.environ))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.result_text != "", timeout=10_000)
    assert "did not finish" in dialog.label.text() and "offline" in dialog.label.text().lower()


def test_load_model_folder_chooses_the_folder_as_the_model(
    make_window, tiny_embedder, qtbot, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from tests.core.models.ready_fixture import write_model_folder

    folder = write_model_folder(tmp_path / "my-model")
    window, controller = make_window(tiny_embedder)
    chosen: list[object] = []
    controller.choose_model = chosen.append  # type: ignore[method-assign]
    dialog = _open(window, qtbot)
    picked = [str(folder)]
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: picked[0])
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: warnings.append(a[2]))
    dialog.folder_button.click()
    assert [s.folder for s in chosen] == [folder]  # type: ignore[attr-defined]
    picked[0] = str(tmp_path)  # not a model folder: said, nothing chosen
    dialog.folder_button.click()
    assert len(chosen) == 1 and "lacks config.json" in warnings[0]
    dialog.close()
