from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from finder.core.library import Library
from finder.core.search.search import merge_modalities
from finder.core.types import FileKind, SearchKind, SearchResult
from tests.helpers import draw_photo, write_text


def _result(path: str, kind: FileKind, score: float) -> SearchResult:
    return SearchResult(path=path, kind=kind, score=score)


def test_merge_standardises_each_modality() -> None:
    # Text-text cosines sit far above text-image ones; raw merging would list documents only.
    photos = [_result(f"p{i}", FileKind.PHOTO, s) for i, s in enumerate([0.31, 0.22, 0.21])]
    docs = [_result(f"d{i}", FileKind.DOCUMENT, s) for i, s in enumerate([0.80, 0.79, 0.78])]
    photo_pool = np.array([0.31, 0.22, 0.21, 0.20, 0.20, 0.19], dtype=np.float32)
    doc_pool = np.array([0.80, 0.79, 0.78, 0.78, 0.77, 0.77], dtype=np.float32)
    merged = merge_modalities([(photos, photo_pool), (docs, doc_pool)], k=4)
    assert merged[0].path == "p0"  # stands out most within its own modality
    assert {r.kind for r in merged} == {FileKind.PHOTO, FileKind.DOCUMENT}
    assert len(merged) == 4


def test_merge_handles_empty_and_single_pools() -> None:
    only = [_result("p0", FileKind.PHOTO, 0.3)]
    assert merge_modalities([(only, np.array([0.3])), ([], np.array([]))], 5) == only


@pytest.fixture
def indexed(library: Library, tmp_path: Path) -> Library:
    root = tmp_path / "stuff"
    for color in ("red", "green", "blue"):
        draw_photo(root / f"{color}.png", color)
    long_text = " ".join(f"filler{i}" for i in range(200)) + " the hardware store receipt"
    write_text(root / "long.txt", long_text)
    write_text(root / "short.md", "sunset over the sea")
    library.add_folder(root)
    library._indexer.run()
    return library


def test_documents_are_grouped_with_their_best_passage(indexed: Library) -> None:
    results = indexed._search.text("the hardware store receipt", SearchKind.DOCS, k=10)
    paths = [Path(r.path).name for r in results]
    assert sorted(paths) == ["long.txt", "short.md"]  # one result per file
    # With the query's words in it, the keyword-matching passage is shown, words listed.
    fused = next(r for r in results if r.path.endswith("long.txt"))
    assert "hardware store receipt" in (fused.snippet or "")
    assert fused.matched_terms == ("hardware", "store", "receipt")
    query = indexed.embedder.encode_texts(["the hardware store receipt"])[0]
    by_meaning = indexed._search.by_vector(query, SearchKind.DOCS, k=10)
    long = next(r for r in by_meaning if r.path.endswith("long.txt"))
    assert long.kind is FileKind.DOCUMENT and long.snippet
    # By meaning, the snippet is the passage that scored best among that file's passages.
    passages = indexed._catalog.items(indexed._catalog.item_ids_of_files([long.file_id]))
    best = max(
        passages.values(),
        key=lambda row: float(indexed.embedder.encode_texts([row.text or ""])[0] @ query),
    )
    assert long.snippet == best.text


def test_kinds_filter_results(indexed: Library) -> None:
    photos = indexed._search.text("red", SearchKind.PHOTOS, k=10)
    assert len(photos) == 3 and {r.kind for r in photos} == {FileKind.PHOTO}
    assert all(r.snippet is None for r in photos)
    everything = indexed._search.text("red", SearchKind.ALL, k=10)
    assert {r.kind for r in everything} == {FileKind.PHOTO, FileKind.DOCUMENT}
    assert len(everything) == 5
    assert indexed._search.text("   ", SearchKind.ALL) == []


def test_image_query_finds_the_same_image_first(indexed: Library, tmp_path: Path) -> None:
    query = shutil.copy(tmp_path / "stuff" / "green.png", tmp_path / "query.png")
    results = indexed._search.image(query, SearchKind.PHOTOS, k=3)
    assert Path(results[0].path).name == "green.png"
    assert results[0].score == pytest.approx(1.0, abs=1e-4)


