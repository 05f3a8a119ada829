"""Paints one result tile: picture (or placeholder), file name, score."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from finder.ui.views.results_model import (
    DetailRole,
    KindRole,
    MoreRole,
    PageRole,
    PathRole,
    ResultRole,
    ScoreRole,
    SnippetRole,
    ThumbnailStateRole,
)

TILE = QSize(184, 214)
PICTURE = 160
MARGIN = 12
DETAIL_LINE = 16  # height of a line of detail; a taller tile fits more of them


class ThumbnailDelegate(QStyledItemDelegate):
    def __init__(self, parent: QObject | None = None, tile: QSize = TILE) -> None:
        super().__init__(parent)
        self.tile = tile

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return self.tile

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = option.palette  # type: ignore[attr-defined]
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        tile = rect.adjusted(4, 4, -4, -4)
        if index.data(MoreRole):
            self._more_button(painter, tile, palette, state, index)
            painter.restore()
            return
        if state & QStyle.StateFlag.State_Selected:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
            painter.setBrush(
                palette.color(QPalette.ColorRole.Highlight).lighter(170)
                if palette.color(QPalette.ColorRole.Window).lightness() > 128
                else palette.color(QPalette.ColorRole.Highlight).darker(250)
            )
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(tile, 8, 8)
        if state & QStyle.StateFlag.State_HasFocus:
            # Keyboard users see where they are, selected or not.
            painter.setPen(
                QPen(palette.color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DashLine)
            )
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(tile.adjusted(1, 1, -1, -1), 7, 7)

        picture = QRect(
            tile.left() + (tile.width() - PICTURE) // 2, tile.top() + 6, PICTURE, PICTURE
        )
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            scaled = pixmap.scaled(
                picture.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            x = picture.left() + (picture.width() - scaled.width()) // 2
            y = picture.top() + (picture.height() - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)
            if index.data(KindRole) == "document":
                # A white page on a white view needs an edge to read as a page.
                painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(x, y, scaled.width() - 1, scaled.height() - 1)
        else:
            self._placeholder(painter, picture, palette, index)
        copies = len(getattr(index.data(ResultRole), "copies", ()))
        if copies:
            _copies_badge(painter, picture, option.font, copies)  # type: ignore[attr-defined]

        text_color = palette.color(QPalette.ColorRole.Text)
        name_rect = QRect(tile.left() + 6, picture.bottom() + 6, tile.width() - 12, 18)
        painter.setPen(text_color)
        name = option.fontMetrics.elidedText(  # type: ignore[attr-defined]
            str(index.data(Qt.ItemDataRole.DisplayRole)),
            Qt.TextElideMode.ElideMiddle,
            name_rect.width(),
        )
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name
        )
        lines = index.data(DetailRole)
        if lines is None:
            detail = f"{float(index.data(ScoreRole)):.3f}"
            page = index.data(PageRole)
            lines = [f"page {page}  \u00b7  {detail}" if page else detail]
        small = QFont(option.font)  # type: ignore[attr-defined]
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 7.0))
        painter.setFont(small)
        metrics = QFontMetrics(small)
        for i, line in enumerate(lines):
            # The first line is the score; later ones are remarks, in the accent colour.
            role = QPalette.ColorRole.PlaceholderText if i == 0 else QPalette.ColorRole.Link
            painter.setPen(palette.color(role))
            painter.drawText(
                QRect(
                    name_rect.left(),
                    name_rect.bottom() + 1 + i * DETAIL_LINE,
                    name_rect.width(),
                    DETAIL_LINE,
                ),
                Qt.AlignmentFlag.AlignHCenter,
                metrics.elidedText(line, Qt.TextElideMode.ElideRight, name_rect.width()),
            )
        painter.restore()

    @staticmethod
    def _more_button(
        painter: QPainter,
        tile: QRect,
        palette: QPalette,
        state: QStyle.StateFlag,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """The last tile: "Show N weaker matches", drawn as a button."""
        box = tile.adjusted(10, tile.height() // 2 - 24, -10, -(tile.height() // 2 - 24))
        focused = bool(state & (QStyle.StateFlag.State_HasFocus | QStyle.StateFlag.State_Selected))
        painter.setPen(
            QPen(palette.color(QPalette.ColorRole.Highlight if focused else QPalette.ColorRole.Mid))
        )
        painter.setBrush(palette.color(QPalette.ColorRole.Button))
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(palette.color(QPalette.ColorRole.ButtonText))
        painter.drawText(
            box,
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            str(index.data(Qt.ItemDataRole.DisplayRole)),
        )

    @staticmethod
    def _placeholder(
        painter: QPainter,
        picture: QRect,
        palette: QPalette,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        is_document = index.data(KindRole) == "document"
        loading = index.data(ThumbnailStateRole) == "loading"
        if is_document:
            box = picture.adjusted(20, 10, -20, -10)  # an upright page
        else:
            box = picture.adjusted(4, 16, -4, -16)
        base = palette.color(QPalette.ColorRole.Base)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(base if is_document else base.darker(108))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(palette.color(QPalette.ColorRole.PlaceholderText)))
        if is_document and not loading:
            painter.save()  # the page's fonts are not the name's
            _text_page(painter, box, palette, index)
            painter.restore()
        elif loading:
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "\u2026")
        else:
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "no preview")


def _text_page(
    painter: QPainter, box: QRect, palette: QPalette, index: QModelIndex | QPersistentModelIndex
) -> None:
    """A document without a page picture (text, HTML, Word...): its matching passage
    set as a small page of text, with its type in a corner, so that ten documents do
    not look like one icon ten times."""
    path = str(index.data(PathRole) or "")
    suffix = Path(path).suffix.lstrip(".").upper()
    snippet = " ".join(str(index.data(SnippetRole) or "").split())
    text_rect = box.adjusted(8, 8, -8, -20)
    if snippet:
        font = QFont(painter.font())
        font.setPointSizeF(max(font.pointSizeF() * 0.7, 6.0))
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        painter.save()
        painter.setClipRect(text_rect)
        painter.drawText(
            text_rect,
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            | int(Qt.TextFlag.TextWordWrap),
            snippet[:400],
        )
        painter.restore()
    else:
        # Lines standing for text: nothing of it is known here.
        for i in range(6):
            y = box.top() + 22 + i * 14
            right = box.right() - (30 if i == 5 else 14)
            painter.drawLine(box.left() + 14, y, right, y)
    if suffix and len(suffix) <= 5:
        badge = QRect(box.right() - 44, box.bottom() - 18, 40, 14)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
        painter.drawRoundedRect(badge, 3, 3)
        small = QFont(painter.font())
        small.setPointSizeF(6.5)
        small.setBold(True)
        painter.setFont(small)
        painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, suffix)


def copies_text(copies: int) -> str:
    return f"+{copies} cop{'y' if copies == 1 else 'ies'}"


def _copies_badge(painter: QPainter, picture: QRect, font: QFont, copies: int) -> None:
    """The "+N copies" badge on the picture's bottom right: the same shot is elsewhere
    too (the Duplicates window lists where)."""
    small = QFont(font)
    small.setPointSizeF(max(small.pointSizeF() * 0.8, 7.0))
    text = copies_text(copies)
    width = QFontMetrics(small).horizontalAdvance(text) + 10
    box = QRect(picture.right() - width - 2, picture.bottom() - 20, width, 18)
    painter.setFont(small)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 170))
    painter.drawRoundedRect(box, 9, 9)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.setFont(font)
