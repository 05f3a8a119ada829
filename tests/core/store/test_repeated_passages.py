"""Documents that repeat themselves (boilerplate, headers, footers, licence text) neither
break a search nor crowd other files out of it (issues #14 item 2, #15 item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from finder.core.library import Library
from finder.core.store.catalog import Catalog
from finder.core.store.layout import CATALOG_FILE
from finder.core.store.rows import passages_to_items
from finder.core.types import Passage, SearchKind
from tests.helpers import write_text

REPEATED = "lorem ipsum " * 7500  # 15,000 words: hundreds of equal passages


def test_repetitive_documents_are_stored_once_and_crowd_nothing_out(
    library: Library, tmp_path: Path
) -> None:
    root = tmp_path / "docs"
    for name in ("manual.txt", "licence.txt", "terms.txt"):
        write_text(root / name, REPEATED)
    write_text(root / "receipts.txt", "tax receipts for the hardware store, March")
    write_text(root / "note.md", "call the plumber about the kitchen sink")
    library.add_folder(root)
    library.index()

    for query in ("tax receipts", "kitchen sink", "lorem ipsum", "anything at all"):
        results = library.search_text(query, SearchKind.DOCS, k=50)
        # The three equal files are one result with two copies (issue #17 item 5).
        names = sorted(Path(p).name for r in results for p in (r.path, *r.copies))
        assert names == ["licence.txt", "manual.txt", "note.md", "receipts.txt", "terms.txt"]
        assert len(results) == 3
        assert len(library.search_text(query, SearchKind.ALL, k=50)) == 3

    # Equal passages of a file are stored once: the repeated one (and the last, shorter).
    catalog = Catalog(library.data_dir / CATALOG_FILE)
    try:
        for record in catalog.files_under(catalog.roots()[0].id).values():
            texts = [text for _, _, _, text in catalog.file_items(record.id)]
            assert len(texts) == len(set(texts)) <= 2
        assert catalog.counts()["items"] <= 8
    finally:
        catalog.close()


def test_the_first_of_equal_passages_is_kept_with_its_page() -> None:
    passages = [Passage("a", 1), Passage("b", 1), Passage("a", 2), Passage("c", 3)]
    vectors = [[float(i)] for i in range(4)]
    items = passages_to_items(passages, np.asarray(vectors))
    assert [(i.text, i.page, i.chunk) for i in items] == [("a", 1, 0), ("b", 1, 1), ("c", 3, 3)]
    assert [float(i.vector[0]) for i in items] == [0.0, 1.0, 3.0]
    every = passages_to_items(passages, np.asarray(vectors), unique=False)
    assert len(every) == 4  # new vectors for items already stored: one per item
