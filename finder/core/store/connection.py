"""The catalog's SQLite file: one connection per thread, explicit transactions, the
schema brought up to date on open, and a damaged file reported as such.

On open, PRAGMA quick_check reads the tables every command uses (roots, files, items,
models, embedded): 0.05 s for a catalog of 20k files, 0.09 s for 100k passages. The
whole file would take 0.3 s and 1.5 s (the vectors are most of it), on every search, so
the rest is checked where it is met: every statement and row read goes through
_Connection/_Cursor, which turn SQLite's "damaged" error codes into one clear
CatalogDamagedError; an unexplained DatabaseError runs quick_check once to tell a
damaged file from anything else.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from finder.core.store.errors import (
    CatalogError,
    damaged_error,
    is_damage,
    is_storage_failure,
    storage_error,
)
from finder.core.store.schema import pending_upgrades, upgrade
from finder.core.store.writes import Tx

# The tables every command reads (what is watched, what is indexed); the vectors and the
# keyword index are most of the file and are checked where they are read.
CHECKED_ON_OPEN = ("roots", "files", "items", "models", "embedded")


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
            self._check_tables()
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
            str(self.path),
            isolation_level=None,
            check_same_thread=False,
            timeout=30.0,
            factory=_Connection,
        )
        db.catalog_path = self.path
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

    def _check_tables(self) -> None:
        """CatalogDamagedError when a table every command reads is damaged."""
        if sqlite3.sqlite_version_info < (3, 33, 0):
            return  # quick_check(TABLE) is newer: damage is then reported when met
        for table in CHECKED_ON_OPEN:
            verdict = self._db.execute(f"PRAGMA quick_check({table})").fetchone()
            if verdict is not None and verdict[0] != "ok":
                raise damaged_error(self.path, f"{table}: {verdict[0]}")

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


class _Connection(sqlite3.Connection):
    """A connection whose statements and rows report a damaged catalog file clearly."""

    catalog_path: Path

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        return self.cursor(_Cursor).execute(sql, parameters)


class _Cursor(sqlite3.Cursor):
    # Rows are read lazily: damage can surface on any fetch, not only on execute.
    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as exc:
            _raise_if_damaged(self, exc)
            raise

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as exc:
            _raise_if_damaged(self, exc)
            raise

    def fetchmany(self, size: int | None = None) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.DatabaseError as exc:
            _raise_if_damaged(self, exc)
            raise

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as exc:
            _raise_if_damaged(self, exc)
            raise

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as exc:
            _raise_if_damaged(self, exc)
            raise


def _raise_if_damaged(cursor: sqlite3.Cursor, exc: sqlite3.DatabaseError) -> None:
    """CatalogDamagedError when the file is damaged; other errors (a busy or full disk,
    a constraint) are left to the caller."""
    path: Path = getattr(cursor.connection, "catalog_path", Path("catalog"))
    if is_damage(exc):
        raise damaged_error(path, str(exc)) from exc
    if type(exc) is sqlite3.DatabaseError:  # not operational, not a constraint: damage?
        problem = integrity_problem(path)
        if problem is not None:
            raise damaged_error(path, f"{exc}; {problem}") from exc


def integrity_problem(path: Path) -> str | None:
    """SQLite's first complaint about the file (PRAGMA quick_check), None if it is whole.
    Reads the whole file: only for when something already went wrong."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            first = db.execute("PRAGMA quick_check(1)").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    verdict = str(first[0]) if first else "ok"
    return None if verdict == "ok" else verdict
