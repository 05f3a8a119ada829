"""Excluded concepts push their neighbours down (finder.core.search.push_down)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from finder.core.library import Library
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.search.filters import Filters
from finder.core.search.push_down import WEIGHT, away_from, push_down, without_words
from finder.core.types import FileKind, SearchKind, SearchResult
from tools.synthetic_data import draw_shape

MODEL = Path(__file__).resolve().parents[2] / "models" / "finder-tiny.json"


def _result(item_id: int, score: float, path: str = "") -> SearchResult:
    return SearchResult(
        path=path or f"/p/{item_id}.png", kind=FileKind.PHOTO, score=score, item_id=item_id
    )


def _vectors(table: dict[int, list[float]]):  # type: ignore[no-untyped-def]
    def lookup(ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        found = [i for i in ids if i in table]
        return np.asarray(found, dtype=np.int64), np.asarray(
            [table[i] for i in found], dtype=np.float32
        ).reshape(len(found), -1)

    return lookup


def test_rclips_arithmetic_on_the_candidates() -> None:
    # Item 1 is nearest the query but also near the excluded concept (axis 1).
    results = [_result(1, 0.9), _result(2, 0.8), _result(3, 0.5)]
    table = {1: [0.6, 0.8], 2: [1.0, 0.0], 3: [0.0, 1.0]}
    away = np.asarray([0.0, 1.0], dtype=np.float32)
    pushed, scores = push_down(results, away, _vectors(table), k=3)
    assert [r.item_id for r in pushed] == [2, 1, 3]
    assert scores.tolist() == pytest.approx([0.8, 0.9 - WEIGHT * 0.8, 0.5 - WEIGHT * 1.0])
    assert [r.score for r in pushed] == pytest.approx(scores.tolist())


def test_the_best_k_are_kept_and_items_without_vectors_stay() -> None:
    results = [_result(1, 0.9), _result(2, 0.8), _result(3, 0.7)]
    table = {1: [1.0]}
    pushed, _ = push_down(results, np.asarray([1.0], np.float32), _vectors(table), k=2)
    assert [r.item_id for r in pushed] == [2, 3]
    assert push_down([], np.asarray([1.0], np.float32), _vectors({}), k=2)[0] == []


def test_excluded_concepts_add_up() -> None:
    def encode(texts: list[str]) -> np.ndarray:
        return np.asarray([[1.0, 0.0] if t == "a" else [0.0, 2.0] for t in texts])

    assert away_from(encode, ()) is None
    assert away_from(encode, ("a", "b")).tolist() == [1.0, 2.0]  # type: ignore[union-attr]


def test_keyword_hits_naming_an_excluded_concept_leave() -> None:
    hits = [
        _result(1, 1.0, "/lib/red_circle.png"),
        _result(2, 1.0, "/lib/blue_circle.png"),
        _result(3, 1.0, "/lib/red/circle.png"),  # in a folder named for it
        _result(4, 1.0, "/lib/reddish.png"),  # another word
        SearchResult("/lib/notes.txt", FileKind.DOCUMENT, 1.0, snippet="a Red Car parked"),
    ]
    kept = without_words(hits, ["red"])
    assert [r.path for r in kept] == ["/lib/blue_circle.png", "/lib/reddish.png"]
    assert [r.path for r in without_words(hits, ["red car"])] == [r.path for r in hits[:4]]
    assert without_words(hits, []) == hits


# -- through the search, with the committed trained tiny CLIP ------------------------------


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, dict[str, str]]]:
    embedder = ClipEmbedder(resolve_model_spec(str(MODEL)), threads=2)
    embedder.load()
    root = tmp_path_factory.mktemp("shapes")
    rng = random.Random(7)
    names: dict[str, str] = {}  # camera-like names: the words cannot tell the colour
    for color in ("red", "green", "blue", "yellow", "purple", "orange"):
        for shape in ("circle", "square", "star"):
            path = root / "lib" / f"IMG_{len(names):04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            draw_shape(color, shape, rng).save(path)
            names[str(path)] = f"{color} {shape}"
    library = Library(root / "data", embedder, writable=True)
    library.add_folder(root / "lib")
    library.index()
    yield library, names
    library.close()


def test_an_excluded_colour_goes_below_the_other_circles(
    shapes: tuple[Library, dict[str, str]],
) -> None:
    library, names = shapes

    def ranked(exclude: tuple[str, ...]) -> list[str]:
        found = library.search_text(
            "a circle", SearchKind.PHOTOS, 8, filters=Filters(exclude=exclude)
        )
        return [names[r.path] for r in found]

    plain = ranked(())
    assert "red circle" in plain[:6]
    pushed = ranked(("red",))
    circles = [n for n in pushed if n.endswith("circle")]
    assert circles[-1] == "red circle", pushed
    assert pushed.index("red circle") > plain.index("red circle")
