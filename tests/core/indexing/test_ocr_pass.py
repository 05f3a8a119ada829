"""The OCR pass skips the photos the index run's first look cleared, without decoding them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from finder.core.indexing.ocr_pass import read_text_in_images
from finder.core.library import Library
from tests.core.ingest.test_text_hint import camera_photo


class CountingOcr:
    """Sees no text; counts the pictures it was asked about."""

    def __init__(self) -> None:
        self.looked: list[tuple[int, int]] = []

    def has_text(self, image: Image.Image) -> bool:
        self.looked.append(image.size)
        return False

    def read(self, image: Image.Image) -> str:
        return ""


def test_cleared_camera_photos_are_not_decoded_again(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "Camera"
    root.mkdir()
    (root / "IMG_0001.jpg").write_bytes(camera_photo(1))
    (root / "IMG_0002.jpg").write_bytes(camera_photo(2, text=True))
    Image.new("RGB", (320, 240), "blue").save(root / "small.png")
    library.add_folder(root)
    library.index()
    cleared = library._indexer.text_free
    # The plain photo by its strokes, the small one by the text detector on the same
    # decode (first_look.py); the sign is left to be read.
    assert cleared == {str(root / "IMG_0001.jpg"), str(root / "small.png")}

    ocr = CountingOcr()
    report = read_text_in_images(library._catalog, ocr, cleared=cleared)  # type: ignore[arg-type]
    assert report.looked_at == 3 and report.cleared == 2 and len(ocr.looked) == 1
    assert library._catalog.ocr_state(str(root / "IMG_0001.jpg")) == "none"
    assert library._catalog.ocr_state(str(root / "small.png")) == "none"
    assert cleared == set()  # used once


def test_an_index_run_no_ocr_pass_follows_does_not_ask_the_detector(
    library: Library, tmp_path: Path
) -> None:
    root = tmp_path / "Camera"
    root.mkdir()
    (root / "IMG_0001.jpg").write_bytes(camera_photo(1))
    Image.new("RGB", (320, 240), "blue").save(root / "small.png")
    library.add_folder(root)
    library.index(read_text=False)  # finder index --no-ocr
    assert library._indexer.text_free == {str(root / "IMG_0001.jpg")}  # strokes only


def test_without_ocr_only_the_strokes_clear(data_dir: Path, counting_embedder: Any) -> None:
    root = data_dir.parent / "Camera"
    root.mkdir()
    (root / "IMG_0001.jpg").write_bytes(camera_photo(1))
    Image.new("RGB", (320, 240), "blue").save(root / "small.png")
    library = Library(data_dir, counting_embedder, writable=True, ocr=False)
    try:
        library.add_folder(root)
        library.index()
        assert library._indexer.text_free == {str(root / "IMG_0001.jpg")}  # no detector
    finally:
        library.close()


def test_without_the_gate_every_photo_is_read(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "Camera"
    root.mkdir()
    (root / "IMG_0001.jpg").write_bytes(camera_photo(1))
    library.add_folder(root)
    library.index()
    ocr = CountingOcr()
    report = read_text_in_images(
        library._catalog,
        ocr,  # type: ignore[arg-type]
        gate=False,
        cleared=set(library._indexer.text_free),
    )
    assert report.read == 1 and report.cleared == 0