def test_a_reader_sees_what_the_writer_committed(
    indexed: Library, tmp_path: Path, data_dir: Path
) -> None:
    reader = Library(data_dir, indexed.embedder, writable=False)
    try:
        assert len(reader._search.text("x", SearchKind.PHOTOS, k=10)) == 3
        draw_photo(tmp_path / "stuff" / "new.png", "orange")
        indexed._indexer.run()
        names = {Path(r.path).name for r in reader._search.text("x", SearchKind.PHOTOS, k=10)}
        assert "new.png" in names
    finally:
        reader.close()


def test_deleting_the_index_rebuilds_identical_results(indexed: Library, data_dir: Path) -> None:
    before = [(r.path, round(r.score, 5)) for r in indexed._search.text("blue", k=10)]
    indexed.close()
    shutil.rmtree(data_dir / "index")
    again = Library(data_dir, indexed.embedder, writable=False)
    try:
        after = [(r.path, round(r.score, 5)) for r in again._search.text("blue", k=10)]
        assert again._models.open_state.startswith("rebuilt")
    finally:
        again.close()
    assert after == before


def test_keyword_fallback_matches_names_and_text_without_the_model(indexed: Library) -> None:
    results = indexed._search.keyword("hardware receipt", SearchKind.ALL, k=10)
    assert [Path(r.path).name for r in results] == ["long.txt"]
    assert results[0].score == 1.0 and "hardware" in (results[0].snippet or "")
    photos = indexed._search.keyword("GREEN", SearchKind.PHOTOS, k=10)  # by file name
    assert [Path(r.path).name for r in photos] == ["green.png"]
    assert indexed._search.keyword("r_d", SearchKind.ALL) == []  # "_" is no LIKE wildcard here


_LEVEL = {"tail": 0, "weak": 1, "strong": 2}


def test_every_result_says_how_relevant_it_is_in_the_order_shown(indexed: Library) -> None:
    """Text, picture ("find similar") and model-comparison answers all carry a relevance
    and a match, and the numbers shown never disagree with the order."""
    picture = Path(indexed._catalog.roots()[0].path) / "green.png"
    vector = indexed.embedder.encode_texts(["the hardware store receipt"])[0]
    answers = []
    for kind in SearchKind:
        answers += [
            indexed._search.text("red receipt", kind, 10),
            indexed._search.image(picture, kind, 10),
            *indexed._search.image_stages(picture, kind, 10),
            indexed._search.by_vector(vector, kind, 10),
        ]
    for results in answers:
        assert results
        for above, below in itertools.pairwise(results):
            assert above.score >= below.score
            assert (above.relevance or 0.0) >= (below.relevance or 0.0)
            assert _LEVEL[above.match] >= _LEVEL[below.match]
        assert all(r.relevance is not None and r.match in _LEVEL for r in results)


def test_a_model_with_random_weights_never_calls_a_result_strong(
    indexed: Library, tmp_path: Path
) -> None:
    assert indexed._search.random_weights
    copy = shutil.copy(tmp_path / "stuff" / "green.png", tmp_path / "query.png")
    results = indexed._search.image(copy, SearchKind.ALL, k=10)
    assert results[0].score == pytest.approx(1.0, abs=1e-4)  # the picture itself...
    assert results[0].match == "weak"  # ...but nothing this model says is strong
    everything = [
        *results,
        *indexed._search.text("the hardware store receipt", SearchKind.ALL, 10),
        *indexed._search.by_vector(
            indexed.embedder.encode_texts(["red"])[0], SearchKind.ALL, 10, picture=False
        ),
    ]
    assert "strong" not in {r.match for r in everything}


def test_without_a_model_more_of_the_query_comes_first(indexed: Library) -> None:
    results = indexed._search.keyword("sunset receipt hardware", SearchKind.ALL, k=10)
    assert [Path(r.path).name for r in results] == ["long.txt", "short.md"]
    assert [r.score for r in results] == pytest.approx([2 / 3, 1 / 3])
    assert [r.relevance for r in results] == pytest.approx([0.667, 0.333], abs=1e-3)
    assert {r.match for r in results} == {"weak"}
    assert indexed._search.keyword("hardware receipt")[0].match == "strong"
