"""An index run without the model (its weights missing): names, passages and text are
indexed at once and found by keywords; once the model is there, only vectors are added."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from finder.core.library import Library
from finder.core.models.spec import ModelUnavailableError, resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.models.weights import Hub
from finder.core.types import Modality
from tests.conftest import CountingEmbedder
from tests.helpers import draw_photo, write_pdf, write_text


class MissingModel:
    """A model whose weights are not here: loading it fails, as a torch model's does."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.description = "a model whose weights are missing"
        self.loads = 0

    @property
    def dim(self) -> int:
        raise ModelUnavailableError("no weights")

    def load(self) -> None:
        self.loads += 1
        raise ModelUnavailableError("CLIP weights for the test model are not on disk")

    def preprocess(self, image: Any) -> Any:
        raise AssertionError("no model: nothing to preprocess")

    def encode_images(self, batch: Sequence[Any]) -> np.ndarray:
        raise AssertionError("no model: nothing to encode")

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError("no model: nothing to encode")


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "Stuff"
    draw_photo(root / "green_star.png", "green")
    draw_photo(root / "holiday" / "beach.jpg", "yellow")
    write_text(root / "letter.txt", "the plumber's invoice 4711 for the kitchen sink")
    write_pdf(root / "tax.pdf", ["tax return 2023", "deductions for the garden"])
    return root


def test_without_the_model_names_and_text_are_indexed_then_only_vectors_added(
    data_dir: Path, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    root = _folder(tmp_path)
    missing = MissingModel(counting_embedder.key)
    library = Library(data_dir, missing, writable=True, ocr=False)  # type: ignore[arg-type]
    try:
        library.add_folder(root)
        report = library.index()
        assert report.model_missing and "not on disk" in report.model_missing
        assert report.added == 4 and not report.errors and report.items_embedded == 0
        status = library.status(check_index=False)
        assert (status.photos, status.documents) == (2, 2)
        items = status.items
        assert items == 2 + 1 + 2 + 2  # photos, the letter, the PDF's passages and pages
        # Keywords find a document by a word in it and a photo by its file name.
        assert [Path(r.path).name for r in library.search_keyword("plumber")] == ["letter.txt"]
        assert Path(library.search_keyword("garden")[0].path).name == "tax.pdf"
        assert Path(library.search_keyword("star")[0].path).name == "green_star.png"
        # Nothing changed: the next run reads nothing again (it only waits for the model).
        again = library.index()
        assert again.added == again.updated == 0 and again.unchanged == 4
    finally:
        library.close()

    library = Library(data_dir, counting_embedder, writable=True, ocr=False)
    try:
        report = library.index()
        assert not report.model_missing
        assert report.added == report.updated == report.removed == 0
        assert report.reembedded == 4  # the model's vectors for the items already stored
        assert library.status(check_index=False).items == items  # the same items
        assert counting_embedder.images == 2 + 2 and counting_embedder.texts == 3
        assert library.status().vectors == {Modality.IMAGE.value: 4, Modality.TEXT.value: 3}
        assert library.search_text("sink")  # by meaning now
        counting_embedder.reset()
        assert library.index().reembedded == 0 and counting_embedder.images == 0
    finally:
        library.close()


def test_missing_weights_are_known_without_loading_the_model(
    data_dir: Path, tmp_path: Path
) -> None:
    """The default model with an empty weights cache: the run never tries to load it."""
    embedder = ClipEmbedder(resolve_model_spec(None, None), hub=Hub(cache_dir=tmp_path / "hub"))
    library = Library(data_dir, embedder, writable=True, ocr=False)
    try:
        assert "not on disk" in library.model_missing()
        assert not library.wants_faster_runtime()
        library.add_folder(_folder(tmp_path))
        report = library.index()
        assert report.added == 4 and report.model_missing == library.model_missing()
        assert not embedder.loaded
        assert library.search_keyword("invoice")
    finally:
        library.close()
