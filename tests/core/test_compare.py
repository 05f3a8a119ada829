"""Comparing two models (finder.core.search.compare): each answers from its own index; a model
that cannot answer gives its column an error and the other column still works."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finder import cli
from finder.core.library import CATALOG_FILE, Library
from finder.core.models.spec import ModelSpec, ModelUnavailableError, resolve_model_spec
from finder.core.models.switching import load_state
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.search.compare import Comparison, candidates, compare, ranks_by_path
from finder.core.store.catalog import Catalog
from finder.core.types import SearchKind, SearchResult
from tests.conftest import CountingEmbedder
from tests.helpers import TINY24_CONFIG, TINY_CONFIG, draw_photo, index_with_two_models, write_text


@pytest.fixture
def indexed(
    tmp_path: Path, data_dir: Path, tiny_embedder: ClipEmbedder, tiny24_embedder: ClipEmbedder
) -> Path:
    """A folder of 6 photos and a note, indexed by both tiny models; A is active."""
    folder = tmp_path / "photos"
    for i, color in enumerate(["red", "blue", "green", "yellow", "purple", "orange"]):
        draw_photo(folder / f"p{i}.png", color, shape="circle" if i % 2 else "square")
    write_text(folder / "notes.txt", "A note about a trip to the seaside. " * 30)
    index_with_two_models(data_dir, folder, tiny_embedder, tiny24_embedder)
    return folder


def _own_search(data_dir: Path, embedder: ClipEmbedder, query: str, k: int) -> list[SearchResult]:
    library = Library(data_dir, embedder, writable=False, ocr=False)
    try:
        vector = embedder.encode_texts([query])[0]
        return library._search.by_vector(vector, SearchKind.ALL, k)
    finally:
        library.close()


def test_each_column_comes_from_its_own_models_index(
    indexed: Path,
    data_dir: Path,
    tiny_spec: ModelSpec,
    tiny24_spec: ModelSpec,
    tiny_embedder: ClipEmbedder,
    tiny24_embedder: ClipEmbedder,
) -> None:
    lent = CountingEmbedder(tiny_embedder)
    with Comparison(data_dir, [tiny_spec, tiny24_spec], embedders={tiny_spec.key: lent}) as c:
        a, b = c.run("a red square", SearchKind.ALL, 5)
        loaded_b = c._owned[tiny24_spec.key]
        assert loaded_b.loaded and loaded_b is not tiny24_embedder
    assert not loaded_b.loaded  # the model it loaded itself is released on close
    assert tiny_embedder.loaded  # the lent one is not touched
    assert lent.texts == 1 and lent.images == 0  # the lent model encoded the query

    assert (a.key, a.label) == (tiny_spec.key, "tiny-random (random weights)")
    assert (b.key, b.label) == (tiny24_spec.key, "tiny-random-24 (random weights)")
    assert not a.error and not b.error and len(a.results) == len(b.results) == 5
    for column, embedder in ((a, tiny_embedder), (b, tiny24_embedder)):
        expected = _own_search(data_dir, embedder, "a red square", 5)
        assert [r.path for r in column.results] == [r.path for r in expected]
        assert np.allclose(
            [r.score for r in column.results], [r.score for r in expected], atol=1e-5
        )
        assert all(r.relevance_label for r in column.results)


def test_a_model_without_an_index_gets_an_error_and_the_other_column_works(
    indexed: Path, data_dir: Path, tiny_spec: ModelSpec, tiny_embedder: ClipEmbedder
) -> None:
    elsewhere = resolve_model_spec("ViT-B-32", "laion2b_s34b_b79k")  # never loaded here
    a, missing = compare(
        data_dir,
        [tiny_spec, elsewhere],
        "a blue circle",
        SearchKind.PHOTOS,
        3,
        embedders={tiny_spec.key: tiny_embedder},
    )
    assert len(a.results) == 3 and not a.error
    assert all(r.kind.value == "photo" for r in a.results)
    assert missing.no_index and not missing.results
    assert missing.error == "ViT-B-32 (laion2b_s34b_b79k) has no index here"


class _NoWeights:
    """An embedder whose weights are missing."""

    def __init__(self, inner: ClipEmbedder) -> None:
        self.key, self.dim, self.description = inner.key, inner.dim, inner.description

    def load(self) -> None:
        raise ModelUnavailableError("CLIP weights for tiny-random-24 are not on disk\n(more)")

    def preprocess(self, image: Any) -> Any:
        raise AssertionError("never called")

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray:
        raise AssertionError("never called")

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("never called")


def test_missing_weights_are_one_line_in_their_column(
    indexed: Path,
    data_dir: Path,
    tiny_spec: ModelSpec,
    tiny24_spec: ModelSpec,
    tiny_embedder: ClipEmbedder,
    tiny24_embedder: ClipEmbedder,
) -> None:
    broken = _NoWeights(tiny24_embedder)
    a, b = compare(
        data_dir,
        [tiny_spec, tiny24_spec],
        "sea",
        k=4,
        embedders={tiny_spec.key: tiny_embedder, tiny24_spec.key: broken},
    )
    assert len(a.results) == 4
    assert b.error == "CLIP weights for tiny-random-24 are not on disk" and not b.no_index


def test_an_image_query_finds_the_same_picture_first_with_both_models(
    indexed: Path,
    data_dir: Path,
    tiny_spec: ModelSpec,
    tiny24_spec: ModelSpec,
    tiny_embedder: ClipEmbedder,
    tiny24_embedder: ClipEmbedder,
) -> None:
    picture = indexed / "p2.png"
    columns = compare(
        data_dir,
        [tiny_spec, tiny24_spec],
        picture,
        SearchKind.PHOTOS,
        3,
        embedders={tiny_spec.key: tiny_embedder, tiny24_spec.key: tiny24_embedder},
    )
    for column in columns:
        assert not column.error
        assert column.results[0].path == str(picture.resolve())
    assert ranks_by_path(columns[1].results)[str(picture.resolve())] == 1


def test_closing_during_a_run_stops_before_the_next_model_and_releases_it(
    indexed: Path,
    data_dir: Path,
    tiny_spec: ModelSpec,
    tiny24_spec: ModelSpec,
    tiny_embedder: ClipEmbedder,
) -> None:
    comparison = Comparison(
        data_dir, [tiny_spec, tiny24_spec], embedders={tiny_spec.key: tiny_embedder}
    )
    steps: list[str] = []

    def close_at_once(step: str) -> None:
        steps.append(step)
        comparison.close()  # as the window does when it closes mid-run

    assert comparison.run("sea", on_step=close_at_once) == []
    assert steps == ["Searching with tiny-random (random weights)\u2026"]
    assert comparison.closed and not comparison._owned and comparison._catalog is None
    assert comparison.run("sea") == []


def test_candidates_list_the_active_model_first_with_specs_from_models_json(
    indexed: Path, data_dir: Path, tiny_spec: ModelSpec, tiny24_spec: ModelSpec
) -> None:
    assert {c.key for c in load_state(data_dir).known} == {tiny_spec.key, tiny24_spec.key}
    catalog = Catalog(data_dir / CATALOG_FILE)
    try:
        found = candidates(catalog, data_dir, tiny_spec)
    finally:
        catalog.close()
    assert [c.key for c in found] == [tiny_spec.key, tiny24_spec.key]
    assert found[0].active and not found[1].active
    assert found[1].spec == tiny24_spec and found[1].complete


def test_cli_compare_json_and_its_error_for_a_model_without_an_index(
    indexed: Path, data_dir: Path
) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        [
            "compare",
            "a red square",
            "--models",
            f"{TINY_CONFIG}@none,{TINY24_CONFIG}@none",
            "-k",
            "2",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    columns = json.loads(out.getvalue())
    assert list(columns) == ["tiny-random (random weights)", "tiny-random-24 (random weights)"]
    assert all(len(results) == 2 and results[0]["match"] for results in columns.values())

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        ["compare", "sea", "--models", f"{TINY_CONFIG}@none,ViT-B-16", "--data-dir", str(data_dir)],
        stdout=out,
        stderr=err,
    )
    assert code == 1
    assert (
        "ViT-B-16 (laion2b_s34b_b88k) has no index here; build it with "
        "`finder models use ViT-B-16`" in err.getvalue()
    )
