"""What closing the service releases: the catalog's connections and the writer lock."""

from __future__ import annotations

from pathlib import Path

from finder.core.library import Library
from tests.conftest import CountingEmbedder


def test_closing_a_library_closes_its_catalog_and_frees_the_lock(
    data_dir: Path, counting_embedder: CountingEmbedder
) -> None:
    library = Library(data_dir, counting_embedder, writable=True)
    catalog = library._catalog
    assert catalog.counts()["items"] == 0  # this thread's connection is open
    library.close()
    assert catalog._connections == []
    Library(data_dir, counting_embedder, writable=True).close()  # the lock is free again
