"""Metadata for files indexed before finder read it (an older data dir), after an index
run: each such file's metadata is read (a header, not a decode) and written, and a photo's
author's words join its keyword text. Nothing is embedded again. New and changed files
get theirs in the pipeline, with their row."""

from __future__ import annotations

import threading

from finder.core.ingest.metadata import read_metadata
from finder.core.store.catalog import Catalog
from finder.core.store.file_meta import add_words, files_without_meta, save_meta

BATCH = 64  # files per transaction


def fill_missing_metadata(catalog: Catalog, cancel: threading.Event | None = None) -> int:
    """Read the metadata of every file that has none; how many were. (The reader never
    fails a file, so each is looked at once.)"""
    done = 0
    while not (cancel is not None and cancel.is_set()):
        batch = files_without_meta(catalog, BATCH)
        if not batch:
            break
        read = [
            (file_id, read_metadata(path, kind, mtime_ns))
            for file_id, path, kind, mtime_ns in batch
        ]
        with catalog.transaction() as tx:
            for file_id, meta in read:
                save_meta(tx, file_id, meta)
                add_words(tx, file_id, meta.words)
        done += len(read)
    return done
