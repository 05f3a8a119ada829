from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from finder.core.store.catalog import Catalog
from finder.core.store.errors import SchemaTooNewError
from finder.core.store.rows import NewItem
from finder.core.store.schema import SCHEMA_VERSION
from finder.core.types import FileKind, FileStatus, Modality


def _add_file(catalog: Catalog, root_id: int, path: str, model_id: int, n_items: int = 1) -> int:
    with catalog.transaction() as tx:
        file_id, _ = tx.upsert_file(
            root_id=root_id,
            path=path,
            size=1,
            mtime_ns=1,
            content_hash="h",
            kind=FileKind.PHOTO,
            status=FileStatus.OK,
            error=None,
        )
        tx.add_items(
            file_id,
            model_id,
            [NewItem(Modality.IMAGE, np.ones(4, np.float32)) for _ in range(n_items)],
        )
    return file_id


def test_new_catalog_has_current_schema_and_wal(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    assert catalog.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "c.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    catalog.close()


def test_newer_schema_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    Catalog(tmp_path / "c.sqlite3").close()
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(SchemaTooNewError, match="newer than this finder"):
        Catalog(tmp_path / "c.sqlite3")


def test_failed_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root("/photos")
    model_id = catalog.model_id("m", 4)
    with pytest.raises(RuntimeError), catalog.transaction() as tx:
        file_id, _ = tx.upsert_file(
            root_id=root.id,
            path="/photos/a.jpg",
            size=1,
            mtime_ns=1,
            content_hash="h",
            kind=FileKind.PHOTO,
            status=FileStatus.OK,
            error=None,
        )
        tx.add_items(file_id, model_id, [NewItem(Modality.IMAGE, np.ones(4, np.float32))])
        raise RuntimeError("killed mid-batch")
    assert catalog.file_by_path("/photos/a.jpg") is None
    assert catalog.counts()["items"] == 0


def test_nested_roots_are_merged_without_losing_files(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    inner = catalog.add_root("/home/me/Pictures/2023")
    model_id = catalog.model_id("m", 4)
    _add_file(catalog, inner.id, "/home/me/Pictures/2023/a.jpg", model_id)
    # A folder inside a watched one is already covered.
    assert catalog.add_root("/home/me/Pictures/2023/summer").id == inner.id
    outer = catalog.add_root("/home/me/Pictures")
    assert [r.path for r in catalog.roots()] == ["/home/me/Pictures"]
    record = catalog.file_by_path("/home/me/Pictures/2023/a.jpg")
    assert record is not None and record.root_id == outer.id
    assert catalog.counts()["items"] == 1
    # A sibling with a common prefix is not nested.
    catalog.add_root("/home/me/Pictures2")
    assert len(catalog.roots()) == 2


def test_removing_a_root_drops_its_items_and_vectors(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    keep, drop = catalog.add_root("/keep"), catalog.add_root("/drop")
    model_id = catalog.model_id("m", 4)
    _add_file(catalog, keep.id, "/keep/a.jpg", model_id)
    _add_file(catalog, drop.id, "/drop/b.jpg", model_id, n_items=2)
    removed = catalog.remove_root(drop.id)
    assert len(removed) == 2
    ids, _ = catalog.vectors_for(model_id, removed)
    assert len(ids) == 0
    assert catalog.counts()["items"] == 1


def test_item_ids_are_never_reused(tmp_path: Path) -> None:
    # They are the vector index's labels: reuse would resurrect a deleted vector.
    catalog = Catalog(tmp_path / "c.sqlite3")
    root = catalog.add_root("/r")
    model_id = catalog.model_id("m", 4)
    file_id = _add_file(catalog, root.id, "/r/a.jpg", model_id)
    first = catalog.item_ids_of_files([file_id])
    with catalog.transaction() as tx:
        tx.delete_files([file_id])
    file_id = _add_file(catalog, root.id, "/r/a.jpg", model_id)
    assert set(catalog.item_ids_of_files([file_id])).isdisjoint(first)


def test_model_dimension_mismatch_is_an_error(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "c.sqlite3")
    catalog.model_id("m", 4)
    with pytest.raises(Exception, match="dimension"):
        catalog.model_id("m", 8)
