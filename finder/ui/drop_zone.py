"""Turning what the user drops or pastes into a query image, or a reason why not."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, QMimeData
from PySide6.QtGui import QImage

from finder.core.ingest.extract import IMAGE_SUFFIXES, ExtractError, load_image


@dataclass(frozen=True)
class DroppedImage:
    image: Image.Image
    label: str  # shown on the query chip
    path: str | None = None


class NotAnImageError(Exception):
    """What was dropped is not an image; the message says what happened instead."""


def accepts(mime: QMimeData) -> bool:
    return mime.hasImage() or mime.hasUrls()


def image_from_mime(mime: QMimeData) -> DroppedImage:
    """A dropped file, an image dragged from a browser, or a pasted screenshot."""
    if mime.hasUrls():
        local = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if local:
            return image_from_file(local[0])
    if mime.hasImage():
        qimage = mime.imageData()
        if isinstance(qimage, QImage) and not qimage.isNull():
            return DroppedImage(qimage_to_pil(qimage), "pasted image")
    if mime.hasUrls():
        raise NotAnImageError(
            "Only images from this computer can be searched with; "
            "save the image first, then drop the file."
        )
    raise NotAnImageError("That is not an image. Drop a photo or a screenshot to search with it.")


def image_from_file(path: str) -> DroppedImage:
    p = Path(path)
    if p.is_dir():
        raise NotAnImageError(f"{p.name} is a folder. To index it, use Folders\u2026 instead.")
    if p.suffix.lower() not in IMAGE_SUFFIXES:
        raise NotAnImageError(
            f"{p.name} is not an image, so it cannot be searched with. "
            "Drop a photo or a screenshot (JPEG, PNG, WebP\u2026)."
        )
    try:
        return DroppedImage(load_image(p), p.name, str(p))
    except ExtractError as exc:
        raise NotAnImageError(f"Cannot read {p.name}: {exc}") from exc


def qimage_to_pil(qimage: QImage) -> Image.Image:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    qimage.save(buffer, "PNG")
    return Image.open(BytesIO(bytes(buffer.data().data()))).convert("RGB")


def pil_to_qimage(image: Image.Image) -> QImage:
    rgb = image.convert("RGB")
    data = rgb.tobytes("raw", "RGB")
    qimage = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888)
    return qimage.copy()  # own the pixels: `data` goes away
