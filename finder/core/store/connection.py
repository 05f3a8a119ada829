"""The catalog's SQLite file: one connection per thread, explicit transactions, and the
schema brought up to date on open."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from finder.core.store.errors import CatalogError, is_storage_failure, storage_error
from finder.core.store.schema import pending_upgrades, upgrade
from finder.core.store.writes import Tx


class Database:
    """One SQLite database file. Safe to use from one thread at a time per connection;
    each thread gets its own."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._readonly = readonly
        self._lock = threading.RLock()
        # One connection per thread: the app searches on one thread while it indexes on
        # another, and WAL lets readers go on while a writer commits.
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate(readonly)
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot open the catalog {path}: {exc}") from exc

    @property
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are explicit (see `transaction`).
        db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        if not self._readonly:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._connections.append(db)
        return db

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, readonly: bool) -> None:
        for target in pending_upgrades(self.schema_version, self.path, readonly=readonly):
            with self.transaction() as tx:
                upgrade(tx, target)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(self._db)
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if is_storage_failure(exc):
                    raise storage_error(self.path.parent, exc) from exc
                raise

    def data_version(self) -> int:
        """Changes whenever another connection commits (readers use it to notice writers)."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
            self._local = threading.local()
