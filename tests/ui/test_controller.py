"""The controller without the window's own widgets: how background failures reach the
window (one line) and the log (with their traceback)."""

from __future__ import annotations

import logging

import pytest

from finder.core.models.torch_runtime import ClipEmbedder


def _broken(*args: object, **kwargs: object) -> list[object]:
    raise RuntimeError("the index fell over")


def test_a_failed_search_says_one_line_and_logs_its_traceback(
    make_window, tiny_embedder: ClipEmbedder, qtbot, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    window, controller = make_window(tiny_embedder)
    controller.start()
    controller.library.search_text = _broken  # type: ignore[method-assign]
    caplog.set_level(logging.ERROR, logger="finder")
    logged: list[str] = []
    controller.log.connect(logged.append)
    controller.search_text("a red circle")
    qtbot.waitUntil(lambda: bool(logged), timeout=10_000)
    assert window.status_label.text() == "Search failed: the index fell over"
    assert logged[0].startswith("Search failed: the index fell over\nTraceback")
    assert "RuntimeError: the index fell over" in logged[0]
    assert "Traceback" in window.log_view.toPlainText()
    [record] = [r for r in caplog.records if r.name == "finder.ui.controller"]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


def test_a_missing_model_is_said_without_a_traceback(
    make_window, qtbot, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    from finder.core.models.spec import resolve_model_spec

    window, controller = make_window(
        ClipEmbedder(resolve_model_spec("ViT-B-32", "laion2b_s34b_b79k"))
    )
    logged: list[str] = []
    controller.log.connect(logged.append)
    controller.start()
    assert logged and "Traceback" not in logged[0] and "ViT-B-32" in logged[0]
