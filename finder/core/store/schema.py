"""The catalog's SQL schema, versioned in SQLite's `user_version`, and its forward
migrations. Apart from the repository (catalog.py), so the history of the tables reads in
one place.

A catalog newer than this code is refused with a clear error (an older finder would
misread it); an older one is upgraded in one transaction per step, so a process killed
mid-upgrade leaves the previous version intact.
"""

from __future__ import annotations

from pathlib import Path

from finder.core.store.errors import CatalogError, SchemaTooNewError
from finder.core.store.writes import Tx

SCHEMA_VERSION = 5

# Each entry upgrades the schema from version i to i+1. Append, never edit.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE roots (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at REAL NOT NULL
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        indexed_at REAL NOT NULL
    );
    CREATE INDEX files_root ON files(root_id);
    CREATE INDEX files_hash ON files(content_hash);
    -- AUTOINCREMENT: an item id is never reused, since it is the vector index's label.
    CREATE TABLE items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        modality TEXT NOT NULL,
        page INTEGER,
        chunk INTEGER NOT NULL DEFAULT 0,
        text TEXT
    );
    CREATE INDEX items_file ON items(file_id);
    -- One embedding model's vectors for the items: several models can coexist.
    CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        dim INTEGER NOT NULL
    );
    CREATE TABLE vectors (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        vector BLOB NOT NULL,
        PRIMARY KEY (item_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX vectors_model ON vectors(model_id);
    -- Files whose every item has a vector for the model (files with zero items too).
    CREATE TABLE embedded (
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        PRIMARY KEY (file_id, model_id)
    ) WITHOUT ROWID;
    """,
    # 2: a watched folder that is gone (unmounted drive, share down) is offline: its
    # files and vectors are kept but hidden from searches until it comes back.
    """
    ALTER TABLE roots ADD COLUMN offline_since REAL;
    """,
    # 3: keyword search. One FTS5 row per item (rowid = item id): the file's name and
    # folder (relative to its root) and the item's text (a passage, or the OCR text of a
    # photo or page image). Triggers keep it in step with items and files in the same
    # transactions. files.ocr_state: NULL until the OCR pass has looked at the file.
    """
    CREATE VIRTUAL TABLE fts USING fts5(name, folder, body,
        tokenize = 'unicode61 remove_diacritics 2');
    CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO fts(rowid, name, folder, body)
        SELECT new.id, {name}, {folder}, new.text FROM files f WHERE f.id = new.file_id;
    END;
    CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        DELETE FROM fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER items_fts_text AFTER UPDATE OF text ON items BEGIN
        UPDATE fts SET body = new.text WHERE rowid = new.id;
    END;
    CREATE TRIGGER files_fts_path AFTER UPDATE OF path, root_id ON files BEGIN
        UPDATE fts SET (name, folder) = (SELECT {name}, {folder} FROM files f
                                         WHERE f.id = new.id)
        WHERE rowid IN (SELECT id FROM items WHERE file_id = new.id);
    END;
    INSERT INTO fts(rowid, name, folder, body)
        SELECT i.id, {name}, {folder}, i.text FROM items i JOIN files f ON f.id = i.file_id;
    ALTER TABLE files ADD COLUMN ocr_state TEXT;
    """.format(
        # The path below its root, then its last part (name) and what precedes it:
        # rtrim(p, <every character of p but '/'>) keeps p up to its last '/'.
        name="substr({rel}, length(rtrim({rel}, replace({rel}, '/', ''))) + 1)",
        folder="rtrim({rel}, replace({rel}, '/', ''))",
    ).format(rel="substr(f.path, length((SELECT path FROM roots WHERE id = f.root_id)) + 2)"),
    # 4: PDFs indexed before their pages were embedded as pictures have none: forget that
    # they are embedded, so the next run embeds them again, pages included.
    """
    DELETE FROM embedded WHERE file_id IN (
        SELECT id FROM files WHERE kind = 'document' AND status = 'ok'
        AND lower(path) LIKE '%.pdf'
        AND id NOT IN (SELECT file_id FROM items WHERE modality = 'image'));
    """,
    # 5: what people remember a photo by (issue #17), read once per file at index time:
    # when (taken: ISO 8601 local time with its offset when known, so a date range
    # compares its first 10 characters; taken_utc for sorting; taken_source 'exif',
    # 'document' or 'file' when only the mtime was there), where (GPS and an offline
    # place name), which camera, the pixel size, a perceptual hash for near-duplicates,
    # and the other file of a RAW+JPEG pair. A file without a row has not been read yet:
    # the next index run reads it without embedding it again. Exclusions: folders or
    # glob patterns left out, per watched folder (root_id) or everywhere (NULL).
    # IF NOT EXISTS: a catalog whose user_version was set back (tests of older
    # versions) upgrades again without failing.
    """
    CREATE TABLE IF NOT EXISTS file_meta (
        file_id INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        taken TEXT,
        taken_utc REAL,
        taken_source TEXT,
        lat REAL,
        lon REAL,
        place TEXT,
        camera TEXT,
        orientation INTEGER,
        width INTEGER,
        height INTEGER,
        phash TEXT,
        companion TEXT
    );
    CREATE INDEX IF NOT EXISTS file_meta_taken ON file_meta(taken);
    CREATE INDEX IF NOT EXISTS file_meta_taken_utc ON file_meta(taken_utc);
    CREATE INDEX IF NOT EXISTS file_meta_phash ON file_meta(phash);
    CREATE TABLE IF NOT EXISTS exclusions (
        id INTEGER PRIMARY KEY,
        root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
        pattern TEXT NOT NULL,
        added_at REAL NOT NULL,
        UNIQUE (root_id, pattern)
    );
    """,
]


def pending_upgrades(version: int, catalog: Path, *, readonly: bool) -> range:
    """The versions to upgrade a catalog at `version` to, one step at a time."""
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"the catalog {catalog} has schema version {version}, newer than this finder "
            f"understands ({SCHEMA_VERSION}); upgrade finder or use another --data-dir"
        )
    if version < SCHEMA_VERSION and readonly:
        raise CatalogError(f"the catalog {catalog} needs an upgrade; run `finder index` once")
    return range(version + 1, SCHEMA_VERSION + 1)


def upgrade(tx: Tx, target: int) -> None:
    """Upgrade from version target - 1 to `target`, inside the caller's transaction."""
    tx.executescript_in_tx(MIGRATIONS[target - 1])
    tx.execute(f"PRAGMA user_version = {int(target)}")
