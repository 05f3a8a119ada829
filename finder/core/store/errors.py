"""What can go wrong with the catalog, and SQLite's failures sorted by their error code.

SQLite's messages are for people and change between versions; its result codes do not
(Python 3.11's sqlite3 exceptions carry them as `sqlite_errorcode`). Sorting on them
keeps "the data dir cannot take this write" apart from "the file is damaged" apart from
a bug.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from finder.core.store.layout import INDEX_DIR

# SQLite's primary result codes (https://sqlite.org/rescode.html); an extended code
# keeps its primary one in its low 8 bits (SQLITE_IOERR_WRITE is SQLITE_IOERR | 3 << 8).
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26

# The data dir cannot take this write: the index stops, what is stored stays searchable.
_STORAGE_REASONS = {
    SQLITE_FULL: "the disk is full",
    SQLITE_READONLY: "the data folder is read-only",
    SQLITE_IOERR: "a disk I/O error",
    SQLITE_CANTOPEN: "the catalog file cannot be opened",
}
# The file itself is damaged: nothing sensible can be read or written until it is repaired.
_DAMAGE_CODES = {SQLITE_CORRUPT, SQLITE_NOTADB}


class CatalogError(Exception):
    """The catalog cannot be opened or used; the message is shown to the user."""


class SchemaTooNewError(CatalogError):
    pass


class StorageError(CatalogError):
    """The data dir cannot be written (disk full, read-only); what is stored stays usable."""


class CatalogDamagedError(CatalogError):
    """The catalog file is damaged (a bad page, not a database): it must be repaired or
    rebuilt before finder can use it."""


class CatalogLostError(CatalogError):
    """The catalog is empty while a model's vector index still holds what it had."""


def primary_code(exc: sqlite3.Error) -> int | None:
    """SQLite's primary result code of a sqlite3 exception, None when it carries none."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_storage_failure(exc: sqlite3.Error) -> bool:
    return primary_code(exc) in _STORAGE_REASONS


def is_damage(exc: sqlite3.Error) -> bool:
    return primary_code(exc) in _DAMAGE_CODES


def storage_error(where: Path, exc: BaseException) -> StorageError:
    """A clear message for a failed write, from a sqlite3 or OS error."""
    if isinstance(exc, OSError):
        reason = {
            errno.ENOSPC: "the disk is full",
            errno.EROFS: "the disk is read-only",
            errno.EDQUOT: "the disk quota is used up",
            errno.EACCES: "permission denied",
            errno.EPERM: "permission denied",
        }.get(exc.errno or 0, exc.strerror or str(exc))
    elif isinstance(exc, sqlite3.Error):
        reason = _STORAGE_REASONS.get(primary_code(exc) or 0, str(exc))
    else:
        reason = str(exc)
    return StorageError(
        f"cannot write the index in {where}: {reason}; what is already "
        "indexed can still be searched"
    )


def damaged_error(catalog: Path, detail: str) -> CatalogDamagedError:
    """One line: what is wrong with the catalog file and what the user can do."""
    detail = "; ".join(line.strip() for line in detail.splitlines() if line.strip())[:300]
    return CatalogDamagedError(
        f"the catalog {catalog} is damaged ({detail}). Restore it from a backup, or start "
        f"over: move it and the vector index aside (mv {catalog} {catalog}.damaged; "
        f"mv {catalog.parent / INDEX_DIR} {catalog.parent / INDEX_DIR}.old) and index your "
        "folders again with `finder index FOLDER...`"
    )
