"""A larger look at one result: the picture, or the document page and passage."""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from finder.core.ingest.extract import ExtractError, load_image
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.types import FileKind, SearchResult
from finder.ui.drop_zone import pil_to_qimage

PREVIEW_SIZE = 720


class PreviewDialog(QDialog):
    def __init__(
        self, result: SearchResult, thumbnails: ThumbnailCache, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(Path(result.path).name)
        picture = QLabel(self)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        picture.setMinimumSize(320, 240)
        pixmap = _picture(result, thumbnails)
        if pixmap is None:
            picture.setText("No preview available")
        else:
            picture.setPixmap(pixmap)
        layout = QVBoxLayout(self)
        layout.addWidget(picture, 1)
        details = result.path + (f"  \u2014  page {result.page}" if result.page else "")
        path = QLabel(details, self)
        path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(path)
        if result.snippet:
            passage = QLabel(f"\u201c{highlight(result.snippet, result.matched_terms)}\u201d", self)
            passage.setTextFormat(Qt.TextFormat.RichText)
            passage.setWordWrap(True)
            passage.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(passage)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _picture(result: SearchResult, thumbnails: ThumbnailCache) -> QPixmap | None:
    if result.kind is FileKind.PHOTO:
        try:
            image = load_image(result.path, PREVIEW_SIZE // 2)
        except ExtractError:
            return None
        image.thumbnail((PREVIEW_SIZE, PREVIEW_SIZE))
        return QPixmap.fromImage(pil_to_qimage(image))
    thumb = thumbnails.get(result.path, result.page)
    return QPixmap(str(thumb)) if thumb is not None else None


def highlight(text: str, terms: tuple[str, ...] | list[str]) -> str:
    """HTML of `text` with the matched words in bold (case-insensitive)."""
    escaped = html.escape(text)
    words = sorted({html.escape(t) for t in terms if t.strip()}, key=len, reverse=True)
    if not words:
        return escaped
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    return pattern.sub(lambda m: f"<b>{m.group(0)}</b>", escaped)
