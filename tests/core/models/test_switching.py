"""Switching models without downtime: each model adds its own vectors to shared items.

Two tiny random models of different embedding sizes (32 and 24): A indexes, B re-embeds
the same items into its own index while A keeps answering, B takes over when complete,
going back to A is free, and B's index can be deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from finder.core.indexing.indexer import IndexerConfig
from finder.core.library import INDEX_DIR, Library
from finder.core.model_shelf import ModelInUseError
from finder.core.models.export import export
from finder.core.models.switching import ModelChoice, begin_switch, load_state
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.store.model_store import index_dir
from finder.core.types import IndexProgress, SearchKind
from tests.conftest import CountingEmbedder
from tests.helpers import draw_photo, write_pdf, write_text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    for i, color in enumerate(["red", "blue", "green", "yellow", "purple", "orange"]):
        draw_photo(root / f"p{i}.png", color, shape="circle" if i % 2 else "square")
    write_text(root / "notes.txt", "A note about a trip to the seaside. " * 30)
    write_pdf(root / "report.pdf", ["Quarterly report page one", "Second page of the report"])
    return root


@pytest.fixture
def lib(data_dir: Path, counting_embedder: CountingEmbedder) -> Iterator[Library]:
    library = Library(
        data_dir,
        counting_embedder,
        writable=True,
        ocr=False,
        indexer_config=IndexerConfig(image_batch=2, text_batch=4, decode_workers=1, lookahead=2),
    )
    yield library
    library.close()


def _items(library: Library) -> set[int]:
    return {int(r[0]) for r in library._catalog._db.execute("SELECT id FROM items")}


def test_switch_reembeds_into_its_own_index_while_the_old_one_answers(
    lib: Library,
    folder: Path,
    data_dir: Path,
    counting_embedder: CountingEmbedder,
    tiny24_embedder: ClipEmbedder,
) -> None:
    lib.add_folder(folder)
    first = lib._indexer.run()
    assert first.added == 8 and not first.errors
    items = _items(lib)
    a_key = counting_embedder.key
    a = ModelChoice.of(counting_embedder.inner.spec)
    b = ModelChoice.of(tiny24_embedder.spec)
    state = begin_switch(data_dir, lib._catalog, a, b)
    assert state.active == a and state.target == b

    b_counter = CountingEmbedder(tiny24_embedder)
    cancel = threading.Event()
    seen: list[IndexProgress] = []

    def stop_after_first_batch(p: IndexProgress) -> None:
        if p.phase == "embedding" and p.done:
            seen.append(p)
            # Midway: the old model still answers, from its own complete index.
            assert lib._search.text("a red square", SearchKind.ALL, 5)
            cancel.set()

    partial = lib.embed_with(b_counter, progress=stop_after_first_batch, cancel=cancel)
    assert partial.cancelled and seen
    done, total = lib._catalog.model_progress(b.key)
    assert 0 < done < total == 8
    assert load_state(data_dir).target == b  # not complete: A stays active
    assert lib.status().switch_embedded == done

    rest = lib.embed_with(b_counter)
    assert rest.reembedded == total - done and rest.added == rest.updated == 0
    assert _items(lib) == items  # the items are shared, untouched
    after = load_state(data_dir)
    assert (after.active, after.target) == (b, None)  # B took over
    assert {c.key for c in after.known} == {a.key, b.key}  # both remembered
    stored = {m.key: m for m in lib.stored_models()}
    assert stored[a_key].complete and stored[b.key].complete
    assert stored[a_key].dim == 32 and stored[b.key].dim == 24
    assert stored[a_key].vectors == stored[b.key].vectors == len(items)
    assert index_dir(data_dir / INDEX_DIR, b.key).is_dir()
    # Passages came from the catalog, pictures (photos, PDF pages) were decoded again.
    assert b_counter.texts > 0 and b_counter.images >= 8

    # A is untouched: a fresh run with A embeds nothing.
    counting_embedder.reset()
    again = lib._indexer.run()
    assert again.items_embedded == 0 and counting_embedder.images == counting_embedder.texts == 0

    # Searching with B, from its own index.
    lib.use_embedder(tiny24_embedder)
    assert lib._search.text("a red square", SearchKind.ALL, 5)

    # Going back to A costs nothing: its index is complete.
    back = begin_switch(data_dir, lib._catalog, b, a)
    assert back.active == a and back.target is None


def test_deleting_a_model_frees_its_files(
    lib: Library,
    folder: Path,
    data_dir: Path,
    counting_embedder: CountingEmbedder,
    tiny24_embedder: ClipEmbedder,
) -> None:
    lib.add_folder(folder)
    lib._indexer.run()
    lib.embed_with(tiny24_embedder)
    b_key = tiny24_embedder.key
    b_dir = index_dir(data_dir / INDEX_DIR, b_key)
    assert b_dir.is_dir()
    b_export = export(ClipEmbedder(tiny24_embedder.spec, precision="fp32"), data_dir)
    exported = sum(f.stat().st_size for f in b_export.iterdir())
    assert {m.key: m for m in lib.stored_models()}[b_key].index_bytes > exported
    with pytest.raises(ModelInUseError):
        lib.delete_model(counting_embedder.key)  # the one searches use
    freed = lib.delete_model(b_key)
    assert freed > exported and not b_dir.exists() and not b_export.exists()
    assert b_key not in {m.key for m in lib.stored_models()}
    assert lib._catalog.model_progress(b_key)[0] == 0
    assert lib._search.text("a red square", SearchKind.ALL, 5)  # A still works


def test_changed_file_gets_new_items_and_the_other_model_catches_up(
    lib: Library, folder: Path, counting_embedder: CountingEmbedder, tiny24_embedder: ClipEmbedder
) -> None:
    lib.add_folder(folder)
    lib._indexer.run()
    lib.embed_with(tiny24_embedder)
    write_text(folder / "notes.txt", "Completely different words about mountains. " * 5)
    changed = lib._indexer.run()  # A: the file is extracted again; B's vectors for it go
    assert changed.updated == 1
    done, total = lib._catalog.model_progress(tiny24_embedder.key)
    assert (done, total) == (7, 8)
    counter = CountingEmbedder(tiny24_embedder)
    caught_up = lib.embed_with(counter)
    assert caught_up.reembedded == 1 and counter.images == 0  # only its passages
