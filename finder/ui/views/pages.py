"""What the main window shows besides the results: the welcome page (nothing indexed
yet), the message page (no results, and why) and the banners above both (the model's
weights are missing; the model has random weights)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class WelcomePage(QWidget):
    def __init__(self, parent: QWidget, on_add: Callable[[], None]) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel("<h1>Find your photos and documents</h1>", self)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "Add a folder and finder indexes what is in it, here on this computer.<br>"
            "Then describe what you are looking for (\u201csunset over the sea\u201d, "
            "\u201creceipt from the hardware store\u201d),<br>or drop a screenshot or photo "
            "onto this window to find related documents and similar pictures.",
            self,
        )
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        self.add_button = QPushButton("Add a folder\u2026", self)
        self.add_button.setDefault(True)
        self.add_button.setMinimumWidth(180)
        self.add_button.clicked.connect(on_add)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.add_button)
        row.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addSpacing(16)
        layout.addLayout(row)
        layout.addStretch(3)


class MessagePage(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label)
        layout.addStretch(3)


class ModelBanners(QWidget):
    """Above whatever else is shown: `banner` while the CLIP weights are missing (with
    Download and Load checkpoint), `random_banner` while the model has random weights.
    The window shows this area only with a banner in it: no empty band under the bar."""

    def __init__(
        self,
        parent: QWidget,
        on_download: Callable[[], None],
        on_checkpoint: Callable[[], None],
    ) -> None:
        super().__init__(parent)
        self.banner = QFrame(self)
        self.banner.setObjectName("modelBanner")
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner.setStyleSheet(
            "#modelBanner { background: palette(alternate-base); border-radius: 6px; }"
        )
        self.banner_text = QLabel(self.banner)
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.download_button = QPushButton("Download the model", self.banner)
        self.download_button.clicked.connect(on_download)
        self.checkpoint_button = QPushButton("Load checkpoint file\u2026", self.banner)
        self.checkpoint_button.clicked.connect(on_checkpoint)
        buttons = QVBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.checkpoint_button)
        buttons.addStretch(1)
        row = QHBoxLayout(self.banner)
        row.addWidget(self.banner_text, 1)
        row.addLayout(buttons)
        self.banner.setVisible(False)
        # Loud as the CLI's warning: a random-weights model's results mean nothing.
        self.random_banner = QLabel(
            "\u26a0 This model has random weights: results are meaningless. "
            "Choose a trained model in Models\u2026",
            self,
        )
        self.random_banner.setObjectName("randomWeightsBanner")
        self.random_banner.setWordWrap(True)
        self.random_banner.setStyleSheet(
            "#randomWeightsBanner { background: #b3261e; color: white; font-weight: bold;"
            " border-radius: 6px; padding: 6px 10px; }"
        )
        self.random_banner.setVisible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 0, 10, 4)
        outer.addWidget(self.random_banner)
        outer.addWidget(self.banner)
        self.setVisible(False)
