"""FinderEmbeddings: LangChain's Embeddings on finder's model, the way the indexer runs it."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from finder import cli
from finder.langchain import FinderEmbeddings
from tests.helpers import draw_photo

pytestmark = pytest.mark.usefixtures("finder_tiny")


@pytest.fixture
def embeddings(indexed: tuple[Path, Path]):
    with FinderEmbeddings(data_dir=indexed[1]) as model:
        yield model


def test_texts_and_queries_are_unit_vectors(embeddings: FinderEmbeddings) -> None:
    assert isinstance(embeddings, Embeddings)
    rows = embeddings.embed_documents(["a red circle", "tax return", "a green square"])
    assert len(rows) == 3 and all(isinstance(x, float) for x in rows[0])
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    query = embeddings.embed_query("a red circle")
    assert len(query) == len(rows[0]) and np.allclose(query, rows[0], atol=1e-5)
    assert embeddings.embed_documents([]) == []


def test_an_image_is_the_vector_finder_stored_for_it(
    embeddings: FinderEmbeddings, indexed: tuple[Path, Path]
) -> None:
    files, data = indexed
    paths = [files / "red.png", files / "blue-square.png", files / "yellow.png"]
    vectors = np.asarray(embeddings.embed_image([str(p) for p in paths]))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for path, vector in zip(paths, vectors, strict=True):
        stored = _stored_picture_vector(data, path)
        cosine = float(vector @ stored / np.linalg.norm(stored))
        assert cosine >= 0.9999, path
    # One path alone, as the multimodal recipes call it, gives its vector alone.
    assert np.allclose(embeddings.embed_image(str(paths[0])), vectors[0], atol=1e-6)


def test_the_model_is_chosen_as_the_cli_chooses(
    embeddings: FinderEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "finder-tiny" in embeddings.library.model_description  # FINDER_MODEL
    monkeypatch.delenv("FINDER_MODEL")
    monkeypatch.delenv("FINDER_PRETRAINED")
    # Unset: the data dir's active model (the one it was indexed with).
    with FinderEmbeddings(data_dir=embeddings.library.data_dir) as active:
        assert active.library.embedder.key == embeddings.library.embedder.key


def _stored_picture_vector(data: Path, path: Path) -> np.ndarray:
    with sqlite3.connect(data / "catalog.sqlite3") as db:
        (blob,) = db.execute(
            "SELECT v.vector FROM vectors v JOIN items i ON i.id = v.item_id "
            "JOIN files f ON f.id = i.file_id WHERE f.path = ? AND i.modality = 'image'",
            (str(path),),
        ).fetchone()
    return np.frombuffer(blob, dtype=np.float32)


@pytest.mark.slow
def test_on_onnx_runtime_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`finder index` as users run it exports the model for ONNX Runtime first and
    indexes with it; FinderEmbeddings then runs the same export."""
    files, data = tmp_path / "files", tmp_path / "data"
    for color in ("red", "blue"):
        draw_photo(files / f"{color}.jpg", color)
    monkeypatch.setenv("FINDER_BACKEND", "auto")
    monkeypatch.setenv("FINDER_PRECISION", "fp32")
    out, err = io.StringIO(), io.StringIO()
    assert (
        cli.main(
            ["index", str(files), "--data-dir", str(data), "--no-ocr", "-q"], stdout=out, stderr=err
        )
        == 0
    ), err.getvalue()
    with FinderEmbeddings(data_dir=data) as embeddings:
        assert embeddings.library.runtime().runtime == "onnxruntime"
        paths = sorted(files.iterdir())
        vectors = np.asarray(embeddings.embed_image([str(p) for p in paths]))
    for path, vector in zip(paths, vectors, strict=True):
        stored = _stored_picture_vector(data, path)
        assert float(vector @ stored / np.linalg.norm(stored)) >= 0.9999, path
