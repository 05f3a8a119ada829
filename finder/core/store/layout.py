"""Where things live inside a data dir (one place, so every reader agrees)."""

from __future__ import annotations

CATALOG_FILE = "catalog.sqlite3"
INDEX_DIR = "index"  # one sub-folder of vector index files per model
