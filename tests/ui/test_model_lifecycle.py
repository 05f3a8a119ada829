"""The window with the default model before its weights are downloaded: the banner at
once, with no attempt to load the model, and folders indexed (names and text) with
progress."""

from __future__ import annotations

from pathlib import Path

from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.types import IndexProgress
from finder.ui.model_lifecycle import ModelPhase


def test_missing_weights_show_the_banner_without_loading_and_folders_are_indexed(
    make_window, qtbot, photo_folder: Path
) -> None:  # type: ignore[no-untyped-def]
    # The tests' home has an empty weights cache: the default model's weights are missing.
    window, controller = make_window(ClipEmbedder(resolve_model_spec(None, None)))
    loads: list[str] = []
    controller.library.load_model = lambda: loads.append("load")  # type: ignore[method-assign]
    controller.start()
    assert controller.model_phase is ModelPhase.MISSING
    assert not loads  # nothing to load: no attempt was started
    assert window.banner.isVisibleTo(window)
    assert "file names and document text" in window.banner_text.text()

    progress: list[IndexProgress] = []
    controller.progress.connect(progress.append)
    with qtbot.waitSignal(controller.indexing_finished, timeout=60_000):
        controller.add_folder(str(photo_folder))
    status = controller.library.status(check_index=False)
    assert (status.photos, status.documents) == (5, 2)
    indexed = [p for p in progress if p.phase == "embedding" and p.total]
    assert indexed and indexed[-1].done == 7
    assert not loads and not controller.library.embedder.loaded
    found = controller.library.search_keyword("hardware")
    assert [Path(r.path).name for r in found] == ["receipt.txt"]
