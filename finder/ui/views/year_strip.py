"""The timeline under the query bar (issue #17): the years that have photos, each a small
bar as tall as its share of the photos, and the sort of the results.

A year's click narrows the search to it (a "2019" chip); a second click, on the only
year chosen, shows all years again. Hidden while no photo has a date.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyleOptionFocusRect,
    QToolButton,
    QWidget,
)

from finder.core.search.filters import Sort
from finder.ui.filter_chips import SORT_CHOICES
from finder.ui.search_filters import FilterState

SORT_SHORTCUT = "Ctrl+Shift+D"
BUTTON_SIZE = QSize(48, 44)
BAR_HEIGHT = 18  # the tallest bar, for the year with the most photos


def photos_text(count: int) -> str:
    return f"{count:,} {'photo' if count == 1 else 'photos'}"


class YearButton(QToolButton):
    """A year: its bar (sqrt of its share, so a quiet year still shows) over its number."""

    toggled_year = Signal(int)

    def __init__(self, year: int, count: int, most: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.year, self.count = year, count
        self.share = math.sqrt(count / most) if most else 0.0
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setFixedSize(BUTTON_SIZE)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setText(str(year))
        self.setAccessibleName(f"{year}, {photos_text(count)}")
        self.setToolTip(f"{year}: {photos_text(count)}. Click to search only {year}.")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # The state's answer sets the check mark, not the click itself.
        self.clicked.connect(lambda: self.toggled_year.emit(self.year))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        if self.isChecked() or self.underMouse():
            fill = QColor(palette.highlight().color())
            fill.setAlpha(60 if self.isChecked() else 25)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(rect, 5, 5)
        base = 4 + BAR_HEIGHT + 0.5  # a thin line under the bars: they read as one timeline
        line = QColor(palette.mid().color())
        line.setAlpha(110)
        painter.setPen(line)
        painter.drawLine(QPointF(0, base), QPointF(self.width(), base))
        bar_height = max(2.0, BAR_HEIGHT * self.share)
        bar = QRectF(rect.center().x() - 7, 4 + BAR_HEIGHT - bar_height, 14, bar_height)
        color = palette.highlight().color() if self.isChecked() else palette.mid().color()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(bar, 2, 2)
        font = self.font()
        font.setBold(self.isChecked())
        painter.setFont(font)
        painter.setPen(palette.buttonText().color())
        text_rect = QRectF(
            rect.left(), 4 + BAR_HEIGHT, rect.width(), rect.bottom() - BAR_HEIGHT - 4
        )
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter, str(self.year))
        if self.hasFocus():
            option = QStyleOptionFocusRect()
            option.initFrom(self)
            self.style().drawPrimitive(
                QStyle.PrimitiveElement.PE_FrameFocusRect, option, painter, self
            )
        painter.end()


class YearStrip(QWidget):
    """The years of `state` as a strip of buttons, and the sort box at its end."""

    def __init__(self, state: FilterState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.buttons: list[YearButton] = []
        self._years: list[tuple[int, int]] = []
        self.setAccessibleName("Years")

        self._row = QWidget(self)
        self._row_layout = QHBoxLayout(self._row)
        self._row_layout.setContentsMargins(0, 0, 0, 0)
        self._row_layout.setSpacing(0)  # the baseline runs on
        self._row_layout.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidget(self._row)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setFixedHeight(BUTTON_SIZE.height() + 4)
        self.scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        self.sort_box = QComboBox(self)
        for sort, label in SORT_CHOICES:
            self.sort_box.addItem(label, sort.value)
        self.sort_box.setToolTip(f"Order of the results ({SORT_SHORTCUT} changes it)")
        self.sort_box.setAccessibleName("Sort")
        self.sort_box.currentIndexChanged.connect(self._sort_chosen)
        sort_label = QLabel("Sort:", self)
        sort_label.setBuddy(self.sort_box)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 0, 10, 4)
        layout.addWidget(self.scroll, 1)
        layout.addSpacing(12)
        layout.addWidget(sort_label)
        layout.addWidget(self.sort_box)
        state.changed.connect(self.refresh)
        self.refresh()

    def years(self) -> list[int]:
        return [b.year for b in self.buttons]

    def checked_years(self) -> list[int]:
        return [b.year for b in self.buttons if b.isChecked()]

    def button(self, year: int) -> YearButton:
        return next(b for b in self.buttons if b.year == year)

    def refresh(self) -> None:
        if self.state.years != self._years:
            self._build(self.state.years)
        chosen = self.state.selected_years()
        for button in self.buttons:
            button.setChecked(button.year in chosen)
        index = self.sort_box.findData(self.state.sort.value)
        if index != self.sort_box.currentIndex():
            self.sort_box.blockSignals(True)
            self.sort_box.setCurrentIndex(index)
            self.sort_box.blockSignals(False)
        self.setVisible(bool(self.buttons))

    def _build(self, years: list[tuple[int, int]]) -> None:
        for button in self.buttons:
            self._row_layout.removeWidget(button)
            button.hide()
            button.deleteLater()
        self._years = list(years)
        most = max((n for _, n in years), default=0)
        self.buttons = []
        for i, (year, count) in enumerate(years):
            button = YearButton(year, count, most, self._row)
            button.toggled_year.connect(self.state.toggle_year)
            self._row_layout.insertWidget(i, button)
            self.buttons.append(button)
        if self.buttons:  # the latest years in view; older ones a scroll away
            self.scroll.horizontalScrollBar().setValue(self.scroll.horizontalScrollBar().maximum())

    def _sort_chosen(self, index: int) -> None:
        self.state.set_sort(Sort(self.sort_box.itemData(index)))
