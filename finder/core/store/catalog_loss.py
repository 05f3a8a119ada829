"""Noticing a catalog that lost what it had.

A catalog truncated to nothing, replaced, or whose first run was killed before its -wal
file reached the database opens as a new, empty one: without a check, `finder status`
would say "no folders yet" and the next save of the vector index would drop every
vector the catalog no longer knows. The vector index of each model remembers which item
ids it holds, and the catalog never gives an id out twice, so an index holding ids the
catalog never issued shows what was lost.
"""

from __future__ import annotations

import logging
from pathlib import Path

from finder.core.store.catalog import Catalog
from finder.core.store.errors import CatalogLostError
from finder.core.store.vectors import saved_labels

log = logging.getLogger(__name__)


def check_kept(catalog: Catalog, index_root: Path) -> None:
    """Raise CatalogLostError when the catalog is empty but a model's saved index holds
    items: the folders and files it had are gone, and the index (vectors without file
    names) is kept as it is for the user to restore or set aside. A catalog that lost
    only its last writes is logged: those files are indexed again by the next run."""
    if not index_root.is_dir():
        return
    issued = catalog.items_issued()
    for directory in sorted(p for p in index_root.iterdir() if p.is_dir()):
        labels = saved_labels(directory)
        unknown = int((labels > issued).sum())
        if unknown == 0:
            continue
        if catalog.is_empty():
            raise CatalogLostError(
                f"the catalog {catalog.path} lost what it had: it is empty, yet the vector "
                f"index in {directory} holds {len(labels)} items (the catalog file was "
                "emptied or replaced, or a first run's -wal file was lost). The index is "
                "kept as it is; it holds vectors, not file names. Restore the catalog from "
                f"a backup, or start over: move the old index aside (mv {index_root} "
                f"{index_root}.old) and index your folders again with `finder index "
                "FOLDER...`"
            )
        log.warning(
            "the catalog %s lost its last writes: the vector index in %s holds %d items it "
            "no longer has; their files are indexed again by the next run",
            catalog.path,
            directory,
            unknown,
        )
