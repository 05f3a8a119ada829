"""Acting on a result through the desktop: open it, show it in the file manager, copy
its path. Never touches the file itself. Where the desktop has nothing to open a file
with (`QDesktopServices.openUrl` answers False, and says so on stderr only), the answer
carries a sentence for the window, which offers the path to copy instead."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from finder.core.types import display_path

# QDesktopServices.openUrl, or a test's fake: False when nothing could open the URL
# (any other answer, None included, counts as done).
Opener = Callable[[QUrl], object]


@dataclass(frozen=True)
class Outcome:
    """How opening or revealing went: true when done, else `problem` says why in words."""

    problem: str = ""

    def __bool__(self) -> bool:
        return not self.problem


def open_file(path: str, opener: Opener) -> Outcome:
    """Open it with its default application."""
    file = Path(path)
    if not file.exists():
        return Outcome(f"{display_path(path)} is no longer there")
    if opener(file_url(path)) is False:
        what = f"{file.suffix.lower()} files" if file.suffix else "this file"
        return Outcome(f"No application is set to open {what} here")
    return Outcome()


def reveal(path: str, opener: Opener) -> Outcome:
    """Select it in the file manager (else open its folder)."""
    if sys.platform == "darwin":
        subprocess.Popen(["open", "-R", path])
    elif sys.platform == "win32":
        subprocess.Popen(["explorer", "/select,", path])
    elif not _show_in_file_manager(path) and opener(file_url(str(Path(path).parent))) is False:
        return Outcome("No file manager is set up here to show the file in its folder")
    return Outcome()


def explain_failure(parent: QWidget | None, path: str, problem: str) -> QMessageBox:
    """A small note, not blocking, saying what could not be done, with Copy path: the
    file can still be opened by hand."""
    box = QMessageBox(QMessageBox.Icon.Information, "finder", problem, parent=parent)
    box.setInformativeText(display_path(path))
    copy = box.addButton("Copy path", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    copy.clicked.connect(lambda: copy_path(path))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setModal(False)
    box.show()
    return box


def file_url(path: str) -> QUrl:
    """The file's URL by its real name. A name that is not valid UTF-8 (surrogate escapes)
    is sent as its bytes, percent-encoded: QString, hence QUrl.fromLocalFile, would lose
    them."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        quoted = urllib.parse.quote_from_bytes(os.fsencode(os.path.abspath(path)))
        return QUrl.fromEncoded(b"file://" + quoted.encode("ascii"))
    return QUrl.fromLocalFile(path)


def copy_path(path: str) -> None:
    QGuiApplication.clipboard().setText(display_path(path))  # text holds no raw bytes


def _show_in_file_manager(path: str) -> bool:
    """Ask the desktop's file manager to select the file (freedesktop FileManager1)."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    iface = QDBusInterface(
        "org.freedesktop.FileManager1",
        "/org/freedesktop/FileManager1",
        "org.freedesktop.FileManager1",
        bus,
    )
    if not iface.isValid():
        return False
    url = file_url(path).toString(QUrl.ComponentFormattingOption.FullyEncoded)
    reply = iface.call("ShowItems", [url], "")
    return not reply.errorMessage()
