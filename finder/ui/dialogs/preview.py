"""A larger look at one result: the picture, the PDF page at screen resolution, or the
document's text with the matching passage marked; Left/Right walk the results."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QKeyEvent,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from finder.core.ingest.budget import Budget
from finder.core.ingest.extract import ExtractError, document_pages, load_image, render_pdf_pages
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.types import FileKind, SearchResult, display_path
from finder.ui.drop_zone import pil_to_qimage
from finder.ui.views.photo_facts import facts

PREVIEW_SIZE = 720
# Text shown on the GUI thread: reading this much of a document is quick.
PREVIEW_TEXT_CHARS = 1_000_000
PREVIEW_SECONDS = 3.0
PASSAGE_COLOR = QColor(255, 225, 120)


class PreviewDialog(QDialog):
    def __init__(
        self,
        result: SearchResult,
        thumbnails: ThumbnailCache,
        parent: QWidget | None = None,
        results: Sequence[SearchResult] | None = None,
    ) -> None:
        super().__init__(parent)
        self._thumbnails = thumbnails
        self._results = list(results) if results else [result]
        self._index = next((i for i, r in enumerate(self._results) if r == result), -1)
        if self._index < 0:
            self._results, self._index = [result], 0
        self.picture = QLabel(self)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(320, 240)
        self.text_view = QTextBrowser(self)
        self.text_view.setOpenLinks(False)
        self.text_view.setReadOnly(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.picture)
        self.stack.addWidget(self.text_view)
        self.details = QLabel(self)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.passage = QLabel(self)
        self.passage.setTextFormat(Qt.TextFormat.RichText)
        self.passage.setWordWrap(True)
        self.passage.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.passage)
        layout.addWidget(buttons)
        for child in self.findChildren(QWidget):  # Left/Right walk from any focus
            child.installEventFilter(self)
        self._render_timer = QTimer(self, singleShot=True, interval=120)
        self._render_timer.timeout.connect(self._render_pdf_page)
        self._fit_to_screen(QSize(960, 1000))
        self._show_current()

    def _fit_to_screen(self, wanted: QSize) -> None:
        """As large as asked, but never past the screen's free area (a 1000 px tall
        window on an 860 px screen hid its own path and buttons)."""
        screen = (self.parentWidget() or self).screen()
        if screen is not None:
            free = screen.availableGeometry()
            wanted = wanted.boundedTo(QSize(free.width() * 9 // 10, free.height() * 9 // 10))
        self.resize(wanted)

    @property
    def current(self) -> SearchResult:
        return self._results[self._index]

    def step(self, delta: int) -> None:
        """Show the next (+1) or previous (-1) result, if there is one."""
        index = self._index + delta
        if 0 <= index < len(self._results):
            self._index = index
            self._show_current()

    # -- showing one result -----------------------------------------------------------------

    def _show_current(self) -> None:
        result = self.current
        self.setWindowTitle(
            f"{display_path(Path(result.path).name)}  ({self._index + 1} of {len(self._results)})"
        )
        page = f"  \u2014  page {result.page}" if result.page else ""
        known = "".join(f"  \u00b7  {fact}" for fact in facts(result))  # date, place, camera
        self.details.setText(display_path(result.path) + page + known)
        if _is_pdf(result):
            self.stack.setCurrentWidget(self.picture)
            self._render_pdf_page()
        elif result.kind is FileKind.DOCUMENT:
            self.stack.setCurrentWidget(self.text_view)
            self._show_text(result)
        else:
            self.stack.setCurrentWidget(self.picture)
            self._set_picture(_picture(result, self._thumbnails))
        shown_in_text = result.kind is FileKind.DOCUMENT and not _is_pdf(result)
        self.passage.setVisible(bool(result.snippet) and not shown_in_text)
        if result.snippet:
            self.passage.setText(f"\u201c{highlight(result.snippet, result.matched_terms)}\u201d")

    def _set_picture(self, pixmap: QPixmap | None, reason: str = "") -> None:
        if pixmap is None or pixmap.isNull():
            self.picture.setPixmap(QPixmap())
            self.picture.setText("No preview available" + (f" ({reason})" if reason else ""))
        else:
            self.picture.setPixmap(pixmap)

    def _render_pdf_page(self) -> None:
        """The result's page, fit to the picture area at the screen's pixel ratio."""
        result = self.current
        if not _is_pdf(result):
            return
        ratio = self.devicePixelRatioF()
        area = self.picture.size()
        width, height = max(area.width(), 320) * ratio, max(area.height(), 240) * ratio
        try:
            # Rendered with its long side the area's long side, then fit inside the area.
            pages = render_pdf_pages(Path(result.path), [result.page or 1], int(max(width, height)))
        except ExtractError as exc:
            self._set_picture(None, str(exc))
            return
        if not pages:
            self._set_picture(None, "no such page")
            return
        pixmap = QPixmap.fromImage(pil_to_qimage(pages[0][1])).scaled(
            int(width),
            int(height),
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        pixmap.setDevicePixelRatio(ratio)
        self._set_picture(pixmap)

    def _show_text(self, result: SearchResult) -> None:
        try:
            parts = document_pages(
                Path(result.path), Budget(PREVIEW_SECONDS, max_chars=PREVIEW_TEXT_CHARS)
            )
        except ExtractError as exc:
            self.text_view.setPlainText(f"No preview available ({exc})")
            return
        text = "\n\n".join(part for _, part in parts)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.text_view.setPlainText(text)
        span = passage_span(text, result.snippet or "")
        if span is None:
            return
        start, end = (_qt_offset(text, i) for i in span)
        cursor = QTextCursor(self.text_view.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        marked = QTextCharFormat()
        marked.setBackground(PASSAGE_COLOR)
        cursor.mergeCharFormat(marked)
        cursor.setPosition(end)  # scroll the end, then the start, into view
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()
        cursor.setPosition(start)
        self.text_view.setTextCursor(cursor)
        self.text_view.ensureCursorVisible()

    # -- events -----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        is_key = event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
        if is_key and self._walk(event):  # type: ignore[arg-type]
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._walk(event):
            super().keyPressEvent(event)

    def _walk(self, event: QKeyEvent) -> bool:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        delta = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(Qt.Key(event.key()))
        if delta is None:
            return False
        self.step(delta)
        return True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._render_pdf_page()  # the area has its real size now

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if _is_pdf(self.current) and self.isVisible():
            self._render_timer.start()


def _is_pdf(result: SearchResult) -> bool:
    return result.kind is FileKind.DOCUMENT and result.path.lower().endswith(".pdf")


def _qt_offset(text: str, index: int) -> int:
    """A Python string index as a QTextDocument position (UTF-16 code units)."""
    return len(text[:index].encode("utf-16-le")) // 2


def passage_span(text: str, passage: str) -> tuple[int, int] | None:
    """Where `passage` (words joined by single spaces, as passages are) is in `text`,
    whatever whitespace the text has between the words; None if not found."""
    words = passage.split()
    if not words:
        return None
    pattern = re.compile(r"\s*".join(re.escape(w) for w in words[:60]), re.IGNORECASE)
    found = pattern.search(text)
    return found.span() if found else None


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
