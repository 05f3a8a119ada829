"""A catalog that lost what it had is noticed through the vector index's item ids."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from finder.core.store.catalog import Catalog
from finder.core.store.catalog_loss import check_kept
from finder.core.store.errors import CatalogLostError
from finder.core.store.model_store import index_dir
from finder.core.store.rows import NewItem
from finder.core.store.vectors import VectorStore
from finder.core.types import FileKind, FileStatus, Modality

DIM = 8


def _catalog_with_items(path: Path, files: int) -> Catalog:
    catalog = Catalog(path)
    root = catalog.add_root("/photos")
    model_id = catalog.model_id("m", DIM)
    for i in range(files):
        with catalog.transaction() as tx:
            file_id, _ = tx.upsert_file(
                root_id=root.id,
                path=f"/photos/{i}.jpg",
                size=1,
                mtime_ns=1,
                content_hash=str(i),
                kind=FileKind.PHOTO,
                status=FileStatus.OK,
                error=None,
            )
            vector = np.eye(DIM, dtype=np.float32)[i % DIM]
            tx.add_items(file_id, model_id, [NewItem(Modality.IMAGE, vector)])
    return catalog


def _save_index(index_root: Path, ids: range) -> Path:
    directory = index_dir(index_root, "m")
    store = VectorStore(directory, DIM)
    vectors = np.eye(DIM, dtype=np.float32)[[i % DIM for i in ids]]
    store.add(Modality.IMAGE, np.asarray(ids, dtype=np.int64), vectors)
    store.save()
    return directory


def test_an_empty_catalog_beside_a_full_index_is_lost(tmp_path: Path) -> None:
    _save_index(tmp_path / "index", range(1, 6))
    catalog = Catalog(tmp_path / "catalog.sqlite3")  # emptied: a fresh file
    try:
        with pytest.raises(CatalogLostError, match="lost what it had.*holds 5 items"):
            check_kept(catalog, tmp_path / "index")
    finally:
        catalog.close()


def test_a_catalog_behind_its_index_is_logged_and_kept_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = _catalog_with_items(tmp_path / "catalog.sqlite3", 3)
    try:
        _save_index(tmp_path / "index", range(1, 6))  # items 4 and 5 were lost
        with caplog.at_level(logging.WARNING):
            check_kept(catalog, tmp_path / "index")
        assert "lost its last writes" in caplog.text and "2 items" in caplog.text
    finally:
        catalog.close()


def test_an_index_the_catalog_knows_is_fine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = _catalog_with_items(tmp_path / "catalog.sqlite3", 5)
    try:
        check_kept(catalog, tmp_path / "index")  # no index yet
        _save_index(tmp_path / "index", range(1, 6))
        with catalog.transaction() as tx:  # removed files: their ids are still issued
            tx.delete_files([1, 2, 3, 4, 5])
        with caplog.at_level(logging.WARNING):
            check_kept(catalog, tmp_path / "index")
        assert not caplog.text
    finally:
        catalog.close()
