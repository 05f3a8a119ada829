"""SQLite failures are sorted by their error code, not by the words of their message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from finder.core.store.catalog import Catalog
from finder.core.store.errors import (
    CatalogDamagedError,
    StorageError,
    is_damage,
    is_storage_failure,
    storage_error,
)


def _error(db: sqlite3.Connection, sql: str) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        db.execute(sql)
    return caught.value


def test_codes_not_messages(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t(x UNIQUE)").connection.commit()
    readonly = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    exc = _error(readonly, "INSERT INTO t VALUES (1)")
    assert is_storage_failure(exc) and not is_damage(exc)
    message = str(storage_error(tmp_path, exc))
    assert "the data folder is read-only" in message and "can still be searched" in message

    writable = sqlite3.connect(path)
    writable.execute("INSERT INTO t VALUES (1)")
    exc = _error(writable, "INSERT INTO t VALUES (1)")  # a constraint: a bug, not the disk
    assert not is_storage_failure(exc) and not is_damage(exc)

    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all" * 100)
    exc = _error(sqlite3.connect(tmp_path / "junk.sqlite3"), "SELECT * FROM sqlite_master")
    assert is_damage(exc) and not is_storage_failure(exc)


def test_a_message_in_another_words_is_still_classified() -> None:
    exc = sqlite3.OperationalError("le disque est plein")  # what a translated build might say
    exc.sqlite_errorcode = 13  # type: ignore[attr-defined]  # SQLITE_FULL, set by sqlite3 itself
    assert is_storage_failure(exc)
    assert "the disk is full" in str(storage_error(Path("/data"), exc))


def test_a_catalog_that_is_not_a_database_is_a_damaged_error(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    path.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(CatalogDamagedError, match="is damaged") as caught:
        Catalog(path)
    assert "\n" not in str(caught.value)
    assert not isinstance(caught.value, StorageError)
