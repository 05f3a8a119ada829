"""Ranking you can trust: the committed tiny CLIP, trained by tools/train_test_model.py,
ranks what it should on folders it never saw, through the real loading, index and search.

The checkpoint is loaded exactly as a user's custom checkpoint is: a model-config JSON
with the weights beside it (`--model tests/models/finder-tiny.json`).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from finder import cli
from finder.core.library import Library
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.runtime import optimise
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.types import FileKind, SearchKind
from tools.ranking_eval import (
    CAMERA_SHOTS,
    REMINDER,
    Folders,
    NamedFolders,
    evaluate,
    evaluate_names,
    make_folders,
    make_named_folders,
    mixed_view,
    rank_of,
)
from tools.synthetic_data import caption

MODEL = Path(__file__).resolve().parent.parent / "models" / "finder-tiny.json"
SEED = 4242  # training used other seeds: new positions, sizes and backgrounds


@pytest.fixture(scope="module")
def trained() -> ClipEmbedder:
    embedder = ClipEmbedder(resolve_model_spec(str(MODEL)), threads=2)
    embedder.load()
    return embedder


@pytest.fixture(scope="module")
def indexed(
    trained: ClipEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Library, Folders, Path]]:
    root = tmp_path_factory.mktemp("ranking")
    folders, _ = make_folders(root / "library", SEED)
    library = Library(root / "data", trained, writable=True)
    library.add_folder(root / "library")
    report = library._indexer.run()
    assert not report.errors
    yield library, folders, root
    library.close()


def test_committed_checkpoint_loads_through_the_user_path() -> None:
    spec = resolve_model_spec(str(MODEL))
    assert spec.checkpoint_file == MODEL.with_suffix(".pt")
    assert MODEL.with_suffix(".pt").stat().st_size < 10 * 2**20  # a few MB at most
    assert json.loads(MODEL.read_text())["vision_cfg"]["image_size"] <= 96


def test_ranking_quality(indexed: tuple[Library, Folders, Path]) -> None:
    library, folders, root = indexed
    cases = evaluate(library, folders, root / "scratch", k=10, seed=SEED)
    report = {name: case.summary() for name, case in cases.items()}
    print("\nranking quality:", json.dumps(report))
    text_to_photo = cases["text->photo"]
    assert text_to_photo.recall(1) >= 0.9, text_to_photo.misses
    assert cases["image->document"].recall(1) >= 0.8, cases["image->document"].misses
    assert cases["scan->document"].recall(1) >= 0.85, cases["scan->document"].misses
    duplicates = cases["image->photo near-duplicate"]
    assert duplicates.recall(1) >= 0.95, duplicates.misses


def test_ranking_quality_on_onnx_runtime(
    indexed: tuple[Library, Folders, Path], tmp_path: Path
) -> None:
    """Queries run by the ONNX export against the vectors torch indexed: the same ranks."""
    library, folders, root = indexed
    torch_embedder = library.embedder
    onnx = optimise(torch_embedder, tmp_path)
    assert isinstance(onnx, OnnxEmbedder)
    library.use_runtime(onnx)
    try:
        cases = evaluate(library, folders, root / "scratch", k=10, seed=SEED)
    finally:
        library.use_runtime(torch_embedder)
    print(
        "\nranking quality (ONNX Runtime):",
        json.dumps({name: case.summary() for name, case in cases.items()}),
    )
    assert cases["text->photo"].recall(1) >= 0.9, cases["text->photo"].misses
    assert cases["image->document"].recall(1) >= 0.8
    assert cases["scan->document"].recall(1) >= 0.85
    assert cases["image->photo near-duplicate"].recall(1) >= 0.95


def test_all_view_mixes_photos_and_documents(indexed: tuple[Library, Folders, Path]) -> None:
    library, folders, _ = indexed
    mixed = mixed_view(library, folders, k=10)
    print("\nmixed view:", mixed)
    assert mixed["both_kinds_in_top_k"] >= 0.9  # not all text first
    assert mixed["photo_and_document_in_top3"] >= 0.6


def test_move_keeps_the_score_and_delete_removes(indexed: tuple[Library, Folders, Path]) -> None:
    library, folders, root = indexed
    sample = folders.photos[0]
    before = library._search.text(sample.query, SearchKind.PHOTOS, 5)
    score = next(r.score for r in before if r.path == str(sample.path))
    moved = root / "library" / "moved" / "elsewhere.png"
    moved.parent.mkdir()
    shutil.move(sample.path, moved)
    try:
        report = library._indexer.run()
        assert report.moved == 1 and report.items_embedded == 0
        after = library._search.text(sample.query, SearchKind.PHOTOS, 5)
        assert rank_of(after, moved) == rank_of(before, sample.path)
        assert next(r.score for r in after if r.path == str(moved)) == pytest.approx(score)
        assert rank_of(after, sample.path) is None
    finally:
        moved.unlink()
    library._indexer.run()
    gone = library._search.text(sample.query, SearchKind.ALL, 50)
    assert rank_of(gone, moved) is None and rank_of(gone, sample.path) is None


def test_cli_with_the_trained_model(
    indexed: tuple[Library, Folders, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, folders, root = indexed
    photo = folders.photos[3]
    data = tmp_path / "data"
    common = ["--data-dir", str(data), "--model", str(MODEL)]
    assert cli.main(["index", "-q", *common, str(root / "library" / "photos")]) == 0
    capsys.readouterr()
    assert cli.main(["search", photo.query, "--kind", "photos", "--json", "-k", "3", *common]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results[0]["path"] == str(photo.path) and results[0]["kind"] == FileKind.PHOTO.value


# -- when file names speak ------------------------------------------------------------------


@pytest.fixture(scope="module")
def named(
    trained: ClipEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Library, NamedFolders]]:
    """20 shape photos named by what they show, 4 of them named like a camera's files;
    invoices that differ by number and a receipt or two, with neutral names."""
    root = tmp_path_factory.mktemp("named")
    folders = make_named_folders(root / "library", SEED)
    library = Library(root / "data", trained, writable=True, ocr=False)
    library.add_folder(root / "library")
    assert not library._indexer.run().errors
    yield library, folders
    library.close()


def test_a_meaning_match_is_not_buried_under_names_sharing_a_word(
    named: tuple[Library, NamedFolders],
) -> None:
    library, folders = named
    assert len(folders.camera) == len(CAMERA_SHOTS) and not library._search.random_weights
    for view in (SearchKind.PHOTOS, SearchKind.ALL):
        for sample in folders.camera:  # IMG_5749.png showing a red circle, ...
            query = caption(sample.color or "", sample.shape or "")
            results = library._search.text(query, view, 10)
            assert rank_of(results, sample.path) == 1, (query, [Path(r.path).name for r in results])
            assert results[0].match == "strong"
            # red_square.png shares a word with "a red circle": a weak match, below.
            sharing = [r for r in results if r.matched_terms]
            assert sharing and all(r.match == "weak" for r in sharing)
            scores = [r.score for r in results]
            assert scores == sorted(scores, reverse=True)  # the numbers shown agree


def test_an_invoice_number_or_a_quoted_phrase_still_wins(
    named: tuple[Library, NamedFolders],
) -> None:
    library, folders = named
    for view in (SearchKind.DOCS, SearchKind.ALL):
        for number, path in folders.invoices.items():
            results = library._search.text(f"invoice {number}", view, 10)
            assert rank_of(results, path) == 1, (number, view)
            assert results[0].match == "strong" and "keyword" in results[0].signals
        phrase = library._search.text(f'invoice "{REMINDER}"', view, 10)
        assert rank_of(phrase, folders.reminder) == 1
    report = {name: case.summary() for name, case in evaluate_names(library, folders).items()}
    print("\nranking quality, speaking names:", json.dumps(report))
    assert all(case["recall@1"] == 1.0 for case in report.values()), report
