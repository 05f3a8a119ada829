"""The first look clears photos of text from the index run's decode: strokes first, then
the OCR pass's own detector; what it cannot clear is left to the OCR pass."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from finder.core.indexing.first_look import FirstLook
from finder.core.ingest.ocr import OcrUnavailableError
from finder.core.ingest.scanner import ScannedFile
from finder.core.types import FileKind
from tests.core.ingest.test_text_hint import camera_photo


class Detector:
    """Answers `text`; counts the pictures it saw; or fails as told."""

    def __init__(self, text: bool = False, fails: Exception | None = None) -> None:
        self.text, self.fails, self.seen = text, fails, 0

    def has_text(self, image: Image.Image) -> bool:
        self.seen += 1
        if self.fails is not None:
            raise self.fails
        return self.text


def scanned(path: Path, data: bytes) -> ScannedFile:
    path.write_bytes(data)
    return ScannedFile(str(path), len(data), 0, FileKind.PHOTO)


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def flat_png(tmp_path: Path) -> tuple[ScannedFile, Image.Image]:
    """A small flat PNG (not a camera photo: the strokes do not judge it), and its decode."""
    out = io.BytesIO()
    Image.new("RGB", (320, 240), "blue").save(out, "PNG")
    return scanned(tmp_path / "small.png", out.getvalue()), decoded(out.getvalue())


def test_a_plain_camera_photo_is_cleared_by_its_strokes_alone(tmp_path: Path) -> None:
    data = camera_photo(1)
    detector = Detector(text=True)
    look = FirstLook(detector)  # type: ignore[arg-type]
    assert look.clears(scanned(tmp_path / "IMG_1.jpg", data), decoded(data))
    assert detector.seen == 0  # the detector was not needed


def test_strokes_that_may_be_text_go_to_the_detector(tmp_path: Path) -> None:
    data = camera_photo(2, text=True)
    photo = scanned(tmp_path / "IMG_2.jpg", data)
    assert not FirstLook(Detector(text=True)).clears(photo, decoded(data))  # type: ignore[arg-type]
    no_text = Detector(text=False)
    assert FirstLook(no_text).clears(photo, decoded(data))  # type: ignore[arg-type]
    assert no_text.seen == 1


def test_pictures_the_strokes_do_not_apply_to_are_the_detectors(tmp_path: Path) -> None:
    picture, pixels = flat_png(tmp_path)
    assert not FirstLook().clears(picture, pixels)  # no detector: kept
    detector = Detector(text=False)
    assert FirstLook(detector).clears(picture, pixels)  # type: ignore[arg-type]
    assert detector.seen == 1


def test_without_ocr_installed_it_counts_strokes_only(tmp_path: Path) -> None:
    picture, pixels = flat_png(tmp_path)
    detector = Detector(fails=OcrUnavailableError("OCR is not available"))
    look = FirstLook(detector)  # type: ignore[arg-type]
    assert not look.clears(picture, pixels)
    assert not look.clears(picture, pixels)
    assert detector.seen == 1 and look.detector is None  # not asked again


def test_a_detector_failure_leaves_the_photo_to_the_ocr_pass(tmp_path: Path) -> None:
    picture, pixels = flat_png(tmp_path)
    detector = Detector(fails=RuntimeError("onnxruntime failed"))
    look = FirstLook(detector)  # type: ignore[arg-type]
    assert not look.clears(picture, pixels)
    assert look.detector is detector  # still used for the next photo
