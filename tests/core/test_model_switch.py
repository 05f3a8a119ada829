"""library.switch: choosing, running, resuming and cancelling a model switch, the one
implementation `finder models use`, `finder index`, `finder watch` and the app share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from finder.core.library import Library
from finder.core.models.spec import ModelSpec, resolve_model_spec
from finder.core.models.switching import ModelChoice, ModelState, load_state, save_state
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.types import SwitchOutcome
from tests.helpers import TINY24_CONFIG, draw_photo, write_text


@pytest.fixture
def indexed(data_dir: Path, tmp_path: Path, tiny_embedder: ClipEmbedder) -> Iterator[Library]:
    """Four files indexed with the tiny model, which answers searches."""
    root = tmp_path / "pics"
    for i, color in enumerate(["red", "green", "blue"]):
        draw_photo(root / f"p{i}.png", color)
    write_text(root / "note.txt", "a picnic by the lake")
    library = Library(data_dir, tiny_embedder, writable=True, ocr=False)
    library.switch.remember_first(tiny_embedder.spec)
    library.add_folder(root)
    library.index()
    yield library
    library.close()


def test_choosing_a_model_without_an_index_makes_it_the_target(
    indexed: Library, tiny24_spec: ModelSpec
) -> None:
    choice = indexed.switch.choose(tiny24_spec, load_first=True)
    assert not choice.immediate and (choice.embedded, choice.total) == (0, 4)
    assert choice.label.startswith("tiny-random-24") and choice.current.startswith("tiny-random")
    chosen = indexed.switch.chosen()
    assert chosen.target == tiny24_spec.key and chosen.serving == indexed.embedder.key
    pending = indexed.switch.pending()
    assert pending is not None and pending.spec == tiny24_spec and not pending.on_hold
    assert indexed.switch.progress() == (choice.label, 0, 4)


def test_a_run_embeds_the_target_until_it_takes_over_then_back_is_immediate(
    indexed: Library, tiny_embedder: ClipEmbedder, tiny24_spec: ModelSpec
) -> None:
    indexed.switch.choose(tiny24_spec)
    run = indexed.switch.run()
    assert run is not None and run.outcome is SwitchOutcome.TAKEN_OVER and run.taken_over
    assert run.reembedded == 4 and (run.embedded, run.total) == (4, 4)
    assert load_state(indexed.data_dir).active.key == tiny24_spec.key  # type: ignore[union-attr]
    assert indexed.switch.run() is None  # nothing pending
    # This library still serves the tiny model: going back to it is immediate.
    assert indexed.switch.choose(tiny_embedder.spec).immediate


def test_a_cancelled_run_is_resumable(indexed: Library, tiny24_spec: ModelSpec) -> None:
    indexed.switch.choose(tiny24_spec)
    cancel = threading.Event()

    def stop_after_a_batch(progress: object) -> None:
        if getattr(progress, "done", 0):
            cancel.set()

    run = indexed.switch.run(progress=stop_after_a_batch, cancel=cancel)
    assert run is not None and run.outcome is SwitchOutcome.CANCELLED and run.cancelled
    assert indexed.switch.chosen().target == tiny24_spec.key
    rest = indexed.switch.run()
    assert rest is not None and rest.taken_over and run.reembedded + rest.reembedded == 4


def test_beside_indexing_the_library_adopts_the_target_once_it_took_over(
    indexed: Library, tiny24_spec: ModelSpec
) -> None:
    indexed.switch.choose(tiny24_spec)
    run = indexed.switch.run(beside_indexing=True, adopt=True)
    assert run is not None and run.taken_over
    assert indexed.embedder.key == tiny24_spec.key  # it searches with the new model now
    assert indexed.search_text("a red circle", k=4)


def test_beside_indexing_a_stop_between_runs_and_a_cancelled_switch(
    indexed: Library, tiny24_spec: ModelSpec
) -> None:
    indexed.switch.choose(tiny24_spec)
    cancel = threading.Event()
    cancel.set()
    run = indexed.switch.run(beside_indexing=True, cancel=cancel)
    assert run is not None and run.outcome is SwitchOutcome.STOPPED and run.reembedded == 0
    indexed.switch.cancel()
    assert indexed.switch.chosen().target is None and indexed.switch.pending() is None
    assert indexed.switch.run(beside_indexing=True) is None
    assert indexed.embedder.key != tiny24_spec.key


def test_a_target_that_cannot_be_built_is_on_hold(indexed: Library, tmp_path: Path) -> None:
    missing = ModelChoice(str(TINY24_CONFIG), str(tmp_path / "gone.pt"), "tiny-random-24@gone")
    save_state(indexed.data_dir, ModelState(load_state(indexed.data_dir).active, missing))
    pending = indexed.switch.pending()
    assert pending is not None and pending.spec is None and pending.on_hold
    run = indexed.switch.run()
    assert run is not None and run.outcome is SwitchOutcome.ON_HOLD and run.reason
    assert load_state(indexed.data_dir).target == missing  # still to do


def test_a_model_that_cannot_load_is_refused_before_anything_changes(
    indexed: Library, tmp_path: Path
) -> None:
    from finder.core.models.spec import ModelUnavailableError

    weights = tmp_path / "broken.pt"
    weights.write_bytes(b"not a checkpoint")
    broken = resolve_model_spec(str(TINY24_CONFIG), str(weights))
    with pytest.raises((ModelUnavailableError, RuntimeError, OSError, ValueError)):
        indexed.switch.choose(broken, load_first=True)
    assert indexed.switch.chosen().target is None
